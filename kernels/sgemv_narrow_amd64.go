//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// hasF16C: the AVX2 path widens with F16C's VCVTPH2PS (every AVX2 CPU in practice has it; checked anyway).
var hasF16C = cpu.X86.HasF16C

//go:noescape
func sgemvF32AVX512(y *float32, a *float32, x *float32, n, k, k16 int)

//go:noescape
func sgemvF32AVX2(y *float32, a *float32, x *float32, n, k, k16 int)

//go:noescape
func sgemvF16AVX2(y *float32, a *uint16, x *float32, n, k, k16 int)

//go:noescape
func sgemvI8AVX512(y *float32, a *int8, x *float32, n, k, k16 int)

//go:noescape
func sgemvI8AVX2(y *float32, a *int8, x *float32, n, k, k16 int)

// sgemvF32Rows computes y[:n] = a·x for the n fp32 rows at the start of a (row stride k).
func sgemvF32Rows(y, a, x []float32, n, k int) {
	k16 := k &^ 15
	if n == 0 || k16 == 0 || !hasAVX2 {
		sgemvGeneric(y, a, x, n, k)
		return
	}
	if hasAVX512 {
		sgemvF32AVX512(&y[0], &a[0], &x[0], n, k, k16)
	} else {
		sgemvF32AVX2(&y[0], &a[0], &x[0], n, k, k16)
	}
	if k16 < k {
		for i := range n {
			y[i] += dot(a[i*k+k16:i*k+k], x[k16:k])
		}
	}
}

// sgemvF16Rows computes y[:n] for the n rows of k values at the start of a, lda apart.
func sgemvF16Rows(y []float32, a []uint16, lda int, x []float32, n, k int) {
	k16 := k &^ 15
	if n == 0 || k16 == 0 || !(hasAVX512 || hasAVX2 && hasF16C) {
		sgemvF16Generic(y, a, lda, x, n, k)
		return
	}
	if hasAVX512 {
		sgemvF16TileRows(y, 0, a, lda, x, 0, n, 1, k16, nil, 0)
	} else {
		sgemvF16AVX2(&y[0], &a[0], &x[0], n, lda, k16)
	}
	if k16 < k {
		for i := range n {
			y[i] += dotF16(a[i*lda+k16:i*lda+k], x[k16:k])
		}
	}
}

//go:noescape
func sgemvTF16AVX512(y *float32, a *uint16, lda int, x *float32, n, k64, k16 int)

//go:noescape
func sgemvTF16AVX2(y *float32, a *uint16, lda int, x *float32, n, k64, k16 int)

// sgemvTF16 is SgemvTF16 after its checks.
func sgemvTF16(y []float32, a []uint16, lda int, x []float32, n, k int) {
	k16 := k &^ 15
	if n == 0 || k16 == 0 || !(hasAVX512 || hasAVX2 && hasF16C) {
		sgemvTF16Generic(y, a, lda, x, n, k, 0)
		return
	}
	if hasAVX512 {
		sgemvTF16AVX512(&y[0], &a[0], lda, &x[0], n, k&^63, k16)
	} else {
		sgemvTF16AVX2(&y[0], &a[0], lda, &x[0], n, k&^63, k16)
	}
	sgemvTF16Generic(y, a, lda, x, n, k, k16)
}

// sgemvI8Rows computes y[:n] = s[:n]·(a·x) for the n rows at the start of a (row stride k).
func sgemvI8Rows(y []float32, a []int8, s, x []float32, n, k int) {
	k16 := k &^ 15
	if n == 0 || k16 == 0 || !hasAVX2 {
		sgemvI8Generic(y, a, s, x, n, k)
		return
	}
	if hasAVX512 {
		sgemvI8AVX512(&y[0], &a[0], &x[0], n, k, k16)
	} else {
		sgemvI8AVX2(&y[0], &a[0], &x[0], n, k, k16)
	}
	for i := range n {
		if k16 < k {
			y[i] += dotI8(a[i*k+k16:i*k+k], x[k16:k])
		}
		y[i] *= s[i]
	}
}

// SgemvF16Fast reports whether SgemvF16 runs an assembly kernel, so a caller can keep F16 weights
// in F16 (half the bytes per product) instead of widening them to fp32 once.
func SgemvF16Fast() bool { return hasAVX512 || hasAVX2 && hasF16C }
