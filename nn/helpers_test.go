package nn

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"tern/kernels"
	"tern/tensor"
)

// Shared test helpers: central finite differences on a scalar loss L = Σ out·R (R random, fixed), so
// dL/dout = R and the analytic gradients come from Backward(R).

const (
	fdEps  = 3e-3 // perturbation: float32 layers, so smaller steps drown in rounding
	fdAtol = 3e-3 // absolute tolerance on a gradient entry
	fdRtol = 2e-2 // relative tolerance; a wrong sign or missing term is off by O(1)
)

func randn(rng *tensor.RNG, n int, std float64) []float32 {
	x := make([]float32, n)
	rng.FillNormal(x, std)
	return x
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkFD compares analytic[i] with the central difference of loss() in x[i] for up to maxIdx indices
// spread over x.
func checkFD(t *testing.T, name string, x, analytic []float32, loss func() float64) {
	t.Helper()
	if len(x) != len(analytic) {
		t.Fatalf("%s: len(x)=%d len(grad)=%d", name, len(x), len(analytic))
	}
	const maxIdx = 60
	step := max(1, len(x)/maxIdx)
	bad := 0
	for i := 0; i < len(x); i += step {
		old := x[i]
		x[i] = old + fdEps
		lp := loss()
		x[i] = old - fdEps
		lm := loss()
		x[i] = old
		num := (lp - lm) / (2 * fdEps)
		ana := float64(analytic[i])
		if math.Abs(num-ana) > fdAtol+fdRtol*math.Abs(num) {
			if bad < 5 {
				t.Errorf("%s[%d]: analytic %.6g, finite difference %.6g", name, i, ana, num)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d mismatches", name, bad)
	}
}

func zeroGrads(ps []*Param) {
	for _, p := range ps {
		p.ZeroGrad()
	}
}

func clone(x []float32) []float32 { return append([]float32(nil), x...) }

// withThreads runs f with the pool at n threads and restores the previous size.
func withThreads(n int, f func()) {
	old := kernels.Threads()
	kernels.SetThreads(n)
	defer kernels.SetThreads(old)
	f()
}

// sameBits fails unless a and b are bit-identical.
func sameBits(t *testing.T, name string, a, b []float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: lengths %d and %d", name, len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s[%d]: %v (1 thread) vs %v (2 threads)", name, i, a[i], b[i])
		}
	}
}

// bytesPerRun is the heap bytes allocated per call of f (after one warm-up call). The collector is
// paused meanwhile: a GC would empty the sync.Pools kernels keep scratch in and count their refill.
func bytesPerRun(f func()) float64 {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	f()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const runs = 10
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&m1)
	return float64(m1.TotalAlloc-m0.TotalAlloc) / runs
}

// maxStepBytes bounds the heap bytes a layer step may allocate: the worker pool's closures and wait
// groups (a few dozen bytes per parallel kernel call), never activation buffers (kilobytes here).
const maxStepBytes = 1024
