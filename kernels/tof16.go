package kernels

import (
	"fmt"

	"tern/half"
)

// ToF16 writes dst[i] = half.Float32ToF16(src[i]) (IEEE binary16, round to nearest even, NaN quiet with
// the top payload bits kept), 16 values per instruction with AVX-512's VCVTPS2PH, which rounds exactly
// as half.Float32ToF16 does (TestToF16 checks every exponent, sign and tie). A batched decode step
// writes each new key and value into an F16 KV cache with it.
func ToF16(dst []uint16, src []float32) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("kernels: ToF16: len(dst)=%d < len(src)=%d", len(dst), len(src)))
	}
	done := toF16Fast(dst, src)
	for i := done; i < len(src); i++ {
		dst[i] = half.Float32ToF16(src[i])
	}
}
