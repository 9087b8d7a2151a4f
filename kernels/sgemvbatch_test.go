package kernels

import (
	"fmt"
	"math"
	"testing"

	"tern/half"
	"tern/tensor"
)

// TestSgemvF16Batch checks every path against a float64 product of the exactly widened table (the
// error bound of a k-term float32 sum), and that a vector's results are the same bits whatever the
// batch: each vector alone (b = 1, SgemvF16's path) against the whole batch, at row counts around
// the 4-row tiles, vector counts around the groups of up to 6 vectors (7 = 4+3, 13 = 5+4+4, 17 =
// 6+6+5) and sizes around the 16/8-element steps; entries of y outside the product stay untouched.
func TestSgemvF16Batch(t *testing.T) {
	rng := tensor.NewRNG(3)
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 4, 5, 7, 8, 65, 130} {
			for _, k := range []int{1, 7, 15, 16, 17, 33, 48, 64, 80, 768, 1000} {
				for _, b := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17} {
					w, x := make([]float32, n*k), make([]float32, b*k)
					rng.FillNormal(w, 1)
					rng.FillNormal(x, 1)
					a := make([]uint16, n*k)
					for i, v := range w {
						a[i] = half.Float32ToF16(v)
					}
					ldy := n + 3
					y := make([]float32, b*ldy)
					for i := range y {
						y[i] = -7
					}
					SgemvF16Batch(y, ldy, a, x, n, k, b)
					// Tiles of neighbouring rows (the benchmark's variant) give the same bits.
					sgemvF16Spaced = false
					y2 := make([]float32, b*ldy)
					SgemvF16Batch(y2, ldy, a, x, n, k, b)
					sgemvF16Spaced = true
					for i := range n {
						for v := range b {
							if math.Float32bits(y2[v*ldy+i]) != math.Float32bits(y[v*ldy+i]) {
								t.Fatalf("n=%d k=%d b=%d row %d vector %d: %v with neighbouring rows, %v spaced", n, k, b, i, v, y2[v*ldy+i], y[v*ldy+i])
							}
						}
					}
					one := make([]float32, n)
					for v := range b {
						xv := x[v*k : (v+1)*k]
						SgemvF16Batch(one, n, a, xv, n, k, 1)
						for i := range n {
							got := y[v*ldy+i]
							where := fmt.Sprintf("n=%d k=%d b=%d row %d vector %d", n, k, b, i, v)
							if !nearDot(got, k, 1, 1, func(j int) float64 { return float64(half.F16ToFloat32(a[i*k+j])) * float64(xv[j]) }) {
								t.Fatalf("%s: %v", where, got)
							}
							if math.Float32bits(got) != math.Float32bits(one[i]) {
								t.Fatalf("%s: %v in the batch, SgemvF16 %v", where, got, one[i])
							}
						}
						for i := n; i < ldy && v*ldy+i < len(y); i++ {
							if y[v*ldy+i] != -7 {
								t.Fatalf("n=%d k=%d b=%d: y[%d] written outside the product", n, k, b, v*ldy+i)
							}
						}
					}
				}
			}
		}
	})
}

// BenchmarkSgemvF16Batch: the 100M preset's head (32000 x 768, F16) against B vectors, one batch
// kernel call against B SgemvF16 calls.
func BenchmarkSgemvF16Batch(b *testing.B) {
	n, k := 32000, 768
	w := make([]float32, n*k)
	tensor.NewRNG(1).FillNormal(w, 0.02)
	a := make([]uint16, n*k)
	for i, v := range w {
		a[i] = half.Float32ToF16(v)
	}
	for _, B := range []int{1, 4, 16, 64} {
		x, y := make([]float32, B*k), make([]float32, B*n)
		tensor.NewRNG(2).FillNormal(x, 1)
		b.Run(fmt.Sprint("batch/B=", B), func(b *testing.B) {
			b.SetBytes(int64(2 * n * k))
			for i := 0; i < b.N; i++ {
				SgemvF16Batch(y, n, a, x, n, k, B)
			}
		})
		b.Run(fmt.Sprint("gemvs/B=", B), func(b *testing.B) {
			b.SetBytes(int64(2 * n * k))
			for i := 0; i < b.N; i++ {
				for v := range B {
					SgemvF16(y[v*n:(v+1)*n], a, x[v*k:(v+1)*k], n, k)
				}
			}
		})
	}
}
