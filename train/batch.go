package train

import (
	"tern/model"
	"tern/tensor"
)

// Sampler draws training windows from a token stream. Its only state is its RNG, so the "data
// position" stored in a checkpoint is the RNG state, and a resumed run draws the same windows.
type Sampler struct {
	Tokens []int32
	RNG    *tensor.RNG
}

// Next fills ids (B, T) and targets (B, T) with B random windows: targets are ids shifted by one
// (causal), or, with the MLM objective, ids are corrupted BERT-style and targets hold the original
// token at masked positions and -1 (ignored) elsewhere.
func (s *Sampler) Next(ids, targets []int32, b, t int, mc model.Config, maskProb float64) {
	n := len(s.Tokens) - t - 1
	for i := 0; i < b; i++ {
		off := s.RNG.Intn(n + 1)
		w := s.Tokens[off : off+t+1]
		copy(ids[i*t:(i+1)*t], w[:t])
		copy(targets[i*t:(i+1)*t], w[1:])
	}
	corrupt(ids, targets, b, t, s.RNG, mc, maskProb)
}

// corrupt applies the objective's input corruption to causal windows: BERT masking for mlm, span
// infilling for seq2seq, nothing for causal.
func corrupt(ids, targets []int32, b, t int, rng *tensor.RNG, mc model.Config, maskProb float64) {
	if mc.Objective == model.ObjMLM {
		maskTokens(ids, targets, rng, mc, maskProb)
	}
	if mc.Objective == model.ObjSeq2Seq {
		Seq2SeqRows(ids, targets, b, t, rng, mc, maskProb) // seq2seq.go
	}
}

// maskTokens applies BERT's corruption (https://arxiv.org/abs/1810.04805 §3.1): each position is
// selected with probability p; a selected token becomes [MASK] 80% of the time, a random token 10%,
// and stays 10%; only selected positions are predicted.
func maskTokens(ids, targets []int32, rng *tensor.RNG, mc model.Config, p float64) {
	for i := range ids {
		if rng.Float64() >= p {
			targets[i] = -1
			continue
		}
		targets[i] = ids[i]
		switch r := rng.Float64(); {
		case r < 0.8:
			ids[i] = int32(mc.MaskID())
		case r < 0.9:
			ids[i] = int32(rng.Intn(mc.Vocab))
		}
	}
}

// Sequential yields consecutive non-overlapping windows for validation: deterministic and
// independent of training progress.
func Sequential(tokens []int32, ids, targets []int32, b, t, batch int) bool {
	stride := t
	for i := 0; i < b; i++ {
		off := (batch*b + i) * stride
		if off+t+1 > len(tokens) {
			return false
		}
		copy(ids[i*t:(i+1)*t], tokens[off:off+t])
		copy(targets[i*t:(i+1)*t], tokens[off+1:off+t+1])
	}
	return true
}
