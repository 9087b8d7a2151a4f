package kernels

import (
	"fmt"
	"math"
)

// BitNet b1.58 quantizers (https://arxiv.org/abs/2402.17764, and the training-tips note
// https://github.com/microsoft/unilm/blob/master/bitnet/The-Era-of-1-bit-LLMs__Training_Tips_Code_FAQ.pdf):
//   weights:     s = mean|W|,  W_t = clamp(round(W / s), -1, 1), W ≈ s·W_t
//   activations: per row, g = 127 / max|x|, x_q = clamp(round(x·g), -128, 127), x ≈ x_q / g
// round is round-half-away-from-zero, as math.Round.

// quantEps keeps the scale finite for an all-zero row or matrix (PyTorch reference clamps at 1e-5).
const quantEps = 1e-5

// QuantizeRowsInt8 quantizes x (M,K) per row into q and returns each row's scale g in scale
// (x_q = round(x·g)); dequantize with x_q/g.
func QuantizeRowsInt8(q []int8, scale []float32, x []float32, m, k int) {
	if len(q) < m*k || len(x) < m*k || len(scale) < m {
		panic(fmt.Sprintf("kernels: QuantizeRowsInt8: m=%d k=%d len(q)=%d len(x)=%d len(scale)=%d", m, k, len(q), len(x), len(scale)))
	}
	ParallelFor(m, 16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*k : i*k+k]
			var amax float32
			for _, v := range xi {
				amax = max(amax, abs32(v))
			}
			g := 127 / max(amax, quantEps)
			scale[i] = g
			qi := q[i*k : i*k+k]
			for p, v := range xi {
				r := math.Round(float64(v * g))
				qi[p] = int8(max(-128, min(127, r)))
			}
		}
	})
}

// QuantizeTernary quantizes w into t ∈ {-1,0,1} and returns s = mean|w| (w ≈ s·t).
func QuantizeTernary(t []int8, w []float32) float32 {
	if len(t) < len(w) {
		panic(fmt.Sprintf("kernels: QuantizeTernary: len(t)=%d < len(w)=%d", len(t), len(w)))
	}
	var sum float64 // float64 so the mean of millions of weights does not drift
	for _, v := range w {
		sum += float64(abs32(v))
	}
	s := float32(max(sum/float64(max(len(w), 1)), quantEps))
	inv := 1 / s
	for i, v := range w {
		r := math.Round(float64(v * inv))
		t[i] = int8(max(-1, min(1, r)))
	}
	return s
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
