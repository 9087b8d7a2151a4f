package kernels

import (
	"testing"
	"time"

	"tern/tensor"
)

func TestZZTimeSet(t *testing.T) {
	defer SetThreads(Threads())
	SetThreads(1)
	r := tensor.NewRNG(0)
	wf := awkwardFloats(r, 1024*1024)
	wv := make([]int8, len(wf))
	QuantizeTernary(wv, wf)
	w := NewTernaryMatrix(wv, 1024, 1024)
	for _, im := range quantImpls() {
		withImpl(im, func() {
			for name, f := range map[string]func(){"set": func() { w.Set(wv) }, "qfrom": func() { w.QuantizeFrom(wf) }, "qt": func() { QuantizeTernary(wv, wf) }} {
				best := time.Hour
				for i := 0; i < 200; i++ {
					t0 := time.Now()
					f()
					best = min(best, time.Since(t0))
				}
				t.Logf("%s %s: best %v", im.name, name, best)
			}
		})
	}
}

//go:noinline
func depAdds(n int) int {
	x := 0
	for i := 0; i < n; i++ {
		x = x*3 + i // imul latency 3 + add 1
	}
	return x
}

func TestZZClock(t *testing.T) {
	best := time.Hour
	for i := 0; i < 20; i++ {
		t0 := time.Now()
		depAdds(10_000_000)
		best = min(best, time.Since(t0))
	}
	t.Logf("GHz ≈ %.2f (assuming 4 cycles/iter)", 4*1e7/float64(best.Nanoseconds()))
}

func TestZZGemm(t *testing.T) {
	defer SetThreads(Threads())
	r := tensor.NewRNG(0)
	for _, s := range []int{256, 512, 1024, 2048} {
		x, wv := randInt8(r, s*s), randTernary(r, s*s)
		w := NewTernaryMatrix(wv, s, s)
		c := make([]int32, s*s)
		for _, th := range []int{1, 2} {
			SetThreads(th)
			best := time.Hour
			for i := 0; i < max(5, 20000000000/(s*s*s)); i++ {
				t0 := time.Now()
				TernaryGemm(c, x, w, s)
				best = min(best, time.Since(t0))
			}
			t.Logf("%d threads=%d: best %v = %.0f GOP/s", s, th, best, 2*float64(s*s*s)/float64(best.Nanoseconds()))
		}
	}
}

func TestZZShapes(t *testing.T) {
	defer SetThreads(Threads())
	SetThreads(1)
	r := tensor.NewRNG(0)
	for _, sh := range [][3]int{{1024, 1024, 1024}, {1024, 1024, 1536}, {1024, 1024, 2048}, {1024, 1024, 2052}, {1024, 1024, 2560}, {1024, 1024, 3072}, {1024, 1024, 4096}, {1024, 1024, 1028}} {
		m, n, k := sh[0], sh[1], sh[2]
		x, wv := randInt8(r, m*k), randTernary(r, n*k)
		w := NewTernaryMatrix(wv, n, k)
		c := make([]int32, m*n)
		best := time.Hour
		for i := 0; i < 8; i++ {
			t0 := time.Now()
			TernaryGemm(c, x, w, m)
			best = min(best, time.Since(t0))
		}
		t.Logf("%v: best %v = %.0f GOP/s", sh, best, 2*float64(m*n*k)/float64(best.Nanoseconds()))
	}
}

func oldGeneric(ci []int32, x []int8, w *TernaryMatrix, m int) {
	n, k, kg := w.N, w.K, w.kg
	var acc [bitPanel]int32
	for i := 0; i < m; i++ {
		xi := x[i*k : i*k+k]
		for p := 0; p*bitPanel < n; p++ {
			clear(acc[:])
			panel := w.w[p*kg*bitPanel*4 : (p+1)*kg*bitPanel*4]
			for kk, xv := range xi {
				col := panel[(kk/4)*bitPanel*4+kk%4:]
				for c := range acc {
					acc[c] += int32(xv) * int32(col[4*c])
				}
			}
			for c := 0; c < bitPanel && p*bitPanel+c < n; c++ {
				ci[i*n+p*bitPanel+c] = acc[c]
			}
		}
	}
}

func TestZZGeneric(t *testing.T) {
	defer SetThreads(Threads())
	SetThreads(1)
	r := tensor.NewRNG(0)
	s := 192
	x, wv := randInt8(r, s*s), randTernary(r, s*s)
	w := NewTernaryMatrix(wv, s, s)
	c := make([]int32, s*s)
	for rep := 0; rep < 3; rep++ {
		for name, f := range map[string]func(){"old": func() { oldGeneric(c, x, w, s) }, "new": func() { TernaryGemmGeneric(c, x, w, s) }} {
			best := time.Hour
			for i := 0; i < 5; i++ {
				t0 := time.Now()
				f()
				best = min(best, time.Since(t0))
			}
			t.Logf("%s: %.2f GOP/s", name, 2*float64(s*s*s)/float64(best.Nanoseconds()))
		}
	}
}
