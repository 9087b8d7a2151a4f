//go:build !purego

package kernels

// peakLoop returns the register-only loop of dtype's instruction and its flops per iteration (24
// instructions of 512 bits; bgemm_amd64.s), or nil where the implementation in use lacks it.
func peakLoop(dtype string) (func(n int), float64) {
	switch {
	case dtype == "bf16" && hasBF16:
		return peakLoopBF16, 24 * 16 * 4
	case dtype == "f32" && hasAVX512:
		return peakLoopF32, 24 * 16 * 2
	case dtype == "int8" && hasVNNI:
		return peakLoopVNNI, 24 * 16 * 4 * 2
	}
	return nil, 0
}

// peakLoopBF16 runs n iterations of 24 independent VDPBF16PS (bgemm_amd64.s).
//
//go:noescape
func peakLoopBF16(n int)

// peakLoopF32 runs n iterations of 24 independent VFMADD231PS (bgemm_amd64.s).
//
//go:noescape
func peakLoopF32(n int)

// peakLoopVNNI runs n iterations of 24 independent VPDPBUSD (bgemm_amd64.s).
//
//go:noescape
func peakLoopVNNI(n int)
