//go:build !purego

package kernels

//go:noescape
func addAVX512(x, y *float32, n int)

//go:noescape
func addAVX2(x, y *float32, n int)

// addFast adds the first multiple of 16 values of y into x and returns how many it did.
func addFast(x, y []float32) int {
	n := len(x) &^ 15
	switch {
	case n == 0:
		return 0
	case hasAVX512:
		addAVX512(&x[0], &y[0], n)
	case hasAVX2:
		addAVX2(&x[0], &y[0], n)
	default:
		return 0
	}
	return n
}
