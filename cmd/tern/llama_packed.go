package main

// Packed tern models of the Llama family (types llama and bitnet) decode through infer.Llama, the
// decoder GGUF files use (infer.LoadPackedLlama), instead of infer.Packed.

import (
	"context"
	"fmt"

	"tern/format"
	"tern/infer"
	"tern/model"
	"tern/serve"
	"tern/tokenizer"
)

// packedLlama reports whether path is a packed model of the Llama family (read from its header only).
func packedLlama(path string) bool {
	h, err := format.ReadFileHeader(path, true)
	if err != nil || h.Meta[model.MetaKind] != "packed" {
		return false
	}
	cfg, err := model.ParseConfig([]byte(h.Meta[model.MetaConfig]), model.Config{}, path)
	return err == nil && cfg.IsLlama()
}

// isPacked reports whether path is a packed tern model (read from its header only).
func isPacked(path string) bool {
	h, err := format.ReadFileHeader(path, true)
	return err == nil && h.Meta[model.MetaKind] == "packed"
}

// generatePackedLlama decodes a packed llama/bitnet model with the tokenizer its file names.
func generatePackedLlama(ctx context.Context, path, prompt string, n int, s infer.Sampling, seed uint64) error {
	m, err := infer.LoadPackedLlama(path, 0)
	if err != nil {
		return err
	}
	defer m.Close()
	tok, err := tokenizer.AdapterFromSpec(m.TokSpec)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_, err = stream(tok, prompt, func(ids []int, emit func(int) bool) ([]int, error) {
		return infer.GenerateLlama(ctx, m, ids, n, infer.NewSampler(s, seed), emit)
	})
	return err
}

// servePackedLlama serves a packed llama/bitnet model on infer.LlamaBatch (serveLlama, as GGUF
// files). The file is read into memory, not mapped.
func servePackedLlama(path string, parallel int) (serve.Model, func(), error) {
	m, err := infer.LoadPackedLlama(path, 0)
	if err != nil {
		return serve.Model{}, nil, err
	}
	tok, err := tokenizer.AdapterFromSpec(m.TokSpec)
	if err != nil {
		m.Close()
		return serve.Model{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	return serveLlama(m, path, parallel, m.Packed.Cfg, tok.EncodeChecked, tok.Decode, nil)
}
