package optim

import (
	"math"
	"testing"

	"tern/nn"
	"tern/tensor"
)

// TestControllerGradientFD checks the controller's backward (∂J/∂θ for J = a·log m + b·log ρ, the
// objective its hypergradient step descends) against central finite differences of J over every
// weight, in float64 arithmetic on the float32 layers' outputs.
func TestControllerGradientFD(t *testing.T) {
	c := NewController(7, 1e-3)
	rng := tensor.NewRNG(3)
	rng.FillNormal(c.L2.W.W, 0.5) // a non-trivial output layer: the fresh one is zero
	rng.FillNormal(c.L2.B.W, 0.3)
	rng.FillNormal(c.L1.B.W, 0.3)
	x := make([]float32, ControllerInputs)
	rng.FillNormal(x, 1)
	a, b := 0.7, -0.4
	J := func() float64 {
		m, r := c.Outputs(c.forward(x))
		return a*math.Log(m) + b*math.Log(r)
	}
	for _, p := range c.Params() {
		clear(p.G)
	}
	c.backward(c.forward(x), a, b)
	checked := 0
	for _, p := range c.Params() {
		for j := range p.W {
			w := p.W[j]
			const h = 1e-2
			p.W[j] = w + h
			jp := J()
			p.W[j] = w - h
			jm := J()
			p.W[j] = w
			num := (jp - jm) / (2 * h)
			if d := math.Abs(num - float64(p.G[j])); d > 2e-3+2e-2*math.Abs(num) {
				t.Errorf("%s[%d]: backward %v, finite difference %v", p.Name, j, p.G[j], num)
			}
			checked++
		}
	}
	if checked != 8*16+16+16*2+2 {
		t.Fatalf("checked %d weights", checked)
	}
}

// TestControllerBoundsAndIdentity: a fresh controller outputs exactly 1 and 1; any output stays in
// the stated bounds; NaN in is an error out.
func TestControllerBoundsAndIdentity(t *testing.T) {
	c := NewController(1, 0)
	m, r, err := c.Decide(Signals{Loss: 4, GradNorm: 2, StepFrac: 0.1, LRFrac: 1})
	if err != nil || m != 1 || r != 1 {
		t.Fatalf("fresh controller: %v %v %v, want exactly 1 1", m, r, err)
	}
	for i := range c.L2.W.W {
		c.L2.W.W[i] = 100
	}
	m, r, _ = c.Decide(Signals{Loss: 3, GradNorm: 1})
	if m > 4+1e-12 || m < 0.25-1e-12 || r > 2+1e-12 || r < 0.5-1e-12 {
		t.Errorf("saturated outputs %v %v outside [1/4, 4] x [1/2, 2]", m, r)
	}
	c.L2.B.W[1] = float32(math.NaN())
	if _, _, err := c.Decide(Signals{Loss: 3, GradNorm: 1}); err == nil {
		t.Error("NaN output accepted")
	}
}

// TestControllerLearnsSign: a gradient that keeps pointing along the last update (positive dot: the
// step went uphill, too far) must push the multiplier below 1; the opposite sign above 1.
func TestControllerLearnsSign(t *testing.T) {
	for _, sign := range []float64{1, -1} {
		c := NewController(1, 1e-2)
		var m float64
		for i := 0; i < 50; i++ {
			c.Learn(sign*0.5, 0, 1, 1)
			m, _, _ = c.Decide(Signals{Loss: 3, GradNorm: 1, StepFrac: float64(i) / 50, LRFrac: 1})
		}
		if (sign > 0 && !(m < 1)) || (sign < 0 && !(m > 1)) {
			t.Errorf("dot sign %v: multiplier %v after 50 steps", sign, m)
		}
	}
}

