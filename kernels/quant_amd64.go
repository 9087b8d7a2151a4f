//go:build !purego

// quant_amd64.go dispatches the quantizer steps to quant_amd64.s: the assembly takes the bulk (whole
// vectors of 16 or 32 elements) and the generic Go finishes the tail in the same order.

package kernels

// absMaxAVX512 returns max|x| over the first len(x)&^15 elements.
//
//go:noescape
func absMaxAVX512(x []float32) float32

// quantRowInt8AVX512 quantizes the first len(x)&^15 elements; len(q) >= that.
//
//go:noescape
func quantRowInt8AVX512(q []int8, x []float32, scale float32)

// absSumAVX512 returns the folded 32-lane partial sum of |w| over the first len(w)&^31 elements.
//
//go:noescape
func absSumAVX512(w []float32) float64

// quantTernaryAVX512 quantizes the first len(w)&^15 elements; len(t) >= that.
//
//go:noescape
func quantTernaryAVX512(t []int8, w []float32, inv float32)

func absMax(x []float32) float32 {
	if !HasAVX512 || len(x) < 16 {
		return absMaxGeneric(x)
	}
	n := len(x) &^ 15
	return max(absMaxAVX512(x[:n]), absMaxGeneric(x[n:]))
}

func quantRowInt8(q []int8, x []float32, g float32) {
	q = q[:len(x)]
	if !HasAVX512 {
		quantRowInt8Generic(q, x, g)
		return
	}
	n := len(x) &^ 15
	quantRowInt8AVX512(q[:n], x[:n], g)
	quantRowInt8Generic(q[n:], x[n:], g)
}

func absSum(w []float32) float64 {
	if !HasAVX512 || len(w) < 32 {
		return absSumGeneric(w)
	}
	n := len(w) &^ 31
	sum := absSumAVX512(w[:n])
	for _, v := range w[n:] {
		sum += float64(abs32(v))
	}
	return sum
}

func quantTernary(t []int8, w []float32, inv float32) {
	t = t[:len(w)]
	if !HasAVX512 {
		quantTernaryGeneric(t, w, inv)
		return
	}
	n := len(w) &^ 15
	quantTernaryAVX512(t[:n], w[:n], inv)
	quantTernaryGeneric(t[n:], w[n:], inv)
}
