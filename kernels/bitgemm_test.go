package kernels

import (
	"fmt"
	"math"
	"testing"

	"tern/tensor"
)

// bitImpl is one implementation of the registry (Impls), by name.
type bitImpl struct{ name string }

// bitImpls lists the implementations this CPU can run, fastest first, "go" last.
func bitImpls() []bitImpl {
	var out []bitImpl
	for _, n := range Impls() {
		out = append(out, bitImpl{n})
	}
	return out
}

// withImpl runs f with the kernels pinned to im.
func withImpl(im bitImpl, f func()) { withImplName(im.name, f) }

// randInt8 fills a (length-exact) slice with int8 values, a quarter of them the extremes -128/127.
func randInt8(r *tensor.RNG, n int) []int8 {
	x := make([]int8, n)
	for i := range x {
		switch r.Intn(8) {
		case 0:
			x[i] = -128
		case 1:
			x[i] = 127
		default:
			x[i] = int8(r.Intn(256) - 128)
		}
	}
	return x
}

func randTernary(r *tensor.RNG, n int) []int8 {
	w := make([]int8, n)
	for i := range w {
		w[i] = int8(r.Intn(3) - 1)
	}
	return w
}

// naiveTernaryGemm is the independent oracle: c[i][j] = Σ_k x[i][k]·w[j][k] on the row-major w.
func naiveTernaryGemm(x, w []int8, m, n, k int) []int32 {
	c := make([]int32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int32
			for p := 0; p < k; p++ {
				s += int32(x[i*k+p]) * int32(w[j*k+p])
			}
			c[i*n+j] = s
		}
	}
	return c
}

// bitShapes covers every dimension at the awkward sizes, and tiles with tails in M, N and K at once.
func bitShapes() [][3]int {
	sizes := []int{1, 3, 7, 17, 33, 65, 257, 1000}
	var s [][3]int
	for _, v := range sizes {
		s = append(s, [3]int{v, 17, 33}, [3]int{7, v, 65}, [3]int{5, 33, v})
		if v <= 65 {
			s = append(s, [3]int{v, v, v})
		}
	}
	return append(s, [3]int{65, 257, 1000}, [3]int{257, 65, 257}, [3]int{1000, 3, 7}, [3]int{1, 1000, 1000}, [3]int{13, 130, 0})
}

func TestTernaryGemm(t *testing.T) {
	r := tensor.NewRNG(0) // always the same seed for reproducible results
	for _, sh := range bitShapes() {
		m, n, k := sh[0], sh[1], sh[2]
		x, wv := randInt8(r, m*k), randTernary(r, n*k)
		want := naiveTernaryGemm(x, wv, m, n, k)
		w := NewTernaryMatrix(wv, n, k)
		for _, im := range bitImpls() {
			withImpl(im, func() {
				c := make([]int32, m*n)
				for i := range c {
					c[i] = -7 // every element must be overwritten
				}
				TernaryGemm(c, x, w, m)
				for i := range c {
					if c[i] != want[i] {
						t.Fatalf("%s m=%d n=%d k=%d: c[%d][%d] = %d, want %d", im.name, m, n, k, i/n, i%n, c[i], want[i])
					}
				}
			})
		}
	}
}

// TestTernaryGemmExtremes pins the offset trick's edge values: x = -128 and 127 against w = ±1 at
// the largest magnitudes, over K with a tail.
func TestTernaryGemmExtremes(t *testing.T) {
	const m, n, k = 4, 70, 1001
	x := make([]int8, m*k)
	wv := make([]int8, n*k)
	for p := 0; p < k; p++ {
		x[0*k+p], x[1*k+p], x[2*k+p], x[3*k+p] = -128, 127, -128, int8(127-255*(p%2))
	}
	for j := 0; j < n; j++ {
		for p := 0; p < k; p++ {
			wv[j*k+p] = []int8{-1, 1, 0, int8(1 - 2*(p%2))}[j%4]
		}
	}
	want := naiveTernaryGemm(x, wv, m, n, k)
	if want[0] != 128*k || want[1] != -128*k {
		t.Fatalf("oracle: got %d %d", want[0], want[1])
	}
	w := NewTernaryMatrix(wv, n, k)
	for _, im := range bitImpls() {
		withImpl(im, func() {
			c := make([]int32, m*n)
			TernaryGemm(c, x, w, m)
			for i := range c {
				if c[i] != want[i] {
					t.Fatalf("%s: c[%d][%d] = %d, want %d", im.name, i/n, i%n, c[i], want[i])
				}
			}
		})
	}
}