// TestDeltaTrustRegion works the bounds by hand: W = [3, 4] (‖W‖ 5) stepping by [0.6, 0.8] (‖u‖ 1).
// A layer ratio 0.1 allows 0.5: u becomes [0.3, 0.4]; the bias (rank 1) is never bound.
func TestDeltaTrustRegion(t *testing.T) {
	mk := func() []*nn.Param {
		w := nn.NewParam("w", 1, 2)
		copy(w.W, []float32{3, 4})
		b := nn.NewParam("b", 2)
		return []*nn.Param{w, b}
	}
	step := func(ps []*nn.Param) {
		ps[0].W[0] += 0.6
		ps[0].W[1] += 0.8
		ps[1].W[0] += 2
	}
	for _, c := range []struct {
		mode   string
		ratio  float64
		want   []float32
		bound  int
		uRatio float64
	}{
		{"layer", 0.1, []float32{3.3, 4.4}, 1, math.Sqrt(0.25+4) / 5},
		{"layer", 0.5, []float32{3.6, 4.8}, 0, math.Sqrt(1+4) / 5},
		{"global", 0.1, []float32{3.3, 4.4}, 1, math.Sqrt(0.25+4) / 5},
		{"", 0.1, []float32{3.6, 4.8}, 0, math.Sqrt(1+4) / 5},
	} {
		ps := mk()
		d := NewDelta(ps)
		d.Before()
		step(ps)
		st := d.After(c.mode, c.ratio)
		for j, w := range c.want {
			if math.Abs(float64(ps[0].W[j]-w)) > 1e-6 {
				t.Errorf("%s %g: W = %v, want %v", c.mode, c.ratio, ps[0].W, c.want)
			}
		}
		if ps[1].W[0] != 2 || st.Bound != c.bound || math.Abs(st.UpdateRatio-c.uRatio) > 1e-6 {
			t.Errorf("%s %g: bias %v, bound %d (want %d), update ratio %v (want %v)", c.mode, c.ratio, ps[1].W[0], st.Bound, c.bound, st.UpdateRatio, c.uRatio)
		}
		// Dots: gradient [1, 0] on w and [1, 1] on b against u.
		nn.AllocGrads(ps)
		copy(ps[0].G, []float32{1, 0})
		copy(ps[1].G, []float32{1, 1})
		free, bnd, g, u := d.Dots()
		uw := float64(c.want[0] - 3)
		wantFree, wantBound := uw+2, 0.0
		if c.bound == 1 {
			wantFree, wantBound = 2, uw
		}
		if math.Abs(free-wantFree) > 1e-6 || math.Abs(bnd-wantBound) > 1e-6 || math.Abs(g-math.Sqrt(3)) > 1e-9 || u <= 0 {
			t.Errorf("%s %g: dots %v %v %v %v, want free %v bound %v", c.mode, c.ratio, free, bnd, g, u, wantFree, wantBound)
		}
	}
	if ValidateTrust("layer", 0) == nil || ValidateTrust("cube", 1) == nil || ValidateTrust("none", 0) != nil {
		t.Error("ValidateTrust accepts a bad setting or refuses none")
	}
}

// TestDeltaTrace works the update trace by hand: steps u1 = [1, 2] and u2 = [0.5, -1] with λ 0.5
// leave T = 0.5·u1 + u2 = [1, 0], and Dots measures the gradient against T, not against u2.
func TestDeltaTrace(t *testing.T) {
	w := nn.NewParam("w", 1, 2)
	ps := []*nn.Param{w}
	d := NewDelta(ps)
	d.EnableTrace(0.5)
	for _, u := range [][2]float32{{1, 2}, {0.5, -1}} {
		d.Before()
		w.W[0] += u[0]
		w.W[1] += u[1]
		d.After("", 0)
	}
	if d.Trace[0] != 1 || d.Trace[1] != 0 || d.U[0] != 0.5 || d.U[1] != -1 {
		t.Fatalf("trace %v, last update %v; want [1 0] and [0.5 -1]", d.Trace, d.U)
	}
	nn.AllocGrads(ps)
	copy(w.G, []float32{3, 4})
	free, bound, g, u := d.Dots()
	if free != 3 || bound != 0 || g != 5 || u != 1 {
		t.Errorf("dots %v %v, norms %v %v; want 3 0 against the trace, norms 5 1", free, bound, g, u)
	}
}
