//go:build !amd64 || purego

package kernels

func nbitSIMD(bits int) bool { return false }

func nbitDots(dots *[64]int32, w []byte, rb, lo, n, blocks, bits int, planes []int8) {
	panic("kernels: nbitDots without assembly")
}
