package kernels

import (
	"fmt"
	"math"
)

// Row-wise passes used by package nn: softmax (and log-sum-exp for a fused cross-entropy), LayerNorm
// and RMSNorm (forward and backward), GELU (tanh and exact erf, forward and backward), vector sigmoid
// and tanh. Each works on N independent rows of C values; rows are split across threads, and the
// parameter-gradient reductions of the norm backward passes (dg, db) are split by blocks of 16
// columns, each column summed over rows 0..N-1 in order, so every output is bit-identical for any
// thread count. Elementwise passes split on 16-element blocks for the same reason (the assembly/tail
// boundary must not move with the thread count).
//
// The dispatchers (SoftmaxRows, LayerNormForward, ...) run the AVX-512 or AVX2 primitives of
// rowwise_amd64.go when the CPU has them, else the ...Generic functions, which are the reference and
// the fallback. The float32 exp/tanh/normal-CDF polynomials are in rowwise_math.go.

// LayerNormEps is LayerNorm's epsilon (PyTorch nn.LayerNorm default).
const LayerNormEps = 1e-5

// rowChunk keeps short row loops on one thread: a row of C=256 costs ~0.2 µs, a pool hand-off ~1 µs.
func rowChunk(c int) int { return max(1, 4096/max(c, 1)) }

func checkRows(name string, n, c int, lens ...int) {
	if n < 0 || c < 0 {
		panic(fmt.Sprintf("kernels: %s: negative size n=%d c=%d", name, n, c))
	}
	for i, l := range lens {
		if l < n*c {
			panic(fmt.Sprintf("kernels: %s: n=%d c=%d needs %d elements but argument %d has %d", name, n, c, n*c, i, l))
		}
	}
}

func checkLen(name, what string, got, want int) {
	if got < want {
		panic(fmt.Sprintf("kernels: %s: %s has %d elements, want %d", name, what, got, want))
	}
}

// ---------------------------------------------------------------------------------------------------
// Softmax

// SoftmaxRows writes the softmax of each row of inp (N,C) into out (N,C); out may alias inp.
// It subtracts the row max first, so large logits do not overflow. Entries of -Inf (masked) get
// exactly 0, and a row of only -Inf becomes all zeros (not NaN).
func SoftmaxRows(out, inp []float32, n, c int) {
	checkRows("SoftmaxRows", n, c, len(out), len(inp))
	ParallelFor(n, rowChunk(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			softmaxRow(out[i*c:i*c+c], inp[i*c:i*c+c])
		}
	})
}

// SoftmaxRowsGeneric is the plain-Go reference of SoftmaxRows.
func SoftmaxRowsGeneric(out, inp []float32, n, c int) {
	checkRows("SoftmaxRows", n, c, len(out), len(inp))
	for i := 0; i < n; i++ {
		softmaxRowGeneric(out[i*c:i*c+c], inp[i*c:i*c+c])
	}
}

func softmaxRowGeneric(out, inp []float32) {
	if len(inp) == 0 {
		return
	}
	m := maxRowGeneric(inp)
	if masked(m) {
		clear(out[:len(inp)])
		return
	}
	scaleRowGeneric(out[:len(inp)], 1/expSubSumGeneric(out, inp, m))
}

// masked reports whether a row's max m is -Inf: every entry masked, so the row is zeros, not NaN. Only
// -Inf: a row whose entries are all merely below exp's range (attention scores of -100, say) has a
// softmax like any other once its max is subtracted.
func masked(m float32) bool { return math.IsInf(float64(m), -1) }

// softmaxRow is softmaxRowGeneric on the fastest primitives.
func softmaxRow(out, inp []float32) {
	if len(inp) == 0 {
		return
	}
	m := maxRow(inp)
	if masked(m) {
		clear(out[:len(inp)])
		return
	}
	scaleRow(out[:len(inp)], 1/expSubSum(out, inp, m))
}

