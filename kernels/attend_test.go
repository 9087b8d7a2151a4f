package kernels

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"tern/half"
	"tern/tensor"
)

// attendRef is softmax(scale·q·Kᵀ)·V in float64; key(i), value(i) are the cache's i-th values.
func attendRef(q []float32, key, value func(i int) float64, ld, n, hs int, scale float32) []float64 {
	s := make([]float64, n)
	m := math.Inf(-1)
	for t := range n {
		for j := range hs {
			s[t] += float64(q[j]) * key(t*ld+j)
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
			out[j] += s[t] / sum * value(t*ld+j)
		}
	}
	return out
}

// attendCase is one head's cache: n positions of ld values, the head's hs columns at an offset, in
// fp32 (kf, vf) or F16 (k, v).
type attendCase struct {
	q      []float32
	k, v   []uint16  // sliced to exactly (n-1)·ld + hs values: the kernel may read nothing past them
	kf, vf []float32 // as k, v
}

// whole extends the case's slices to the end of their arrays (the columns after the head's: the
// kernel then prefetches them too).
func (c attendCase) whole() attendCase {
	if c.kf != nil {
		c.kf, c.vf = c.kf[:cap(c.kf)], c.vf[:cap(c.vf)]
	} else {
		c.k, c.v = c.k[:cap(c.k)], c.v[:cap(c.v)]
	}
	return c
}

// attend runs AttendF32 (f32) or AttendF16 on the case.
func (c attendCase) attend(f32 bool, out []float32, ld, n, hs int, scale float32, scores []float32) {
	if f32 {
		AttendF32(out, c.q, c.kf, c.vf, ld, n, hs, scale, scores)
	} else {
		AttendF16(out, c.q, c.k, c.v, ld, n, hs, scale, scores)
	}
}

// ref is attendRef of the case's fp32 or F16 cache.
func (c attendCase) ref(f32 bool, ld, n, hs int, scale float32) []float64 {
	if f32 {
		return attendRef(c.q, func(i int) float64 { return float64(c.kf[i]) }, func(i int) float64 { return float64(c.vf[i]) }, ld, n, hs, scale)
	}
	return attendRef(c.q, func(i int) float64 { return float64(half.F16ToFloat32(c.k[i])) },
		func(i int) float64 { return float64(half.F16ToFloat32(c.v[i])) }, ld, n, hs, scale)
}

func newAttendCase(rng *tensor.RNG, isF32 bool, n, hs, ld int, qScale float32) attendCase {
	const off = 5
	end := off + (n-1)*ld + hs
	f32 := func() []float32 {
		f := make([]float32, n*ld+off+hs)
		rng.FillNormal(f, 1)
		return f[off:end]
	}
	f16 := func() []uint16 {
		h := make([]uint16, n*ld+off+hs)
		f := f32()
		for i, x := range f[:cap(f)] {
			h[off+i] = half.Float32ToF16(x)
		}
		return h[off:end]
	}
	c := attendCase{q: make([]float32, hs)}
	rng.FillNormal(c.q, float64(qScale))
	if isF32 {
		c.kf, c.vf = f32(), f32()
	} else {
		c.k, c.v = f16(), f16()
	}
	return c
}

// Tolerances against float64: a weight's relative error is about the absolute error of its score
// (the dot products' rounding, a few ulps of Σ|q_j·k_j|), so it grows with the scores' size.
const (
	attendTol        = 2e-5 // unit-variance q, keys and values
	attendTolExtreme = 2e-3 // scores in the hundreds
)

// attendContexts: 1..70, then two long ones (several groups of the prefetch 64 rows ahead).
var attendContexts = func() []int {
	var ns []int
	for n := 1; n <= 70; n++ {
		ns = append(ns, n)
	}
	return append(ns, 150, 333)
}()

// forEachAttendImpl runs f under each implementation that runs different attention code (AVX-512;
// the composition on AVX2 kernels; on Go ones), for the F16 and the fp32 cache.
func forEachAttendImpl(t *testing.T, f func(t *testing.T, f32 bool)) {
	path := func() string {
		switch {
		case hasAVX512:
			return "avx512"
		case hasAVX2:
			return "avx2"
		}
		return "go"
	}
	for _, name := range distinctImpls(path) {
		withImplName(name, func() {
			for _, f32 := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/f32=%v", name, f32), func(t *testing.T) { f(t, f32) })
			}
		})
	}
}

