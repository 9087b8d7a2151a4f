//go:build !purego

package kernels

// Products with at most gemvMaxM rows of C (decoding one token, a batch of a few): each row of C
// is a pass over B with the matrix-vector kernels in sgemm_gemv_amd64.s. The blocked path would
// pack all of B (as much memory traffic as the product itself) and fill 1 row of a 14-row tile.
// Measured on one Zen 4 core (CPU time): 1x8192x256 NT 97 us vs 845 us blocked, NN 134 vs 981;
// 4x1024x1024 NT 217 vs 494, NN 253 vs 476.

import (
	"sync"

	"tern/tensor"
)

// gemvMaxM: the cost here grows with M (one pass over B per row), the blocked path's is mostly
// packing B; from the figures above they cross near M = 10.
const gemvMaxM = 8

type gemvState struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	x              []float32 // (m, k) rows of op(A) gathered contiguous (transA with transB only)
	y              []float32 // (n) one row of products before alpha/beta
	fn             func(lo, hi int)
}

var gemvStates = sync.Pool{New: func() any {
	s := new(gemvState)
	s.fn = s.cols
	return s
}}

// sgemvRows computes C for m <= gemvMaxM (AVX-512; arguments checked by Sgemm, k > 0, alpha != 0).
// Threads split the columns of C in blocks of 16; every column is summed over p in order by the
// same instructions wherever the split falls, so results do not depend on the thread count.
func sgemvRows(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	s := gemvStates.Get().(*gemvState)
	s.transA, s.transB = transA, transB
	s.m, s.n, s.k = m, n, k
	s.alpha, s.beta = alpha, beta
	s.a, s.b, s.c = a, b, c
	s.lda, s.ldb, s.ldc = lda, ldb, ldc
	s.y = tensor.Grow(s.y, n)
	if transA && transB { // the dot kernel wants each row of op(A) contiguous
		s.x = tensor.Grow(s.x, m*k)
		for i := 0; i < m; i++ {
			xi := s.x[i*k : i*k+k]
			for p := range xi {
				xi[p] = a[p*lda+i]
			}
		}
	}
	blocks := (n + 15) / 16
	if float64(m)*float64(n)*float64(k) < gemmParallelFlops {
		s.cols(0, blocks)
	} else {
		ParallelFor(blocks, 1, s.fn)
	}
	s.a, s.b, s.c = nil, nil, nil
	gemvStates.Put(s)
}

// cols computes columns [16*lo, 16*hi) of every row of C.
func (s *gemvState) cols(lo, hi int) {
	j0, j1 := lo*16, min(hi*16, s.n)
	if j0 >= j1 {
		return
	}
	w := j1 - j0
	k := s.k
	y := s.y[j0:j1]
	for i := 0; i < s.m; i++ {
		switch {
		case s.transB: // C[i,j] = dot(op(A)[i,:], B[j,:])
			var x []float32
			if s.transA {
				x = s.x[i*k : i*k+k]
			} else {
				x = s.a[i*s.lda : i*s.lda+k]
			}
			_ = s.b[(j1-1)*s.ldb+k-1]
			sdotN(k, w, &x[0], &s.b[j0*s.ldb], s.ldb, &y[0])
		default: // C[i,:] = sum_p op(A)[i,p] * B[p,:]
			var xp *float32
			incx := 1
			if s.transA {
				_ = s.a[(k-1)*s.lda+i]
				xp, incx = &s.a[i], s.lda
			} else {
				_ = s.a[i*s.lda+k-1]
				xp = &s.a[i*s.lda]
			}
			_ = s.b[(k-1)*s.ldb+j1-1]
			sgemvN(k, w, xp, incx, &s.b[j0], s.ldb, &y[0])
		}
		ci := s.c[i*s.ldc+j0 : i*s.ldc+j1]
		if s.beta == 0 {
			for j, v := range y {
				ci[j] = s.alpha * v
			}
			continue
		}
		for j, v := range y {
			ci[j] = s.alpha*v + s.beta*ci[j]
		}
	}
}

// sgemvN: y[j] = sum_{p<k} x[p*incx] * b[p*ldb+j] for j < n (see sgemm_gemv_amd64.s).
//
//go:noescape
func sgemvN(k, n int, x *float32, incx int, b *float32, ldb int, y *float32)

// sdotN: y[j] = dot(x[0:k], b[j*ldb:j*ldb+k]) for j < n.
//
//go:noescape
func sdotN(k, n int, x, b *float32, ldb int, y *float32)