// SoftmaxRow is the softmax of one row (for callers that mask or slice rows themselves, such as
// attention); out may alias inp.
func SoftmaxRow(out, inp []float32) {
	checkLen("SoftmaxRow", "out", len(out), len(inp))
	softmaxRow(out, inp)
}

// SoftmaxRowScaled writes out = scale·softmax(inp) for one row and returns the row's log-sum-exp
// log Σ_j exp(inp[j]) (-Inf for an empty or all -Inf row, whose out is zeros); out may alias inp.
// A fused cross-entropy gets its loss and its gradient from one exp per logit.
func SoftmaxRowScaled(out, inp []float32, scale float32) float32 {
	checkLen("SoftmaxRowScaled", "out", len(out), len(inp))
	if len(inp) == 0 {
		return float32(math.Inf(-1))
	}
	m := maxRow(inp)
	if masked(m) {
		clear(out[:len(inp)])
		return float32(math.Inf(-1))
	}
	sum := expSubSum(out, inp, m)
	scaleRow(out[:len(inp)], scale/sum)
	return m + float32(math.Log(float64(sum)))
}

// LogSumExpRows writes lse[i] = log Σ_j exp(inp[i,j]) for each row of inp (N,C): the normalizer of a
// fused softmax + cross-entropy, which then needs no (N,C) probability buffer.
func LogSumExpRows(lse, inp []float32, n, c int) {
	checkRows("LogSumExpRows", n, c, len(inp))
	checkLen("LogSumExpRows", "lse", len(lse), n)
	ParallelFor(n, rowChunk(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := inp[i*c : i*c+c]
			m := maxRow(row)
			lse[i] = m + float32(math.Log(float64(expSubSum(nil, row, m))))
		}
	})
}

// ExpShiftRows writes out[i,j] = scale·exp(inp[i,j] - shift[i]) (softmax times scale when shift is the
// log-sum-exp); out may alias inp.
func ExpShiftRows(out, inp, shift []float32, scale float32, n, c int) {
	checkRows("ExpShiftRows", n, c, len(out), len(inp))
	checkLen("ExpShiftRows", "shift", len(shift), n)
	ParallelFor(n, rowChunk(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o := out[i*c : i*c+c]
			expSubSum(o, inp[i*c:i*c+c], shift[i])
			scaleRow(o, scale)
		}
	})
}

func maxRowGeneric(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

// expSubSumGeneric writes dst[j] = exp(src[j] - m) (dst nil: only sums) and returns Σ_j.
func expSubSumGeneric(dst, src []float32, m float32) float32 {
	var sum float32
	if dst == nil {
		for _, v := range src {
			sum += Exp32(v - m)
		}
		return sum
	}
	dst = dst[:len(src)]
	for j, v := range src {
		e := Exp32(v - m)
		dst[j] = e
		sum += e
	}
	return sum
}

func scaleRowGeneric(x []float32, s float32) {
	for j := range x {
		x[j] *= s
	}
}

// ---------------------------------------------------------------------------------------------------
// LayerNorm (https://arxiv.org/abs/1607.06450): out = (x - mean)·rstd·g + b, rstd = 1/sqrt(var + eps),
// biased variance as PyTorch.

// LayerNormForward normalizes each row of inp (N,C) into out (N,C) and saves mean (N) and rstd (N)
// for the backward pass. b may be nil (no bias).
func LayerNormForward(out, mean, rstd, inp, g, b []float32, n, c int) {
	checkRows("LayerNormForward", n, c, len(out), len(inp))
	checkLen("LayerNormForward", "mean", len(mean), n)
	checkLen("LayerNormForward", "rstd", len(rstd), n)
	checkLen("LayerNormForward", "g", len(g), c)
	if b != nil {
		checkLen("LayerNormForward", "b", len(b), c)
	}
	ParallelFor(n, rowChunk(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			mean[i], rstd[i] = layerNormRow(out[i*c:i*c+c], inp[i*c:i*c+c], g, b)
		}
	})
}

