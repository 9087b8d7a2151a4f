package nn

import (
	"fmt"

	"tern/tensor"
)

// GQAttention is Llama/BitNet self-attention: separate Q (C -> C), K and V (C -> KV·HS) projections,
// rotary embeddings on q and k, causal grouped-query attention (NH query heads share KV key/value heads,
// NH/KV each: https://arxiv.org/abs/2305.13245), an optional RMSNorm over the heads' output before O
// (BitNet b1.58 2B4T's attn_sub_norm), then O (C -> C). No biases.
//
//	q = rope(Q·x), k = rope(K·x), v = V·x
//	y_h = softmax(q_h·k_{h/g}ᵀ/√HS + causal) · v_{h/g}   (g = NH/KV)
//	out = O·(subnorm(y) or y)
//
// The attention core (scores, causal softmax, values and their gradients) is Attention's, with Group
// set; K and V gradients sum over the g query heads that read them.
type GQAttention struct {
	NH, KV, C, HS int
	Q, K, V, O    Projection
	SubNorm       *RMSNorm // nil: none

	ropeQ, ropeK *RoPE
	core         Attention
	qr, kr, v    []float32 // rotated q (N, C), rotated k (N, KV·HS), v (N, KV·HS)
	dq, dk, dv   []float32
	dx           []float32 // (N, C)
}

// NewGQAttention builds the layer over C channels with nh query and kv key/value heads (kv divides nh,
// nh divides C into even head sizes), rotary base theta; proj makes the projections, named name+".q",
// ".k", ".v", ".o"; subNorm adds the RMSNorm name+".sub_norm" (epsilon eps) before O.
func NewGQAttention(name string, c, nh, kv int, theta float64, subNorm bool, eps float32, proj ProjFunc) (*GQAttention, error) {
	if err := checkHeads(name, c, nh); err != nil {
		return nil, err
	}
	if kv <= 0 || nh%kv != 0 {
		return nil, fmt.Errorf("nn: attention %s: %d KV heads must divide %d query heads", name, kv, nh)
	}
	hs := c / nh
	if hs%2 != 0 {
		return nil, fmt.Errorf("nn: attention %s: head size %d must be even for rotary embeddings", name, hs)
	}
	if !(theta > 1) {
		return nil, fmt.Errorf("nn: attention %s: rope theta %g must be > 1", name, theta)
	}
	proj = defaultProj(name, false, proj)
	a := &GQAttention{NH: nh, KV: kv, C: c, HS: hs,
		Q: proj(name+".q", c, c), K: proj(name+".k", c, kv*hs), V: proj(name+".v", c, kv*hs), O: proj(name+".o", c, c),
		ropeQ: NewRoPE(hs, theta), ropeK: NewRoPE(hs, theta)}
	if subNorm {
		a.SubNorm = NewRMSNorm(name+".sub_norm", c)
		a.SubNorm.Eps = eps
	}
	a.core = Attention{NH: nh, C: c, Causal: true, Group: nh / kv}
	return a, nil
}

// Params returns Q, K, V, the sub-norm (if any) and O, in the order the layer applies them.
func (a *GQAttention) Params() []*Param {
	var ps []*Param
	for _, p := range []Projection{a.Q, a.K, a.V} {
		ps = append(ps, p.Params()...)
	}
	if a.SubNorm != nil {
		ps = append(ps, a.SubNorm.Params()...)
	}
	return append(ps, a.O.Params()...)
}

// Weights returns the attention probabilities of the last Forward, (B, NH, T, T).
func (a *GQAttention) Weights() []float32 { return a.core.att }

// Forward runs x (B, T, C) and returns (B, T, C), owned by the layer.
func (a *GQAttention) Forward(x []float32, b, t int) []float32 {
	n, kvw := b*t, a.KV*a.HS
	need("GQAttention", "x", len(x), n*a.C)
	x = x[:n*a.C]
	a.qr = a.ropeQ.Forward(a.Q.Forward(x, n), b, t, a.C)
	a.kr = a.ropeK.Forward(a.K.Forward(x, n), b, t, kvw)
	a.v = a.V.Forward(x, n)
	c := &a.core
	c.cross, c.b, c.tq, c.tk, c.pad = false, b, t, t, nil
	c.core(a.qr, a.C, a.kr, kvw, a.v, kvw)
	y := c.y
	if a.SubNorm != nil {
		y = a.SubNorm.Forward(y, n)
	}
	return a.O.Forward(y, n)
}

// Backward returns dx (B, T, C) for dout (B, T, C) of the last Forward and adds into every gradient.
func (a *GQAttention) Backward(dout []float32) []float32 {
	c := &a.core
	n, kvw := c.b*c.tq, a.KV*a.HS
	dy := a.O.Backward(dout)
	if a.SubNorm != nil {
		dy = a.SubNorm.Backward(dy)
	}
	a.dq = tensor.Grow(a.dq, n*a.C)
	a.dk, a.dv = tensor.Grow(a.dk, n*kvw), tensor.Grow(a.dv, n*kvw)
	c.coreBackward(dy, a.qr, a.C, a.kr, kvw, a.v, kvw, a.dq, a.C, a.dk, kvw, a.dv, kvw)
	a.dx = tensor.Grow(a.dx, n*a.C)
	copy(a.dx, a.Q.Backward(a.ropeQ.Backward(a.dq)))
	AddInPlace(a.dx, a.K.Backward(a.ropeK.Backward(a.dk)))
	AddInPlace(a.dx, a.V.Backward(a.dv))
	return a.dx
}
