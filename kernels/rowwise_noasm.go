//go:build !amd64 || purego

package kernels

// Without assembly every row-wise pass is the generic one.

func softmaxRow(out, inp []float32) { softmaxRowGeneric(out, inp) }

func layerNormRow(out, x, g, b []float32) (float32, float32) {
	return layerNormRowGeneric(out, x, g, b)
}

func layerNormBackwardRow(dinp, dout, x, g []float32, m, r float32) {
	layerNormBackwardRowGeneric(dinp, dout, x, g, m, r)
}

func geluTanhForward(out, inp []float32) { geluTanhForwardGeneric(out, inp) }

func geluTanhBackward(dinp, inp, dout []float32) { geluTanhBackwardGeneric(dinp, inp, dout) }
