package kernels

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"tern/tensor"
)

// tgRef is the plain definition: out[i][j] = float32(Σ_k x[i][k]·w[j][k]) · wscale / xscale[i], summed
// over the int8 weights directly (no panels, no code offset).
func tgRef(x []int8, xscale []float32, w []int8, wscale float32, m, n, k int) []float32 {
	out := make([]float32, m*n)
	for i := range m {
		for j := range n {
			var acc int32
			for c := range k {
				acc += int32(x[i*k+c]) * int32(w[j*k+c])
			}
			out[i*n+j] = float32(acc) * wscale / xscale[i]
		}
	}
	return out
}

// TestTernaryPanelForward checks every implementation against the plain definition and against
// BitLinearForward (one byte per weight) bit for bit, over ragged N, K and row counts (row tiles of
// 1..16 and their splits), and with extreme activations (-128, 127) where the code offset and the
// int32 sums are at their limits.
func TestTernaryPanelForward(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := tensor.NewRNG(16)
		for _, n := range []int{1, 15, 16, 17, 50} {
			for _, k := range []int{1, 4, 15, 16, 17, 64, 100} {
				for _, m := range []int{1, 2, 3, 5, 8, 9, 13, 16, 17, 20, 33} {
					w := randTernary(r, n*k)
					x := make([]int8, m*k) // exact length: the kernel must not need slack
					for i := range x {
						x[i] = int8(r.Intn(256) - 128)
					}
					if (n+k+m)%3 == 0 { // extremes
						for i := range x {
							x[i] = []int8{-128, 127}[i%2]
						}
					}
					xs := make([]float32, m)
					for i := range xs {
						xs[i] = 0.5 + float32(r.Intn(1000))/37
					}
					p := NewTernaryPanels(n, k)
					p.SetRows(0, w)
					got := make([]float32, m*n)
					TernaryPanelForward(got, x, xs, p, 0.031, m)
					want := tgRef(x, xs, w, 0.031, m, n, k)
					viaGemm := make([]float32, m*n)
					BitLinearForward(viaGemm, x, xs, NewTernaryMatrix(w, n, k), 0.031, m)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(got[i]) != math.Float32bits(viaGemm[i]) {
							t.Fatalf("n=%d k=%d m=%d: out[%d] = %v, want %v (BitLinearForward %v)", n, k, m, i, got[i], want[i], viaGemm[i])
						}
					}
				}
			}
		}
	})
}

