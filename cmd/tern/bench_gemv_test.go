package main

import (
	"context"
	"math"
	"testing"
)

// TestBenchGemv runs the benchmark on a small odd-sized matrix: it checks the kernel against the
// reference itself, and its figures must be filled in and consistent.
func TestBenchGemv(t *testing.T) {
	r, err := benchGemv(context.Background(), 100, 333, false, 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !(r.Us > 0 && r.MinUs <= r.Us && r.ReadUs > 0 && r.BandwidthGBps > 0) {
		t.Errorf("times missing: %+v", r)
	}
	if want := r.ReadUs / r.Us; math.Abs(r.ReadFrac-want) > 1e-12*want {
		t.Errorf("read_fraction %v, want read_us/us = %v", r.ReadFrac, want)
	}
	if want := 8 * 100 * 67.0 / (100 * 333); r.ComputeBits != want { // rows of ceil(333/5) = 67 bytes
		t.Errorf("compute_bits_per_weight %v, want %v", r.ComputeBits, want)
	}
}
