package main

// tern export gguf --model M --out m.gguf --type tq2_0|tq1_0|i2_s|f16 [--arch A]: a tern causal
// transformer (model file, checkpoint or packed file) as a GGUF of llama.cpp's gpt2 architecture, a
// Llama/BitNet model as llama.cpp's llama or bitnet (SwiGLU) or bitnet.cpp's bitnet-b1.58 (ReLU², BitNet
// b1.58 2B4T's layout), with its byte-level BPE tokenizer in the metadata (tokenizer.ggml.*), so that
// llama.cpp or bitnet.cpp can run it. The model decides the architecture; --arch only states which one
// is expected and fails when the model has another.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"tern/format"
	"tern/gguf"
	"tern/model"
	"tern/tokenizer"
)

func init() {
	register("export", "write a model in another format: export gguf (llama.cpp, ollama), export hf (Hugging Face safetensors)", runExport)
}

func runExport(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "hf" {
		return runExportHF(args[1:]) // export_hf.go
	}
	if len(args) == 0 || args[0] != "gguf" {
		return fmt.Errorf("usage: tern export gguf --model M --out m.gguf [--type tq2_0|tq1_0|i2_s|f16] [--arch auto|gpt2|llama|bitnet|bitnet-b1.58]")
	}
	fs := newFlags("export gguf", "export gguf --model M --out m.gguf [flags]")
	path := fs.String("model", "", "model file, checkpoint or packed file (a causal transformer with LayerNorm: gpt2; a llama/bitnet model with SwiGLU: llama or bitnet; with ReLU² and sub-norms: bitnet-b1.58)")
	archName := fs.String("arch", "auto", "the GGUF architecture expected: auto (the model's), gpt2, llama, bitnet or bitnet-b1.58 (bitnet.cpp's BitNet b1.58 2B4T layout)")
	out := fs.String("out", "", "GGUF file to write")
	typName := fs.String("type", "tq2_0", "ternary matrices as tq2_0 (2.06 bits), tq1_0 (1.69 bits), i2_s (bitnet.cpp, 2 bits) or f16")
	if err := parseFlags(fs, args[1:], false); err != nil {
		return err
	}
	if *path == "" || *out == "" {
		return fmt.Errorf("--model and --out are required")
	}
	typ, err := gguf.ParseType(*typName)
	if err != nil {
		return fmt.Errorf("--type: %w", err)
	}
	var lm model.LM
	var spec string
	if isPacked(*path) {
		lm, spec, err = model.LoadPacked(*path)
	} else {
		lm, spec, err = model.Load(*path)
	}
	if err != nil {
		return err
	}
	arch, err := model.GGUFArch(lm)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	switch *archName {
	case "auto", arch:
	case gguf.ArchGPT2, gguf.ArchLlama, gguf.ArchBitnet, gguf.ArchBitnetB158:
		return fmt.Errorf("--arch %s: %s exports as %s (gpt2: LayerNorm transformers; llama: no sub-norms, SwiGLU; bitnet: sub-norms, SwiGLU; bitnet-b1.58: sub-norms, ReLU², tied head)", *archName, *path, arch)
	default:
		return fmt.Errorf("--arch %q: want auto, gpt2, llama, bitnet or bitnet-b1.58", *archName)
	}
	kv, err := ggufTokenizer(spec, lm.Config().Vocab)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	if h, err := format.ReadFileHeader(*path, false); err == nil {
		if files := model.HFChatFiles(h.Meta); len(files) > 0 {
			if kv, err = ggufChat(kv, spec, files); err != nil {
				return fmt.Errorf("%s: %w", *path, err)
			}
		}
	}
	if err := model.ExportGGUF(*out, lm, typ, kv); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s architecture, ternary matrices as %s, %s\n", *out, arch, typ, mib(st.Size()))
	return nil
}

