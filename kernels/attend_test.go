package kernels

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"tern/half"
	"tern/tensor"
)

// attendRef is softmax(scale·q·Kᵀ)·V in float64 over the widened F16 rows.
func attendRef(q []float32, k, v []uint16, ld, n, hs int, scale float32) []float64 {
	s := make([]float64, n)
	m := math.Inf(-1)
	for t := range n {
		for j := range hs {
			s[t] += float64(q[j]) * float64(half.F16ToFloat32(k[t*ld+j]))
		}
		s[t] *= float64(scale)
		m = math.Max(m, s[t])
	}
	sum := 0.0
	for t := range s {
		s[t] = math.Exp(s[t] - m)
		sum += s[t]
	}
	out := make([]float64, hs)
	for t := range n {
		for j := range hs {
			out[j] += s[t] / sum * float64(half.F16ToFloat32(v[t*ld+j]))
		}
	}
	return out
}

// attendCase is one head's cache: n positions of ld values, the head's hs columns at an offset.
type attendCase struct {
	q    []float32
	k, v []uint16 // sliced to exactly (n-1)·ld + hs values: the kernel may read nothing past them
}

// whole extends the case's slices to the end of their arrays (the columns after the head's: the
// kernel then prefetches them too).
func (c attendCase) whole() attendCase {
	c.k, c.v = c.k[:cap(c.k)], c.v[:cap(c.v)]
	return c
}

func newAttendCase(rng *tensor.RNG, n, hs, ld int, qScale float32) attendCase {
	const off = 5
	f := make([]float32, n*ld+off)
	conv := func() []uint16 {
		rng.FillNormal(f, 1)
		h := make([]uint16, len(f)+hs)
		for i, x := range f {
			h[i] = half.Float32ToF16(x)
		}
		end := off + (n-1)*ld + hs
		return h[off:end]
	}
	q := make([]float32, hs)
	rng.FillNormal(q, float64(qScale))
	return attendCase{q, conv(), conv()}
}

// Tolerances against float64: a weight's relative error is about the absolute error of its score
// (the dot products' rounding, a few ulps of Σ|q_j·k_j|), so it grows with the scores' size.
const (
	attendTol        = 2e-5 // unit-variance q, keys and values
	attendTolExtreme = 2e-3 // scores in the hundreds
)

// TestAttendF16 checks AttendF16 on every path against float64 for contexts 1..70 (both sides of the
// 16-position groups and the 4-position streams), head sizes around the 16-column blocks and the
// 4/2/1-block chunks, rows further apart than the head, and scores far beyond exp's range.
func TestAttendF16(t *testing.T) {
	rng := tensor.NewRNG(7)
	forEachImpl(t, func(t *testing.T) {
		for _, hs := range []int{8, 16, 32, 48, 64, 96, 112, 128, 136} {
			for n := 1; n <= 70; n++ {
				if hs%16 != 0 && n%7 != 0 { // the composition's head sizes: fewer contexts
					continue
				}
				for _, extreme := range []bool{false, true} {
					ld, qs, scale, tol := 2*hs+8, float32(1), float32(1/math.Sqrt(float64(hs))), attendTol
					if extreme { // scores up to ~±300: only the max subtraction keeps exp finite
						ld, qs, scale, tol = hs+24, 40, 1, attendTolExtreme
					}
					c := newAttendCase(rng, n, hs, ld, qs)
					if !extreme {
						c = c.whole()
					}
					out := make([]float32, hs+1)
					out[hs] = 42 // past hs: must stay
					scores := make([]float32, n+1)
					scores[n] = 42
					AttendF16(out, c.q, c.k, c.v, ld, n, hs, scale, scores)
					want := attendRef(c.q, c.k, c.v, ld, n, hs, scale)
					for j := range hs {
						if d := math.Abs(float64(out[j]) - want[j]); !(d <= tol) {
							t.Fatalf("hs=%d n=%d extreme=%v: out[%d] = %v, want %v (|diff| %.3g > %.3g)", hs, n, extreme, j, out[j], want[j], d, tol)
						}
					}
					if out[hs] != 42 || scores[n] != 42 {
						t.Fatalf("hs=%d n=%d: wrote past out[hs] or scores[n]", hs, n)
					}
				}
			}
		}
	})
}

