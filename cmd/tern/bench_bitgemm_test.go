package main

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"tern/kernels"
)

func TestBenchBitgemmOne(t *testing.T) {
	for _, op := range []string{"gemm", "bitlinear", "panels", "set", "quant"} {
		r, err := benchBitgemmOne(op, 7, 65, 33, 3, time.Millisecond)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if r.Op != op || r.M != 7 || r.N != 65 || r.K != 33 || r.Reps != 3 || r.Ms <= 0 || r.MinMs > r.Ms || r.Features == "" {
			t.Errorf("%s: implausible result %+v", op, r)
		}
		if (op == "gemm" || op == "bitlinear" || op == "panels") != (r.GOPS > 0) {
			t.Errorf("%s: gops = %v", op, r.GOPS)
		}
	}
	if _, err := benchBitgemmOne("nope", 1, 1, 1, 1, time.Millisecond); err == nil {
		t.Error("unknown op accepted")
	}
}

func TestBenchBitgemmFlags(t *testing.T) {
	for _, args := range [][]string{{"--sweep", "64,x"}, {"--impl", "sse9"}, {"--m", "0"}, {"--threads", "0"}, {"stray"}} {
		if err := runBenchBitgemm(context.Background(), args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// TestBenchBitgemmPeak: --peak adds VPDPBUSD's peak and the product's share of it where the
// implementation has the instruction, and is a clear error naming --peak where it does not.
func TestBenchBitgemmPeak(t *testing.T) {
	if kernels.TernaryPanelsFast() {
		r, err := benchBitgemmOne("panels", 16, 32, 64, 1, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		r.Threads = 1
		if err := bitgemmPeak(&r, 10*time.Millisecond); err != nil {
			t.Fatalf("--peak with VPDPBUSD: %v", err)
		}
		if !(r.PeakGOPS > 0) || !(r.PeakPerCPU > 0) || math.Abs(r.OfPeak-r.GOPS/r.PeakGOPS) > 1e-9*r.OfPeak {
			t.Errorf("implausible peak in %+v", r)
		}
	}
	restore, err := kernels.Use("go")
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	args := []string{"--op", "panels", "--m", "2", "--n", "16", "--k", "16", "--reps", "1", "--min-time", "1ms", "--threads", "1", "--peak", "--json"}
	if err := runBenchBitgemm(context.Background(), args); err == nil || !strings.Contains(err.Error(), "--peak") {
		t.Errorf("--peak on the go implementation: %v, want an error naming --peak", err)
	}
}
