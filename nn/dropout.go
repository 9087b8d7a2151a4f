package nn

import (
	"fmt"

	"tern/tensor"
)

// Dropout zeroes each element with probability P in training and scales the rest by 1/(1-P)
// (inverted dropout, as PyTorch); at evaluation it is the identity. The mask is drawn from the rng
// passed to Forward, one Float32 per element in order, so runs are reproducible.
type Dropout struct {
	P float32

	train   bool
	mask    []float32 // (N) 0 or 1/(1-P)
	y, dinp []float32
}

// Forward applies dropout to inp (n elements, n == len(inp)). Without train (or with P == 0) it returns
// inp itself.
func (d *Dropout) Forward(inp []float32, n int, train bool, rng *tensor.RNG) []float32 {
	if len(inp) != n {
		panic(fmt.Sprintf("nn: Dropout.Forward: n=%d must be the element count len(inp)=%d", n, len(inp)))
	}
	if d.P < 0 || d.P >= 1 {
		panic(fmt.Sprintf("nn: Dropout: P=%g outside [0,1)", d.P))
	}
	d.train = train && d.P > 0
	d.mask = tensor.Grow(d.mask, n)
	if !d.train {
		return inp
	}
	keep := 1 / (1 - d.P)
	d.y = tensor.Grow(d.y, n)
	for i, v := range inp {
		m := float32(0)
		if rng.Float32() >= d.P {
			m = keep
		}
		d.mask[i] = m
		d.y[i] = v * m
	}
	return d.y
}

// Backward returns dout masked and scaled as in the last Forward (a copy of dout at evaluation).
func (d *Dropout) Backward(dout []float32) []float32 {
	n := len(d.mask)
	if len(dout) != n {
		panic(fmt.Sprintf("nn: Dropout.Backward: len(dout)=%d, forward had %d elements", len(dout), n))
	}
	d.dinp = tensor.Grow(d.dinp, n)
	if !d.train {
		copy(d.dinp, dout)
		return d.dinp
	}
	for i, v := range dout {
		d.dinp[i] = v * d.mask[i]
	}
	return d.dinp
}
