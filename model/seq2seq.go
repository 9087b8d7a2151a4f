package model

// Sequence-to-sequence decoding with an EncDec: the source is fixed, the decoder part of the row grows
// one token at a time. Each step re-runs the whole row (no KV cache: this path serves small models,
// tests and parity checks).

import (
	"context"
	"fmt"
)

// Seq2SeqRow returns the model input for src and the decoder tokens so far: src | BOS | out.
func Seq2SeqRow(cfg Config, src, out []int32) []int32 {
	row := make([]int32, 0, len(src)+1+len(out))
	row = append(append(row, src...), int32(cfg.BOSID()))
	return append(row, out...)
}

// Generate decodes up to maxTokens tokens for src (one row, no padding needed), choosing each with
// pick (e.g. an infer.Sampler's Next) from the last position's logits (V). It stops early when ctx is
// cancelled or pick returns a negative id.
func (m *EncDec) Generate(ctx context.Context, src []int32, maxTokens int, pick func(logits []float32) int) ([]int32, error) {
	V := m.Cfg.Vocab
	if len(src) == 0 {
		return nil, fmt.Errorf("model: seq2seq generate: empty source")
	}
	if len(src) > m.Cfg.MaxPos || maxTokens+1 > m.Cfg.MaxPos {
		return nil, fmt.Errorf("model: seq2seq generate: source %d / %d new tokens exceed max_pos %d", len(src), maxTokens, m.Cfg.MaxPos)
	}
	var out []int32
	for len(out) < maxTokens {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		row := Seq2SeqRow(m.Cfg, src, out)
		logits, err := m.Forward(row, 1, len(row))
		if err != nil {
			return out, err
		}
		t := len(row)
		id := pick(logits[(t-1)*V : t*V])
		if id < 0 {
			break
		}
		out = append(out, int32(id))
	}
	return out, nil
}
