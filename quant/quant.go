// Package quant is tern's user-level quantization API: BitNet b1.58's ternary absmean (weights, per
// tensor) and int8 absmax (activations, per row), and a symmetric uniform n-bit quantizer (1..8
// bits, per tensor or per row, absmax or absmean scaling) for adaptive bit widths. The hot loops are
// in package kernels; this package names the conventions and adds dequantization. Packing the codes
// into bytes is pack*.go's job, not this file's.
//
// Dimension legend: rows x cols is a weight matrix (OC, C) or an activation matrix (B*T, C).
package quant

import (
	"fmt"

	"tern/kernels"
)

// Ternary quantizes w per tensor with BitNet b1.58's absmean rule
// (https://arxiv.org/abs/2402.17764): s = max(mean|w|, 1e-5), t = clamp(round(w/s), -1, 1) with
// round half away from zero. It returns s; w ≈ s·t. len(t) >= len(w).
func Ternary(t []int8, w []float32) float32 { return kernels.QuantizeTernary(t, w) }

// Int8Rows quantizes x (rows, cols) per row with absmax: g[i] = 127/max(max|x_i|, 1e-5),
// q = clamp(round(x·g), -128, 127). Note the convention: g is the inverse step, x ≈ q/g (the form
// kernels.BitLinearForward divides by).
func Int8Rows(q []int8, g []float32, x []float32, rows, cols int) {
	kernels.QuantizeRowsInt8(q, g, x, rows, cols)
}

// Int8RowSteps is Int8Rows in storage form, for weights kept in int8 (a packed model's token table):
// it returns q and each row's step 1/g, w ≈ q·step, so a reader multiplies instead of dividing.
func Int8RowSteps(w []float32, rows, cols int) (q []int8, step []float32) {
	q, step = make([]int8, rows*cols), make([]float32, rows)
	Int8Rows(q, step, w, rows, cols)
	for i, g := range step {
		step[i] = float32(1 / float64(g))
	}
	return q, step
}

// DequantizeTernary writes w = s·t.
func DequantizeTernary(w []float32, t []int8, s float32) {
	if len(w) < len(t) {
		panic(fmt.Sprintf("quant: DequantizeTernary: len(w)=%d < len(t)=%d", len(w), len(t)))
	}
	for i, v := range t {
		w[i] = float32(v) * s
	}
}

// DequantizeInt8Rows writes x (rows, cols) = q/g[i] row by row.
func DequantizeInt8Rows(x []float32, q []int8, g []float32, rows, cols int) {
	if len(x) < rows*cols || len(q) < rows*cols || len(g) < rows {
		panic(fmt.Sprintf("quant: DequantizeInt8Rows: rows=%d cols=%d len(x)=%d len(q)=%d len(g)=%d", rows, cols, len(x), len(q), len(g)))
	}
	for i := 0; i < rows; i++ {
		for j, v := range q[i*cols : i*cols+cols] {
			x[i*cols+j] = float32(v) / g[i]
		}
	}
}
