package kernels

// Argmax returns the index of the first largest value of x, with the scalar loop's answer in every
// case: NaNs are never chosen (a comparison with NaN is false) unless x[0] is NaN, which is then kept;
// of equal values (+0 and -0 among them) the first wins; 0 for an empty x. With AVX-512 it takes one
// vector pass for the maximum and one for its first position: greedy sampling's scan of a 32,000-token
// row of logits was ~30 µs in Go (a loop-carried compare), per row of every batched step.
func Argmax(x []float32) int {
	if len(x) == 0 || x[0] != x[0] {
		return 0
	}
	m, done := maxNotNaN(x)
	for _, v := range x[done:] {
		if v > m {
			m = v
		}
	}
	if i := firstEqual(x, m); i >= 0 {
		return i
	}
	return 0 // not reached: m is one of x's values
}

// firstEqualGeneric returns the first i with x[i] == v, or -1.
func firstEqualGeneric(x []float32, v float32) int {
	for i, u := range x {
		if u == v {
			return i
		}
	}
	return -1
}
