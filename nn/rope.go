package nn

import (
	"fmt"
	"math"

	"tern/tensor"
)

// RoPE is rotary position embedding (https://arxiv.org/abs/2104.09864) as Llama/BitNet use it in
// Hugging Face's implementation (rotate_half): within each head of size HS, the pair (i, i+HS/2) at
// position p turns by the angle p·Theta^(-2i/HS):
//
//	y_i = x_i·cos − x_{i+HS/2}·sin,  y_{i+HS/2} = x_i·sin + x_{i+HS/2}·cos
//
// A rotation's transpose is its inverse, so Backward turns dout by the negative angle. It has no
// parameters. The angle tables come from RoPETables, which infer's decoder uses too, so training and
// decoding rotate by the same float32 values.
type RoPE struct {
	HS    int     // head size (even)
	Theta float64 // base, e.g. 10000 (Llama 2) or 500000 (Llama 3, BitNet b1.58 2B4T)

	cos, sin []float32 // (maxT, HS/2)
	maxT     int
	n, t, w  int
	y, dinp  []float32 // (N, W)
}

// NewRoPE returns rotary embeddings for heads of size hs (even) with base theta (> 1).
func NewRoPE(hs int, theta float64) *RoPE {
	if hs <= 0 || hs%2 != 0 || !(theta > 1) || math.IsInf(theta, 0) {
		panic(fmt.Sprintf("nn: NewRoPE: head size %d must be even and positive, theta %g finite and > 1", hs, theta))
	}
	return &RoPE{HS: hs, Theta: theta}
}

// RoPETables returns cos and sin (positions, hs/2) of the angles p·theta^(-2i/hs), computed in float64
// and rounded once.
func RoPETables(hs int, theta float64, positions int) (cos, sin []float32) {
	half := hs / 2
	cos, sin = make([]float32, positions*half), make([]float32, positions*half)
	for p := range positions {
		for i := range half {
			a := float64(p) * math.Pow(theta, -2*float64(i)/float64(hs))
			cos[p*half+i], sin[p*half+i] = float32(math.Cos(a)), float32(math.Sin(a))
		}
	}
	return cos, sin
}

// Forward rotates x (B, T, W), W a multiple of HS (W/HS heads); row b·T+t is at position t. It returns
// (B, T, W) owned by the layer.
func (r *RoPE) Forward(x []float32, b, t, w int) []float32 {
	if w%r.HS != 0 {
		panic(fmt.Sprintf("nn: RoPE: width %d is not a multiple of the head size %d", w, r.HS))
	}
	n := b * t
	need("RoPE", "x", len(x), n*w)
	if t > r.maxT {
		r.cos, r.sin = RoPETables(r.HS, r.Theta, t)
		r.maxT = t
	}
	r.n, r.t, r.w = n, t, w
	r.y = tensor.Grow(r.y, n*w)
	r.rotate(r.y, x, 1)
	return r.y
}

// Backward returns dx (B, T, W) for dout of the last Forward.
func (r *RoPE) Backward(dout []float32) []float32 {
	need("RoPE", "dout", len(dout), r.n*r.w)
	r.dinp = tensor.Grow(r.dinp, r.n*r.w)
	r.rotate(r.dinp, dout, -1)
	return r.dinp
}

// rotate writes x turned by sign·angle into y.
func (r *RoPE) rotate(y, x []float32, sign float32) {
	half := r.HS / 2
	for row := 0; row < r.n; row++ {
		p := row % r.t
		cs, sn := r.cos[p*half:(p+1)*half], r.sin[p*half:(p+1)*half]
		for h := 0; h < r.w; h += r.HS {
			xs, ys := x[row*r.w+h:][:r.HS], y[row*r.w+h:][:r.HS]
			for i := range half {
				c, s := cs[i], sign*sn[i]
				x0, x1 := xs[i], xs[i+half]
				ys[i] = x0*c - x1*s
				ys[i+half] = x0*s + x1*c
			}
		}
	}
}
