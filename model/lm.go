package model

import (
	"fmt"

	"tern/nn"
	"tern/tensor"
)

// LM is what the trainer and generator need from a language model.
type LM interface {
	// Forward maps ids (B, T) to logits (B, T, V), owned by the model until the next Forward.
	Forward(ids []int32, b, t int) ([]float32, error)
	// Backward takes dlogits (B, T, V) of the last Forward and accumulates parameter gradients.
	Backward(dlogits []float32)
	// Params lists every parameter slot (a shared param once per use).
	Params() []*nn.Param
	// Config returns the architecture.
	Config() Config
	// SetTraining turns dropout on, drawing masks from rng, or off (evaluation, generation).
	SetTraining(on bool, rng *tensor.RNG)
}

// New builds the model cfg describes.
func New(cfg Config, rng *tensor.RNG) (LM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var lm LM
	switch cfg.Type {
	case TypeTransformer:
		m, err := NewTransformer(cfg, rng)
		if err != nil {
			return nil, err
		}
		lm = transformerLM{m}
	case TypeRNN:
		m, err := NewRNN(cfg, rng)
		if err != nil {
			return nil, err
		}
		lm = m
	case TypeLlama, TypeBitNet:
		m, err := NewLlama(cfg, rng)
		if err != nil {
			return nil, err
		}
		lm = m
	case TypeEncDec:
		m, err := NewEncDec(cfg, rng)
		if err != nil {
			return nil, err
		}
		lm = m
	default:
		return nil, fmt.Errorf("model: unknown type %q", cfg.Type)
	}
	if err := applyWidths(lm, cfg.Bits, cfg.BitsDefault); err != nil { // widths.go
		return nil, err
	}
	return lm, nil
}

type transformerLM struct{ *Transformer }

func (m transformerLM) Forward(ids []int32, b, t int) ([]float32, error) {
	return m.Transformer.Forward(ids, nil, nil, b, t)
}

func (m transformerLM) Config() Config { return m.Cfg }

// Unwrap returns the underlying *Transformer of an LM built by New, or nil.
func AsTransformer(lm LM) *Transformer {
	if t, ok := lm.(transformerLM); ok {
		return t.Transformer
	}
	return nil
}

// CountParams returns (total slots, unique) parameter counts: total counts a shared tensor once per use.
func CountParams(ps []*nn.Param) (total, unique int) {
	seen := map[*nn.Param]bool{}
	for _, p := range ps {
		total += len(p.W)
		if !seen[p] {
			seen[p] = true
			unique += len(p.W)
		}
	}
	return
}
