package nn

import (
	"fmt"

	"tern/tensor"
)

// FFN is the transformer feed-forward block: out = Fc2(GELU(Fc(x))), C -> hidden -> C.
type FFN struct {
	Fc, Fc2 Projection // C -> hidden, hidden -> C
	Act     GELU       // exact erf by default (PyTorch F.gelu); set Act.Tanh for GPT-2's approximation

	hidden int
	n      int
}

// NewFFN builds the block with proj (names name+".fc", name+".fc2"); a nil proj makes bias-free Linear
// layers initialized from an RNG seeded by the name.
func NewFFN(name string, c, hidden int, proj ProjFunc) *FFN {
	if c <= 0 || hidden <= 0 {
		panic(fmt.Sprintf("nn: NewFFN %s: c=%d hidden=%d must be positive", name, c, hidden))
	}
	if proj == nil {
		proj = LinearProj(tensor.NewRNG(fnv64(name)), false)
	}
	return &FFN{Fc: proj(name+".fc", c, hidden), Fc2: proj(name+".fc2", hidden, c), hidden: hidden}
}

// Params returns Fc's then Fc2's parameters.
func (f *FFN) Params() []*Param {
	return append(append([]*Param(nil), f.Fc.Params()...), f.Fc2.Params()...)
}

// Forward maps x (N,C) to (N,C).
func (f *FFN) Forward(x []float32, n int) []float32 {
	f.n = n
	h := f.Fc.Forward(x, n)
	return f.Fc2.Forward(f.Act.Forward(h, n*f.hidden), n)
}

// Backward returns dx (N,C) and adds into both projections' gradients.
func (f *FFN) Backward(dout []float32) []float32 {
	return f.Fc.Backward(f.Act.Backward(f.Fc2.Backward(dout)))
}
