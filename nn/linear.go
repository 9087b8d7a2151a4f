package nn

import (
	"fmt"

	"tern/tensor"
)

// Linear is out (N,Out) = inp (N,In) · Wᵀ + b, with GEMMs at the layers' precision (Matmul).
type Linear struct {
	W *Param // (Out, In)
	B *Param // (Out), or nil

	in, out int
	inp     []float32 // (N, In) last forward input, referenced
	n       int
	y       []float32 // (N, Out)
	dinp    []float32 // (N, In)
}

// LinearInitStd is the default weight init: normal(0, 0.02) as GPT-2 and the PyTorch reference; biases
// start at zero. Overwrite W.W after construction for another init.
const LinearInitStd = 0.02

// NewLinear returns an In -> Out layer with W ~ normal(0, 0.02) from rng (nil rng: seeded from name).
func NewLinear(name string, in, out int, bias bool, rng *tensor.RNG) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: NewLinear %s: in=%d out=%d must be positive", name, in, out))
	}
	if rng == nil {
		rng = tensor.NewRNG(fnv64(name))
	}
	l := &Linear{W: NewParam(name+".weight", out, in), in: in, out: out}
	rng.FillNormal(l.W.W, LinearInitStd)
	if bias {
		l.B = NewParam(name+".bias", out)
	}
	return l
}

func (l *Linear) In() int  { return l.in }
func (l *Linear) Out() int { return l.out }

// Params returns W and, if present, B.
func (l *Linear) Params() []*Param {
	if l.B == nil {
		return []*Param{l.W}
	}
	return []*Param{l.W, l.B}
}

// Forward returns inp (N,In) · Wᵀ + b as (N,Out).
func (l *Linear) Forward(inp []float32, n int) []float32 {
	need("Linear "+l.W.Name, "inp", len(inp), n*l.in)
	l.inp, l.n = inp[:n*l.in], n
	l.y = tensor.Grow(l.y, n*l.out)
	Matmul(false, true, n, l.out, l.in, 1, l.inp, l.in, l.W.W, l.in, 0, l.y, l.out)
	if l.B != nil {
		addBias(l.y, l.B.W, n, l.out)
	}
	return l.y
}

// Backward returns dinp = dout · W and adds dW += doutᵀ · inp, db += Σ_rows dout.
func (l *Linear) Backward(dout []float32) []float32 {
	n := l.n
	need("Linear "+l.W.Name, "dout", len(dout), n*l.out)
	l.dinp = tensor.Grow(l.dinp, n*l.in)
	Matmul(false, false, n, l.in, l.out, 1, dout, l.out, l.W.W, l.in, 0, l.dinp, l.in)
	Matmul(true, false, l.out, l.in, n, 1, dout, l.out, l.inp, l.in, 1, l.W.Grad(), l.in)
	if l.B != nil {
		biasGrad(l.B.Grad(), dout, n, l.out)
	}
	return l.dinp
}

// addBias does y[i,:] += b for each of n rows of width c.
func addBias(y, b []float32, n, c int) {
	b = b[:c]
	for i := 0; i < n; i++ {
		row := y[i*c : i*c+c]
		for j, v := range b {
			row[j] += v
		}
	}
}

// biasGrad does db += Σ_i dout[i,:], rows in order (deterministic).
func biasGrad(db, dout []float32, n, c int) {
	db = db[:c]
	for i := 0; i < n; i++ {
		row := dout[i*c : i*c+c]
		for j, v := range row {
			db[j] += v
		}
	}
}
