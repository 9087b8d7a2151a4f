package kernels

import "fmt"

// TernaryMatrix is an (N,K) matrix of ternary weights {-1,0,+1} in the layout the int8 x ternary GEMM
// wants. Build it once and refresh it with Set when the latent weights change (every training step).
type TernaryMatrix struct {
	N, K int
	W    []int8 // (N, K) row-major, values in {-1,0,1}
}

// NewTernaryMatrix copies w (N,K) into a new matrix.
func NewTernaryMatrix(w []int8, n, k int) *TernaryMatrix {
	t := &TernaryMatrix{N: n, K: k, W: make([]int8, n*k)}
	t.Set(w)
	return t
}

// Set replaces the weights with w (N,K) without allocating.
func (t *TernaryMatrix) Set(w []int8) {
	if len(w) != t.N*t.K {
		panic(fmt.Sprintf("kernels: TernaryMatrix.Set: want %d weights, got %d", t.N*t.K, len(w)))
	}
	copy(t.W, w)
}

// TernaryGemm computes c(M,N) = x(M,K) · wᵀ with int8 activations and ternary weights, int32 sums.
func TernaryGemm(c []int32, x []int8, w *TernaryMatrix, m int) {
	if len(c) < m*w.N || len(x) < m*w.K {
		panic(fmt.Sprintf("kernels: TernaryGemm: m=%d n=%d k=%d but len(c)=%d len(x)=%d", m, w.N, w.K, len(c), len(x)))
	}
	TernaryGemmGeneric(c, x, w, m)
}

// TernaryGemmGeneric is the plain-Go reference.
func TernaryGemmGeneric(c []int32, x []int8, w *TernaryMatrix, m int) {
	n, k := w.N, w.K
	ParallelFor(m, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*k : i*k+k]
			for j := 0; j < n; j++ {
				wj := w.W[j*k : j*k+k]
				var s int32
				for p, wv := range wj {
					s += int32(wv) * int32(xi[p])
				}
				c[i*n+j] = s
			}
		}
	})
}
