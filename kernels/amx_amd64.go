//go:build !purego

package kernels

import "unsafe"

// amxBlockBF16 computes a 32 x 32 block of fp32 sums with TDPBF16PS (amx_amd64.s).
//
//go:noescape
func amxBlockBF16(cfg *amxConfig, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, acc unsafe.Pointer, steps int)

// amxBlockInt8 computes a 32 x 32 block of int32 sums with TDPBSSD (amx_amd64.s).
//
//go:noescape
func amxBlockInt8(cfg *amxConfig, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, acc unsafe.Pointer, steps int)

func cpuidex(leaf, sub uint32) (a, b, c, d uint32)

func xgetbv0() (eax, edx uint32)

// amxBlockAddrs returns the entry addresses of amxBlockBF16 and amxBlockInt8 (for tests).
func amxBlockAddrs() (bf16, int8 *byte)

// amxSamplesAddr points at the encoding samples in amx_amd64.s (for tests).
func amxSamplesAddr() *byte

// amxWhyNot says why detectAMX found no usable AMX ("" when it did).
var amxWhyNot string

// detectAMX reports whether the CPU has AMX-TILE, AMX-BF16 and AMX-INT8 (CPUID.(EAX=7,ECX=0):EDX
// bits 24, 22, 25) and the OS lets this process use the tile data: Linux enables it per process on
// request (arch_prctl ARCH_REQ_XCOMP_PERM, amxRequest) and must have XTILECFG and XTILEDATA
// enabled in XCR0 (bits 17, 18).
func detectAMX() bool {
	if max, _, _, _ := cpuidex(0, 0); max < 7 {
		amxWhyNot = "CPUID has no leaf 7"
		return false
	}
	_, _, _, edx := cpuidex(7, 0)
	const tile, bf16, int8 = 1 << 24, 1 << 22, 1 << 25
	if edx&(tile|bf16|int8) != tile|bf16|int8 {
		amxWhyNot = "this CPU has no AMX-TILE/AMX-BF16/AMX-INT8 (CPUID.(7,0):EDX bits 24, 22, 25)"
		return false
	}
	if _, _, ecx, _ := cpuidex(1, 0); ecx&(1<<27) == 0 {
		amxWhyNot = "the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE)"
		return false
	}
	if err := amxRequest(); err != nil {
		amxWhyNot = err.Error()
		return false
	}
	if eax, _ := xgetbv0(); eax&(3<<17) != 3<<17 {
		amxWhyNot = "the OS has not enabled the tile state (XCR0 bits 17, 18)"
		return false
	}
	return true
}

// bgemmAMX is the AMX bf16 micro-kernel where the implementation in use has AMX.
func bgemmAMX() *gemmKernel {
	if hasAMX {
		return &kernelAMXBF16
	}
	return nil
}