// TestAttendF16Deterministic: the same inputs give the same bits whatever ran before and whatever the
// scratch and output held (a sequence decodes alike alone and in a batch).
func TestAttendF16Deterministic(t *testing.T) {
	rng := tensor.NewRNG(8)
	forEachImpl(t, func(t *testing.T) {
		for _, hs := range []int{64, 96} {
			for _, n := range []int{5, 16, 33, 62} {
				c := newAttendCase(rng, n, hs, 3*hs, 1)
				other := newAttendCase(rng, 70, hs, hs, 3)
				scratch := make([]float32, 80)
				first := make([]float32, hs)
				AttendF16(first, c.q, c.k, c.v, 3*hs, n, hs, 0.125, scratch)
				for i := range 3 {
					tmp := make([]float32, hs)
					AttendF16(tmp, other.q, other.k, other.v, hs, 70-i, hs, 0.3, scratch)
					again := make([]float32, hs)
					for j := range again {
						again[j] = float32(math.NaN())
					}
					for j := range scratch {
						scratch[j] = float32(j) * 1e6
					}
					AttendF16(again, c.q, c.k, c.v, 3*hs, n, hs, 0.125, scratch[i:])
					for j := range hs {
						if math.Float32bits(again[j]) != math.Float32bits(first[j]) {
							t.Fatalf("hs=%d n=%d call %d: out[%d] = %v, first call %v", hs, n, i, j, again[j], first[j])
						}
					}
				}
			}
		}
	})
}

func TestAttendF16Edges(t *testing.T) {
	out := []float32{1, 2, 3}
	AttendF16(out, make([]float32, 3), nil, nil, 3, 0, 3, 1, nil)
	if out[0] != 0 || out[1] != 0 || out[2] != 0 {
		t.Errorf("n=0: out = %v, want zeros", out)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "AttendF16: n=2 hs=16 ld=16") {
			t.Errorf("short cache: panic %v", r)
		}
	}()
	AttendF16(make([]float32, 16), make([]float32, 16), make([]uint16, 31), make([]uint16, 32), 16, 2, 16, 1, make([]float32, 2))
}

// BenchmarkAttendF16 times one head's decode attention at the serving presets' head sizes (64: the
// 100M preset, 96: the 700M) and short contexts, the fused kernel against the composition it
// replaces (GEMV, scale, softmax, transposed GEMV).
func BenchmarkAttendF16(b *testing.B) {
	rng := tensor.NewRNG(9)
	for _, hs := range []int{64, 96} {
		for _, n := range []int{32, 64} {
			ld := attendBenchLD * hs // the cache's row: all heads' columns
			c := newAttendCase(rng, n, hs, ld, 1)
			out, scores := make([]float32, hs), make([]float32, n)
			sc := float32(1 / math.Sqrt(float64(hs)))
			b.Run(fmt.Sprintf("hs=%d/n=%d/fused", hs, n), func(b *testing.B) {
				for range b.N {
					AttendF16(out, c.q, c.k, c.v, ld, n, hs, sc, scores)
				}
			})
			b.Run(fmt.Sprintf("hs=%d/n=%d/composed", hs, n), func(b *testing.B) {
				for range b.N {
					attendF16Composed(out, c.q, c.k, c.v, ld, n, hs, sc, scores)
				}
			})
		}
	}
}

var attendBenchLD = 16

// BenchmarkAttendF16Stream runs the attention of a 16-slot decoding step of the 100M preset (hidden
// 768, 12 heads of 64, 12 layers) over caches of 64 positions, contexts 4..62 across the slots: 38 MB
// of keys and values, more than the CPU caches hold, so each call reads its rows from memory as in
// serving. Each layer's (slot, head) pairs are split between the threads as Batch.Step splits them
// (threads=1: one goroutine; threads=2: the pool). ns/op is per (slot, layer, head) call.
func BenchmarkAttendF16Stream(b *testing.B) {
	const slots, layers, heads, hs, maxPos = 16, 12, 12, 64, 64
	C := heads * hs
	rng := tensor.NewRNG(10)
	kv := make([][]uint16, 2*slots*layers)
	f := make([]float32, maxPos*C)
	for i := range kv {
		rng.FillNormal(f, 1)
		kv[i] = make([]uint16, maxPos*C)
		for j, x := range f {
			kv[i][j] = half.Float32ToF16(x)
		}
	}
	q := make([]float32, slots*C)
	rng.FillNormal(q, 1)
	out, scores := make([]float32, slots*C), make([]float32, slots*heads*maxPos)
	sc := float32(0.125)
	defer SetThreads(Threads())
	for _, threads := range []int{1, 2} {
		for _, impl := range []string{"fused", "composed"} {
			b.Run(fmt.Sprintf("threads=%d/%s", threads, impl), func(b *testing.B) {
				SetThreads(threads)
				l := 0
				layer := func(lo, hi int) {
					for i := lo; i < hi; i++ {
						s, h := i/heads, i%heads
						n := 4 + 58*s/(slots-1)
						k, v := kv[2*(l*slots+s)], kv[2*(l*slots+s)+1]
						o, qq, sco := out[s*C+h*hs:], q[s*C+h*hs:], scores[i*maxPos:(i+1)*maxPos]
						if impl == "fused" {
							AttendF16(o, qq, k[h*hs:], v[h*hs:], C, n, hs, sc, sco)
						} else {
							attendF16Composed(o, qq, k[h*hs:], v[h*hs:], C, n, hs, sc, sco)
						}
					}
				}
				for b.Loop() {
					ParallelFor(slots*heads, 1, layer)
					l = (l + 1) % layers
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*slots*heads), "ns/call")
			})
		}
	}
}
