package train

import (
	"context"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"tern/model"
)

func runTiny(t *testing.T, steps int, mutate func(*Config, *model.Config)) *Run {
	t.Helper()
	cfg, mc := tinyRun(t, t.TempDir(), steps, 0, mutate)
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFixedControllerIsAdamW: the controller frozen at multiplier 1 (its output layer starts at zero
// and never learns) and no trust region: the losses and the weights are bit-identical to plain AdamW.
func TestFixedControllerIsAdamW(t *testing.T) {
	plain := runTiny(t, 6, nil)
	fixed := runTiny(t, 6, func(c *Config, m *model.Config) { c.Controller = "fixed" })
	lp, lf := trainLosses(t, plain), trainLosses(t, fixed)
	for s := 1; s <= 6; s++ {
		if math.Float64bits(lp[s]) != math.Float64bits(lf[s]) {
			t.Errorf("step %d: loss %v with the fixed controller, %v without", s, lf[s], lp[s])
		}
	}
	pp, pf := plain.Model.Params(), fixed.Model.Params()
	for i := range pp {
		if !slices.Equal(pp[i].W, pf[i].W) {
			t.Fatalf("%s differs after 6 steps", pp[i].Name)
		}
	}
	for _, m := range fixed.log.metrics {
		if m.Split == "train" && m.LRMult != 1 {
			t.Fatalf("step %d: multiplier %v, want exactly 1", m.Step, m.LRMult)
		}
	}
	// And the learning controller does move away from 1.
	aux := runTiny(t, 6, func(c *Config, m *model.Config) { c.Controller, c.ControllerLR = "aux", 0.05 })
	moved := false
	for _, m := range aux.log.metrics {
		moved = moved || (m.Split == "train" && m.LRMult != 1)
	}
	if !moved {
		t.Error("the aux controller kept multiplier 1 for 6 steps")
	}
}

// TestControllerNaNNeverReachesWeights: a controller whose output is NaN stops the run with a clear
// error before the optimizer step, so the model's weights are the untouched initial ones.
func TestControllerNaNNeverReachesWeights(t *testing.T) {
	cfg, mc := tinyRun(t, t.TempDir(), 4, 0, func(c *Config, m *model.Config) { c.Controller = "aux" })
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var before [][]float32
	for _, p := range r.Model.Params() {
		before = append(before, slices.Clone(p.W))
	}
	r.ctrl.L2.B.W[0] = float32(math.NaN())
	_, err = r.Train(context.Background())
	if err == nil || !strings.Contains(err.Error(), "controller: non-finite output") || !strings.Contains(err.Error(), "step 1") {
		t.Fatalf("err = %v, want a controller error at step 1", err)
	}
	for i, p := range r.Model.Params() {
		if !slices.Equal(p.W, before[i]) {
			t.Fatalf("%s changed although the controller failed", p.Name)
		}
	}
}

// TestTrustRegionBinds: with a tiny trust ratio every covered tensor is bound every step, and the
// metrics say so; with a huge one none is.
func TestTrustRegionBinds(t *testing.T) {
	for _, c := range []struct {
		mode  string
		ratio float64
		want  float64
	}{{"layer", 1e-6, 1}, {"global", 1e-6, 1}, {"layer", 1e6, 0}} {
		r := runTiny(t, 3, func(cf *Config, m *model.Config) { cf.TrustRegion, cf.TrustRatio = c.mode, c.ratio })
		for _, m := range r.log.metrics {
			if m.Split == "train" && m.TrustBound != c.want {
				t.Errorf("%s %g: step %d bound fraction %v, want %v", c.mode, c.ratio, m.Step, m.TrustBound, c.want)
			}
		}
	}
}
