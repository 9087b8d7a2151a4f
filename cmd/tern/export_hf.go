package main

// tern export hf --model M --out DIR: a Llama-family tern model (llama or bitnet) as a Hugging Face
// folder: config.json, model.safetensors (or shards and model.safetensors.index.json past
// --shard-size), tokenizer.json, and the tokenizer_config.json / generation_config.json an import
// brought along. A model imported with tern import hf comes back with the same tensor names, dtypes
// and values, and the same config.json.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"tern/format"
	"tern/model"
	"tern/tokenizer"
)

func runExportHF(args []string) error {
	fl := newFlags("export hf", "export hf --model M --out DIR [flags]")
	path := fl.String("model", "", "tern model file or checkpoint of a llama or bitnet model")
	out := fl.String("out", "", "folder to write (created if needed)")
	dtype := fl.String("dtype", "bf16", "tensor dtype: bf16, f16 or f32 (a model imported from Hugging Face keeps each tensor's own dtype)")
	shard := fl.Int64("shard-size", 5_000_000_000, "largest shard in bytes; a bigger checkpoint is split with model.safetensors.index.json (Hugging Face's 5 GB default)")
	force := fl.Bool("force", false, "replace a checkpoint already in --out")
	if err := parseFlags(fl, args, false); err != nil {
		return err
	}
	if *path == "" || *out == "" {
		return fmt.Errorf("--model and --out are required")
	}
	def := map[string]format.DType{"bf16": format.BF16, "f16": format.F16, "f32": format.F32}[strings.ToLower(*dtype)]
	if def == "" {
		return fmt.Errorf("--dtype %q: want bf16, f16 or f32", *dtype)
	}
	if *shard <= 0 {
		return fmt.Errorf("--shard-size must be positive (got %d)", *shard)
	}
	for _, name := range []string{format.SingleName, format.IndexName} {
		if _, err := os.Stat(filepath.Join(*out, name)); err == nil && !*force {
			return fmt.Errorf("%s already holds %s: pass --force to replace it", *out, name)
		}
	}
	h, err := format.ReadFileHeader(*path, true)
	if err != nil {
		return err
	}
	lm, spec, err := model.Load(*path)
	if err != nil {
		return err
	}
	dtypes := map[string]string{}
	if raw := h.Meta[model.MetaHFDTypes]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &dtypes); err != nil {
			return fmt.Errorf("%s: %s: %w", *path, model.MetaHFDTypes, err)
		}
	}
	ts, cfgJSON, err := model.ExportHF(lm, h.Meta[model.MetaHFConfig], dtypes, def)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := format.WriteCheckpoint(*out, map[string]string{"format": "pt"}, ts, *shard); err != nil {
		return err
	}
	files := map[string][]byte{"config.json": append(cfgJSON, '\n')}
	if spec != "" {
		tok, err := tokenizer.Unmarshal([]byte(spec))
		if err != nil {
			return fmt.Errorf("%s: tokenizer: %w", *path, err)
		}
		if b, ok := tok.(*tokenizer.BPE); ok {
			js, err := b.MarshalJSON()
			if err != nil {
				return err
			}
			files["tokenizer.json"] = js
		}
	}
	for name, data := range model.HFChatFiles(h.Meta) {
		files[name] = data
	}
	for name, data := range files {
		if err := format.WriteFileAtomic(filepath.Join(*out, name), data); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(*out, name), err)
		}
	}
	fmt.Printf("wrote %s: %s (%d tensors), config.json", *out, lm.Config().Type, len(ts))
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json", "generation_config.json", "chat_template.jinja"} {
		if _, ok := files[name]; ok {
			fmt.Printf(", %s", name)
		}
	}
	fmt.Println()
	return nil
}