// TestTernaryPanelForwardLarge covers full 16-row tiles over many strips and blocks, split over the
// worker pool, and K = 2048 (rows copied to a padded stride), against BitLinearForward.
func TestTernaryPanelForwardLarge(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, sz := range [][2]int{{200, 777}, {40, 2048}} {
			r := tensor.NewRNG(17)
			n, k := sz[0], sz[1]
			w := randTernary(r, n*k)
			p := NewTernaryPanels(n, k)
			p.SetRows(0, w[:32*k]) // in two pieces: rows are independent
			p.SetRows(32, w[32*k:])
			tm := NewTernaryMatrix(w, n, k)
			for _, m := range []int{4, 9, 16, 40, 64} {
				x := make([]int8, m*k)
				for i := range x {
					x[i] = int8(r.Intn(256) - 128)
				}
				xs := make([]float32, m)
				for i := range xs {
					xs[i] = 1 + float32(i)
				}
				got, want := make([]float32, m*n), make([]float32, m*n)
				TernaryPanelForward(got, x, xs, p, 0.5, m)
				BitLinearForward(want, x, xs, tm, 0.5, m)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d k=%d m=%d: out[%d] = %v, want %v", n, k, m, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// TestTernaryPanelForwardTiles covers the tilings of the wide (two-strip) kernels against tgRef:
// every row count from 1 to 26 (one strip at a time below 5 rows, then 5..12-row tiles and pairs of
// tiles), 133 rows (12 tiles, which ceil-height tiling would have left with a 1-row tail), an odd
// strip count (the last strip alone), a partial second strip of a pair, and K not a multiple of 16.
func TestTernaryPanelForwardTiles(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := tensor.NewRNG(23)
		for _, sz := range [][2]int{{50, 64}, {40, 93}, {77, 32}} {
			n, k := sz[0], sz[1]
			w := randTernary(r, n*k)
			p := NewTernaryPanels(n, k)
			p.SetRows(0, w)
			for _, m := range append(seq(1, 26), 133) {
				x := make([]int8, m*k)
				for i := range x {
					x[i] = int8(r.Intn(256) - 128)
				}
				xs := make([]float32, m)
				for i := range xs {
					xs[i] = 0.25 + float32(i%7)
				}
				got := make([]float32, m*n)
				TernaryPanelForward(got, x, xs, p, 0.043, m)
				want := tgRef(x, xs, w, 0.043, m, n, k)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d k=%d m=%d: out[%d] = %v, want %v", n, k, m, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// seq returns lo, lo+1, ..., hi.
func seq(lo, hi int) []int {
	var s []int
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

// TestTernaryPanelForwardAllocs: in steady state a call allocates only the closure it hands the
// worker pool, on every implementation, on one thread and split over the pool, and on each path of
// the VNNI one: rows as given, rows copied for slack (K%16 != 0, no spare capacity) and rows copied
// to a padded stride (K = 2048, more than 8 rows). Its row sums and copies are reused scratch (2 and
// 3 allocations per call when the sums were made per call).
func TestTernaryPanelForwardAllocs(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := tensor.NewRNG(19)
		for _, sz := range [][3]int{{5, 40, 64}, {5, 40, 45}, {12, 16, 2048}, {16, 256, 2048}} { // m, n, k
			m, n, k := sz[0], sz[1], sz[2]
			p := NewTernaryPanels(n, k)
			p.SetRows(0, randTernary(r, n*k))
			x, xs, out := randInt8(r, m*k), make([]float32, m), make([]float32, m*n)
			for i := range xs {
				xs[i] = 1
			}
			a := testing.AllocsPerRun(20, func() { TernaryPanelForward(out, x, xs, p, 1, m) })
			if a > 1 {
				t.Errorf("m=%d n=%d k=%d: %v allocations per call, want <= 1 (the pool's closure)", m, n, k, a)
			}
		}
	})
}

func TestTernaryPanelsSetRows(t *testing.T) {
	r := tensor.NewRNG(18)
	n, k := 37, 45
	w := randTernary(r, n*k)
	p := NewTernaryPanels(n, k)
	for j := n - 1; j >= 0; j-- { // row by row, out of order
		p.SetRows(j, w[j*k:(j+1)*k])
	}
	for i := range n {
		for j := range k {
			if got := p.At(i, j); got != w[i*k+j] {
				t.Fatalf("At(%d, %d) = %d, want %d", i, j, got, w[i*k+j])
			}
		}
	}
	if want := (n + 15) / 16 * ((k + 15) / 16) * 64; p.Bytes() != want {
		t.Errorf("Bytes() = %d, want %d", p.Bytes(), want)
	}
	for _, bad := range []int8{2, -2, 127, -128, 3} {
		w2 := append([]int8(nil), w[:k]...)
		w2[k-3] = bad
		func() {
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, fmt.Sprintf("weight %d of row 5 is %d", k-3, bad)) {
					t.Errorf("SetRows with %d: panic %q, want one naming the weight", bad, msg)
				}
			}()
			p.SetRows(5, w2)
		}()
	}
}

func TestRowSum(t *testing.T) {
	r := tensor.NewRNG(19)
	for _, n := range []int{0, 1, 7, 8, 9, 1023, 1024, 1025, 5000} {
		for _, fill := range []int{-128, 127, 0, 1} {
			x := make([]int8, n)
			var want int32
			for i := range x {
				switch fill {
				case 0:
					x[i] = int8(r.Intn(256) - 128)
				case 1:
					x[i] = int8(i%256 - 128)
				default:
					x[i] = int8(fill)
				}
				want += int32(x[i])
			}
			if got := rowSum(x); got != want {
				t.Errorf("rowSum(len %d, fill %d) = %d, want %d", n, fill, got, want)
			}
		}
	}
}

// BenchmarkTernaryPanelForward times the 2-bit product against BitLinearForward (one byte per
// weight) and the packed batch GEMV on one (N,K) matrix held in cache, in G multiply-adds/s.
func BenchmarkTernaryPanelForward(b *testing.B) {
	n, k := 2048, 768
	r := tensor.NewRNG(20)
	w := randTernary(r, n*k)
	p := NewTernaryPanels(n, k)
	p.SetRows(0, w)
	tm := NewTernaryMatrix(w, n, k)
	for _, m := range []int{1, 4, 8, 16, 32, 64, 240} {
		x := make([]int8, m*k)
		for i := range x {
			x[i] = int8(r.Intn(256) - 128)
		}
		xs := make([]float32, m)
		for i := range xs {
			xs[i] = 1
		}
		out := make([]float32, m*n)
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"panels", func() { TernaryPanelForward(out, x, xs, p, 1, m) }},
			{"bytes", func() { BitLinearForward(out, x, xs, tm, 1, m) }},
		} {
			b.Run(fmt.Sprintf("%s/rows=%d", c.name, m), func(b *testing.B) {
				for b.Loop() {
					c.f()
				}
				b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}

// BenchmarkTernaryPanelShapes times TernaryPanelForward on the ternary matrices of the 100M and 700M
// decode presets (qkv, o, fc, f2 as (N, K)) at 16 rows (a decode step of 16 sequences) and 240 rows
// (a batched prefill), weights in cache, in G multiply-adds/s. One thread:
// GOMAXPROCS=1 taskset -c 0 kernels.test -test.run XXX -test.bench TernaryPanelShapes -test.cpu 1
func BenchmarkTernaryPanelShapes(b *testing.B) {
	r := tensor.NewRNG(20)
	for _, sh := range [][2]int{{2304, 768}, {768, 768}, {2048, 768}, {768, 2048}, {4608, 1536}, {1536, 1536}, {4096, 1536}, {1536, 4096}} {
		n, k := sh[0], sh[1]
		p := NewTernaryPanels(n, k)
		p.SetRows(0, randTernary(r, n*k))
		for _, m := range []int{16, 240} {
			x, xs, out := make([]int8, m*k), make([]float32, m), make([]float32, m*n)
			for i := range x {
				x[i] = int8(r.Intn(256) - 128)
			}
			for i := range xs {
				xs[i] = 1
			}
			b.Run(fmt.Sprintf("%dx%d/rows=%d", n, k, m), func(b *testing.B) {
				for b.Loop() {
					TernaryPanelForward(out, x, xs, p, 1, m)
				}
				b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}