// LayerNormForwardGeneric is the plain-Go reference of LayerNormForward.
func LayerNormForwardGeneric(out, mean, rstd, inp, g, b []float32, n, c int) {
	checkRows("LayerNormForward", n, c, len(out), len(inp))
	for i := 0; i < n; i++ {
		mean[i], rstd[i] = layerNormRowGeneric(out[i*c:i*c+c], inp[i*c:i*c+c], g, b)
	}
}

func layerNormRowGeneric(out, x, g, b []float32) (float32, float32) {
	c := len(x)
	var s float32
	for _, v := range x {
		s += v
	}
	m := s / float32(c)
	var ss float32
	for _, v := range x {
		d := v - m
		ss += d * d
	}
	r := lnRstd(ss, c)
	g = g[:c]
	if b == nil {
		for j, v := range x {
			out[j] = (v - m) * r * g[j]
		}
	} else {
		b = b[:c]
		for j, v := range x {
			out[j] = (v-m)*r*g[j] + b[j]
		}
	}
	return m, r
}

func lnRstd(ss float32, c int) float32 {
	return float32(1 / math.Sqrt(float64(ss/float32(c)+LayerNormEps)))
}

// LayerNormBackward OVERWRITES dinp (N,C) with the input gradient and ADDS the parameter gradients
// into dg (C) and db (C; may be nil). mean and rstd are what LayerNormForward saved.
//
// With xhat = (x-mean)·rstd and dxhat = dout·g:  dinp = rstd·(dxhat - mean(dxhat) - xhat·mean(dxhat·xhat)).
func LayerNormBackward(dinp, dg, db, dout, inp, g, mean, rstd []float32, n, c int) {
	checkRows("LayerNormBackward", n, c, len(dinp), len(dout), len(inp))
	checkLen("LayerNormBackward", "mean", len(mean), n)
	checkLen("LayerNormBackward", "rstd", len(rstd), n)
	checkLen("LayerNormBackward", "g", len(g), c)
	checkLen("LayerNormBackward", "dg", len(dg), c)
	if db != nil {
		checkLen("LayerNormBackward", "db", len(db), c)
	}
	ParallelFor(n, rowChunk(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			layerNormBackwardRow(dinp[i*c:i*c+c], dout[i*c:i*c+c], inp[i*c:i*c+c], g, mean[i], rstd[i])
		}
	})
	normParamGrads(dg, db, dout, inp, mean, rstd, n, c)
}

// LayerNormBackwardGeneric is the plain-Go reference of LayerNormBackward.
func LayerNormBackwardGeneric(dinp, dg, db, dout, inp, g, mean, rstd []float32, n, c int) {
	checkRows("LayerNormBackward", n, c, len(dinp), len(dout), len(inp))
	for i := 0; i < n; i++ {
		layerNormBackwardRowGeneric(dinp[i*c:i*c+c], dout[i*c:i*c+c], inp[i*c:i*c+c], g, mean[i], rstd[i])
	}
	normParamGradsGeneric(dg, db, dout, inp, mean, rstd, n, c)
}

func layerNormBackwardRowGeneric(dinp, dout, x, g []float32, m, r float32) {
	c := len(x)
	g, dout, dinp = g[:c], dout[:c], dinp[:c]
	var sd, sdx float32 // sum(dxhat), sum(dxhat·xhat)
	for j, v := range x {
		dxh := dout[j] * g[j]
		sd += dxh
		sdx += dxh * (v - m) * r
	}
	sd /= float32(c)
	sdx /= float32(c)
	for j, v := range x {
		xh := (v - m) * r
		dinp[j] = r * (dout[j]*g[j] - sd - xh*sdx)
	}
}

