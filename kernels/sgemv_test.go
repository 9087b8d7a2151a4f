package kernels

import (
	"math"
	"testing"

	"tern/half"
	"tern/tensor"
)

func TestSgemv(t *testing.T) {
	forEachImpl(t, testSgemv)
}

func testSgemv(t *testing.T) {
	rng := tensor.NewRNG(0)
	for _, n := range []int{1, 3, 65, 257} {
		for _, k := range []int{1, 3, 7, 16, 17, 33, 64, 80, 1000} {
			a, x, y := make([]float32, n*k), make([]float32, k), make([]float32, n)
			rng.FillNormal(a, 1)
			rng.FillNormal(x, 1)
			Sgemv(y, a, x, n, k)
			for i := 0; i < n; i++ {
				var want float64
				for j := 0; j < k; j++ {
					want += float64(a[i*k+j]) * float64(x[j])
				}
				if math.Abs(float64(y[i])-want) > 1e-4*math.Sqrt(float64(k))*(1+math.Abs(want)) {
					t.Fatalf("n=%d k=%d row %d: %v, want %v", n, k, i, y[i], want)
				}
			}
		}
	}
}

// TestSgemvF16 checks every path against a float64 product of the exactly widened matrix, at sizes
// around the kernels' 16/32/64-element steps.
func TestSgemvF16(t *testing.T) {
	rng := tensor.NewRNG(1)
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 65, 130} {
			for _, k := range []int{1, 7, 15, 16, 17, 33, 48, 64, 80, 127, 768, 1000} {
				w, x, y := make([]float32, n*k), make([]float32, k), make([]float32, n)
				rng.FillNormal(w, 1)
				rng.FillNormal(x, 1)
				a := make([]uint16, n*k)
				for i, v := range w {
					a[i] = half.Float32ToF16(v)
				}
				SgemvF16(y, a, x, n, k)
				for i := 0; i < n; i++ {
					if !nearDot(y[i], k, 1, 1, func(j int) float64 { return float64(half.F16ToFloat32(a[i*k+j])) * float64(x[j]) }) {
						t.Fatalf("n=%d k=%d row %d: %v", n, k, i, y[i])
					}
				}
			}
		}
	})
}

// TestSgemvI8 checks every path against a float64 product of the exact int8 values times the row
// scale, with the same summation bound.
func TestSgemvI8(t *testing.T) {
	rng := tensor.NewRNG(2)
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 65, 130} {
			for _, k := range []int{1, 7, 15, 16, 17, 31, 33, 48, 64, 80, 127, 768, 1000} {
				a, s := randInt8(rng, n*k), make([]float32, n)
				x, y := make([]float32, k), make([]float32, n)
				rng.FillNormal(x, 1)
				rng.FillNormal(s, 0.01)
				SgemvI8(y, a, s, x, n, k)
				for i := 0; i < n; i++ {
					if !nearDot(y[i], k, float64(s[i]), 2, func(j int) float64 { return float64(a[i*k+j]) * float64(x[j]) }) {
						t.Fatalf("n=%d k=%d row %d: %v", n, k, i, y[i])
					}
				}
			}
		}
	})
}

// BenchmarkSgemvNarrow: the LM-head products of decoding, a 32000 x 768 table as fp32, F16 and int8
// (bytes/s of the table; the table is 98 / 49 / 25 MB, far larger than the cache).
func BenchmarkSgemvNarrow(b *testing.B) {
	const n, k = 32000, 768
	rng := tensor.NewRNG(3)
	w, x, y := make([]float32, n*k), make([]float32, k), make([]float32, n)
	rng.FillNormal(w, 0.02)
	rng.FillNormal(x, 1)
	h := make([]uint16, n*k)
	for i, v := range w {
		h[i] = half.Float32ToF16(v)
	}
	q, s := randInt8(rng, n*k), make([]float32, n)
	rng.FillNormal(s, 0.01)
	b.Run("f32", func(b *testing.B) {
		b.SetBytes(4 * n * k)
		for range b.N {
			Sgemv(y, w, x, n, k)
		}
	})
	b.Run("f16", func(b *testing.B) {
		b.SetBytes(2 * n * k)
		for range b.N {
			SgemvF16(y, h, x, n, k)
		}
	})
	b.Run("int8", func(b *testing.B) {
		b.SetBytes(n * k)
		for range b.N {
			SgemvI8(y, q, s, x, n, k)
		}
	})
}

// TestSgemvF16Strided checks both attention products over an F16 cache (rows lda apart, a head's
// columns at an offset) on every path against float64, at head sizes around the 16/32/64 steps.
func TestSgemvF16Strided(t *testing.T) {
	rng := tensor.NewRNG(4)
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{1, 2, 7, 65} {
			for _, k := range []int{1, 15, 16, 40, 64, 80, 96, 128} {
				lda, off := 3*k+5, k+3
				w := make([]float32, n*lda+off)
				rng.FillNormal(w, 1)
				a := make([]uint16, len(w))
				for i, v := range w {
					a[i] = half.Float32ToF16(v)
				}
				head := a[off:]
				xk, xn := make([]float32, k), make([]float32, n)
				rng.FillNormal(xk, 1)
				rng.FillNormal(xn, 1)
				y, yt := make([]float32, n), make([]float32, k+1)
				yt[k] = 42 // past k: must stay
				SgemvF16Strided(y, head, lda, xk, n, k)
				SgemvTF16(yt, head, lda, xn, n, k)
				for i := range n {
					if !nearDot(y[i], k, 1, 1, func(j int) float64 { return float64(half.F16ToFloat32(head[i*lda+j])) * float64(xk[j]) }) {
						t.Fatalf("strided n=%d k=%d row %d: %v", n, k, i, y[i])
					}
				}
				for e := range k {
					if !nearDot(yt[e], n, 1, 1, func(j int) float64 { return float64(half.F16ToFloat32(head[j*lda+e])) * float64(xn[j]) }) {
						t.Fatalf("transposed n=%d k=%d column %d: %v", n, k, e, yt[e])
					}
				}
				if yt[k] != 42 {
					t.Fatalf("transposed n=%d k=%d wrote past k", n, k)
				}
			}
		}
	})
}

// nearDot reports whether got is scale·Σ_{j<k} p(j), computed in float64, to within the float32
// summation bound (k+extra)·u·|scale|·Σ|p(j)| (u = 2^-24; extra covers the products' and the scale's
// own rounding).
func nearDot(got float32, k int, scale float64, extra int, p func(j int) float64) bool {
	var want, mag float64
	for j := range k {
		v := p(j)
		want, mag = want+v, mag+math.Abs(v)
	}
	return math.Abs(float64(got)-scale*want) <= float64(k+extra)*0x1p-24*math.Abs(scale)*mag
}
