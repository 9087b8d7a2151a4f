package main

import (
	"context"
	"math"
	"testing"
)

// TestBenchGemv runs the benchmark on a small odd-sized matrix: it checks the kernel against the
// reference itself, and its figures must be filled in and consistent.
func TestBenchGemv(t *testing.T) {
	r, err := benchGemv(context.Background(), 100, 333, 0, false, 10, 1<<20)
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

// --bits N: the n-bit product, checked against the Go reference inside, streams ceil(K·N/8) bytes a row.
func TestBenchGemvBits(t *testing.T) {
	for _, bits := range []int{1, 2, 3, 4, 8} {
		r, err := benchGemv(context.Background(), 70, 333, bits, false, 10, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if want := 8 * float64((333*bits+7)/8) / 333; r.ComputeBits != want {
			t.Errorf("%d bits: compute_bits_per_weight %v, want %v", bits, r.ComputeBits, want)
		}
	}
}
