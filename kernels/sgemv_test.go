package kernels

import (
	"math"
	"testing"

	"tern/tensor"
)

func TestSgemv(t *testing.T) {
	rng := tensor.NewRNG(0)
	for _, n := range []int{1, 3, 65, 257} {
		for _, k := range []int{1, 3, 7, 17, 1000} {
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
