package nn

import (
	"fmt"

	"tern/tensor"
)

// Embedding maps token ids to rows of W: out[i,:] = W[ids[i],:].
type Embedding struct {
	W *Param // (V, C)

	v, c int
	ids  []int32 // (N) last forward ids, referenced
	y    []float32
}

// EmbeddingInitStd is the default init, normal(0, 0.02) as GPT-2 and the PyTorch reference.
const EmbeddingInitStd = 0.02

// NewEmbedding returns a (V,C) table initialized normal(0, 0.02) from rng (nil rng: seeded from name).
func NewEmbedding(name string, v, c int, rng *tensor.RNG) *Embedding {
	if v <= 0 || c <= 0 {
		panic(fmt.Sprintf("nn: NewEmbedding %s: v=%d c=%d must be positive", name, v, c))
	}
	if rng == nil {
		rng = tensor.NewRNG(fnv64(name))
	}
	e := &Embedding{W: NewParam(name+".weight", v, c), v: v, c: c}
	rng.FillNormal(e.W.W, EmbeddingInitStd)
	return e
}

// Params returns W.
func (e *Embedding) Params() []*Param { return []*Param{e.W} }

// Forward returns the rows of ids (N) as (N,C). An id outside [0,V) panics (callers validate input).
func (e *Embedding) Forward(ids []int32, n int) []float32 {
	need("Embedding "+e.W.Name, "ids", len(ids), n)
	e.ids = ids[:n]
	e.y = tensor.Grow(e.y, n*e.c)
	c := e.c
	for i, id := range e.ids {
		if id < 0 || int(id) >= e.v {
			panic(fmt.Sprintf("nn: Embedding %s: id %d at position %d outside vocabulary [0,%d)", e.W.Name, id, i, e.v))
		}
		copy(e.y[i*c:i*c+c], e.W.W[int(id)*c:int(id)*c+c])
	}
	return e.y
}

// Backward adds dout (N,C) into the gradient rows of the last forward's ids (positions in order, so
// repeated ids sum deterministically). Embeddings have no input gradient.
func (e *Embedding) Backward(dout []float32) {
	c := e.c
	need("Embedding "+e.W.Name, "dout", len(dout), len(e.ids)*c)
	for i, id := range e.ids {
		g := e.W.Grad()[int(id)*c : int(id)*c+c]
		for j, v := range dout[i*c : i*c+c] {
			g[j] += v
		}
	}
}
