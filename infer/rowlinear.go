package infer

import (
	"tern/kernels"
	"tern/tensor"
)

// rowLinear is the one dispatch of a decode step's projections over the rows of a batch (one row per
// sequence), shared by every batched decoder (Batch, LlamaBatch): fp32 matrices are one Sgemm; ternary
// matrices with a resident batch form (Resident) run over it from gemmFrom rows: 2-bit panels
// (kernels.TernaryPanelForward, l.tp) or one byte per weight (kernels.BitLinearForward, l.tm); other
// ternary products of gemmMin or more rows are one packed batch GEMV (kernels.TernaryGemvBatch: each
// packed weight block read and decoded once per step); n-bit matrices the int8 x n-bit GEMM; a single row the packed GEMV a one-sequence Step runs. Every ternary path computes the
// same int32 sums and rescale per row, so a row's result does not depend on the others.
type rowLinear struct {
	maxRows  int                        // the most rows a call passes (the batch's slots): GemvBatch capacity
	gemmFrom int                        // rows from which a resident matrix (l.tp or l.tm) is used
	gv       map[int]*kernels.GemvBatch // per input size, for TernaryGemvBatch
	vec      map[int]*kernels.GemvVec   // per input size, for the one-row GEMV
	acc      []int32
	xq       []int8
	xs       []float32
}

func newRowLinear(maxRows, gemmFrom int) *rowLinear {
	return &rowLinear{maxRows: maxRows, gemmFrom: gemmFrom, gv: map[int]*kernels.GemvBatch{}, vec: map[int]*kernels.GemvVec{}}
}

// apply computes out (n, N) = in (n, K)·Wᵀ (+ b) for n <= maxRows rows.
func (r *rowLinear) apply(out, in []float32, l linear, n int) {
	switch {
	case l.w == nil:
		kernels.Sgemm(false, true, n, l.n, l.k, 1, in, l.k, l.fw, l.k, 0, out, l.n)
	case l.bits > 0 && n >= 2: // n-bit (adaptive widths): nbitbatch.go's int8 x n-bit GEMM, exact per row
		r.xq, r.xs = tensor.Grow(r.xq, n*l.k), tensor.Grow(r.xs, n)
		kernels.QuantizeRowsInt8(r.xq, r.xs, in, n, l.k)
		kernels.NBitGemvBatch(out, l.w, l.steps, l.n, l.k, l.bits, r.xq, r.xs, n)
	case l.bits == 0 && n >= r.gemmFrom && (l.tp != nil || l.tm != nil):
		r.xq, r.xs = tensor.Grow(r.xq, n*l.k), tensor.Grow(r.xs, n)
		kernels.QuantizeRowsInt8(r.xq, r.xs, in, n, l.k)
		if l.tp != nil {
			kernels.TernaryPanelForward(out, r.xq, r.xs, l.tp, l.scale, n)
		} else {
			kernels.BitLinearForward(out, r.xq, r.xs, l.tm, l.scale, n)
		}
	case l.bits == 0 && n >= gemmMin:
		gb := r.gv[l.k]
		if gb == nil {
			gb = kernels.NewGemvBatch(l.k, r.maxRows)
			r.gv[l.k] = gb
		}
		gb.SetFloat32(in[:n*l.k], n) // each row quantized as applyLinear does
		kernels.TernaryGemvBatchF32(out, nil, l.w, l.n, l.k, gb, l.scale)
	default:
		r.acc = tensor.Grow(r.acc, l.n)
		bias := l.bias
		l.bias = nil
		for i := range n {
			applyLinear(out[i*l.n:(i+1)*l.n], in[i*l.k:(i+1)*l.k], l, r.vec, r.acc)
		}
		l.bias = bias
	}
	if l.bias != nil {
		for i := range n {
			row := out[i*l.n : (i+1)*l.n]
			for j := range row {
				row[j] += l.bias[j]
			}
		}
	}
}
