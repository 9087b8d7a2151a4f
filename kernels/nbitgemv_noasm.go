//go:build !amd64 || purego

package kernels

func nbitKernelFor(bits int) *nbitKernel { return nil }

func nbitBatchFor(bits int) func(dots *int32, w *byte, rb, rows, blocks int, planes *int8) {
	return nil
}
