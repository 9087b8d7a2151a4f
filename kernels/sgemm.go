package kernels

import "fmt"

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where op(A) is (M,K) and
// op(B) is (K,N). With transA, A is stored (K,M); with transB, B is stored (N,K). lda, ldb, ldc are
// row strides. beta == 0 overwrites C (its old contents, NaN included, are ignored).
//
// The three forms a layer needs: forward out = inp·Wᵀ (transB), dinp = dout·W (plain), dW += doutᵀ·inp
// (transA, beta 1).
//
// Implementation (sgemm_blocked.go): a packed, blocked GEMM whose register-tile micro-kernels are
// AVX-512 (14x32), AVX2+FMA (6x16) or plain Go (2x4); products with at most 8 rows use
// matrix-vector kernels instead (AVX-512). Threads split C, never K, so the result is bit-identical
// for any thread count (and differs from SgemmGeneric only by fp32 rounding). Products under 4M
// multiply-adds (e.g. 128x128x256) stay on the calling goroutine and never use the worker pool, so
// they may run inside a ParallelFor body (attention per head); larger ones must not, because the
// pool does not nest. No allocation in steady state.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmPath names the micro-kernel Sgemm uses on this machine: "avx512", "avx2" or "go".
func SgemmPath() string { return sgemmPath() }

func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	need := func(rows, cols, ld, l int, name string) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols || (rows-1)*ld+cols > l {
			panic(fmt.Sprintf("kernels: Sgemm: %s is %dx%d with stride %d but has %d elements", name, rows, cols, ld, l))
		}
	}
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: Sgemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	if transA {
		need(k, m, lda, la, "A")
	} else {
		need(m, k, lda, la, "A")
	}
	if transB {
		need(n, k, ldb, lb, "B")
	} else {
		need(k, n, ldb, lb, "B")
	}
	need(m, n, ldc, lc, "C")
}

// SgemmGeneric is the plain-Go reference: rows of C are split across threads, each element's sum
// runs over p = 0..K-1 in order.
func SgemmGeneric(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ParallelFor(m, 4, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ci := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(ci)
			} else if beta != 1 {
				for j := range ci {
					ci[j] *= beta
				}
			}
			if transB {
				for j := 0; j < n; j++ {
					bj := b[j*ldb : j*ldb+k]
					var s float32
					for p := 0; p < k; p++ {
						s += aAt(transA, a, lda, i, p) * bj[p]
					}
					ci[j] += alpha * s
				}
				continue
			}
			for p := 0; p < k; p++ {
				ap := alpha * aAt(transA, a, lda, i, p)
				bp := b[p*ldb : p*ldb+n]
				for j, bv := range bp {
					ci[j] += ap * bv
				}
			}
		}
	})
}

func aAt(transA bool, a []float32, lda, i, p int) float32 {
	if transA {
		return a[p*lda+i]
	}
	return a[i*lda+p]
}
