//go:build !purego

package kernels

// AVX-512 paths of the row-wise primitives (rowwise_amd64.s). Each assembly routine takes a multiple
// of 16 elements; the remainder (at most 15, always at the end of a row or array, never at a thread
// boundary) goes to the generic code, so results depend only on the row length, not on the thread count.

//go:noescape
func maxAVX512(x []float32) float32

//go:noescape
func sumAVX512(x []float32) float32

//go:noescape
func sumSqDevAVX512(x []float32, m float32) float32

//go:noescape
func expSubSumAVX512(dst, src []float32, m float32, store bool) float32

//go:noescape
func scaleAVX512(x []float32, s float32)

//go:noescape
func lnApplyAVX512(out, x, g, b []float32, m, r float32)

//go:noescape
func lnBwdSumsAVX512(dout, x, g []float32, m, r float32) (sd, sdx float32)

//go:noescape
func lnBwdApplyAVX512(dinp, dout, x, g []float32, m, r, sd, sdx float32)

//go:noescape
func normParamAccAVX512(dg, db, d, x []float32, m, r float32)

//go:noescape
func geluTanhFwdAVX512(out, inp []float32)

//go:noescape
func geluTanhBwdAVX512(dinp, inp, dout []float32)

//go:noescape
func geluErfFwdAVX512(out, inp []float32)

//go:noescape
func geluErfBwdAVX512(dinp, inp, dout []float32)

// bulk16 is the length handled by a 16-lane routine (0 when the fast path is off or x is short).
func bulk16(n int) int {
	if !HasAVX512 {
		return 0
	}
	return n &^ 15
}

func maxRow(x []float32) float32 {
	k := bulk16(len(x))
	if k == 0 {
		return maxRowGeneric(x)
	}
	return max(maxAVX512(x[:k]), maxRowGeneric(x[k:]))
}

func expSubSum(dst, src []float32, m float32) float32 {
	k := bulk16(len(src))
	if k == 0 {
		return expSubSumGeneric(dst, src, m)
	}
	if dst == nil {
		return expSubSumAVX512(nil, src[:k], m, false) + expSubSumGeneric(nil, src[k:], m)
	}
	dst = dst[:len(src)]
	return expSubSumAVX512(dst[:k], src[:k], m, true) + expSubSumGeneric(dst[k:], src[k:], m)
}

func scaleRow(x []float32, s float32) {
	k := bulk16(len(x))
	if k > 0 {
		scaleAVX512(x[:k], s)
	}
	scaleRowGeneric(x[k:], s)
}

func layerNormRow(out, x, g, b []float32) (float32, float32) {
	c := len(x)
	k := bulk16(c)
	if k == 0 || b == nil {
		return layerNormRowGeneric(out, x, g, b)
	}
	out, g, b = out[:c], g[:c], b[:c]
	var s float32
	for _, v := range x[k:] {
		s += v
	}
	m := (sumAVX512(x[:k]) + s) / float32(c)
	var ss float32
	for _, v := range x[k:] {
		d := v - m
		ss += d * d
	}
	ss += sumSqDevAVX512(x[:k], m)
	r := lnRstd(ss, c)
	lnApplyAVX512(out[:k], x[:k], g[:k], b[:k], m, r)
	for j := k; j < c; j++ {
		out[j] = (x[j]-m)*r*g[j] + b[j]
	}
	return m, r
}

func layerNormBackwardRow(dinp, dout, x, g []float32, m, r float32) {
	c := len(x)
	k := bulk16(c)
	if k == 0 {
		layerNormBackwardRowGeneric(dinp, dout, x, g, m, r)
		return
	}
	dinp, dout, g = dinp[:c], dout[:c], g[:c]
	sd, sdx := lnBwdSumsAVX512(dout[:k], x[:k], g[:k], m, r)
	for j := k; j < c; j++ {
		dxh := dout[j] * g[j]
		sd += dxh
		sdx += dxh * (x[j] - m) * r
	}
	sd /= float32(c)
	sdx /= float32(c)
	lnBwdApplyAVX512(dinp[:k], dout[:k], x[:k], g[:k], m, r, sd, sdx)
	for j := k; j < c; j++ {
		dinp[j] = r * (dout[j]*g[j] - sd - (x[j]-m)*r*sdx)
	}
}

func normParamAcc(dg, db, d, x []float32, m, r float32) {
	k := bulk16(len(x))
	if k > 0 {
		var dbk []float32
		if db != nil {
			dbk = db[:k]
		}
		normParamAccAVX512(dg[:k], dbk, d[:k], x[:k], m, r)
	}
	if db != nil {
		db = db[k:]
	}
	normParamAccGeneric(dg[k:], db, d[k:], x[k:], m, r)
}

func geluTanhForward(out, inp []float32) {
	k := bulk16(len(inp))
	if k > 0 {
		geluTanhFwdAVX512(out[:k], inp[:k])
	}
	geluTanhForwardGeneric(out[k:], inp[k:])
}

func geluTanhBackward(dinp, inp, dout []float32) {
	k := bulk16(len(inp))
	if k > 0 {
		geluTanhBwdAVX512(dinp[:k], inp[:k], dout[:k])
	}
	geluTanhBackwardGeneric(dinp[k:], inp[k:], dout[k:])
}

func geluErfForward(out, inp []float32) {
	k := bulk16(len(inp))
	if k > 0 {
		geluErfFwdAVX512(out[:k], inp[:k])
	}
	geluErfForwardGeneric(out[k:], inp[k:])
}

func geluErfBackward(dinp, inp, dout []float32) {
	k := bulk16(len(inp))
	if k > 0 {
		geluErfBwdAVX512(dinp[:k], inp[:k], dout[:k])
	}
	geluErfBackwardGeneric(dinp[k:], inp[k:], dout[k:])
}
