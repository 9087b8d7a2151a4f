//go:build !amd64 || purego

package kernels

func sgemvF16BatchRows(y []float32, ldy int, a []uint16, x []float32, n, k, b int) {
	sgemvF16BatchChunks(y, ldy, a, x, n, k, b)
}