// ggufTokenizer is a tern tokenizer spec as GGUF metadata: byte-level BPE ("gpt2" model, its
// pre-tokenizer: gpt-2, or llama-bpe for a LLaMA-3 tokenizer.json), special tokens as control tokens, the vocabulary padded with control tokens up to the
// model's vocab. Char tokenizers have no GGUF form.
func ggufTokenizer(spec string, vocab int) ([]gguf.KV, error) {
	var t tokenizer.Tokenizer
	var err error
	if spec == "gpt2" {
		t, err = tokenizer.GPT2()
	} else {
		t, err = tokenizer.Unmarshal([]byte(spec))
	}
	if err != nil {
		return nil, err
	}
	b, ok := t.(*tokenizer.BPE)
	if !ok {
		return nil, fmt.Errorf("its %T tokenizer has no GGUF form (GGUF carries byte-level BPE)", t)
	}
	tokens, special, merges, err := b.Vocab()
	if err != nil {
		return nil, err
	}
	if len(tokens) > vocab {
		return nil, fmt.Errorf("the tokenizer has %d tokens, the model's vocabulary only %d", len(tokens), vocab)
	}
	types := make([]int32, 0, vocab)
	eos := int32(-1)
	for i, s := range special {
		if s {
			types = append(types, 3)
			eos = int32(i)
		} else {
			types = append(types, 1)
		}
	}
	for len(tokens) < vocab {
		tokens = append(tokens, fmt.Sprintf("<|tern_pad_%d|>", len(tokens)))
		types = append(types, 3)
	}
	kv := []gguf.KV{gguf.String("tokenizer.ggml.model", "gpt2"), gguf.String("tokenizer.ggml.pre", b.PreTokenizer()),
		gguf.Strings("tokenizer.ggml.tokens", tokens), gguf.Int32s("tokenizer.ggml.token_type", types),
		gguf.Bool("tokenizer.ggml.add_bos_token", false)}
	if len(merges) > 0 {
		kv = append(kv, gguf.Strings("tokenizer.ggml.merges", merges))
	}
	if eos >= 0 {
		kv = append(kv, gguf.Uint32("tokenizer.ggml.eos_token_id", uint32(eos)), gguf.Uint32("tokenizer.ggml.bos_token_id", uint32(eos)))
	}
	return kv, nil
}

// ggufChat replaces ggufTokenizer's guessed special tokens by the chat description of a model imported
// from Hugging Face (its tokenizer_config.json, chat_template.jinja and generation_config.json, kept in
// the model file): tokenizer.ggml.bos/eos/eot_token_id, add_bos_token and tokenizer.chat_template (and
// the named tokenizer.chat_template.NAME), as llama.cpp's and bitnet.cpp's converters write them (BitNet
// b1.58 2B4T's file carries its template). Further stop ids of generation_config beyond EOS and EOT have
// no GGUF key and are dropped.
func ggufChat(kv []gguf.KV, spec string, files map[string][]byte) ([]gguf.KV, error) {
	t, err := tokenizer.Unmarshal([]byte(spec))
	if err != nil {
		return nil, err
	}
	b, ok := t.(*tokenizer.BPE)
	if !ok {
		return kv, nil
	}
	c, err := tokenizer.ChatFromFiles(b, files)
	if err != nil {
		return nil, err
	}
	kv = slices.DeleteFunc(kv, func(e gguf.KV) bool {
		return e.Key == "tokenizer.ggml.bos_token_id" || e.Key == "tokenizer.ggml.eos_token_id" ||
			e.Key == "tokenizer.ggml.add_bos_token" || strings.HasPrefix(e.Key, "tokenizer.chat_template")
	})
	for _, e := range []struct {
		key string
		id  int
	}{{"tokenizer.ggml.bos_token_id", c.BOS}, {"tokenizer.ggml.eos_token_id", c.EOS}, {"tokenizer.ggml.eot_token_id", c.EOT}} {
		if e.id >= 0 {
			kv = append(kv, gguf.Uint32(e.key, uint32(e.id)))
		}
	}
	kv = append(kv, gguf.Bool("tokenizer.ggml.add_bos_token", c.AddBOS))
	if c.Template != "" {
		kv = append(kv, gguf.String("tokenizer.chat_template", c.Template))
	}
	names := make([]string, 0, len(c.Templates))
	for name := range c.Templates {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		kv = append(kv, gguf.String("tokenizer.chat_template."+name, c.Templates[name]))
	}
	return kv, nil
}