func refBitLinear(x []int8, xscale []float32, wv []int8, wscale float32, m, n, k int) []float32 {
	acc := naiveTernaryGemm(x, wv, m, n, k)
	out := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			out[i*n+j] = float32(acc[i*n+j]) * wscale / xscale[i]
		}
	}
	return out
}

func TestBitLinearForward(t *testing.T) {
	r := tensor.NewRNG(1)
	for _, sh := range bitShapes() {
		m, n, k := sh[0], sh[1], sh[2]
		x, wv := randInt8(r, m*k), randTernary(r, n*k)
		xscale := make([]float32, m)
		for i := range xscale {
			xscale[i] = 0.1 + 50*r.Float32()
		}
		wscale := 0.01 + r.Float32()
		want := refBitLinear(x, xscale, wv, wscale, m, n, k)
		w := NewTernaryMatrix(wv, n, k)
		for _, im := range bitImpls() {
			withImpl(im, func() {
				out := make([]float32, m*n)
				for i := range out {
					out[i] = float32(math.NaN())
				}
				BitLinearForward(out, x, xscale, w, wscale, m)
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s m=%d n=%d k=%d: out[%d][%d] = %g, want %g", im.name, m, n, k, i/n, i%n, out[i], want[i])
					}
				}
			})
		}
	}
}

func TestTernaryGemmThreads(t *testing.T) {
	defer SetThreads(Threads())
	r := tensor.NewRNG(2)
	const m, n, k = 67, 300, 513
	x, wv := randInt8(r, m*k), randTernary(r, n*k)
	xscale := make([]float32, m)
	for i := range xscale {
		xscale[i] = 1 + r.Float32()
	}
	w := NewTernaryMatrix(wv, n, k)
	for _, im := range bitImpls() {
		withImpl(im, func() {
			var ref []float32
			for _, th := range []int{1, 2, 3, 7} {
				SetThreads(th)
				out := make([]float32, m*n)
				BitLinearForward(out, x, xscale, w, 0.37, m)
				if ref == nil {
					ref = out
					continue
				}
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("%s threads=%d: out[%d] = %g, want %g (1 thread)", im.name, th, i, out[i], ref[i])
					}
				}
			}
		})
	}
}

func TestTernaryMatrixSet(t *testing.T) {
	r := tensor.NewRNG(3)
	for _, sh := range [][2]int{{1, 1}, {3, 7}, {65, 33}, {130, 1001}, {64, 256}, {80, 76}, {17, 64}} {
		n, k := sh[0], sh[1]
		for _, im := range quantImpls() { // Set's packing has an AVX-512 path
			withImpl(im, func() {
				w := NewTernaryMatrix(randTernary(r, n*k), n, k)
				wv := randTernary(r, n*k) // Set must fully replace the old weights
				w.Set(wv)
				got := make([]int8, n*k)
				w.Unpack(got)
				for i := range wv {
					if got[i] != wv[i] || w.At(i/k, i%k) != wv[i] {
						t.Fatalf("%s n=%d k=%d: weight %d reads back %d / %d, want %d", im.name, n, k, i, got[i], w.At(i/k, i%k), wv[i])
					}
				}
				x := randInt8(r, 2*k)
				c := make([]int32, 2*n)
				TernaryGemm(c, x, w, 2)
				want := naiveTernaryGemm(x, wv, 2, n, k)
				for i := range c {
					if c[i] != want[i] {
						t.Fatalf("%s after Set n=%d k=%d: c[%d] = %d, want %d", im.name, n, k, i, c[i], want[i])
					}
				}
			})
		}
	}
}

