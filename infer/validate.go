package infer

import (
	"fmt"
	"math"
)

// Validate reports the first setting no sampler can use, with the ranges the server's requests are
// held to (serve): temperature 0 (greedy) to 100, top_k >= 0, top_p 0 (off) to 1. NaN is never valid.
func (s Sampling) Validate() error {
	switch {
	case math.IsNaN(s.Temperature) || s.Temperature < 0 || s.Temperature > 100:
		return fmt.Errorf("temperature %v: want 0 (greedy) to 100", s.Temperature)
	case s.TopK < 0:
		return fmt.Errorf("top-k %d: want 0 (all tokens) or more", s.TopK)
	case math.IsNaN(s.TopP) || s.TopP < 0 || s.TopP > 1:
		return fmt.Errorf("top-p %v: want 0 (off) to 1", s.TopP)
	}
	return nil
}
