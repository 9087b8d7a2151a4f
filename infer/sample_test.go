package infer

import (
	"math"
	"testing"
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