func TestTernaryMatrixSetRejects(t *testing.T) {
	// (n, k, bad positions): K=9 packs by gathers and the partial group; K=76 by one 16-group
	// transpose block plus 3 gathered groups; K=130 by transposes plus the partial group. Positions
	// hit each part, and rows of the second panel.
	cases := []struct {
		n, k int
		at   []int
	}{
		{80, 9, []int{13, 3*9 - 1, 70*9 + 4}},
		{80, 76, []int{5, 2*76 + 70, 66*76 + 63, 79*76 + 75}},
		{80, 130, []int{3*130 + 70, 70*130 + 129, 66*130 + 100}},
	}
	for _, im := range quantImpls() {
		withImpl(im, func() {
			for _, c := range cases {
				for _, bad := range []int8{2, -2, 127, -128} {
					for _, at := range c.at {
						func() {
							defer func() {
								if recover() == nil {
									t.Errorf("%s n=%d k=%d: Set accepted weight %d at %d", im.name, c.n, c.k, bad, at)
								}
							}()
							wv := make([]int8, c.n*c.k)
							wv[at] = bad
							NewTernaryMatrix(wv, c.n, c.k)
						}()
					}
				}
			}
		})
	}
}

// TestTernaryMatrixQuantizeFrom: the fused quantize-and-pack equals QuantizeTernary then Set.
func TestTernaryMatrixQuantizeFrom(t *testing.T) {
	r := tensor.NewRNG(4)
	for _, sh := range [][2]int{{1, 1}, {3, 7}, {65, 33}, {130, 1001}, {7, 129}} {
		n, k := sh[0], sh[1]
		wf := awkwardFloats(r, n*k)
		for _, im := range quantImpls() {
			withImpl(im, func() {
				tq := make([]int8, n*k)
				want := QuantizeTernary(tq, wf)
				w := NewTernaryMatrix(randTernary(r, n*k), n, k)
				if s := w.QuantizeFrom(wf); math.Float32bits(s) != math.Float32bits(want) {
					t.Fatalf("%s n=%d k=%d: scale %g, want %g", im.name, n, k, s, want)
				}
				got := make([]int8, n*k)
				w.Unpack(got)
				for i := range got {
					if got[i] != tq[i] {
						t.Fatalf("%s n=%d k=%d: weight %d = %d, want %d", im.name, n, k, i, got[i], tq[i])
					}
				}
				x := randInt8(r, 3*k)
				c := make([]int32, 3*n)
				TernaryGemm(c, x, w, 3)
				ref := naiveTernaryGemm(x, tq, 3, n, k)
				for i := range c {
					if c[i] != ref[i] {
						t.Fatalf("%s n=%d k=%d: c[%d] = %d, want %d", im.name, n, k, i, c[i], ref[i])
					}
				}
			})
		}
	}
}

