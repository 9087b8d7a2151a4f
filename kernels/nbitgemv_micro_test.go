package kernels

import (
	"math/rand"
	"os"
	"runtime"
	"testing"
)

// TestNBitGemvMicro prints the n-bit GEMV cost per 64 bytes of codes in thread CPU time, one thread:
// the kernel alone on L2-resident rows (64 x K 4096), and whole NBitGemv calls of decoding's shapes
// (L3-resident), which add the per-call work (activation planes, Σ q, finishing each row). A measuring
// tool, not a check: TERN_GEMV_MICRO=1 go test -run NBitGemvMicro -v ./kernels
func TestNBitGemvMicro(t *testing.T) {
	if os.Getenv("TERN_GEMV_MICRO") == "" {
		t.Skip("set TERN_GEMV_MICRO=1 to measure")
	}
	runtime.LockOSThread()
	defer SetThreads(Threads())
	SetThreads(1)
	rng := rand.New(rand.NewSource(0))
	for _, impl := range Impls() {
		if impl != "avx512vnni" && impl != "avx2" {
			continue
		}
		restore, err := Use(impl)
		if err != nil {
			t.Fatal(err)
		}
		for _, bits := range []int{1, 2, 3, 4, 8} {
			kern := nbitKernelFor(bits)
			if kern == nil {
				t.Logf("%-10s %d bits: the Go reference", impl, bits)
				continue
			}
			best := func(bytes int, f func()) float64 {
				b := 1e18
				for rep := 0; rep < 9; rep++ {
					c0 := threadCPU()
					const iters = 200
					for i := 0; i < iters; i++ {
						f()
					}
					b = min(b, float64(threadCPU()-c0)/iters/float64(bytes)*64)
				}
				return b
			}
			n, k := 64, 4096
			rb := k * bits / 8
			w := make([]byte, n*rb)
			rng.Read(w)
			blocks := k / kern.per
			planes := nbitPlanes(nil, make([]int8, k), blocks*kern.per, bits, kern.lanes)
			var dots [64]int32
			kernelNs := best(n*rb, func() { kern.dots(&dots[0], &w[0], rb, n, blocks, &planes[0]) })
			var calls []float64
			for _, s := range [][2]int{{4096, 1536}, {1536, 4096}} {
				n, k := s[0], s[1]
				rb := (k*bits + 7) / 8
				w := make([]byte, n*rb)
				rng.Read(w)
				q := make([]int8, k)
				for i := range q {
					q[i] = int8(rng.Intn(256) - 128)
				}
				y := make([]float32, n)
				calls = append(calls, best(n*rb, func() { NBitGemv(y, w, []float32{0.1}, n, k, bits, q, 1) }))
			}
			t.Logf("%-10s %d bits: kernel %.2f ns/64 B (hot); whole call 4096x1536 %.2f, 1536x4096 %.2f ns/64 B", impl, bits, kernelNs, calls[0], calls[1])
		}
		restore()
	}
}
