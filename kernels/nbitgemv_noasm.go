//go:build !amd64 || purego

package kernels

func nbitKernelFor(bits int) *nbitKernel { return nil }
