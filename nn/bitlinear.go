package nn

import (
	"fmt"

	"tern/kernels"
	"tern/quant"
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
//
// Width (adaptive bit widths) replaces the ternary W_t by another quantizer of quant.Width (1, 2, 3,
// 4 or 8 bits): W_q = the dequantized codes, out = (x_q/g)·W_qᵀ + b as an fp32 GEMM (the same products
// as the integer one, rounded in float32), and the same straight-through backward with s·W_t -> W_q.
type BitLinear struct {
	W      *Param      // (Out, In) latent fp32 weights
	B      *Param      // (Out), or nil
	Width  quant.Width // weight precision; the zero value is ternary (BitNet b1.58)
	PerRow bool        // one step per output row instead of one per matrix (n-bit widths only)
	// FixedSteps (n-bit widths): use these steps instead of computing them from W. A model loaded from
	// a packed file sets them, so its forward reproduces the stored codes exactly.
	FixedSteps []float32

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
	codes   []uint8                // (Out, In) n-bit codes (scratch)
	steps   []float32              // (1) or (Out) n-bit steps of the last forward
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

// QuantSlots returns W with a pointer to its width, for models that assign widths by name.
func (l *BitLinear) QuantSlots() []QuantSlot {
	return []QuantSlot{{W: l.W, Width: &l.Width, PerRow: &l.PerRow, FixedSteps: &l.FixedSteps, Rows: l.out, Cols: l.in}}
}

// Forward quantizes W and inp (N,In) and returns the rescaled int8 x ternary product (N,Out).
func (l *BitLinear) Forward(inp []float32, n int) []float32 {
	need("BitLinear "+l.W.Name, "inp", len(inp), n*l.in)
	l.n = n
	if l.Width != quant.WidthTernary {
		return l.forwardNBit(inp, n)
	}
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

// forwardNBit is Forward at an n-bit width: W_q = FakeQuant(W), out = (x_q/g)·W_qᵀ + b. It leaves
// wdq and xdq built for Backward.
func (l *BitLinear) forwardNBit(inp []float32, n int) []float32 {
	l.wdq = tensor.Grow(l.wdq, l.out*l.in)
	l.codes = tensor.Grow(l.codes, l.out*l.in)
	if l.FixedSteps != nil {
		l.Width.FakeQuantFixed(l.wdq, l.codes, l.FixedSteps, l.W.W, l.out, l.in)
		l.steps = append(l.steps[:0], l.FixedSteps...)
	} else {
		l.steps = l.Width.FakeQuant(l.wdq, l.codes, l.steps, l.W.W, l.out, l.in, l.PerRow)
	}
	l.scale = l.steps[0]
	l.xq = tensor.Grow(l.xq, n*l.in)
	l.xscale = tensor.Grow(l.xscale, n)
	l.xdq = tensor.Grow(l.xdq, n*l.in)
	fakeInt8Rows(l.xdq, l.xq, l.xscale, inp, n, l.in)
	l.y = tensor.Grow(l.y, n*l.out)
	kernels.Sgemm(false, true, n, l.out, l.in, 1, l.xdq, l.in, l.wdq, l.in, 0, l.y, l.out)
	if l.B != nil {
		addBias(l.y, l.B.W, n, l.out)
	}
	return l.y
}

// Backward returns dinp = dout · (s·W_t) and adds dW += doutᵀ · (x_q/g), db += Σ dout
// (n-bit widths: W_q for s·W_t, both built by forwardNBit).
func (l *BitLinear) Backward(dout []float32) []float32 {
	n := l.n
	need("BitLinear "+l.W.Name, "dout", len(dout), n*l.out)
	if l.Width == quant.WidthTernary {
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
	}
	l.dinp = tensor.Grow(l.dinp, n*l.in)
	Matmul(false, false, n, l.in, l.out, 1, dout, l.out, l.wdq, l.in, 0, l.dinp, l.in)
	Matmul(true, false, l.out, l.in, n, 1, dout, l.out, l.xdq, l.in, 1, l.W.Grad(), l.in)
	if l.B != nil {
		biasGrad(l.B.Grad(), dout, n, l.out)
	}
	return l.dinp
}
