//go:build !amd64 || purego

package kernels

import "unsafe"

// No AMX without the amd64 assembly; the drivers (amx.go) still build and run over the emulation.

var amxWhyNot = "this build has no amd64 assembly"

func detectAMX() bool { return false }

func bgemmAMX() *gemmKernel { return nil }

func amxBlockBF16(cfg *amxConfig, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, acc unsafe.Pointer, steps int) {
	panic("kernels: amxBlockBF16 without AMX")
}

func amxBlockInt8(cfg *amxConfig, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, acc unsafe.Pointer, steps int) {
	panic("kernels: amxBlockInt8 without AMX")
}