// TestAttend checks AttendF16 and AttendF32 on every path against float64 for contexts 1..70 (both
// sides of the 16-position groups and the 4-position streams) and two long ones, head sizes around
// the 16-column blocks and the 6/4/2/1-block chunks, rows further apart than the head, and scores far beyond exp's
// range.
func TestAttend(t *testing.T) {
	rng := tensor.NewRNG(7)
	forEachAttendImpl(t, func(t *testing.T, f32 bool) {
		for _, hs := range []int{8, 16, 32, 48, 64, 96, 112, 128, 136, 256} {
			for _, n := range attendContexts {
				if (hs%16 != 0 || !hasAVX512) && n > 5 && n%16 > 1 { // the composition: fewer contexts
					continue
				}
				if n > 70 && hs != 64 && hs != 96 || hs > 128 && n > 20 {
					continue
				}
				for _, extreme := range []bool{false, true} {
					ld, qs, scale, tol := 2*hs+8, float32(1), float32(1/math.Sqrt(float64(hs))), attendTol
					if extreme { // scores up to ~±300: only the max subtraction keeps exp finite
						ld, qs, scale, tol = hs+24, 40, 1, attendTolExtreme
					}
					c := newAttendCase(rng, f32, n, hs, ld, qs)
					if !extreme {
						c = c.whole()
					}
					out := make([]float32, hs+1)
					out[hs] = 42 // past hs: must stay
					scores := make([]float32, n+1)
					scores[n] = 42
					c.attend(f32, out, ld, n, hs, scale, scores)
					want := c.ref(f32, ld, n, hs, scale)
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

// TestAttendDeterministic: the same inputs give the same bits whatever ran before and whatever the
// scratch and output held (a sequence decodes alike alone and in a batch).
func TestAttendDeterministic(t *testing.T) {
	rng := tensor.NewRNG(8)
	forEachAttendImpl(t, func(t *testing.T, f32 bool) {
		for _, hs := range []int{64, 96} {
			for _, n := range []int{5, 16, 33, 62} {
				c := newAttendCase(rng, f32, n, hs, 3*hs, 1)
				other := newAttendCase(rng, f32, 70, hs, hs, 3)
				scratch := make([]float32, 80)
				first := make([]float32, hs)
				c.attend(f32, first, 3*hs, n, hs, 0.125, scratch)
				for i := range 3 {
					tmp := make([]float32, hs)
					other.attend(f32, tmp, hs, 70-i, hs, 0.3, scratch)
					again := make([]float32, hs)
					for j := range again {
						again[j] = float32(math.NaN())
					}
					for j := range scratch {
						scratch[j] = float32(j) * 1e6
					}
					c.attend(f32, again, 3*hs, n, hs, 0.125, scratch[i:])
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

func TestAttendEdges(t *testing.T) {
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

func TestAttendF32Edges(t *testing.T) {
	out := []float32{1, 2, 3}
	AttendF32(out, make([]float32, 3), nil, nil, 3, 0, 3, 1, nil)
	if out[0] != 0 || out[1] != 0 || out[2] != 0 {
		t.Errorf("n=0: out = %v, want zeros", out)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "AttendF32: n=2 hs=16 ld=16") {
			t.Errorf("short cache: panic %v", r)
		}
	}()
	AttendF32(make([]float32, 16), make([]float32, 16), make([]float32, 32), make([]float32, 31), 16, 2, 16, 1, make([]float32, 2))
}

// BenchmarkAttend times one head's decode attention at the serving presets' head sizes (64: the
// 100M preset, 96: the 700M), short contexts and a long one, hot in the caches (n = 1024: in L2), the fused kernel against the
// composition it replaces (F16: GEMV, scale, softmax, transposed GEMV; fp32: two one-row Sgemm
// products around a softmax), each row 16 heads long.
func BenchmarkAttend(b *testing.B) {
	rng := tensor.NewRNG(9)
	for _, f32 := range []bool{false, true} {
		typ := map[bool]string{false: "f16", true: "f32"}[f32]
		for _, hs := range []int{64, 96} {
			for _, n := range []int{32, 64, 1024} {
				ld := 16 * hs
				c := newAttendCase(rng, f32, n, hs, ld, 1)
				out, scores := make([]float32, hs), make([]float32, n)
				sc := float32(1 / math.Sqrt(float64(hs)))
				b.Run(fmt.Sprintf("%s/hs=%d/n=%d/fused", typ, hs, n), func(b *testing.B) {
					for range b.N {
						c.attend(f32, out, ld, n, hs, sc, scores)
					}
				})
				b.Run(fmt.Sprintf("%s/hs=%d/n=%d/composed", typ, hs, n), func(b *testing.B) {
					for range b.N {
						if f32 {
							attendF32Composed(out, c.q, c.kf, c.vf, ld, n, hs, sc, scores)
						} else {
							attendF16Composed(out, c.q, c.k, c.v, ld, n, hs, sc, scores)
						}
					}
				})
			}
		}
	}
}

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
