//go:build !amd64 || purego

package kernels

func attendF16(out, q []float32, k, v []uint16, ld, n, hs int, scale float32, scores []float32) {
	attendF16Composed(out, q, k, v, ld, n, hs, scale, scores)
}
