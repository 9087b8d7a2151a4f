package nn

import (
	"fmt"
	"math"

	"tern/tensor"
)

// Gated feed-forward activations.
const (
	ActSwiGLU = "swiglu" // silu(g)·u, silu(g) = g·σ(g) (Llama; https://arxiv.org/abs/2002.05202)
	ActReLU2  = "relu2"  // relu(g)²·u (BitNet b1.58 2B4T; https://arxiv.org/abs/2109.08668)
)

// GatedFFN is the Llama/BitNet feed-forward block, C -> F -> C without biases:
//
//	h = act(Gate·x) ⊙ (Up·x);  out = Down·(subnorm(h) or h)
//
// with act SiLU (SwiGLU) or squared ReLU, and an optional RMSNorm over F before Down (BitNet b1.58 2B4T's
// ffn_sub_norm, which also gives Down's BitLinear a normalized input).
type GatedFFN struct {
	Gate, Up, Down Projection
	Act            string   // ActSwiGLU or ActReLU2
	SubNorm        *RMSNorm // nil: none

	f, n   int
	g, u   []float32 // (N, F) Gate and Up outputs, referenced
	h      []float32 // (N, F) act(g)·u
	dg, du []float32 // (N, F)
	dx     []float32 // (N, C)
}

// NewGatedFFN builds the block with proj (names name+".gate", ".up", ".down"; ".sub_norm" for the norm,
// epsilon eps) and act ActSwiGLU or ActReLU2.
func NewGatedFFN(name string, c, f int, act string, subNorm bool, eps float32, proj ProjFunc) (*GatedFFN, error) {
	if c <= 0 || f <= 0 {
		return nil, fmt.Errorf("nn: gated FFN %s: c=%d ffn=%d must be positive", name, c, f)
	}
	if act != ActSwiGLU && act != ActReLU2 {
		return nil, fmt.Errorf("nn: gated FFN %s: unknown activation %q (want %s or %s)", name, act, ActSwiGLU, ActReLU2)
	}
	if proj == nil {
		proj = LinearProj(tensor.NewRNG(fnv64(name)), false)
	}
	l := &GatedFFN{Gate: proj(name+".gate", c, f), Up: proj(name+".up", c, f), Down: proj(name+".down", f, c), Act: act, f: f}
	if subNorm {
		l.SubNorm = NewRMSNorm(name+".sub_norm", f)
		l.SubNorm.Eps = eps
	}
	return l, nil
}

// Params returns Gate, Up, the sub-norm (if any) and Down, in the order the block applies them.
func (l *GatedFFN) Params() []*Param {
	ps := append(append([]*Param(nil), l.Gate.Params()...), l.Up.Params()...)
	if l.SubNorm != nil {
		ps = append(ps, l.SubNorm.Params()...)
	}
	return append(ps, l.Down.Params()...)
}

// Forward maps x (N, C) to (N, C), owned by Down.
func (l *GatedFFN) Forward(x []float32, n int) []float32 {
	l.n = n
	l.g, l.u = l.Gate.Forward(x, n), l.Up.Forward(x, n)
	l.h = tensor.Grow(l.h, n*l.f)
	GateAct(l.Act, l.h, l.g, l.u)
	h := l.h
	if l.SubNorm != nil {
		h = l.SubNorm.Forward(h, n)
	}
	return l.Down.Forward(h, n)
}

// Backward returns dx (N, C) and adds into every projection's (and the norm's) gradient.
func (l *GatedFFN) Backward(dout []float32) []float32 {
	dh := l.Down.Backward(dout)
	if l.SubNorm != nil {
		dh = l.SubNorm.Backward(dh)
	}
	m := l.n * l.f
	l.dg, l.du = tensor.Grow(l.dg, m), tensor.Grow(l.du, m)
	for i, d := range dh[:m] {
		g, u := l.g[i], l.u[i]
		if l.Act == ActReLU2 {
			r := max(g, 0)
			l.du[i] = d * r * r
			l.dg[i] = d * u * 2 * r
			continue
		}
		s := sigmoid(g)
		l.du[i] = d * g * s
		l.dg[i] = d * u * s * (1 + g*(1-s)) // d/dg g·σ(g) = σ + g·σ·(1−σ)
	}
	l.dx = tensor.Grow(l.dx, l.n*l.Gate.In())
	copy(l.dx, l.Gate.Backward(l.dg))
	AddInPlace(l.dx, l.Up.Backward(l.du))
	return l.dx
}

// GateAct writes h = act(g)·u elementwise: the one definition of the gated activations, which infer's
// decoder calls too.
func GateAct(act string, h, g, u []float32) {
	h = h[:len(g)]
	u = u[:len(g)]
	if act == ActReLU2 {
		for i, v := range g {
			r := max(v, 0)
			h[i] = r * r * u[i]
		}
		return
	}
	for i, v := range g {
		h[i] = v * sigmoid(v) * u[i]
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
