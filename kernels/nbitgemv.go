// nbitgemv.go is the decoding product of an n-bit packed matrix (widths 1, 2, 3, 4, 8 of quant/width.go,
// quant/packbits.go's row layout) with one int8-quantized activation vector. This file holds the
// dispatcher and the plain-Go reference; nbitgemv_amd64.* hold the SIMD paths, checked against it.
package kernels

import "fmt"

// NBitGemv computes y (N) for the packed codes w (N rows of ceil(K·bits/8) bytes, code j of a row at
// bits j·bits.., little-endian), steps (1 or N) and activations q (K) with inverse scale g (x ≈ q/g):
//
//	y[i] = step_i/(2g) · (2·Σ_j u_ij·q_j - (2^bits-1)·Σ_j q_j)
//
// that is Σ_j (u_ij - (2^bits-1)/2)·step_i·q_j/g, with exact int32 sums (|2·Σ u·q| <= 2·255·128·K
// fits for K < 32768; larger K panics). Rows are split across the worker pool.
func NBitGemv(y []float32, w []byte, steps []float32, n, k, bits int, q []int8, g float32) {
	rb := (k*bits + 7) / 8
	if bits < 1 || bits > 8 || n < 0 || k < 0 || len(y) < n || len(w) < n*rb || len(q) < k || (len(steps) != 1 && len(steps) < n) {
		panic(fmt.Sprintf("kernels: NBitGemv: n=%d k=%d bits=%d len(y)=%d len(w)=%d len(q)=%d len(steps)=%d", n, k, bits, len(y), len(w), len(q), len(steps)))
	}
	if k >= 1<<15 {
		panic(fmt.Sprintf("kernels: NBitGemv: k=%d too large for int32 sums", k))
	}
	var sx int32
	for _, v := range q[:k] {
		sx += int32(v)
	}
	ParallelFor(n, max(1, 16384/max(rb, 1)), func(lo, hi int) {
		nbitRows(y, w, steps, lo, hi, k, bits, q, sx, g)
	})
}

// nbitRowsGeneric is the reference for rows [lo, hi).
func nbitRowsGeneric(y []float32, w []byte, steps []float32, lo, hi, k, bits int, q []int8, sx int32, g float32) {
	rb := (k*bits + 7) / 8
	mask := uint16(1)<<bits - 1
	off := int32(1)<<bits - 1
	for i := lo; i < hi; i++ {
		row := w[i*rb : i*rb+rb]
		var dot int32
		for j := 0; j < k; j++ {
			bit := j * bits
			v := uint16(row[bit/8])
			if bit/8+1 < rb {
				v |= uint16(row[bit/8+1]) << 8
			}
			dot += int32(v>>(bit%8)&mask) * int32(q[j])
		}
		s := steps[0]
		if len(steps) > 1 {
			s = steps[i]
		}
		y[i] = s / (2 * g) * float32(2*dot-off*sx)
	}
}
