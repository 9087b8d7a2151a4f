package main

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"tern/eval"
	"tern/gguf"
	"tern/infer"
	"tern/model"
	"tern/tokenizer"
)

// ggufEvaluator prepares `tern eval lm` for a GGUF file: llama and bitnet models score each window
// through infer.Llama (the window prefilled in one pass, logits for its scored rows), gpt2 files are
// read into a tern transformer and scored as model.safetensors are. ctxLen 0 means the model's context,
// at most 1024; stride 0 means half the window.
func ggufEvaluator(ctx context.Context, path string, ctxLen, stride int, maxTokens int64) (func(io.Reader) (*eval.LMResult, error), func(), error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	arch, _ := f.String(gguf.KeyArchitecture)
	f.Close()
	if arch == gguf.ArchGPT2 {
		lm, tok, err := loadGPT2GGUF(path)
		if err != nil {
			return nil, nil, err
		}
		return func(r io.Reader) (*eval.LMResult, error) { return evalLM(ctx, lm, tok, r, ctxLen, stride, maxTokens) }, func() {}, nil
	}
	m, err := infer.LoadGGUF(path, cmp.Or(ctxLen, 1024))
	if err != nil {
		return nil, nil, err
	}
	if ctxLen == 0 {
		ctxLen = m.Cfg.Ctx
	} else if ctxLen > m.Cfg.Ctx {
		m.Close()
		return nil, nil, fmt.Errorf("--context %d exceeds the model's context of %d positions", ctxLen, m.Cfg.Ctx)
	}
	if stride == 0 {
		stride = ctxLen / 2
	}
	bpe, err := m.Tokenizer()
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	tok, err := tokenizer.AdapterOf(bpe)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return func(r io.Reader) (*eval.LMResult, error) {
		return eval.EvaluateRows(ctx, m, tok, r, ctxLen, stride, maxTokens)
	}, func() { m.Close() }, nil
}

// loadGPT2GGUF reads a gpt2 GGUF (tern export gguf) into a tern transformer with the tokenizer in its
// metadata.
func loadGPT2GGUF(path string) (model.LM, tokenizer.Adapter, error) {
	lm, err := model.LoadGGUF(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	bpe, err := infer.GGUFTokenizer(f, lm.Config().Vocab)
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.AdapterOf(bpe)
	if err != nil {
		return nil, nil, err
	}
	return lm, tok, nil
}
