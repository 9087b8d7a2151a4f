// Package nn holds tern's layers, each with its forward and backward pass side by side (as llm.c does):
// Linear, BitLinear (BitNet b1.58), Embedding, LayerNorm, RMSNorm, GELU, Dropout, cross-entropy,
// multi-head attention (self, causal, padded, cross), FFN, LSTM and GRU.
//
// It is deliberately not an autodiff framework. Every layer follows the same contract:
//   - Parameters are *Param (value W and gradient G); sharing is pointer identity: two layers that hold
//     the same *Param both ADD into p.G in Backward, so a tied weight gets the sum of its uses.
//   - Forward keeps what Backward needs from the LAST call: references to its inputs (not copies; the
//     caller must not modify a forward input before Backward) and activations in layer-owned buffers.
//   - Forward returns a slice owned by the layer, valid until its next Forward.
//   - Backward takes dout and returns dinp owned by the layer, OVERWRITTEN (not accumulated: the caller
//     adds for residuals, see AddInPlace), and ADDS (+=) into parameter gradients.
//   - Buffers are allocated on first use for the largest size seen and reused, so a training step
//     allocates no activation memory in steady state. What remains is the worker pool's per-call
//     closure (~100 bytes per parallel kernel call, from kernels.ParallelFor); tests check that the
//     bytes allocated per step do not grow with the batch.
//
// Constructors validate configuration-dependent shapes and return errors (NewSelfAttention with heads
// not dividing C); plain misuse (negative sizes, wrong buffer lengths) panics with a message naming the
// layer, as kernels do.
//
// Dimension legend: B = batch, T = sequence length (Tq queries, Tk keys), C = channels, H = hidden size
// (RNN), V = vocabulary, L = layers, NH = heads, HS = head size = C/NH, N = rows (usually B·T),
// In/Out = a projection's input and output features.
package nn

import (
	"fmt"

	"tern/tensor"
)

// Param is one trainable tensor: its value W and gradient G, both of Size() elements, row-major in Shape.
// G is nil until training needs it (Grad, AllocGrads): a model built or loaded for evaluation or
// generation never pays for fp32 gradients (llm.c's lazy gradient allocation). A model may re-point
// W and G into one slab (see Flatten) as long as lengths stay the same.
type Param struct {
	Name  string
	Shape []int
	W, G  []float32
}

// NewParam returns a zeroed parameter without a gradient.
func NewParam(name string, shape ...int) *Param {
	n := tensor.NumElements(shape)
	return &Param{Name: name, Shape: append([]int(nil), shape...), W: make([]float32, n)}
}

// Grad returns the gradient, allocating it (zeroed) on first use: the one way Backward passes reach
// G, so that only layers that run backward get one.
func (p *Param) Grad() []float32 {
	if p.G == nil {
		p.G = make([]float32, len(p.W))
	}
	return p.G
}

// AllocGrads gives every param its gradient (optimizers call it: they read G of every param, also
// of params a step's backward did not reach).
func AllocGrads(ps []*Param) {
	for _, p := range ps {
		p.Grad()
	}
}

// ZeroGrad clears the gradient.
func (p *Param) ZeroGrad() { clear(p.G) }

// Size is the number of elements.
func (p *Param) Size() int { return len(p.W) }

// Unique returns params without duplicates (by pointer), keeping first-seen order: the list an
// optimizer walks when layers share parameters.
func Unique(ps []*Param) []*Param {
	seen := make(map[*Param]bool, len(ps))
	out := make([]*Param, 0, len(ps))
	for _, p := range ps {
		if p != nil && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Flatten copies the unique params' values into one value slab and one gradient slab (zeroed) and
// re-points each Param's W and G into them, in order, so the optimizer and all-reduce see two
// contiguous arrays (llm.c's one-slab layout). It returns the slabs.
func Flatten(ps []*Param) (w, g []float32) {
	ps = Unique(ps)
	n := 0
	for _, p := range ps {
		n += p.Size()
	}
	w, g = make([]float32, n), make([]float32, n)
	off := 0
	for _, p := range ps {
		k := p.Size()
		copy(w[off:off+k], p.W)
		p.W, p.G = w[off:off+k:off+k], g[off:off+k:off+k]
		off += k
	}
	return w, g
}

// Projection is a learned map (N,In) -> (N,Out): Linear or BitLinear.
type Projection interface {
	// Forward returns out (N,Out) for inp (N,In); out is owned by the layer.
	Forward(inp []float32, n int) []float32
	// Backward returns dinp (N,In) for dout (N,Out) of the last Forward and adds into param grads.
	Backward(dout []float32) []float32
	Params() []*Param
	In() int
	Out() int
}

// ProjFunc builds a projection; attention and FFN take one so a model picks Linear or BitLinear.
type ProjFunc func(name string, in, out int) Projection

// LinearProj returns a ProjFunc making Linear layers initialized from rng.
func LinearProj(rng *tensor.RNG, bias bool) ProjFunc {
	return func(name string, in, out int) Projection { return NewLinear(name, in, out, bias, rng) }
}

// BitLinearProj returns a ProjFunc making BitLinear layers initialized from rng.
func BitLinearProj(rng *tensor.RNG, bias bool) ProjFunc {
	return func(name string, in, out int) Projection { return NewBitLinear(name, in, out, bias, rng) }
}

// CheckShape returns an error naming the layer and both shapes when got differs from want; a -1 in
// want matches any size. For model builders validating configs and inputs.
func CheckShape(layer string, got, want []int) error {
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = want[i] == -1 || got[i] == want[i]
	}
	if !ok {
		return fmt.Errorf("nn: %s: shape %s, want %s", layer, tensor.ShapeString(got), tensor.ShapeString(want))
	}
	return nil
}

// need panics unless x holds at least n elements: the one check every Forward makes.
func need(layer, what string, got, want int) {
	if got < want {
		panic(fmt.Sprintf("nn: %s: %s has %d elements, want %d", layer, what, got, want))
	}
}

// fnv64 hashes a name into a seed (default initialization when a constructor is given no RNG).
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
