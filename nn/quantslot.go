package nn

import (
	"tern/kernels"
	"tern/quant"
)

// quantslot.go: what quantized layers (BitLinear, and LSTM/GRU gate projections under --linear bitnet)
// expose so a model can set each weight matrix's width by name, and the int8 activation fake-quantizer
// they share. Not an allocator: choosing widths is package quant's and the trainer's job.

// QuantSlot is one quantized weight matrix: its parameter and pointers to the layer's width settings.
// A parameter shared by several layers has one slot per layer; set them all alike.
type QuantSlot struct {
	W          *Param
	Width      *quant.Width
	PerRow     *bool
	FixedSteps *[]float32 // steps pinned by a packed file (n-bit widths; nil: computed from W)
	Rows, Cols int        // W is (Rows, Cols)
}

// Quantized is a layer with quantized weight matrices.
type Quantized interface {
	QuantSlots() []QuantSlot
}

// fakeInt8Rows quantizes x (rows, cols) per row with BitNet's int8 absmax into q and g, and writes
// dst = q/g, the dequantized activations the straight-through estimator forwards.
func fakeInt8Rows(dst []float32, q []int8, g []float32, x []float32, rows, cols int) {
	kernels.QuantizeRowsInt8(q, g, x, rows, cols)
	for i := 0; i < rows; i++ {
		gi := g[i]
		row, qi := dst[i*cols:i*cols+cols], q[i*cols:i*cols+cols]
		for j, v := range qi {
			row[j] = float32(v) / gi
		}
	}
}
