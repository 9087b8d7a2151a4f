//go:build !amd64 || purego

package kernels

func sgemvF16BatchRows(y []float32, ldy int, a []uint16, x []float32, n, k, b int) {
	sgemvF16BatchChunks(y, ldy, a, x, n, k, b)
}

// sgemvF16Spaced has no effect here (the amd64 kernels' row order; the tests flip it).
var sgemvF16Spaced = true
