// Package optim updates parameters: AdamW with decoupled weight decay, learning-rate and weight-decay
// schedules (warmup + cosine, and BitNet b1.58's two-stage schedule), and global-norm gradient clipping.
//
// The optimizer walks unique parameters (sharing is pointer identity, so a shared tensor is updated once)
// in a fixed order, and keeps its moments in one slab each, so its state can be saved and restored
// exactly for bit-identical resumes.
package optim

import (
	"fmt"
	"math"

	"tern/nn"
)

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter, https://arxiv.org/abs/1711.05101),
// matching torch.optim.AdamW: p -= lr*wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g²;
// p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps).
type AdamW struct {
	Beta1, Beta2, Eps float64
	Params            []*nn.Param // unique, in a fixed order
	NoDecay           map[*nn.Param]bool
	M, V              []float32 // moments, one slab each, params laid out in order
	Step              int       // number of updates done
	offsets           []int
}

// NewAdamW returns an optimizer over the unique params in ps (duplicates are dropped, order kept).
// Params in noDecay (norm gains, biases, embeddings by convention of the caller) get no weight decay.
func NewAdamW(ps []*nn.Param, noDecay []*nn.Param) *AdamW {
	o := &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, NoDecay: map[*nn.Param]bool{}}
	o.Params = nn.Unique(ps)
	nn.AllocGrads(o.Params) // training starts here: gradients are allocated lazily (see nn.Param)
	for _, p := range noDecay {
		o.NoDecay[p] = true
	}
	n := 0
	for _, p := range o.Params {
		o.offsets = append(o.offsets, n)
		n += len(p.W)
	}
	o.M = make([]float32, n)
	o.V = make([]float32, n)
	return o
}

// Update applies one AdamW step with learning rate lr and weight decay wd.
func (o *AdamW) Update(lr, wd float64) {
	o.Step++
	b1, b2 := o.Beta1, o.Beta2
	bc1 := 1 - math.Pow(b1, float64(o.Step))
	bc2 := 1 - math.Pow(b2, float64(o.Step))
	for i, p := range o.Params {
		m := o.M[o.offsets[i] : o.offsets[i]+len(p.W)]
		v := o.V[o.offsets[i] : o.offsets[i]+len(p.W)]
		decay := float32(1 - lr*wd)
		if o.NoDecay[p] {
			decay = 1
		}
		adamw(p.W, p.G, m, v, float32(b1), float32(b2), float32(lr/bc1), float32(1/math.Sqrt(bc2)), float32(o.Eps), decay)
	}
}

// adamw is the fused per-element update (float32 throughout, like PyTorch's CPU kernel).
func adamw(w, g, m, v []float32, b1, b2, lrc, rbc2, eps, decay float32) {
	_ = g[len(w)-1]
	_ = m[len(w)-1]
	_ = v[len(w)-1]
	for j := range w {
		gj := g[j]
		mj := b1*m[j] + (1-b1)*gj
		vj := b2*v[j] + (1-b2)*gj*gj
		m[j], v[j] = mj, vj
		w[j] = w[j]*decay - lrc*mj/(float32(math.Sqrt(float64(vj)))*rbc2+eps)
	}
}

// GradNorm returns the global L2 norm of the gradients (float64, fixed order: deterministic).
func GradNorm(ps []*nn.Param) float64 {
	var s float64
	for _, p := range ps {
		var ps float64
		for _, g := range p.G {
			ps += float64(g) * float64(g)
		}
		s += ps
	}
	return math.Sqrt(s)
}

// ClipGradNorm scales gradients so their global norm is at most maxNorm (if maxNorm > 0) and returns
// the norm before clipping. A non-finite norm is returned unchanged and nothing is scaled.
func ClipGradNorm(ps []*nn.Param, maxNorm float64) float64 {
	n := GradNorm(ps)
	if maxNorm <= 0 || n <= maxNorm || math.IsNaN(n) || math.IsInf(n, 0) {
		return n
	}
	c := float32(maxNorm / (n + 1e-6))
	for _, p := range ps {
		for j := range p.G {
			p.G[j] *= c
		}
	}
	return n
}

// ScaleGrads multiplies every gradient by c (e.g. 1/accumulation steps).
func ScaleGrads(ps []*nn.Param, c float32) {
	for _, p := range ps {
		for j := range p.G {
			p.G[j] *= c
		}
	}
}

// CheckState verifies that moment slabs fit these params (after loading a checkpoint).
func (o *AdamW) CheckState() error {
	n := 0
	for _, p := range o.Params {
		n += len(p.W)
	}
	if len(o.M) != n || len(o.V) != n {
		return fmt.Errorf("optim: moments hold %d/%d values, params need %d", len(o.M), len(o.V), n)
	}
	return nil
}
