package infer

import (
	"context"
	"fmt"

	"tern/model"
)

// Generate extends prompt by up to maxTokens tokens with a training-path model, calling emit with
// each new token as it is produced (streaming). The context is the last MaxPos tokens; each step runs a
// full forward over it (no KV cache: this path serves small models and parity checks; packed models
// use the cached path). It stops early when ctx is cancelled or emit returns false.
func Generate(ctx context.Context, lm model.LM, prompt []int, maxTokens int, s *Sampler, emit func(id int) bool) ([]int, error) {
	cfg := lm.Config()
	if cfg.Objective != model.ObjCausal {
		return nil, fmt.Errorf("generate: model objective is %q; only causal LMs generate text", cfg.Objective)
	}
	if len(prompt) == 0 {
		return nil, fmt.Errorf("generate: empty prompt")
	}
	ids := append([]int(nil), prompt...)
	window := make([]int32, 0, cfg.MaxPos)
	for n := 0; n < maxTokens; n++ {
		if err := ctx.Err(); err != nil {
			return ids, err
		}
		start := max(0, len(ids)-cfg.MaxPos)
		window = window[:0]
		for _, id := range ids[start:] {
			window = append(window, int32(id))
		}
		t := len(window)
		logits, err := lm.Forward(window, 1, t)
		if err != nil {
			return ids, err
		}
		next := s.Next(logits[(t-1)*cfg.Vocab : t*cfg.Vocab])
		ids = append(ids, next)
		if emit != nil && !emit(next) {
			break
		}
	}
	return ids, nil
}
