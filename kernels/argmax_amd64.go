//go:build !purego

package kernels

import "math"

//go:noescape
func maxNotNaNAVX512(x *float32, n int) float32

//go:noescape
func firstEqualAVX512(x *float32, n int, v float32) int

// maxNotNaN returns the largest non-NaN value of the first multiple of 16 values of x (-Inf if none)
// and how many values it looked at.
func maxNotNaN(x []float32) (float32, int) {
	n := len(x) &^ 15
	if !hasAVX512 || n == 0 {
		return float32(math.Inf(-1)), 0
	}
	return maxNotNaNAVX512(&x[0], n), n
}

// firstEqual returns the first i with x[i] == v, or -1.
func firstEqual(x []float32, v float32) int {
	n := len(x) &^ 15
	if !hasAVX512 || n == 0 {
		return firstEqualGeneric(x, v)
	}
	if i := firstEqualAVX512(&x[0], n, v); i >= 0 {
		return i
	}
	if i := firstEqualGeneric(x[n:], v); i >= 0 {
		return n + i
	}
	return -1
}
