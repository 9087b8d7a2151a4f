// quant.go holds BitNet b1.58's two quantizers as kernels: per-row int8 absmax for activations and
// per-tensor ternary absmean for weights, with the plain-Go reference of each step. The user-level
// API (n-bit quantizers, dequantization, per-row options) is package quant; this file is the hot
// part it calls. quant_amd64.s has AVX-512 versions that agree with these bit for bit.
package kernels

import (
	"fmt"
	"math"
)

// BitNet b1.58 quantizers (https://arxiv.org/abs/2402.17764, and the training-tips note
// https://github.com/microsoft/unilm/blob/master/bitnet/The-Era-of-1-bit-LLMs__Training_Tips_Code_FAQ.pdf):
//   weights:     s = mean|W|,  W_t = clamp(round(W / s), -1, 1), W ≈ s·W_t
//   activations: per row, g = 127 / max|x|, x_q = clamp(round(x·g), -128, 127), x ≈ x_q / g
// round is round-half-away-from-zero, as math.Round, applied to the float32 product (x·g and
// W·(1/s) are rounded to float32 first). NaN or Inf inputs give unspecified (but memory-safe) results.

// quantEps keeps the scale finite for an all-zero row or matrix (PyTorch reference clamps at 1e-5).
const quantEps = 1e-5

// QuantizeRowsInt8 quantizes x (M,K) per row into q and returns each row's scale g in scale
// (x_q = round(x·g)); dequantize with x_q/g. Rows are split across the worker pool.
func QuantizeRowsInt8(q []int8, scale []float32, x []float32, m, k int) {
	if m < 0 || k < 0 || len(q) < m*k || len(x) < m*k || len(scale) < m {
		panic(fmt.Sprintf("kernels: QuantizeRowsInt8: m=%d k=%d len(q)=%d len(x)=%d len(scale)=%d", m, k, len(q), len(x), len(scale)))
	}
	ParallelFor(m, max(1, 4096/max(k, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*k : i*k+k]
			g := 127 / max(absMax(xi), quantEps)
			scale[i] = g
			quantRowInt8(q[i*k:i*k+k], xi, g)
		}
	})
}

// MaxAbs returns max|x| (0 for an empty x), vectorized where the CPU allows.
func MaxAbs(x []float32) float32 { return absMax(x) }

// SumAbs returns Σ|w| in float64, summed in the fixed order absSumGeneric documents (so every
// implementation gives the same bits). QuantizeTernary's scale is max(SumAbs(w)/len(w), 1e-5).
func SumAbs(w []float32) float64 { return absSum(w) }

// absMaxGeneric returns max|x| (0 for an empty x). max is exact, so any order gives the same bits.
func absMaxGeneric(x []float32) float32 {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	return amax
}

// quantRowInt8Generic sets q[i] = clamp(round(x[i]·g), -128, 127). Rounding as math.Round, but
// inline: t = trunc(p), and the fraction p-t (exact for |p| < 2^23) decides the step away from 0.
// |p| <= 127·(1+2^-23) for finite x, so the int32 conversion cannot overflow.
func quantRowInt8Generic(q []int8, x []float32, g float32) {
	q = q[:len(x)]
	for i, v := range x {
		p := v * g
		t := int32(p)
		d := p - float32(t)
		t += b2i(d >= 0.5) - b2i(d <= -0.5) // branch-free: random data mispredicts ~half
		q[i] = int8(max(-128, min(127, t)))
	}
}

// QuantizeTernary quantizes w into t ∈ {-1,0,1} and returns s = mean|w| (w ≈ s·t).
func QuantizeTernary(t []int8, w []float32) float32 {
	if len(t) < len(w) {
		panic(fmt.Sprintf("kernels: QuantizeTernary: len(t)=%d < len(w)=%d", len(t), len(w)))
	}
	s := ternaryScale(w)
	quantTernary(t, w, 1/s)
	return s
}

// ternaryScale is max(mean|w|, eps) in float32.
func ternaryScale(w []float32) float32 {
	return float32(max(absSum(w)/float64(max(len(w), 1)), quantEps))
}

// absSumGeneric returns Σ|w| in float64 (so the mean of millions of weights does not drift) in a
// fixed order that the vector version reproduces: element i goes to partial sum i%32 over the first
// len&^31 elements; the 32 partials are folded in halves (s[l] += s[l+16], then +8, +4, +2, +1);
// the remaining elements are then added one by one.
func absSumGeneric(w []float32) float64 {
	var s [32]float64
	n := len(w) &^ 31
	for i := 0; i < n; i += 32 {
		for l, v := range w[i : i+32] {
			s[l] += float64(abs32(v))
		}
	}
	for h := 16; h >= 1; h /= 2 {
		for l := 0; l < h; l++ {
			s[l] += s[l+h]
		}
	}
	sum := s[0]
	for _, v := range w[n:] {
		sum += float64(abs32(v))
	}
	return sum
}

// quantTernaryGeneric sets t[i] = clamp(round(w[i]·inv), -1, 1), which for round half away from
// zero is +1 for p >= 0.5, -1 for p <= -0.5 and 0 otherwise.
func quantTernaryGeneric(t []int8, w []float32, inv float32) {
	t = t[:len(w)]
	for i, v := range w {
		p := v * inv
		t[i] = int8(b2i(p >= 0.5) - b2i(p <= -0.5))
	}
}

// b2i is 1 for true, 0 for false; the compiler turns it into SETcc, not a branch.
func b2i(b bool) int32 {
	var i int32
	if b {
		i = 1
	}
	return i
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
