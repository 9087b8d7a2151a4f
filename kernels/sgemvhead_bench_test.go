package kernels

import (
	"fmt"
	"testing"
	"time"

	"tern/half"
	"tern/tensor"
)

// BenchmarkSgemvF16Head: the F16 LM heads of the 100M (32000 x 768) and 700M (32000 x 1536) presets
// against B vectors, on 1 and 2 threads: SgemvF16 for B = 1 (the single-sequence decode step; the
// tables, 49 and 98 MB, come from memory: two copies taken in turn, so each call reads a table the
// last call did not touch), SgemvF16Batch for B > 1. Besides the mean it reports the fastest call
// (best-µs; the machine is shared, the minimum is the stable figure) and its G multiply-adds per
// second per thread (gfma/thr; an AVX-512 core peaks at 2 FMA x 16 lanes per cycle).
func BenchmarkSgemvF16Head(b *testing.B) {
	defer SetThreads(Threads())
	for _, k := range []int{768, 1536} {
		const n = 32000
		w := make([]float32, n*k)
		tensor.NewRNG(1).FillNormal(w, 0.02)
		var tabs [2][]uint16
		for c := range tabs {
			tabs[c] = make([]uint16, n*k)
			for i, v := range w {
				tabs[c][i] = half.Float32ToF16(v * float32(1+c))
			}
		}
		for _, th := range []int{1, 2} {
			for _, B := range []int{1, 2, 3, 4, 16, 64} {
				x, y := make([]float32, B*k), make([]float32, B*n)
				tensor.NewRNG(2).FillNormal(x, 1)
				b.Run(fmt.Sprintf("k=%d/threads=%d/B=%d", k, th, B), func(b *testing.B) {
					SetThreads(th)
					b.SetBytes(int64(2 * n * k))
					best := time.Duration(1 << 62)
					for i := range b.N {
						a, t0 := tabs[i&1], time.Now()
						if B == 1 {
							SgemvF16(y, a, x, n, k)
						} else {
							SgemvF16Batch(y, n, a, x, n, k, B)
						}
						best = min(best, time.Since(t0))
					}
					b.ReportMetric(float64(best.Microseconds()), "best-µs")
					b.ReportMetric(float64(n*k*B)/best.Seconds()/1e9/float64(th), "gfma/thr")
				})
			}
		}
	}
}
