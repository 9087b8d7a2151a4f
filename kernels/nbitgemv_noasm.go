//go:build !amd64 || purego

package kernels

func nbitRows(y []float32, w []byte, steps []float32, lo, hi, k, bits int, q []int8, sx int32, g float32) {
	nbitRowsGeneric(y, w, steps, lo, hi, k, bits, q, sx, g)
}
