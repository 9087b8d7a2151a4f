package infer

import (
	"math"
	"strings"
	"testing"
)

// TestSamplingValidate: the settings `tern generate` accepted and serve rejected are refused.
func TestSamplingValidate(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		s    Sampling
		want string
	}{
		{Sampling{Temperature: -1}, "temperature"},
		{Sampling{Temperature: nan}, "temperature"},
		{Sampling{Temperature: 101}, "temperature"},
		{Sampling{Temperature: 1, TopP: 2}, "top-p"},
		{Sampling{Temperature: 1, TopP: nan}, "top-p"},
		{Sampling{Temperature: 1, TopK: -1}, "top-k"},
	} {
		if err := c.s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.s, err)
		}
	}
	for _, ok := range []Sampling{{}, {Temperature: 0.8, TopK: 40, TopP: 0.95}, {Temperature: 100, TopP: 1}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}
