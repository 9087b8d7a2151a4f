// Package infer runs trained models for generation: sampling (temperature, top-k, top-p), streaming
// generation from a training-path model, and (packed.go) packed ternary models with a KV cache.
package infer

import (
	"math"
	"sort"

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
	probs []float64
	idx   []int
}

// NewSampler returns a sampler seeded with seed.
func NewSampler(s Sampling, seed uint64) *Sampler { return &Sampler{S: s, RNG: tensor.NewRNG(seed)} }

// Next returns the sampled token for one row of logits (V).
func (s *Sampler) Next(logits []float32) int {
	if s.S.Temperature <= 0 {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return best
	}
	v := len(logits)
	if cap(s.probs) < v {
		s.probs, s.idx = make([]float64, v), make([]int, v)
	}
	probs, idx := s.probs[:v], s.idx[:v]
	mx := math.Inf(-1)
	for _, x := range logits {
		mx = math.Max(mx, float64(x))
	}
	var sum float64
	for i, x := range logits {
		probs[i] = math.Exp((float64(x) - mx) / s.S.Temperature)
		sum += probs[i]
		idx[i] = i
	}
	keep := v
	if s.S.TopK > 0 && s.S.TopK < v || s.S.TopP > 0 && s.S.TopP < 1 {
		// sort by probability, ties by id, so the result is deterministic
		sort.Slice(idx, func(a, b int) bool {
			if probs[idx[a]] != probs[idx[b]] {
				return probs[idx[a]] > probs[idx[b]]
			}
			return idx[a] < idx[b]
		})
		if s.S.TopK > 0 && s.S.TopK < keep {
			keep = s.S.TopK
		}
		if s.S.TopP > 0 && s.S.TopP < 1 {
			var c float64
			for i := 0; i < keep; i++ {
				c += probs[idx[i]] / sum
				if c >= s.S.TopP {
					keep = i + 1
					break
				}
			}
		}
		sum = 0
		for _, i := range idx[:keep] {
			sum += probs[i]
		}
	}
	r := s.RNG.Float64() * sum
	for _, i := range idx[:keep] {
		r -= probs[i]
		if r < 0 {
			return i
		}
	}
	return idx[keep-1]
}
