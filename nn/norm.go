package nn

import (
	"fmt"

	"tern/kernels"
	"tern/tensor"
)

// LayerNorm normalizes each row over C (https://arxiv.org/abs/1607.06450), eps 1e-5 as PyTorch:
// out = (x - mean)/sqrt(var + eps)·G + B. G starts at 1, B at 0.
type LayerNorm struct {
	G *Param // (C)
	B *Param // (C), or nil

	c          int
	n          int
	inp        []float32 // (N, C) referenced
	mean, rstd []float32 // (N)
	y, dinp    []float32 // (N, C)
}

// NewLayerNorm returns a LayerNorm over C channels with a bias.
func NewLayerNorm(name string, c int) *LayerNorm {
	if c <= 0 {
		panic(fmt.Sprintf("nn: NewLayerNorm %s: c=%d must be positive", name, c))
	}
	l := &LayerNorm{G: NewParam(name+".weight", c), B: NewParam(name+".bias", c), c: c}
	for i := range l.G.W {
		l.G.W[i] = 1
	}
	return l
}

// Params returns G and B (B omitted when nil).
func (l *LayerNorm) Params() []*Param {
	if l.B == nil {
		return []*Param{l.G}
	}
	return []*Param{l.G, l.B}
}

// Forward normalizes inp (N,C).
func (l *LayerNorm) Forward(inp []float32, n int) []float32 {
	need("LayerNorm "+l.G.Name, "inp", len(inp), n*l.c)
	l.n, l.inp = n, inp[:n*l.c]
	l.y = tensor.Grow(l.y, n*l.c)
	l.mean, l.rstd = tensor.Grow(l.mean, n), tensor.Grow(l.rstd, n)
	var b []float32
	if l.B != nil {
		b = l.B.W
	}
	kernels.LayerNormForward(l.y, l.mean, l.rstd, l.inp, l.G.W, b, n, l.c)
	return l.y
}

// Backward returns dinp (N,C) and adds into G.G and B.G.
func (l *LayerNorm) Backward(dout []float32) []float32 {
	need("LayerNorm "+l.G.Name, "dout", len(dout), l.n*l.c)
	l.dinp = tensor.Grow(l.dinp, l.n*l.c)
	var db []float32
	if l.B != nil {
		db = l.B.Grad()
	}
	kernels.LayerNormBackward(l.dinp, l.G.Grad(), db, dout, l.inp, l.G.W, l.mean, l.rstd, l.n, l.c)
	return l.dinp
}

// RMSNorm scales each row by 1/rms (https://arxiv.org/abs/1910.07467): out = x/sqrt(mean(x²) + Eps)·G.
type RMSNorm struct {
	G   *Param  // (C), starts at 1
	Eps float32 // 1e-6 by default (LLaMA); change before the first Forward if needed

	c       int
	n       int
	inp     []float32 // (N, C) referenced
	rstd    []float32 // (N)
	y, dinp []float32 // (N, C)
}

// NewRMSNorm returns an RMSNorm over C channels.
func NewRMSNorm(name string, c int) *RMSNorm {
	if c <= 0 {
		panic(fmt.Sprintf("nn: NewRMSNorm %s: c=%d must be positive", name, c))
	}
	l := &RMSNorm{G: NewParam(name+".weight", c), Eps: 1e-6, c: c}
	for i := range l.G.W {
		l.G.W[i] = 1
	}
	return l
}

// Params returns G.
func (l *RMSNorm) Params() []*Param { return []*Param{l.G} }

// Forward normalizes inp (N,C).
func (l *RMSNorm) Forward(inp []float32, n int) []float32 {
	need("RMSNorm "+l.G.Name, "inp", len(inp), n*l.c)
	l.n, l.inp = n, inp[:n*l.c]
	l.y = tensor.Grow(l.y, n*l.c)
	l.rstd = tensor.Grow(l.rstd, n)
	kernels.RMSNormForward(l.y, l.rstd, l.inp, l.G.W, n, l.c, l.Eps)
	return l.y
}

// Backward returns dinp (N,C) and adds into G.G.
func (l *RMSNorm) Backward(dout []float32) []float32 {
	need("RMSNorm "+l.G.Name, "dout", len(dout), l.n*l.c)
	l.dinp = tensor.Grow(l.dinp, l.n*l.c)
	kernels.RMSNormBackward(l.dinp, l.G.Grad(), dout, l.inp, l.G.W, l.rstd, l.n, l.c)
	return l.dinp
}
