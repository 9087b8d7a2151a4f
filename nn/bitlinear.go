package nn

import (
	"fmt"

	"tern/kernels"
	"tern/tensor"
)

// BitLinear is BitNet b1.58's linear layer (https://arxiv.org/abs/2402.17764 and the "Training Tips,
// Code and FAQ" note) for training, with latent fp32 weights:
//
//	forward:  s = mean|W|, W_t = clamp(round(W/s), -1, 1)            (kernels.QuantizeTernary)
//	          g_i = 127/max|x_i|, x_q = clamp(round(x·g), -128, 127)  (kernels.QuantizeRowsInt8, per row)
//	          out = (x_q · W_tᵀ) · s / g_i + b                        (int8 x ternary GEMM, int32 sums)
//	backward: straight-through estimator, as the PyTorch reference (F.linear(xq, wq) with
//	          x + (q(x)-x).detach() and w + (q(w)-w).detach()):
//	          dX = dY · (s·W_t),  dW += dYᵀ · (x_q/g),  db += Σ dY.
//
// There is no LayerNorm inside: the model normalizes before (as the reference does).
type BitLinear struct {
	W *Param // (Out, In) latent fp32 weights
	B *Param // (Out), or nil

	in, out int
	n       int
	scale   float32                // s = mean|W| of the last forward
	wt      []int8                 // (Out, In) W_t
	tm      *kernels.TernaryMatrix // W_t in the GEMM's layout
	xq      []int8                 // (N, In) quantized input
	xscale  []float32              // (N) g per row
	y       []float32              // (N, Out)
	wdq     []float32              // (Out, In) s·W_t, built in Backward
	xdq     []float32              // (N, In) x_q/g, built in Backward
	dinp    []float32              // (N, In)
}

// NewBitLinear returns an In -> Out BitLinear with latent W ~ normal(0, 0.02) (nil rng: seeded from name).
func NewBitLinear(name string, in, out int, bias bool, rng *tensor.RNG) *BitLinear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: NewBitLinear %s: in=%d out=%d must be positive", name, in, out))
	}
	if rng == nil {
		rng = tensor.NewRNG(fnv64(name))
	}
	l := &BitLinear{W: NewParam(name+".weight", out, in), in: in, out: out}
	rng.FillNormal(l.W.W, LinearInitStd)
	if bias {
		l.B = NewParam(name+".bias", out)
	}
	l.wt = make([]int8, out*in)
	l.tm = kernels.NewTernaryMatrix(l.wt, out, in)
	return l
}

func (l *BitLinear) In() int  { return l.in }
func (l *BitLinear) Out() int { return l.out }

// Params returns W and, if present, B.
func (l *BitLinear) Params() []*Param {
	if l.B == nil {
		return []*Param{l.W}
	}
	return []*Param{l.W, l.B}
}

// Scale is s = mean|W| of the last Forward.
func (l *BitLinear) Scale() float32 { return l.scale }

// Ternary is W_t (Out,In) of the last Forward (owned by the layer).
func (l *BitLinear) Ternary() []int8 { return l.wt }

// Forward quantizes W and inp (N,In) and returns the rescaled int8 x ternary product (N,Out).
func (l *BitLinear) Forward(inp []float32, n int) []float32 {
	need("BitLinear "+l.W.Name, "inp", len(inp), n*l.in)
	l.n = n
	l.scale = kernels.QuantizeTernary(l.wt, l.W.W)
	l.tm.Set(l.wt)
	l.xq = tensor.Grow(l.xq, n*l.in)
	l.xscale = tensor.Grow(l.xscale, n)
	kernels.QuantizeRowsInt8(l.xq, l.xscale, inp, n, l.in)
	l.y = tensor.Grow(l.y, n*l.out)
	kernels.BitLinearForward(l.y, l.xq, l.xscale, l.tm, l.scale, n)
	if l.B != nil {
		addBias(l.y, l.B.W, n, l.out)
	}
	return l.y
}

// Backward returns dinp = dout · (s·W_t) and adds dW += doutᵀ · (x_q/g), db += Σ dout.
func (l *BitLinear) Backward(dout []float32) []float32 {
	n := l.n
	need("BitLinear "+l.W.Name, "dout", len(dout), n*l.out)
	l.wdq = tensor.Grow(l.wdq, l.out*l.in)
	for i, t := range l.wt {
		l.wdq[i] = l.scale * float32(t)
	}
	l.xdq = tensor.Grow(l.xdq, n*l.in)
	for i := 0; i < n; i++ {
		g := l.xscale[i]
		row, q := l.xdq[i*l.in:(i+1)*l.in], l.xq[i*l.in:(i+1)*l.in]
		for j, v := range q {
			row[j] = float32(v) / g
		}
	}
	l.dinp = tensor.Grow(l.dinp, n*l.in)
	kernels.Sgemm(false, false, n, l.in, l.out, 1, dout, l.out, l.wdq, l.in, 0, l.dinp, l.in)
	kernels.Sgemm(true, false, l.out, l.in, n, 1, dout, l.out, l.xdq, l.in, 1, l.W.G, l.in)
	if l.B != nil {
		biasGrad(l.B.G, dout, n, l.out)
	}
	return l.dinp
}
