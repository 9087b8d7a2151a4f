package nn

import (
	"fmt"

	"tern/kernels"
	"tern/tensor"
)

// GELU is x·Φ(x) (https://arxiv.org/abs/1606.08415). The zero value is the exact erf form, PyTorch's
// F.gelu default and the reference trainer's; Tanh selects the tanh approximation of GPT-2 and llm.c.
type GELU struct {
	Tanh bool

	inp     []float32 // (N) referenced
	y, dinp []float32
}

// Forward returns gelu(inp); n is the element count and must equal len(inp) (not a row count).
func (g *GELU) Forward(inp []float32, n int) []float32 {
	if len(inp) != n {
		panic(fmt.Sprintf("nn: GELU.Forward: n=%d must be the element count len(inp)=%d", n, len(inp)))
	}
	g.inp = inp
	g.y = tensor.Grow(g.y, n)
	kernels.GELUForward(g.y, inp, n, g.Tanh)
	return g.y
}

// Backward returns dinp = dout·gelu'(inp).
func (g *GELU) Backward(dout []float32) []float32 {
	n := len(g.inp)
	if len(dout) != n {
		panic(fmt.Sprintf("nn: GELU.Backward: len(dout)=%d, forward had %d elements", len(dout), n))
	}
	g.dinp = tensor.Grow(g.dinp, n)
	kernels.GELUBackward(g.dinp, g.inp, dout, n, g.Tanh)
	return g.dinp
}

// Params returns nothing: GELU has no parameters.
func (g *GELU) Params() []*Param { return nil }
