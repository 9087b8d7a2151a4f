//go:build linux && !purego

package kernels

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"

	"tern/tensor"
)

// TestTernaryPanelWideMicro prints, side by side, TernaryPanelForward with the wide kernels (5..12
// rows x 32 columns) and with the 16-column kernels only (tgNarrow), on the decode presets' ternary
// matrices at 16 and 240 rows, hot (one matrix in cache) and cold (cycling through copies filling 96
// MiB), one thread, thread CPU time per call: the two alternate every 5 calls, so a slow stretch of
// a shared machine meets both. Best and median of ROUNDS (default 15) x 5 calls, G MAC/s. A measuring
// tool, not a check:
// TERN_TGEMM_WIDE=1 [TERN_TGEMM_ROUNDS=15] taskset -c 0 go test -run TernaryPanelWideMicro -v ./kernels
func TestTernaryPanelWideMicro(t *testing.T) {
	if os.Getenv("TERN_TGEMM_WIDE") == "" {
		t.Skip("set TERN_TGEMM_WIDE=1 to measure")
	}
	if !hasVNNI {
		t.Skip("no AVX-512 VNNI")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer SetThreads(Threads())
	SetThreads(1)
	defer func(v bool) { tgNarrow = v }(tgNarrow)
	rounds := 15
	fmt.Sscan(os.Getenv("TERN_TGEMM_ROUNDS"), &rounds)
	r := tensor.NewRNG(5)
	fmt.Printf("one thread, thread CPU time, G MAC/s best / median of %d x 5 calls: wide | 16-column\n", rounds)
	for _, sh := range [][2]int{{2304, 768}, {768, 768}, {2048, 768}, {768, 2048}, {4608, 1536}, {1536, 1536}, {4096, 1536}, {1536, 4096}} {
		n, k := sh[0], sh[1]
		w := randTernary(r, n*k)
		ps := make([]*TernaryPanels, max(2, (96<<20)/(n*k/4)))
		for i := range ps {
			ps[i] = NewTernaryPanels(n, k)
			ps[i].SetRows(0, w)
		}
		line := fmt.Sprintf("%4d x %4d:", n, k)
		for _, m := range []int{16, 240} {
			x, xs, out := make([]int8, m*k), make([]float32, m), make([]float32, m*n)
			for i := range x {
				x[i] = int8(r.Intn(256) - 128)
			}
			for i := range xs {
				xs[i] = 1
			}
			for _, cold := range []bool{false, true} {
				var rate [2][]float64 // wide, narrow
				c := 0
				for range rounds {
					for v, narrow := range []bool{false, true} {
						tgNarrow = narrow
						c0 := threadCPU()
						for range 5 {
							if cold {
								c++
							}
							TernaryPanelForward(out, x, xs, ps[c%len(ps)], 1, m)
						}
						rate[v] = append(rate[v], float64(5*m*n*k)/float64(threadCPU()-c0))
					}
				}
				line += fmt.Sprintf("  %d rows %s", m, map[bool]string{false: "hot", true: "cold"}[cold])
				for v := range rate {
					slices.Sort(rate[v])
					sep := " |"
					if v == 0 {
						sep = ""
					}
					line += fmt.Sprintf("%s %.0f/%.0f", sep, rate[v][len(rate[v])-1], rate[v][len(rate[v])/2])
				}
			}
		}
		fmt.Println(line)
	}
}
