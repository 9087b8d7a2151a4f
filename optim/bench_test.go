package optim

import (
	"testing"

	"tern/nn"
	"tern/tensor"
)

// benchParams is the ablation model's parameter layout in size: ~0.8M weights in 4x128x512-ish
// matrices (the tiny preset), plus small vectors.
func benchParams() []*nn.Param {
	rng := tensor.NewRNG(1)
	var ps []*nn.Param
	for l := 0; l < 4; l++ {
		for _, sh := range [][]int{{384, 128}, {128, 128}, {512, 128}, {128, 512}, {128}, {128}} {
			p := nn.NewParam("p", sh...)
			rng.FillNormal(p.W, 0.02)
			rng.FillNormal(p.G, 0.01)
			ps = append(ps, p)
		}
	}
	emb := nn.NewParam("emb", 256, 128)
	rng.FillNormal(emb.W, 0.02)
	return append(ps, emb)
}

// BenchmarkAdamW is the plain optimizer step: the reference for the hybrid parts' overhead.
func BenchmarkAdamW(b *testing.B) {
	ps := benchParams()
	o := NewAdamW(ps, nil)
	for b.Loop() {
		o.Update(1e-3, 0.1)
	}
}

// BenchmarkTrustRegion is what --trust-region adds per step: the copy before and the bound after.
func BenchmarkTrustRegion(b *testing.B) {
	ps := benchParams()
	d := NewDelta(ps)
	for b.Loop() {
		d.Before()
		d.After("layer", 0.02)
	}
}

// BenchmarkController is what --controller aux adds per step: learn (dots + MLP step), decide, and
// the update tracking it needs.
func BenchmarkController(b *testing.B) {
	ps := benchParams()
	d := NewDelta(ps)
	c := NewController(1, 3e-3)
	for b.Loop() {
		c.Learn(d.Dots())
		c.Decide(Signals{Loss: 3, GradNorm: 1, StepFrac: 0.5, LRFrac: 1})
		d.Before()
		d.After("", 0)
	}
}