func BenchmarkTernaryGemm(b *testing.B) {
	r := tensor.NewRNG(0)
	for _, s := range []int{256, 1024} {
		x, wv := randInt8(r, s*s), randTernary(r, s*s)
		w := NewTernaryMatrix(wv, s, s)
		c := make([]int32, s*s)
		for _, im := range bitImpls() {
			withImpl(im, func() {
				b.Run(fmt.Sprintf("%s/%d", im.name, s), func(b *testing.B) {
					for b.Loop() {
						TernaryGemm(c, x, w, s)
					}
					b.ReportMetric(2*float64(s*s*s)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				})
			})
		}
	}
}

// BenchmarkBitLinearForward covers training shapes (M = B*T = 1024 tokens through a d=768 layer and
// its 4x FFN) and decode-like small M.
func BenchmarkBitLinearForward(b *testing.B) {
	r := tensor.NewRNG(0)
	for _, sh := range [][3]int{{1024, 768, 768}, {1024, 3072, 768}, {1024, 768, 3072}, {1, 3072, 768}, {8, 3072, 768}} {
		m, n, k := sh[0], sh[1], sh[2]
		x, w := randInt8(r, m*k), NewTernaryMatrix(randTernary(r, n*k), n, k)
		xs, out := make([]float32, m), make([]float32, m*n)
		for i := range xs {
			xs[i] = 1 + r.Float32()
		}
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				BitLinearForward(out, x, xs, w, 0.5, m)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

// BenchmarkTernaryMatrixSet times a training step's weight refresh: QuantizeTernary+Set, and the
// fused QuantizeFrom.
func BenchmarkTernaryMatrixSet(b *testing.B) {
	r := tensor.NewRNG(0)
	for _, sh := range [][2]int{{1024, 1024}, {3072, 768}} {
		wf := awkwardFloats(r, sh[0]*sh[1])
		wv := make([]int8, len(wf))
		QuantizeTernary(wv, wf)
		w := NewTernaryMatrix(wv, sh[0], sh[1])
		b.Run(fmt.Sprintf("Set/%dx%d", sh[0], sh[1]), func(b *testing.B) {
			for b.Loop() {
				w.Set(wv)
			}
		})
		b.Run(fmt.Sprintf("QuantizeTernary+Set/%dx%d", sh[0], sh[1]), func(b *testing.B) {
			for b.Loop() {
				QuantizeTernary(wv, wf)
				w.Set(wv)
			}
		})
		b.Run(fmt.Sprintf("QuantizeFrom/%dx%d", sh[0], sh[1]), func(b *testing.B) {
			for b.Loop() {
				w.QuantizeFrom(wf)
			}
		})
	}
}

// TestTernaryGemmAllocs: the GEMM allocates nothing of its own (argument blocks and edge tiles live
// on the stack); the worker pool's closure and WaitGroup are the only allocations left.
func TestTernaryGemmAllocs(t *testing.T) {
	r := tensor.NewRNG(5)
	const m, n, k = 13, 70, 36
	x := randInt8(r, m*k)
	w := NewTernaryMatrix(randTernary(r, n*k), n, k)
	c, out, xs := make([]int32, m*n), make([]float32, m*n), make([]float32, m)
	for i := range xs {
		xs[i] = 1
	}
	for _, im := range bitImpls() {
		withImpl(im, func() {
			if a := testing.AllocsPerRun(20, func() { TernaryGemm(c, x, w, m); BitLinearForward(out, x, xs, w, 1, m) }); a > 4 {
				t.Errorf("%s: %v allocations per TernaryGemm+BitLinearForward, want <= 4 (the pool's)", im.name, a)
			}
		})
	}
}

// TestTernaryGemmUnaligned runs slices that start mid-cache-line, with and without spare capacity
// past x (the kernels' 4-byte reads may then run past K on the last row, against zero weights).
func TestTernaryGemmUnaligned(t *testing.T) {
	r := tensor.NewRNG(6)
	const m, n, k = 9, 77, 45
	wv := randTernary(r, n*k)
	w := NewTernaryMatrix(wv, n, k)
	for _, off := range []int{1, 3} {
		for _, spare := range []int{0, 5} {
			xb := randInt8(r, off+m*k+spare)
			x := xb[off : off+m*k : off+m*k+spare]
			want := naiveTernaryGemm(x, wv, m, n, k)
			for _, im := range bitImpls() {
				withImpl(im, func() {
					cb := make([]int32, off+m*n)
					c := cb[off:]
					TernaryGemm(c, x, w, m)
					for i := range want {
						if c[i] != want[i] {
							t.Fatalf("%s off=%d spare=%d: c[%d] = %d, want %d", im.name, off, spare, i, c[i], want[i])
						}
					}
				})
			}
		}
	}
}
