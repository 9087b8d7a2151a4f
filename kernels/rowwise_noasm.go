//go:build !amd64 || purego

package kernels

// Without assembly every row-wise pass is the generic one.

func layerNormRow(out, x, g, b []float32) (float32, float32) {
	return layerNormRowGeneric(out, x, g, b)
}

func layerNormBackwardRow(dinp, dout, x, g []float32, m, r float32) {
	layerNormBackwardRowGeneric(dinp, dout, x, g, m, r)
}

func geluTanhForward(out, inp []float32) { geluTanhForwardGeneric(out, inp) }

func geluTanhBackward(dinp, inp, dout []float32) { geluTanhBackwardGeneric(dinp, inp, dout) }

func maxRow(x []float32) float32 { return maxRowGeneric(x) }

func expSubSum(dst, src []float32, m float32) float32 { return expSubSumGeneric(dst, src, m) }

func scaleRow(x []float32, s float32) { scaleRowGeneric(x, s) }

func geluErfForward(out, inp []float32) { geluErfForwardGeneric(out, inp) }

func geluErfBackward(dinp, inp, dout []float32) { geluErfBackwardGeneric(dinp, inp, dout) }

func normParamAcc(dg, db, d, x []float32, m, r float32) { normParamAccGeneric(dg, db, d, x, m, r) }

func rmsNormRow(out, x, g []float32, eps float32) float32 { return rmsNormRowGeneric(out, x, g, eps) }

func rmsNormBackwardRow(dinp, dout, x, g []float32, r float32) {
	rmsNormBackwardRowGeneric(dinp, dout, x, g, r)
}

func sigmoidInPlace(x []float32) { sigmoidGeneric(x) }

func tanhInPlace(x []float32) { tanhGeneric(x) }

// rowPathName names the row-wise vector path in use (tests run each once).
func rowPathName() string { return "go" }
