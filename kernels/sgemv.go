package kernels

import (
	"fmt"

	"tern/half"
)

// Sgemv computes y(N) = A(N,K) · x(K) for row-major A: the fp32 matrix-vector product of decoding (the
// LM head, fp32 projections). A GEMM with M = 1 would pack all of A on every call; this streams each row
// once, split by rows across the pool, so it is memory-bound like the ternary GEMV (AVX-512 and AVX2
// in sgemv_narrow_amd64.s). Each y[i] is one thread's dot product in a fixed order, whatever the split.
func Sgemv(y, a, x []float32, n, k int) {
	if len(y) < n || len(a) < n*k || len(x) < k {
		panic(fmt.Sprintf("kernels: Sgemv: n=%d k=%d but len(y)=%d len(a)=%d len(x)=%d", n, k, len(y), len(a), len(x)))
	}
	ParallelFor(n, 64, func(lo, hi int) {
		sgemvF32Rows(y[lo:hi], a[lo*k:hi*k], x, hi-lo, k)
	})
}

// sgemvGeneric is the portable path: four interleaved partial sums per row, added pairwise at the end.
func sgemvGeneric(y, a, x []float32, n, k int) {
	for i := range n {
		y[i] = dot(a[i*k:i*k+k], x[:k])
	}
}

func dot(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(a) &^ 3
	b = b[:len(a)]
	for j := 0; j < n; j += 4 {
		s0 += a[j] * b[j]
		s1 += a[j+1] * b[j+1]
		s2 += a[j+2] * b[j+2]
		s3 += a[j+3] * b[j+3]
	}
	for j := n; j < len(a); j++ {
		s0 += a[j] * b[j]
	}
	return (s0 + s1) + (s2 + s3)
}

// SgemvF16 computes y(N) = A(N,K)·x(K) with A in IEEE half precision (binary16 bits), the way packed
// models keep their embedding and LM-head table: each element widens exactly, so y equals the fp32
// product of the widened matrix up to summation order, and the product reads half the bytes.
// Rows are split between threads; each row is summed in a fixed order, independent of the split, and
// the same order as SgemvF16Batch's (AVX-512: one 16-lane accumulator per row over the 16-column
// groups in order, a fixed lane tree, then the tail; four rows far apart are summed side by side so
// that the table streams from memory as four sequential reads).
func SgemvF16(y []float32, a []uint16, x []float32, n, k int) {
	if len(y) < n || len(a) < n*k || len(x) < k {
		panic(fmt.Sprintf("kernels: SgemvF16: n=%d k=%d but len(y)=%d len(a)=%d len(x)=%d", n, k, len(y), len(a), len(x)))
	}
	ParallelFor(n, 64, func(lo, hi int) {
		sgemvF16Rows(y[lo:hi], a[lo*k:hi*k], k, x, hi-lo, k)
	})
}

// SgemvF16Strided is SgemvF16 over rows lda values apart (row i is a[i·lda : i·lda+k]), on the calling
// goroutine: attention's q·K_jᵀ over an F16 key cache, one head's columns of each cached row.
func SgemvF16Strided(y []float32, a []uint16, lda int, x []float32, n, k int) {
	if n > 0 && (len(y) < n || lda < k || len(a) < (n-1)*lda+k || len(x) < k) {
		panic(fmt.Sprintf("kernels: SgemvF16Strided: n=%d k=%d lda=%d but len(y)=%d len(a)=%d len(x)=%d", n, k, lda, len(y), len(a), len(x)))
	}
	sgemvF16Rows(y, a, lda, x, n, k)
}

// SgemvTF16 computes y(K) = A(N,K)ᵀ·x(N) with A in F16, rows lda values apart, on the calling
// goroutine: attention's Σ_j p_j·V_j over an F16 value cache. Each y[e] sums j in order.
func SgemvTF16(y []float32, a []uint16, lda int, x []float32, n, k int) {
	if len(y) < k || (n > 0 && (lda < k || len(a) < (n-1)*lda+k)) || len(x) < n {
		panic(fmt.Sprintf("kernels: SgemvTF16: n=%d k=%d lda=%d but len(y)=%d len(a)=%d len(x)=%d", n, k, lda, len(y), len(a), len(x)))
	}
	if n == 0 {
		clear(y[:k])
		return
	}
	sgemvTF16(y, a, lda, x, n, k)
}

// sgemvF16Generic is the portable path: one exact widening per element, four running sums.
func sgemvF16Generic(y []float32, a []uint16, lda int, x []float32, n, k int) {
	for i := range n {
		y[i] = dotF16(a[i*lda:i*lda+k], x[:k])
	}
}

// sgemvTF16Generic computes columns [from, k) of SgemvTF16, j in order for each.
func sgemvTF16Generic(y []float32, a []uint16, lda int, x []float32, n, k, from int) {
	if from >= k {
		return
	}
	clear(y[from:k])
	for j := range n {
		xj, row := x[j], a[j*lda:j*lda+k]
		for e := from; e < k; e++ {
			y[e] += xj * half.F16ToFloat32(row[e])
		}
	}
}

func dotF16(a []uint16, x []float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(a) &^ 3
	x = x[:len(a)]
	for j := 0; j < n; j += 4 {
		s0 += half.F16ToFloat32(a[j]) * x[j]
		s1 += half.F16ToFloat32(a[j+1]) * x[j+1]
		s2 += half.F16ToFloat32(a[j+2]) * x[j+2]
		s3 += half.F16ToFloat32(a[j+3]) * x[j+3]
	}
	for j := n; j < len(a); j++ {
		s0 += half.F16ToFloat32(a[j]) * x[j]
	}
	return (s0 + s1) + (s2 + s3)
}

// SgemvI8 computes y(N) = diag(s)·A(N,K)·x(K) with A int8 and s one scale per row (A's row i holds
// w/s[i]): the int8 form of the LM-head table, a quarter of the bytes of fp32. Threads split rows;
// each row is summed in a fixed order, then scaled.
func SgemvI8(y []float32, a []int8, s, x []float32, n, k int) {
	if len(y) < n || len(a) < n*k || len(s) < n || len(x) < k {
		panic(fmt.Sprintf("kernels: SgemvI8: n=%d k=%d but len(y)=%d len(a)=%d len(s)=%d len(x)=%d", n, k, len(y), len(a), len(s), len(x)))
	}
	ParallelFor(n, 64, func(lo, hi int) {
		sgemvI8Rows(y[lo:hi], a[lo*k:hi*k], s[lo:hi], x, hi-lo, k)
	})
}

func sgemvI8Generic(y []float32, a []int8, s, x []float32, n, k int) {
	for i := range n {
		y[i] = dotI8(a[i*k:i*k+k], x[:k]) * s[i]
	}
}

func dotI8(a []int8, x []float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(a) &^ 3
	x = x[:len(a)]
	for j := 0; j < n; j += 4 {
		s0 += float32(a[j]) * x[j]
		s1 += float32(a[j+1]) * x[j+1]
		s2 += float32(a[j+2]) * x[j+2]
		s3 += float32(a[j+3]) * x[j+3]
	}
	for j := n; j < len(a); j++ {
		s0 += float32(a[j]) * x[j]
	}
	return (s0 + s1) + (s2 + s3)
}
