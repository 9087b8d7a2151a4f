package nn

import "fmt"

// Residual helpers: Backward returns dinp overwritten, so a residual connection x + f(x) adds f's dinp
// into the skip path's gradient with AddInPlace.

// Add writes out = a + b (elementwise); out may alias a or b.
func Add(out, a, b []float32) {
	if len(a) != len(b) || len(out) < len(a) {
		panic(fmt.Sprintf("nn: Add: len(out)=%d len(a)=%d len(b)=%d", len(out), len(a), len(b)))
	}
	out = out[:len(a)]
	b = b[:len(a)]
	for i, v := range a {
		out[i] = v + b[i]
	}
}

// AddInPlace does dst += src.
func AddInPlace(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("nn: AddInPlace: len(dst)=%d len(src)=%d", len(dst), len(src)))
	}
	for i, v := range src {
		dst[i] += v
	}
}

// Scale does x *= s.
func Scale(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}
