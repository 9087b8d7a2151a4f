//go:build !amd64 || purego

package kernels

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmBlocked(&kernelGo, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func packStrips(dst []float32, ldd int, src []float32, lds, rows, width, k int) bool { return false }

func packRows(dst []float32, ldd int, src []float32, lds, cols, width, k int) bool { return false }

// gemmKernels lists this platform's micro-kernels (tests shrink their blocks).
func gemmKernels() []*gemmKernel { return []*gemmKernel{&kernelGo} }

func sgemmPath() string { return kernelGo.name }
