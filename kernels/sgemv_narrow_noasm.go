//go:build !amd64 || purego

package kernels

func sgemvF32Rows(y, a, x []float32, n, k int) { sgemvGeneric(y, a, x, n, k) }

func sgemvF16Rows(y []float32, a []uint16, lda int, x []float32, n, k int) {
	sgemvF16Generic(y, a, lda, x, n, k)
}

func sgemvTF16(y []float32, a []uint16, lda int, x []float32, n, k int) {
	sgemvTF16Generic(y, a, lda, x, n, k, 0)
}

func sgemvI8Rows(y []float32, a []int8, s, x []float32, n, k int) { sgemvI8Generic(y, a, s, x, n, k) }

// SgemvF16Fast reports whether SgemvF16 runs an assembly kernel (never without assembly).
func SgemvF16Fast() bool { return false }
