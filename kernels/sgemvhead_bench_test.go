package kernels

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"tern/half"
	"tern/tensor"
)

// BenchmarkSgemvF16Head: the F16 LM heads of the 100M (32000 x 768) and 700M (32000 x 1536) presets
// against B vectors, on 1 and 2 threads: SgemvF16 for B = 1 (the single-sequence decode step),
// SgemvF16Batch for B > 1. The tables come from memory: copies filling >= 192 MB taken in turn, so
// a call never finds its table in the cache. Besides the mean it reports the fastest call (best-µs;
// the machine is shared, the minimum is the stable figure): on 1 thread in the thread's CPU time
// (time descheduled does not count), on 2 in wall time; and from it the G multiply-adds per second
// per thread (gfma/thr; the AVX-512 peak is 2 FMA x 16 lanes per cycle, ~112 at 3.45 GHz on Zen 5).
func BenchmarkSgemvF16Head(b *testing.B) {
	defer SetThreads(Threads())
	for _, k := range []int{768, 1536} {
		const n = 32000
		w := make([]float32, n*k)
		tensor.NewRNG(1).FillNormal(w, 0.02)
		tabs := make([][]uint16, max(2, (192<<20)/(2*n*k)))
		for c := range tabs {
			tabs[c] = make([]uint16, n*k)
			for i, v := range w {
				tabs[c][i] = half.Float32ToF16(v * float32(1+c))
			}
		}
		for _, th := range []int{1, 2} {
			for _, B := range []int{1, 2, 3, 4, 8, 16, 64} {
				x, y := make([]float32, B*k), make([]float32, B*n)
				tensor.NewRNG(2).FillNormal(x, 1)
				b.Run(fmt.Sprintf("k=%d/threads=%d/B=%d", k, th, B), func(b *testing.B) {
					SetThreads(th)
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					clock := func() time.Duration {
						if th == 1 {
							if c := threadCPUTime(); c > 0 {
								return c
							}
						}
						return time.Duration(time.Now().UnixNano())
					}
					b.SetBytes(int64(2 * n * k))
					best := time.Duration(1 << 62)
					for i := range b.N {
						a, t0 := tabs[i%len(tabs)], clock()
						if B == 1 {
							SgemvF16(y, a, x, n, k)
						} else {
							SgemvF16Batch(y, n, a, x, n, k, B)
						}
						best = min(best, clock()-t0)
					}
					b.ReportMetric(float64(best.Microseconds()), "best-µs")
					b.ReportMetric(float64(n*k*B)/best.Seconds()/1e9/float64(th), "gfma/thr")
				})
			}
		}
	}
}
