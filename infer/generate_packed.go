package infer

import (
	"context"
	"fmt"
)

// GeneratePacked feeds prompt into the packed model's KV cache (in one Prefill pass when the cache is
// empty and the prompt has at least prefillMin tokens) and extends it by up to maxTokens,
// calling emit with each new token (streaming). It stops at the context limit, on ctx cancellation, or
// when emit returns false.
func GeneratePacked(ctx context.Context, m *Packed, prompt []int, maxTokens int, s *Sampler, emit func(id int) bool) ([]int, error) {
	if len(prompt) == 0 {
		return nil, fmt.Errorf("generate: empty prompt")
	}
	if len(prompt) >= m.Cfg.MaxPos {
		return nil, fmt.Errorf("generate: prompt of %d tokens fills the %d-position context", len(prompt), m.Cfg.MaxPos)
	}
	ids := append([]int(nil), prompt...)
	var logits []float32
	var err error
	if m.Pos == 0 && len(prompt) >= prefillMin {
		if logits, err = m.Prefill(prompt); err != nil {
			return nil, err
		}
	} else {
		for _, id := range prompt {
			if logits, err = m.Step(id); err != nil {
				return nil, err
			}
		}
	}
	return extend(ctx, ids, logits, maxTokens, func() bool { return m.Pos >= m.Cfg.MaxPos }, m.Step, s, emit)
}

// extend samples up to maxTokens tokens after ids from logits (the last prompt position's), feeding
// each one back through step until full reports the context full; the loop shared by the decoders.
func extend(ctx context.Context, ids []int, logits []float32, maxTokens int, full func() bool, step func(int) ([]float32, error), s *Sampler, emit func(id int) bool) ([]int, error) {
	var err error
	for n := 0; n < maxTokens && !full(); n++ {
		if err := ctx.Err(); err != nil {
			return ids, err
		}
		next := s.Next(logits)
		ids = append(ids, next)
		if emit != nil && !emit(next) {
			break
		}
		if full() {
			break
		}
		if logits, err = step(next); err != nil {
			return ids, err
		}
	}
	return ids, nil
}

// GenerateLlama feeds prompt into a GGUF model's KV cache (one Prefill pass from 2 tokens on: GGUF
// prompts are long enough that unpacking pays) and extends it by up to maxTokens, as GeneratePacked does.
func GenerateLlama(ctx context.Context, m *Llama, prompt []int, maxTokens int, s *Sampler, emit func(id int) bool) ([]int, error) {
	if len(prompt) == 0 {
		return nil, fmt.Errorf("generate: empty prompt")
	}
	if m.Pos+len(prompt) >= m.Cfg.Ctx {
		return nil, fmt.Errorf("generate: prompt of %d tokens fills the %d-position context", len(prompt), m.Cfg.Ctx)
	}
	var logits []float32
	var err error
	if len(prompt) == 1 {
		logits, err = m.Step(prompt[0])
	} else {
		logits, err = m.Prefill(prompt)
	}
	if err != nil {
		return nil, err
	}
	return extend(ctx, append([]int(nil), prompt...), logits, maxTokens, func() bool { return m.Pos >= m.Cfg.Ctx }, m.Step, s, emit)
}
