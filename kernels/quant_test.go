package kernels

import (
	"fmt"
	"math"
	"testing"

	"tern/tensor"
)

// quantImpls lists the quantizer paths this CPU can run (every implementation in Impls).
func quantImpls() []bitImpl { return bitImpls() }

// refRound is the quantizers' rounding written out independently: half away from zero.
func refRound(p float32) float64 {
	f := float64(p)
	if f < 0 {
		return -math.Floor(-f + 0.5)
	}
	return math.Floor(f + 0.5)
}

// awkwardFloats fills n values: normals at several scales, exact halves, zeros, signed zeros.
func awkwardFloats(r *tensor.RNG, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch r.Intn(6) {
		case 0:
			x[i] = float32(r.Intn(255)-127) + 0.5
		case 1:
			x[i] = float32(math.Copysign(0, float64(r.Intn(2)-1)))
		default:
			x[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.Intn(5)-2)))
		}
	}
	return x
}

var quantSizes = []int{0, 1, 3, 7, 15, 16, 17, 31, 32, 33, 65, 257, 1000}

func TestQuantizeRowsInt8(t *testing.T) {
	r := tensor.NewRNG(0)
	for _, m := range []int{1, 3, 17} {
		for _, k := range quantSizes {
			x := awkwardFloats(r, m*k)
			if m > 1 && k > 0 {
				clear(x[k : 2*k]) // an all-zero row takes the eps path
			}
			wantQ, wantS := make([]int8, m*k), make([]float32, m)
			for i := 0; i < m; i++ {
				var amax float32
				for _, v := range x[i*k : i*k+k] {
					amax = float32(math.Max(float64(amax), math.Abs(float64(v))))
				}
				g := 127 / float32(math.Max(float64(amax), 1e-5))
				wantS[i] = g
				for p, v := range x[i*k : i*k+k] {
					wantQ[i*k+p] = int8(math.Max(-128, math.Min(127, refRound(v*g))))
				}
			}
			for _, im := range quantImpls() {
				withImpl(im, func() {
					q, s := make([]int8, m*k), make([]float32, m)
					QuantizeRowsInt8(q, s, x, m, k)
					for i := range s {
						if math.Float32bits(s[i]) != math.Float32bits(wantS[i]) {
							t.Fatalf("%s m=%d k=%d: scale[%d] = %g, want %g", im.name, m, k, i, s[i], wantS[i])
						}
					}
					for i := range q {
						if q[i] != wantQ[i] {
							t.Fatalf("%s m=%d k=%d: q[%d] = %d, want %d (x=%g)", im.name, m, k, i, q[i], wantQ[i], x[i])
						}
					}
				})
			}
		}
	}
}

// TestQuantRowInt8Rounding sweeps p = x·1 over every quarter in [-140, 140] and the float32
// neighbours of each half, through the row quantizer with g = 1.
func TestQuantRowInt8Rounding(t *testing.T) {
	var x []float32
	for v := float32(-140); v <= 140; v += 0.25 {
		x = append(x, v, math.Nextafter32(v, 1000), math.Nextafter32(v, -1000))
	}
	for _, im := range quantImpls() {
		withImpl(im, func() {
			q := make([]int8, len(x))
			quantRowInt8(q, x, 1)
			for i, v := range x {
				if want := int8(math.Max(-128, math.Min(127, refRound(v)))); q[i] != want {
					t.Fatalf("%s: round(%v) = %d, want %d", im.name, v, q[i], want)
				}
			}
		})
	}
}

func TestQuantizeInt8HandWorked(t *testing.T) {
	// max|x| = 2, g = 127/2 = 63.5: 1 -> 63.5 -> 64 (half away), -2 -> -127, 0.5 -> 31.75 -> 32.
	q, s := make([]int8, 4), make([]float32, 1)
	QuantizeRowsInt8(q, s, []float32{1, -2, 0.5, 0}, 1, 4)
	if s[0] != 63.5 || fmt.Sprint(q) != "[64 -127 32 0]" {
		t.Fatalf("got scale %v q %v, want 63.5 [64 -127 32 0]", s[0], q)
	}
}

func TestQuantizeTernary(t *testing.T) {
	r := tensor.NewRNG(1)
	for _, n := range append(quantSizes, 4099, 100000) {
		w := awkwardFloats(r, n)
		var seq float64 // plain left-to-right sum: the result may differ only by rounding
		for _, v := range w {
			seq += math.Abs(float64(v))
		}
		var base []int8
		var baseS float32
		for _, im := range quantImpls() {
			withImpl(im, func() {
				tq := make([]int8, n)
				s := QuantizeTernary(tq, w)
				if n > 0 && math.Abs(float64(s)-math.Max(seq/float64(n), 1e-5)) > 1e-6*float64(s) {
					t.Fatalf("%s n=%d: scale %g, want mean|w| %g", im.name, n, s, seq/float64(n))
				}
				for i, v := range w {
					if want := int8(math.Max(-1, math.Min(1, refRound(v*(1/s))))); tq[i] != want {
						t.Fatalf("%s n=%d: t[%d] = %d, want %d (w=%g, s=%g)", im.name, n, i, tq[i], want, v, s)
					}
				}
				if base == nil {
					base, baseS = tq, s
				} else if math.Float32bits(s) != math.Float32bits(baseS) {
					t.Fatalf("%s n=%d: scale %x, other path %x", im.name, n, math.Float32bits(s), math.Float32bits(baseS))
				}
			})
		}
	}
}

func TestQuantizeTernaryHandWorked(t *testing.T) {
	// mean|w| = (0.5+1.5+0.1+2+0.525+0.4)/6 = 0.8375; w/s = 0.597, -1.79, 0.119, 2.39, 0.627, 0.478.
	tq := make([]int8, 6)
	s := QuantizeTernary(tq, []float32{0.5, -1.5, 0.1, 2, 0.525, -0.4})
	if math.Abs(float64(s)-0.8375) > 1e-7 || fmt.Sprint(tq) != "[1 -1 0 1 1 0]" {
		t.Fatalf("got s=%v t=%v, want 0.8375 [1 -1 0 1 1 0]", s, tq)
	}
	if s := QuantizeTernary(tq[:2], []float32{0, 0}); s != 1e-5 || tq[0] != 0 || tq[1] != 0 {
		t.Fatalf("all-zero: s=%v t=%v, want eps and zeros", s, tq[:2])
	}
}

func BenchmarkQuantizeRowsInt8(b *testing.B) {
	r := tensor.NewRNG(0)
	const m, k = 1024, 1024
	x := awkwardFloats(r, m*k)
	q, s := make([]int8, m*k), make([]float32, m)
	for _, im := range quantImpls() {
		withImpl(im, func() {
			b.Run(fmt.Sprintf("%s/%dx%d", im.name, m, k), func(b *testing.B) {
				b.SetBytes(4 * m * k)
				for b.Loop() {
					QuantizeRowsInt8(q, s, x, m, k)
				}
			})
		})
	}
}

func BenchmarkQuantizeTernary(b *testing.B) {
	r := tensor.NewRNG(0)
	for _, sh := range [][2]int{{1024, 1024}, {3072, 768}} {
		w := awkwardFloats(r, sh[0]*sh[1])
		tq := make([]int8, len(w))
		for _, im := range quantImpls() {
			withImpl(im, func() {
				b.Run(fmt.Sprintf("%s/%dx%d", im.name, sh[0], sh[1]), func(b *testing.B) {
					b.SetBytes(int64(4 * len(w)))
					for b.Loop() {
						QuantizeTernary(tq, w)
					}
				})
			})
		}
	}
}
