package infer

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"tern/kernels"
	"tern/tensor"
)

func TestGreedy(t *testing.T) {
	s := NewSampler(Sampling{}, 1)
	if got := s.Next([]float32{0.1, 3, -1, 2.9}); got != 1 {
		t.Fatalf("greedy = %d, want 1", got)
	}
}

// TestTopKTopP draws many samples and checks the support and frequencies against the definitions.
func TestTopKTopP(t *testing.T) {
	// probabilities at temperature 1: softmax(log p) = p
	p := []float64{0.5, 0.3, 0.15, 0.05}
	logits := make([]float32, len(p))
	for i, v := range p {
		logits[i] = float32(math.Log(v))
	}
	count := func(s Sampling) []float64 {
		sm := NewSampler(s, 7)
		c := make([]float64, len(p))
		const n = 20000
		for i := 0; i < n; i++ {
			c[sm.Next(logits)]++
		}
		for i := range c {
			c[i] /= n
		}
		return c
	}
	// top-k 2 keeps {0, 1} renormalized: 0.625, 0.375
	c := count(Sampling{Temperature: 1, TopK: 2})
	if c[2] != 0 || c[3] != 0 || math.Abs(c[0]-0.625) > 0.02 {
		t.Errorf("top-k 2 frequencies %v, want [0.625 0.375 0 0]", c)
	}
	// top-p 0.8: cumulative 0.5, 0.8 -> keeps {0, 1}
	c = count(Sampling{Temperature: 1, TopP: 0.8})
	if c[2] != 0 || c[3] != 0 {
		t.Errorf("top-p 0.8 sampled outside the nucleus: %v", c)
	}
	// top-p 0.81 must include token 2
	c = count(Sampling{Temperature: 1, TopP: 0.81})
	if c[2] == 0 || c[3] != 0 {
		t.Errorf("top-p 0.81 frequencies %v, want tokens 0-2 only", c)
	}
	// full distribution
	c = count(Sampling{Temperature: 1})
	for i := range p {
		if math.Abs(c[i]-p[i]) > 0.02 {
			t.Errorf("temperature 1: freq[%d] = %.3f, want %.3f", i, c[i], p[i])
		}
	}
}

// TestKeptMatchesFullSort checks the candidate-threshold top-k/top-p against the definition: sort
// every token by probability (ties by id), keep k, then the shortest prefix reaching p. Rows with
// ties, flat and peaked rows, k and p of every size.
func TestKeptMatchesFullSort(t *testing.T) {
	rng := tensor.NewRNG(4)
	for trial := range 400 {
		v := 1 + rng.Intn(3000)
		probs := make([]float32, v)
		spread := []float64{0.1, 1, 4, 12}[trial%4]
		for i := range probs {
			probs[i] = float32(rng.NormFloat64() * spread)
			if rng.Intn(5) == 0 {
				probs[i] = float32(rng.Intn(3)) // ties
			}
		}
		kernels.SoftmaxRow(probs, probs)
		s := Sampling{TopK: rng.Intn(v + 2), TopP: []float64{0, 0.5, 0.9, 0.95, 0.999, 1}[rng.Intn(6)]}
		topK, topP := s.TopK > 0 && s.TopK < v, s.TopP > 0 && s.TopP < 1
		if !topK && !topP {
			continue
		}
		got := append([]int(nil), NewSampler(s, 1).kept(probs, probs[kernels.Argmax(probs)], topK, topP)...)
		all := make([]int, v)
		for i := range all {
			all[i] = i
		}
		slices.SortFunc(all, func(a, b int) int {
			if probs[a] != probs[b] {
				return cmp.Compare(probs[b], probs[a])
			}
			return a - b
		})
		keep := v
		if topK {
			keep = s.TopK
		}
		if topP {
			var c float64
			for i := range keep {
				if c += float64(probs[all[i]]); c >= s.TopP-topPSlack {
					keep = i + 1
					break
				}
			}
		}
		if !slices.Equal(got, all[:keep]) {
			t.Fatalf("trial %d (V=%d, %+v): kept %d tokens %v..., full sort keeps %d %v...", trial, v, s, len(got), got[:min(5, len(got))], keep, all[:min(5, keep)])
		}
	}
}

// BenchmarkSamplerNext: one token from a 32,000-logit row (normal, sd 3) for greedy, temperature 1,
// temperature 0.8 with top-p 0.95, and with top-k 40: what each slot of a serving step pays per token.
func BenchmarkSamplerNext(b *testing.B) {
	x := make([]float32, 32000)
	tensor.NewRNG(1).FillNormal(x, 3)
	for _, c := range []struct {
		name string
		s    Sampling
	}{{"greedy", Sampling{}}, {"T=1", Sampling{Temperature: 1}}, {"T=0.8,top-p=0.95", Sampling{Temperature: 0.8, TopP: 0.95}}, {"T=0.8,top-k=40", Sampling{Temperature: 0.8, TopK: 40}}} {
		sm := NewSampler(c.s, 1)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				sm.Next(x)
			}
		})
	}
}

// TestNextNonFinite: logits with NaN or ±Inf (a damaged model) give a valid token in every sampling
// mode, at once, rather than a hang or a panic in the server's scheduler.
func TestNextNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, logits := range [][]float32{{nan, 1, 2}, {1, nan, 2}, {nan, nan, nan}, {1, inf, 2}, {-inf, -inf, 0}, {inf, inf}} {
		for _, s := range []Sampling{{}, {Temperature: 1}, {Temperature: 0.7, TopP: 0.9}, {Temperature: 0.7, TopK: 2}, {Temperature: 1, TopK: 1, TopP: 0.5}} {
			if got := NewSampler(s, 1).Next(logits); got < 0 || got >= len(logits) {
				t.Fatalf("%v with %+v: token %d", logits, s, got)
			}
		}
	}
}
