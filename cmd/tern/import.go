package main

// tern import hf DIR --out M: a Hugging Face model folder (config.json, *.safetensors or shards with
// model.safetensors.index.json, tokenizer.json) of the Llama family (LlamaForCausalLM,
// BitNetForCausalLM) as a tern model file, which tern train --init, tern pack, tern generate and
// tern export gguf|hf take. tern export hf writes it back (export.go).

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tern/format"
	"tern/internal/sysmem"
	"tern/model"
	"tern/nn"
	"tern/tokenizer"
)

func init() {
	register("import", "read a model from another format: import hf DIR (Hugging Face Llama/BitNet checkpoints)", runImport)
}

func runImport(ctx context.Context, args []string) error {
	const usage = "usage: tern import hf DIR --out M [--linear bitnet|fp32] [--force]"
	if len(args) == 0 || args[0] != "hf" {
		return errors.New(usage)
	}
	fl := newFlags("import hf", "import hf DIR --out M [flags]")
	out := fl.String("out", "", "tern model file to write (e.g. runs/x/model.safetensors)")
	linear := fl.String("linear", "", "projections: bitnet (BitLinear, to train in 1.58 bits) or fp32; default: the architecture's own (BitNet: bitnet, Llama: fp32)")
	force := fl.Bool("force", false, "replace --out if it exists")
	rest := args[1:]
	var dir string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		dir, rest = rest[0], rest[1:]
	}
	if err := parseFlags(fl, rest, dir == ""); err != nil {
		return err
	}
	if dir == "" && fl.NArg() == 1 {
		dir = fl.Arg(0)
	}
	if dir == "" || *out == "" {
		return errors.New(usage)
	}
	if *linear != "" && *linear != string(model.LinearBitNet) && *linear != string(model.LinearFP32) {
		return fmt.Errorf("--linear %q: want bitnet or fp32", *linear)
	}
	if _, err := os.Stat(*out); err == nil && !*force {
		return fmt.Errorf("%s exists: pass --force to replace it", *out)
	}
	cfgPath := filepath.Join(dir, "config.json")
	cfgJSON, err := sysmem.ReadFile(cfgPath, sysmem.ConfigLimit)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		return fmt.Errorf("import: %s has no tokenizer.json (tern model files carry their tokenizer)", dir)
	}
	tok, _, err := tokenizer.LoadDir(dir)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	ck, err := format.OpenCheckpoint(dir)
	if err != nil {
		return err
	}
	lm, meta, err := model.ImportHF(cfgJSON, cfgPath, ck, model.Linear(*linear))
	if err != nil {
		return err
	}
	cfg := lm.Config()
	if tok.VocabSize() > cfg.Vocab {
		return fmt.Errorf("import: %s: the tokenizer has %d ids, the model's vocab_size is %d", dir, tok.VocabSize(), cfg.Vocab)
	}
	spec, err := tokenizer.Marshal(tok)
	if err != nil {
		return err
	}
	ts, err := model.ParamTensors(lm)
	if err != nil {
		return err
	}
	fileMeta := model.FileMeta(lm, "model", string(spec))
	for k, v := range meta {
		fileMeta[k] = v
	}
	for key, name := range model.HFSideFiles {
		data, err := sysmem.ReadFile(filepath.Join(dir, name), sysmem.ConfigLimit)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		fileMeta[key] = string(data)
	}
	if d := filepath.Dir(*out); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := format.Write(*out, fileMeta, ts); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	total, _ := model.CountParams(nn.Unique(lm.Params()))
	fmt.Printf("imported %s (%s: %d layers, hidden %d, %d/%d heads, ffn %d, vocab %d, %s projections, tied head %t): %d tensors from %d file(s), %d weights -> %s\n",
		dir, cfg.Type, cfg.Layers, cfg.Hidden, cfg.Heads, cfg.KV(), cfg.FFN, cfg.Vocab, cfg.Linear, cfg.TieEmbeddings, len(ts), len(ck.Files), total, *out)
	return nil
}
