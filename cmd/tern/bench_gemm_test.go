package main

import (
	"context"
	"strings"
	"testing"

	"tern/kernels"
)

// TestBenchGemm: each dtype names the path that ran, under every implementation the CPU has.
func TestBenchGemm(t *testing.T) {
	for _, impl := range kernels.Impls() {
		restore, err := kernels.Use(impl)
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range []string{"f32", "bf16"} {
			r, err := benchGemm(context.Background(), 9, 33, 17, "nt", dt, 1)
			if err != nil {
				t.Fatal(err)
			}
			want := kernels.SgemmPath()
			if dt == "bf16" {
				want = kernels.BgemmPath()
			}
			if r.Dtype != dt || r.Path != want || r.Features != impl || !(r.GFLOPS > 0) {
				t.Errorf("%s %s: implausible result %+v (want path %s)", impl, dt, r, want)
			}
		}
		restore()
	}
	for _, args := range [][]string{{"--dtype", "fp8"}, {"--impl", "nosuch"}, {"--trans", "nx"}} {
		if err := runBenchGemm(context.Background(), args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// TestBenchGemmPeak: --peak adds the instruction's peak where the implementation has it, and is a
// clear error where it does not.
func TestBenchGemmPeak(t *testing.T) {
	args := []string{"--dtype", "bf16", "--m", "8", "--n", "8", "--k", "8", "--reps", "1", "--threads", "1", "--peak", "--json"}
	err := runBenchGemm(context.Background(), args)
	if kernels.HasBF16() && err != nil {
		t.Errorf("--peak with VDPBF16PS: %v", err)
	}
	restore, uerr := kernels.Use("go")
	if uerr != nil {
		t.Fatal(uerr)
	}
	defer restore()
	if err := runBenchGemm(context.Background(), args); err == nil || !strings.Contains(err.Error(), "--peak") {
		t.Errorf("--peak on the go implementation: %v, want an error naming --peak", err)
	}
}
