//go:build !purego

package kernels

//go:noescape
func toF16AVX512(dst *uint16, src *float32, n int)

// toF16Fast converts the first multiple of 16 values of src and returns how many it did.
func toF16Fast(dst []uint16, src []float32) int {
	n := len(src) &^ 15
	if !hasAVX512 || n == 0 {
		return 0
	}
	toF16AVX512(&dst[0], &src[0], n)
	return n
}