// normParamGrads adds dg[j] += Σ_i dout[i,j]·xhat[i,j] and db[j] += Σ_i dout[i,j] (db may be nil),
// threads split by blocks of 16 columns, each column summed over rows in order. mean == nil means
// RMSNorm (xhat = x·rstd).
func normParamGrads(dg, db, dout, inp, mean, rstd []float32, n, c int) {
	ParallelFor((c+15)/16, 4, func(lo, hi int) {
		lo, hi = lo*16, min(hi*16, c)
		var dbc []float32
		if db != nil {
			dbc = db[lo:hi]
		}
		for i := 0; i < n; i++ {
			var m float32
			if mean != nil {
				m = mean[i]
			}
			normParamAcc(dg[lo:hi], dbc, dout[i*c+lo:i*c+hi], inp[i*c+lo:i*c+hi], m, rstd[i])
		}
	})
}

func normParamGradsGeneric(dg, db, dout, inp, mean, rstd []float32, n, c int) {
	for i := 0; i < n; i++ {
		var m float32
		if mean != nil {
			m = mean[i]
		}
		normParamAccGeneric(dg[:c], db, dout[i*c:i*c+c], inp[i*c:i*c+c], m, rstd[i])
	}
}

// normParamAccGeneric does dg += d·(x - m)·r and, unless db is nil, db += d.
func normParamAccGeneric(dg, db, d, x []float32, m, r float32) {
	dg, d = dg[:len(x)], d[:len(x)]
	for j, v := range x {
		dg[j] += d[j] * ((v - m) * r)
	}
	if db != nil {
		db = db[:len(x)]
		for j, v := range d {
			db[j] += v
		}
	}
}

// ---------------------------------------------------------------------------------------------------
// RMSNorm (https://arxiv.org/abs/1910.07467): out = x·rstd·g, rstd = 1/sqrt(mean(x²) + eps).

// RMSNormForward normalizes each row of inp (N,C) into out and saves rstd (N).
func RMSNormForward(out, rstd, inp, g []float32, n, c int, eps float32) {
	checkRows("RMSNormForward", n, c, len(out), len(inp))
	checkLen("RMSNormForward", "rstd", len(rstd), n)
	checkLen("RMSNormForward", "g", len(g), c)
	ParallelFor(n, rowChunk(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			rstd[i] = rmsNormRow(out[i*c:i*c+c], inp[i*c:i*c+c], g, eps)
		}
	})
}

func rmsNormRowGeneric(out, x, g []float32, eps float32) float32 {
	c := len(x)
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	r := rmsRstd(ss, c, eps)
	g = g[:c]
	for j, v := range x {
		out[j] = v * r * g[j]
	}
	return r
}

func rmsRstd(ss float32, c int, eps float32) float32 {
	return float32(1 / math.Sqrt(float64(ss/float32(c)+eps)))
}

// RMSNormBackward OVERWRITES dinp (N,C) and ADDS into dg (C).
// With xhat = x·rstd, dxhat = dout·g: dinp = rstd·(dxhat - xhat·mean(dxhat·xhat)).
func RMSNormBackward(dinp, dg, dout, inp, g, rstd []float32, n, c int) {
	checkRows("RMSNormBackward", n, c, len(dinp), len(dout), len(inp))
	checkLen("RMSNormBackward", "rstd", len(rstd), n)
	checkLen("RMSNormBackward", "g", len(g), c)
	checkLen("RMSNormBackward", "dg", len(dg), c)
	ParallelFor(n, rowChunk(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			rmsNormBackwardRow(dinp[i*c:i*c+c], dout[i*c:i*c+c], inp[i*c:i*c+c], g, rstd[i])
		}
	})
	normParamGrads(dg, nil, dout, inp, nil, rstd, n, c)
}

func rmsNormBackwardRowGeneric(dinp, dout, x, g []float32, r float32) {
	c := len(x)
	g, dout, dinp = g[:c], dout[:c], dinp[:c]
	var sdx float32
	for j, v := range x {
		sdx += dout[j] * g[j] * v * r
	}
	sdx /= float32(c)
	for j, v := range x {
		dinp[j] = r * (dout[j]*g[j] - v*r*sdx)
	}
}

