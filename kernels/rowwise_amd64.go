//go:build !purego

package kernels

// AVX-512 (rowwise_amd64.s, 16 lanes) and AVX2+FMA (rowwise_avx2_amd64.s, 8 lanes) paths of the
// row-wise primitives. Each assembly routine takes a multiple of its lane count; the remainder (always
// at the end of a row or array: threads split on 16-element blocks) goes to the generic code, so
// results depend only on the row length and the CPU's path, never on the thread count.

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
func mulScaleAVX512(out, x, g []float32, r float32)

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

//go:noescape
func sigmoidAVX512(x []float32)

//go:noescape
func tanhAVX512(x []float32)

//go:noescape
func sigmoidAVX2(x []float32)

//go:noescape
func tanhAVX2(x []float32)

//go:noescape
func maxAVX2(x []float32) float32

//go:noescape
func sumAVX2(x []float32) float32

//go:noescape
func sumSqDevAVX2(x []float32, m float32) float32

//go:noescape
func expSubSumAVX2(dst, src []float32, m float32, store bool) float32

//go:noescape
func scaleAVX2(x []float32, s float32)

//go:noescape
func lnApplyAVX2(out, x, g, b []float32, m, r float32)

//go:noescape
func mulScaleAVX2(out, x, g []float32, r float32)

//go:noescape
func lnBwdSumsAVX2(dout, x, g []float32, m, r float32) (sd, sdx float32)

//go:noescape
func lnBwdApplyAVX2(dinp, dout, x, g []float32, m, r, sd, sdx float32)

//go:noescape
func normParamAccAVX2(dg, db, d, x []float32, m, r float32)

//go:noescape
func geluTanhFwdAVX2(out, inp []float32)

//go:noescape
func geluTanhBwdAVX2(dinp, inp, dout []float32)

//go:noescape
func geluErfFwdAVX2(out, inp []float32)

//go:noescape
func geluErfBwdAVX2(dinp, inp, dout []float32)

// rowPath is one set of vector primitives; width is its lane count.
type rowPath struct {
	width      int
	max, sum   func(x []float32) float32
	sumSqDev   func(x []float32, m float32) float32
	expSubSum  func(dst, src []float32, m float32, store bool) float32
	scale      func(x []float32, s float32)
	lnApply    func(out, x, g, b []float32, m, r float32)
	mulScale   func(out, x, g []float32, r float32)
	lnBwdSums  func(dout, x, g []float32, m, r float32) (sd, sdx float32)
	lnBwdApply func(dinp, dout, x, g []float32, m, r, sd, sdx float32)
	paramAcc   func(dg, db, d, x []float32, m, r float32)
	gtFwd      func(out, inp []float32)
	gtBwd      func(dinp, inp, dout []float32)
	geFwd      func(out, inp []float32)
	geBwd      func(dinp, inp, dout []float32)
	sigmoid    func(x []float32)
	tanh       func(x []float32)
}

var pathAVX512 = rowPath{16, maxAVX512, sumAVX512, sumSqDevAVX512, expSubSumAVX512, scaleAVX512,
	lnApplyAVX512, mulScaleAVX512, lnBwdSumsAVX512, lnBwdApplyAVX512, normParamAccAVX512,
	geluTanhFwdAVX512, geluTanhBwdAVX512, geluErfFwdAVX512, geluErfBwdAVX512, sigmoidAVX512, tanhAVX512}

var pathAVX2 = rowPath{8, maxAVX2, sumAVX2, sumSqDevAVX2, expSubSumAVX2, scaleAVX2,
	lnApplyAVX2, mulScaleAVX2, lnBwdSumsAVX2, lnBwdApplyAVX2, normParamAccAVX2,
	geluTanhFwdAVX2, geluTanhBwdAVX2, geluErfFwdAVX2, geluErfBwdAVX2, sigmoidAVX2, tanhAVX2}

// rowFast returns the fastest path and the length of x it handles (k = 0: use the generic code).
func rowFast(n int) (*rowPath, int) {
	switch {
	case hasAVX512:
		return &pathAVX512, n &^ 15
	case hasAVX2:
		return &pathAVX2, n &^ 7
	}
	return nil, 0
}

func maxRow(x []float32) float32 {
	p, k := rowFast(len(x))
	if k == 0 {
		return maxRowGeneric(x)
	}
	return max(p.max(x[:k]), maxRowGeneric(x[k:]))
}

func expSubSum(dst, src []float32, m float32) float32 {
	p, k := rowFast(len(src))
	if k == 0 {
		return expSubSumGeneric(dst, src, m)
	}
	if dst == nil {
		return p.expSubSum(nil, src[:k], m, false) + expSubSumGeneric(nil, src[k:], m)
	}
	dst = dst[:len(src)]
	return p.expSubSum(dst[:k], src[:k], m, true) + expSubSumGeneric(dst[k:], src[k:], m)
}

func scaleRow(x []float32, s float32) {
	p, k := rowFast(len(x))
	if k > 0 {
		p.scale(x[:k], s)
	}
	scaleRowGeneric(x[k:], s)
}

