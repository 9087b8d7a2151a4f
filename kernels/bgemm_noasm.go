//go:build !amd64 || purego

package kernels

func bgemmKernel() *gemmKernel { return &kernelGoEmu }

// bgemmKernels lists this platform's bf16 micro-kernels (tests shrink their blocks).
func bgemmKernels() []*gemmKernel { return []*gemmKernel{&kernelGoEmu} }

func packPairsBF16(scratch, dst []float32, runs bool, src []float32, ld, n, width, kc int) bool {
	return false
}
