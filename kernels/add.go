package kernels

import "fmt"

// AddInPlace adds y into x (x[i] += y[i], each sum one float32 rounding as the scalar loop's), 16
// values per instruction with AVX-512 or 8 with AVX2: a batched decode step's residual adds were a
// scalar Go loop that ran on one thread while the other waited (about 5% of a 700M step at 16 rows).
func AddInPlace(x, y []float32) {
	if len(y) != len(x) {
		panic(fmt.Sprintf("kernels: AddInPlace: len(x)=%d len(y)=%d", len(x), len(y)))
	}
	done := addFast(x, y)
	for i := done; i < len(x); i++ {
		x[i] += y[i]
	}
}
