//go:build !amd64 || purego

package kernels

func attendF16(out, q []float32, k, v []uint16, ld, n, hs int, scale float32, scores []float32) {
	attendF16Composed(out, q, k, v, ld, n, hs, scale, scores)
}

func attendF32(out, q, k, v []float32, ld, n, hs int, scale float32, scores []float32) {
	attendF32Composed(out, q, k, v, ld, n, hs, scale, scores)
}
