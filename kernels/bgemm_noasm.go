//go:build !amd64 || purego

package kernels

func bgemmKernel() *gemmKernel { return &kernelGoEmu }

// bgemmKernels lists this platform's bf16 micro-kernels (tests shrink their blocks).
func bgemmKernels() []*gemmKernel { return []*gemmKernel{&kernelGoEmu} }

func packPairsBF16(dst []float32, runs bool, src []float32, ld, n, width, kc int) bool {
	return false
}

func peakLoop(string) (func(int), float64) { return nil, 0 }
