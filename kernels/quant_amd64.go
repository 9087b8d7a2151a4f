//go:build !purego

// quant_amd64.go dispatches the quantizer steps to quant_amd64.s (AVX-512, else AVX2): the assembly
// takes the bulk (whole vectors of 8, 16 or 32 elements) and the generic Go finishes the tail in the
// same order.

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

// absMaxAVX2 returns max|x| over the first len(x)&^7 elements.
//
//go:noescape
func absMaxAVX2(x []float32) float32

// quantRowInt8AVX2 quantizes the first len(x)&^7 elements; len(q) >= that.
//
//go:noescape
func quantRowInt8AVX2(q []int8, x []float32, scale float32)

// absSumAVX2 is absSumAVX512 with ymm registers (same lanes, same fold).
//
//go:noescape
func absSumAVX2(w []float32) float64

// quantTernaryAVX2 quantizes the first len(w)&^7 elements; len(t) >= that.
//
//go:noescape
func quantTernaryAVX2(t []int8, w []float32, inv float32)

func absMax(x []float32) float32 {
	switch {
	case hasAVX512 && len(x) >= 16:
		n := len(x) &^ 15
		return max(absMaxAVX512(x[:n]), absMaxGeneric(x[n:]))
	case hasAVX2 && len(x) >= 8:
		n := len(x) &^ 7
		return max(absMaxAVX2(x[:n]), absMaxGeneric(x[n:]))
	}
	return absMaxGeneric(x)
}

func quantRowInt8(q []int8, x []float32, g float32) {
	q = q[:len(x)]
	n := 0
	switch {
	case hasAVX512:
		n = len(x) &^ 15
		quantRowInt8AVX512(q[:n], x[:n], g)
	case hasAVX2:
		n = len(x) &^ 7
		quantRowInt8AVX2(q[:n], x[:n], g)
	}
	quantRowInt8Generic(q[n:], x[n:], g)
}

func absSum(w []float32) float64 {
	if len(w) < 32 || !hasAVX2 && !hasAVX512 {
		return absSumGeneric(w)
	}
	n := len(w) &^ 31
	var sum float64
	if hasAVX512 {
		sum = absSumAVX512(w[:n])
	} else {
		sum = absSumAVX2(w[:n])
	}
	for _, v := range w[n:] {
		sum += float64(abs32(v))
	}
	return sum
}

func quantTernary(t []int8, w []float32, inv float32) {
	t = t[:len(w)]
	n := 0
	switch {
	case hasAVX512:
		n = len(w) &^ 15
		quantTernaryAVX512(t[:n], w[:n], inv)
	case hasAVX2:
		n = len(w) &^ 7
		quantTernaryAVX2(t[:n], w[:n], inv)
	}
	quantTernaryGeneric(t[n:], w[n:], inv)
}
