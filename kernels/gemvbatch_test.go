package kernels

import (
	"math"
	"math/rand"
	"strconv"
	"testing"
)

// TestTernaryGemvBatch checks the batch product on ragged shapes against the naive sums, the Go
// reference (TernaryGemvGeneric) and B separate TernaryGemv / TernaryGemvF32 calls, bit for bit, on
// every implementation this CPU has; and the Go statement of the batch kernel against the same.
func TestTernaryGemvBatch(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	type tc struct {
		n, k, b int
		tr, x   []int8
		xf      []float32
		w       []byte
	}
	var cases []tc
	for _, n := range []int{1, 3, 4, 5, 9, 33, 130} {
		for _, k := range []int{1, 5, 7, 64, 319, 320, 321, 639, 1000, 2055} {
			for _, b := range []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17} {
				if n*k*b > 2_000_000 {
					continue
				}
				tr := make([]int8, n*k)
				for i := range tr {
					tr[i] = int8(rng.Intn(3) - 1)
				}
				x := make([]int8, b*k)
				for i := range x {
					x[i] = int8(rng.Intn(256) - 128)
				}
				xf := make([]float32, b*k)
				for i := range xf {
					xf[i] = float32(rng.NormFloat64())
				}
				cases = append(cases, tc{n, k, b, tr, x, xf, packTritRows(tr, n, k)})
			}
		}
	}
	// Extremes: all +1 weights against x = -128, the largest |sums|, in a group of 8 and one of 4.
	{
		n, k, b := 5, 3001, 12
		tr, x := make([]int8, n*k), make([]int8, b*k)
		for i := range tr {
			tr[i] = 1
		}
		for i := range x {
			x[i] = -128
		}
		cases = append(cases, tc{n, k, b, tr, x, make([]float32, b*k), packTritRows(tr, n, k)})
	}
	forEachGemvPath(t, func(t *testing.T) {
		for _, c := range cases {
			w := c.w[:len(c.w):len(c.w)] // no spare capacity: a read past the end would fault or differ
			xb := NewGemvBatch(c.k, c.b+2)
			xb.Set(c.x, c.b)
			y := make([]int32, c.b*c.n)
			TernaryGemvBatch(y, w, c.n, c.k, xb)
			ref := make([]int32, c.n)
			for v := range c.b {
				xv := c.x[v*c.k : (v+1)*c.k]
				want := naiveGemv(c.tr, xv, c.n, c.k)
				TernaryGemvGeneric(ref, w, c.n, c.k, xv)
				for r := range c.n {
					if got := y[v*c.n+r]; got != want[r] || ref[r] != want[r] {
						t.Fatalf("n=%d k=%d B=%d: vector %d row %d = %d, generic %d, want %d", c.n, c.k, c.b, v, r, got, ref[r], want[r])
					}
				}
			}
			{ // the kernel's Go statement (what the assembly computes) agrees too
				if !xb.ilOK {
					xb.interleave()
				}
				acc := make([]int32, c.n*xb.bp)
				gemvBatchRowsGeneric(acc, w, c.n, c.k, xb)
				for v := range c.b {
					for r := range c.n {
						if acc[r*xb.bp+v] != y[v*c.n+r] {
							t.Fatalf("n=%d k=%d B=%d: gemvBatchRowsGeneric[%d][%d] = %d, want %d", c.n, c.k, c.b, r, v, acc[r*xb.bp+v], y[v*c.n+r])
						}
					}
				}
			}
			// Float path: bit-identical to TernaryGemvF32 per vector (and y too).
			xb.SetFloat32(c.xf, c.b)
			out := make([]float32, c.b*c.n)
			TernaryGemvBatchF32(out, y, w, c.n, c.k, xb, 0.37)
			out2 := make([]float32, c.b*c.n)
			TernaryGemvBatchF32(out2, nil, w, c.n, c.k, xb, 0.37)
			vec := NewGemvVec(c.k)
			one, acc := make([]float32, c.n), make([]int32, c.n)
			for v := range c.b {
				g := vec.SetFloat32(c.xf[v*c.k : (v+1)*c.k])
				if g != xb.G[v] {
					t.Fatalf("k=%d: scale of vector %d = %v, want %v", c.k, v, xb.G[v], g)
				}
				TernaryGemvF32(one, acc, w, c.n, c.k, vec, 0.37, g)
				for r := range c.n {
					i := v*c.n + r
					if math.Float32bits(out[i]) != math.Float32bits(one[r]) || out2[i] != out[i] || y[i] != acc[r] {
						t.Fatalf("n=%d k=%d B=%d: F32 vector %d row %d = %v (%v, %d), want %v (%d)", c.n, c.k, c.b, v, r, out[i], out2[i], y[i], one[r], acc[r])
					}
				}
			}
		}
	})
}

func BenchmarkTernaryGemvBatch(b *testing.B) {
	for _, nb := range []int{1, 4, 16, 64} {
		n, k := 2048, 2048
		rng := rand.New(rand.NewSource(2))
		w := randPackedRows(rng, n, k)
		x := make([]int8, nb*k)
		for i := range x {
			x[i] = int8(rng.Intn(256) - 128)
		}
		xb := NewGemvBatch(k, nb)
		xb.Set(x, nb)
		y := make([]int32, nb*n)
		b.Run(GemvPath()+"/B="+strconv.Itoa(nb), func(b *testing.B) {
			b.SetBytes(int64(n * GemvRowBytes(k)))
			for b.Loop() {
				TernaryGemvBatch(y, w, n, k, xb)
			}
		})
	}
}