// ---------------------------------------------------------------------------------------------------
// GELU (https://arxiv.org/abs/1606.08415). Exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2)), PyTorch's F.gelu
// default. Tanh approximation (GPT-2, llm.c): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).

const (
	geluScale  = 0.7978845608028654 // √(2/π)
	geluCubic  = 0.044715
	invSqrt2   = 0.7071067811865476
	invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
)

// GELUForward writes gelu(inp) into out (N elements); tanh selects the approximation.
// out may alias inp.
func GELUForward(out, inp []float32, n int, tanh bool) {
	checkRows("GELUForward", n, 1, len(out), len(inp))
	// blocks of 16 so the assembly/tail split never depends on the thread count
	ParallelFor((n+15)/16, 512, func(lo, hi int) {
		lo, hi = lo*16, min(hi*16, n)
		if tanh {
			geluTanhForward(out[lo:hi], inp[lo:hi])
		} else {
			geluErfForward(out[lo:hi], inp[lo:hi])
		}
	})
}

// GELUForwardGeneric is the plain-Go reference of GELUForward.
func GELUForwardGeneric(out, inp []float32, n int, tanh bool) {
	checkRows("GELUForward", n, 1, len(out), len(inp))
	if tanh {
		geluTanhForwardGeneric(out[:n], inp[:n])
	} else {
		geluErfForwardGeneric(out[:n], inp[:n])
	}
}

func geluTanhForwardGeneric(out, inp []float32) {
	out = out[:len(inp)]
	for i, x := range inp {
		u := geluScale * (x + geluCubic*x*x*x)
		out[i] = 0.5 * x * (1 + Tanh32(u))
	}
}

func geluErfForwardGeneric(out, inp []float32) {
	out = out[:len(inp)]
	for i, x := range inp {
		cdf, _ := normalCDF(x)
		out[i] = x * cdf
	}
}

// GELUBackward OVERWRITES dinp (N) with dout·gelu'(inp). dinp may alias dout.
func GELUBackward(dinp, inp, dout []float32, n int, tanh bool) {
	checkRows("GELUBackward", n, 1, len(dinp), len(inp), len(dout))
	ParallelFor((n+15)/16, 512, func(lo, hi int) {
		lo, hi = lo*16, min(hi*16, n)
		if tanh {
			geluTanhBackward(dinp[lo:hi], inp[lo:hi], dout[lo:hi])
		} else {
			geluErfBackward(dinp[lo:hi], inp[lo:hi], dout[lo:hi])
		}
	})
}

// GELUBackwardGeneric is the plain-Go reference of GELUBackward.
func GELUBackwardGeneric(dinp, inp, dout []float32, n int, tanh bool) {
	checkRows("GELUBackward", n, 1, len(dinp), len(inp), len(dout))
	if tanh {
		geluTanhBackwardGeneric(dinp[:n], inp[:n], dout[:n])
	} else {
		geluErfBackwardGeneric(dinp[:n], inp[:n], dout[:n])
	}
}

func geluTanhBackwardGeneric(dinp, inp, dout []float32) {
	dinp, dout = dinp[:len(inp)], dout[:len(inp)]
	for i, x := range inp {
		u := geluScale * (x + geluCubic*x*x*x)
		th := Tanh32(u)
		sech2 := 1 - th*th
		du := geluScale * (1 + 3*geluCubic*x*x)
		dinp[i] = dout[i] * (0.5*(1+th) + 0.5*x*sech2*du)
	}
}

func geluErfBackwardGeneric(dinp, inp, dout []float32) {
	dinp, dout = dinp[:len(inp)], dout[:len(inp)]
	for i, x := range inp {
		cdf, pdf := normalCDF(x)
		dinp[i] = dout[i] * (cdf + x*pdf)
	}
}
