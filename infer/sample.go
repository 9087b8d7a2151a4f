// Package infer runs trained models for generation: sampling (temperature, top-k, top-p), streaming
// generation from a training-path model, and (packed.go) packed ternary models with a KV cache.
package infer

import (
	"cmp"
	"slices"

	"tern/kernels"
	"tern/tensor"
)

// Sampling configures next-token choice. Temperature 0 is greedy (argmax).
type Sampling struct {
	Temperature float64 // e.g. 0.8; 0 = greedy
	TopK        int     // keep the k most likely tokens; 0 = all
	TopP        float64 // keep the smallest set with cumulative probability >= p; 0 or 1 = all
}

// Sampler picks tokens from logits; it owns scratch space so sampling does not allocate per token.
type Sampler struct {
	S     Sampling
	RNG   *tensor.RNG
	probs []float32
	idx   []int
}

// NewSampler returns a sampler seeded with seed.
func NewSampler(s Sampling, seed uint64) *Sampler { return &Sampler{S: s, RNG: tensor.NewRNG(seed)} }

// topPSlack: a nucleus whose probability is within this of top_p counts as reaching it (the
// probabilities are float32 softmax values, good to about 1e-7 each).
const topPSlack = 1e-6

// Next returns the sampled token for one row of logits (V). Greedy is kernels.Argmax (the first
// largest logit). Otherwise the probabilities are one vectorized float32 softmax of logits/T; top-k
// and top-p sort only the candidates above a probability threshold, lowered until they surely hold
// the kept set (every token at or above the threshold is a candidate, so ties stay whole and the kept
// set is the one a full sort by probability, then id, gives). A 32,000-token row (BenchmarkSamplerNext):
// greedy ~1.3 µs, temperature ~50 µs, top-k 40 ~50 µs, top-p 0.95 up to ~0.5 ms on a flat row whose
// nucleus holds thousands of tokens, where float64 exps and a full sort took 0.8 and 7-10 ms.
func (s *Sampler) Next(logits []float32) int {
	if s.S.Temperature <= 0 {
		return kernels.Argmax(logits)
	}
	v := len(logits)
	if cap(s.probs) < v {
		s.probs, s.idx = make([]float32, v), make([]int, 0, v)
	}
	probs := s.probs[:v]
	inv := float32(1 / s.S.Temperature)
	for i, x := range logits {
		probs[i] = x * inv
	}
	kernels.SoftmaxRow(probs, probs)
	top := probs[kernels.Argmax(probs)]
	if !(top > 0) { // NaN or ±Inf logits: no distribution to draw from
		return kernels.Argmax(logits)
	}
	topK := s.S.TopK > 0 && s.S.TopK < v
	topP := s.S.TopP > 0 && s.S.TopP < 1
	if !topK && !topP {
		var sum float64
		for _, q := range probs {
			sum += float64(q)
		}
		r := s.RNG.Float64() * sum
		for i, q := range probs {
			r -= float64(q)
			if r < 0 {
				return i
			}
		}
		return v - 1
	}
	kept := s.kept(probs, top, topK, topP)
	var sum float64
	for _, i := range kept {
		sum += float64(probs[i])
	}
	r := s.RNG.Float64() * sum
	for _, i := range kept {
		r -= float64(probs[i])
		if r < 0 {
			return i
		}
	}
	return kept[len(kept)-1]
}

// kept returns the tokens top-k and top-p keep, most probable first (ties by id).
// top is the largest probability.
func (s *Sampler) kept(probs []float32, top float32, topK, topP bool) []int {
	idx := s.candidates(probs, top, topK, topP)
	// by probability, ties by id, so the result is deterministic
	slices.SortFunc(idx, func(a, b int) int {
		if probs[a] != probs[b] {
			return cmp.Compare(probs[b], probs[a])
		}
		return a - b
	})
	keep := len(idx)
	if topK {
		keep = min(keep, s.S.TopK)
	}
	if topP {
		var c float64
		for i := range keep {
			c += float64(probs[idx[i]])
			if c >= s.S.TopP-topPSlack {
				keep = i + 1
				break
			}
		}
	}
	return idx[:keep]
}

// candidates returns (in s.idx) the tokens whose probability is at least a threshold that starts at
// 1/1024 of the largest (top) and drops 64-fold until the candidates hold top_k tokens or top_p's
// mass (or the threshold reaches 0: every token).
func (s *Sampler) candidates(probs []float32, top float32, topK, topP bool) []int {
	tau := top / 1024
	for {
		idx, mass := s.idx[:0], 0.0
		for i, q := range probs {
			if q >= tau {
				idx = append(idx, i)
				mass += float64(q)
			}
		}
		s.idx = idx
		if tau == 0 || topK && len(idx) >= s.S.TopK || topP && mass >= s.S.TopP+topPSlack {
			return idx
		}
		if tau /= 64; !(tau >= 1e-30) {
			tau = 0
		}
	}
}