func layerNormRow(out, x, g, b []float32) (float32, float32) {
	c := len(x)
	p, k := rowFast(c)
	if k == 0 || b == nil {
		return layerNormRowGeneric(out, x, g, b)
	}
	out, g, b = out[:c], g[:c], b[:c]
	var s float32
	for _, v := range x[k:] {
		s += v
	}
	m := (p.sum(x[:k]) + s) / float32(c)
	var ss float32
	for _, v := range x[k:] {
		d := v - m
		ss += d * d
	}
	ss += p.sumSqDev(x[:k], m)
	r := lnRstd(ss, c)
	p.lnApply(out[:k], x[:k], g[:k], b[:k], m, r)
	for j := k; j < c; j++ {
		out[j] = (x[j]-m)*r*g[j] + b[j]
	}
	return m, r
}

func rmsNormRow(out, x, g []float32, eps float32) float32 {
	c := len(x)
	p, k := rowFast(c)
	if k == 0 {
		return rmsNormRowGeneric(out, x, g, eps)
	}
	out, g = out[:c], g[:c]
	var ss float32
	for _, v := range x[k:] {
		ss += v * v
	}
	ss += p.sumSqDev(x[:k], 0)
	r := rmsRstd(ss, c, eps)
	p.mulScale(out[:k], x[:k], g[:k], r)
	for j := k; j < c; j++ {
		out[j] = x[j] * r * g[j]
	}
	return r
}

func rmsNormBackwardRow(dinp, dout, x, g []float32, r float32) {
	c := len(x)
	p, k := rowFast(c)
	if k == 0 {
		rmsNormBackwardRowGeneric(dinp, dout, x, g, r)
		return
	}
	dinp, dout, g = dinp[:c], dout[:c], g[:c]
	_, sdx := p.lnBwdSums(dout[:k], x[:k], g[:k], 0, r)
	for j := k; j < c; j++ {
		sdx += dout[j] * g[j] * x[j] * r
	}
	sdx /= float32(c)
	p.lnBwdApply(dinp[:k], dout[:k], x[:k], g[:k], 0, r, 0, sdx)
	for j := k; j < c; j++ {
		dinp[j] = r * (dout[j]*g[j] - x[j]*r*sdx)
	}
}

func layerNormBackwardRow(dinp, dout, x, g []float32, m, r float32) {
	c := len(x)
	p, k := rowFast(c)
	if k == 0 {
		layerNormBackwardRowGeneric(dinp, dout, x, g, m, r)
		return
	}
	dinp, dout, g = dinp[:c], dout[:c], g[:c]
	sd, sdx := p.lnBwdSums(dout[:k], x[:k], g[:k], m, r)
	for j := k; j < c; j++ {
		dxh := dout[j] * g[j]
		sd += dxh
		sdx += dxh * (x[j] - m) * r
	}
	sd /= float32(c)
	sdx /= float32(c)
	p.lnBwdApply(dinp[:k], dout[:k], x[:k], g[:k], m, r, sd, sdx)
	for j := k; j < c; j++ {
		dinp[j] = r * (dout[j]*g[j] - sd - (x[j]-m)*r*sdx)
	}
}

func normParamAcc(dg, db, d, x []float32, m, r float32) {
	p, k := rowFast(len(x))
	if k > 0 {
		var dbk []float32
		if db != nil {
			dbk = db[:k]
		}
		p.paramAcc(dg[:k], dbk, d[:k], x[:k], m, r)
	}
	if db != nil {
		db = db[k:]
	}
	normParamAccGeneric(dg[k:], db, d[k:], x[k:], m, r)
}

func geluTanhForward(out, inp []float32) {
	p, k := rowFast(len(inp))
	if k > 0 {
		p.gtFwd(out[:k], inp[:k])
	}
	geluTanhForwardGeneric(out[k:], inp[k:])
}

func geluTanhBackward(dinp, inp, dout []float32) {
	p, k := rowFast(len(inp))
	if k > 0 {
		p.gtBwd(dinp[:k], inp[:k], dout[:k])
	}
	geluTanhBackwardGeneric(dinp[k:], inp[k:], dout[k:])
}

func geluErfForward(out, inp []float32) {
	p, k := rowFast(len(inp))
	if k > 0 {
		p.geFwd(out[:k], inp[:k])
	}
	geluErfForwardGeneric(out[k:], inp[k:])
}

func geluErfBackward(dinp, inp, dout []float32) {
	p, k := rowFast(len(inp))
	if k > 0 {
		p.geBwd(dinp[:k], inp[:k], dout[:k])
	}
	geluErfBackwardGeneric(dinp[k:], inp[k:], dout[k:])
}

func sigmoidInPlace(x []float32) {
	p, k := rowFast(len(x))
	if k > 0 {
		p.sigmoid(x[:k])
	}
	sigmoidGeneric(x[k:])
}

func tanhInPlace(x []float32) {
	p, k := rowFast(len(x))
	if k > 0 {
		p.tanh(x[:k])
	}
	tanhGeneric(x[k:])
}

// rowPathName names the row-wise vector path in use (tests run each once).
func rowPathName() string {
	switch {
	case hasAVX512:
		return "avx512"
	case hasAVX2:
		return "avx2"
	}
	return "go"
}
