//go:build !amd64 || purego

package kernels

func tgemmAsm(out []float32, x []int8, xscale []float32, p *TernaryPanels, wscale float32, m int) bool {
	return false
}

func tgemmFast() bool { return false }
