//go:build !amd64 || purego

package kernels

func bitGemm(ci []int32, cf []float32, x []int8, xscale []float32, w *TernaryMatrix, wscale float32, m int) {
	bitGemmGeneric(ci, cf, x, xscale, w, wscale, m)
}

func packPanelRows(dst, src []int8, stride, kg, cols int, sums *[bitPanel]int32) (ok, bad bool) {
	return false, false
}
