//go:build linux

package kernels

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"testing"
	"time"

	"tern/tensor"
)

// TestTernaryPanelMicro prints, per row count, the thread CPU time of one (N,K) ternary product four
// ways on one thread: 2-bit panels (TernaryPanelForward), one byte per weight (BitLinearForward), the
// packed batch GEMV (TernaryGemvBatchF32) and one packed GEMV per row (TernaryGemvF32), hot (one
// matrix) and cold (cycling through copies filling 96 MiB), with the panels' G multiply-adds/s. Thread
// CPU time leaves out the time the thread was not running, so it holds up on a shared machine better
// than wall time. A measuring tool, not a check:
// TERN_TGEMM_MICRO=1 [TERN_TGEMM_N=2048 TERN_TGEMM_K=768] go test -run TernaryPanelMicro -v ./kernels
func TestTernaryPanelMicro(t *testing.T) {
	if os.Getenv("TERN_TGEMM_MICRO") == "" {
		t.Skip("set TERN_TGEMM_MICRO=1 to measure")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer SetThreads(Threads())
	SetThreads(1)
	n, k := 2048, 768
	fmt.Sscan(os.Getenv("TERN_TGEMM_N"), &n)
	fmt.Sscan(os.Getenv("TERN_TGEMM_K"), &k)
	r := tensor.NewRNG(20)
	w := randTernary(r, n*k)
	const coldBytes = 96 << 20
	rng := rand.New(rand.NewSource(1))
	nc := max(2, coldBytes/(n*k/4))
	ps, pk := make([]*TernaryPanels, nc), make([][]byte, nc)
	for i := range nc {
		ps[i] = NewTernaryPanels(n, k)
		ps[i].SetRows(0, w)
		pk[i] = randPackedRows(rng, n, k)
	}
	tms := make([]*TernaryMatrix, max(2, coldBytes/(n*k)))
	for i := range tms {
		tms[i] = NewTernaryMatrix(w, n, k)
	}
	vec, acc := NewGemvVec(k), make([]int32, n)
	fmt.Printf("%d x %d, one thread, thread CPU us per product, hot / cold (%s)\n", n, k, Impl())
	for _, m := range []int{1, 2, 4, 8, 16, 32, 64} {
		x, xf, xs := make([]int8, m*k), make([]float32, m*k), make([]float32, m)
		for i := range x {
			x[i] = int8(r.Intn(256) - 128)
			xf[i] = float32(x[i])
		}
		for i := range xs {
			xs[i] = 1
		}
		out := make([]float32, m*n)
		gb := NewGemvBatch(k, m)
		gb.SetFloat32(xf, m)
		line := fmt.Sprintf("rows %2d:", m)
		for _, c := range []struct {
			name string
			f    func(c int)
		}{
			{"panels", func(c int) { TernaryPanelForward(out, x, xs, ps[c%len(ps)], 1, m) }},
			{"bytes", func(c int) { BitLinearForward(out, x, xs, tms[c%len(tms)], 1, m) }},
			{"packed batch", func(c int) { TernaryGemvBatchF32(out, nil, pk[c%len(pk)], n, k, gb, 1) }},
			{"packed GEMVs", func(c int) {
				for i := range m {
					g := vec.SetFloat32(xf[i*k : (i+1)*k])
					TernaryGemvF32(out[i*n:(i+1)*n], acc, pk[c%len(pk)], n, k, vec, 1, g)
				}
			}},
		} {
			var us [2]float64
			for h, cold := range []bool{false, true} {
				best, ci := time.Hour, 0
				for range 5 {
					c0 := threadCPU()
					for range 20 {
						if cold {
							ci++
						}
						c.f(ci)
					}
					best = min(best, time.Duration(threadCPU()-c0)/20)
				}
				us[h] = best.Seconds() * 1e6
			}
			line += fmt.Sprintf("  %s %.1f / %.1f", c.name, us[0], us[1])
			if c.name == "panels" {
				line += fmt.Sprintf(" (%.0f / %.0f G MAC/s)", float64(m*n*k)/us[0]/1e3, float64(m*n*k)/us[1]/1e3)
			}
		}
		fmt.Println(line)
	}
}
