//go:build !purego

package kernels

// The kernels of nbitgemv_amd64.s: for `rows` rows (rb bytes apart), one int32 Σ u·q per row over
// `blocks` full blocks.
//
//go:noescape
func nbitDots8VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitDots4VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitDots2VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitDots1VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitDots3VBMI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitDots8AVX2(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitDots4AVX2(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitDots2AVX2(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

// AVX-512 VNNI blocks are 64 bytes of codes (1 bit: 32 bytes, 256 codes; 3 bits: 48 bytes, 128 codes;
// both with the activations in natural order); AVX2 blocks are 32 bytes. 1 and 3 bits have no AVX2 kernel (the Go
// reference runs them there).
var (
	nbitVNNI = [9]*nbitKernel{
		1: {"avx512vnni", 32, 256, 0, nbitDots1VNNI},
		2: {"avx512vnni", 64, 256, 64, nbitDots2VNNI},
		3: {"avx512vbmi", 48, 128, 0, nbitDots3VBMI},
		4: {"avx512vnni", 64, 128, 64, nbitDots4VNNI},
		8: {"avx512vnni", 64, 64, 0, nbitDots8VNNI},
	}
	nbitAVX2 = [9]*nbitKernel{
		2: {"avx2", 32, 128, 32, nbitDots2AVX2},
		4: {"avx2", 32, 64, 32, nbitDots4AVX2},
		8: {"avx2", 32, 32, 0, nbitDots8AVX2},
	}
)

// nbitKernelFor returns the SIMD kernel for bits on this CPU (per the implementation in use), or nil.
func nbitKernelFor(bits int) *nbitKernel {
	if bits < 1 || bits > 8 {
		return nil
	}
	if hasVNNI && (bits != 3 || hasGemvVBMI) {
		if k := nbitVNNI[bits]; k != nil {
			return k
		}
	}
	if hasAVX2 {
		return nbitAVX2[bits]
	}
	return nil
}

//go:noescape
func nbitBatch8VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitBatch4VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitBatch2VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

// nbitBatchFor returns the 8-vector batch kernel for bits (AVX-512 VNNI, 2, 4 and 8 bits; blocks as
// nbitKernelFor's kernel of the same width), or nil.
func nbitBatchFor(bits int) func(dots *int32, w *byte, rb, rows, blocks int, planes *int8) {
	if !hasVNNI {
		return nil
	}
	switch bits {
	case 8:
		return nbitBatch8VNNI
	case 4:
		return nbitBatch4VNNI
	case 2:
		return nbitBatch2VNNI
	}
	return nil
}
