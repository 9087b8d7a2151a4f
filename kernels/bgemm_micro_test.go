package kernels

import (
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// TestBgemmMicro prints the bf16 and fp32 GEMMs' GFLOP/s per thread CPU second (one thread, NN
// and NT, and the bf16 packing alone): on a shared machine this excludes time the thread was
// descheduled. A measuring tool, not a check: TERN_GEMM_MICRO=1 go test -run BgemmMicro -v ./kernels
// (TERN_GEMM_MICRO=512 for 512³).
func TestBgemmMicro(t *testing.T) {
	v := os.Getenv("TERN_GEMM_MICRO")
	if v == "" {
		t.Skip("set TERN_GEMM_MICRO=1 to measure")
	}
	n := 1024
	if s, err := strconv.Atoi(v); err == nil && s > 1 {
		n = s
	}
	defer SetThreads(Threads())
	SetThreads(1)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewSource(0))
	g := gemmCase{false, false, n, n, n, n, n, n, 1, 0}
	a, b, c := g.operands(rng)
	for _, tr := range []bool{false, true} {
		for _, f := range []struct {
			name string
			gemm func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)
		}{{"sgemm", Sgemm}, {"bgemm", Bgemm}} {
			f.gemm(false, tr, n, n, n, 1, a, n, b, n, 0, c, n)
			best := 1e18
			for range 5 {
				c0 := threadCPU()
				f.gemm(false, tr, n, n, n, 1, a, n, b, n, 0, c, n)
				best = min(best, float64(threadCPU()-c0))
			}
			t.Logf("%s transB=%v %d³: %.1f GFLOP/s per CPU second (%.2f ms CPU)", f.name, tr, n, 2*float64(n*n*n)/best, best/1e6)
		}
	}
	// packing alone: one A strip set and one B panel set of a K block, as the driver does per block
	dst := make([]float32, bgemmKC*n)
	for _, runs := range []bool{false, true} {
		best := 1e18
		for range 5 {
			c0 := threadCPU()
			for j := 0; j+32 <= n; j += 32 {
				packPanelBF16(packBF16, dst[j*bgemmKC/2:], runs, a[j:], n, 32, 32, bgemmKC)
			}
			best = min(best, float64(threadCPU()-c0))
		}
		t.Logf("pack bf16 runs=%v: %d x %d values in %.2f ms CPU (%.2f ns/value)", runs, bgemmKC, n, best/1e6, best/float64(bgemmKC*n))
	}
}
