package optim

import (
	"fmt"
	"math"

	"tern/nn"
)

// Delta measures and bounds the update an optimizer step applies. Before the step it copies the
// weights; after it, the applied update u = W_after − W_before replaces the copy, optionally scaled
// into a trust region first. The update it keeps is what the step-size controller's hypergradient
// needs at the next step (the gradient there dotted with this update).
//
// Trust regions (LAMB, https://arxiv.org/abs/1904.00962, applied to the finished AdamW step):
// "layer" bounds each matrix's update norm by Ratio·‖W‖ (‖W‖ before the step); "global" bounds the
// whole step by Ratio times the norm of all matrices. Only tensors of rank >= 2 are bounded (norm
// gains and biases start at 1 and 0: a ratio bound would freeze the zero ones), and a tensor whose
// norm is 0 is left alone for the same reason.
type Delta struct {
	Params []*nn.Param
	U      []float32 // the weights before the step, then the applied update; params in order
	Bound  []bool    // per param: whether the trust region scaled its last update
	// Trace, when set (EnableTrace), is the decayed sum of the applied updates, T = λ·T + u after
	// every step, and Dots measures the gradient against it instead of against the last update:
	// the controller's hypergradient over a horizon of about 1/(1-λ) steps (see Controller).
	Trace []float32
	Decay float64 // λ
	off   []int
}

// EnableTrace makes Dots use the decayed sum of updates with factor lambda in (0, 1).
func (d *Delta) EnableTrace(lambda float64) {
	d.Trace, d.Decay = make([]float32, len(d.U)), lambda
}

// NewDelta tracks the updates of ps (unique, in optimizer order).
func NewDelta(ps []*nn.Param) *Delta {
	d := &Delta{Params: ps, Bound: make([]bool, len(ps))}
	n := 0
	for _, p := range ps {
		d.off = append(d.off, n)
		n += len(p.W)
	}
	d.U = make([]float32, n)
	return d
}

func (d *Delta) slab(i int) []float32 { return d.U[d.off[i] : d.off[i]+len(d.Params[i].W)] }

// Before copies the weights; call it just before the optimizer step.
func (d *Delta) Before() {
	for i, p := range d.Params {
		copy(d.slab(i), p.W)
	}
}

// TrustStats describes one step's update: how many tensors the trust region bound (of how many it
// covers) and the update-to-weight norm ratio ‖u‖/‖W‖ over all tensors, after bounding.
type TrustStats struct {
	Bound, Covered int
	UpdateRatio    float64
}

// ValidateTrust checks a trust-region mode and ratio ("" or "none" is off).
func ValidateTrust(mode string, ratio float64) error {
	switch mode {
	case "", "none":
		return nil
	case "layer", "global":
		if !(ratio > 0) || math.IsInf(ratio, 0) {
			return fmt.Errorf("trust region %s needs a trust ratio > 0 (got %g)", mode, ratio)
		}
		return nil
	}
	return fmt.Errorf("unknown trust region %q (want none, layer or global)", mode)
}

// After turns the copy into the applied update, first scaling it into the trust region given by
// mode and ratio (see Delta): W = W_before + s·u with s = ratio·‖W_before‖/‖u‖ where that is < 1.
// With mode "" or "none" the weights are not touched.
func (d *Delta) After(mode string, ratio float64) TrustStats {
	var st TrustStats
	un := make([]float64, len(d.Params)) // ‖u‖² and ‖W_before‖² per tensor
	wn := make([]float64, len(d.Params))
	var uCov, wCov, wAll float64
	for i, p := range d.Params {
		old := d.slab(i)
		var su, sw float64
		for j, w := range p.W {
			u := w - old[j]
			su += float64(u) * float64(u)
			sw += float64(old[j]) * float64(old[j])
		}
		un[i], wn[i] = su, sw
		wAll += sw
		if len(p.Shape) >= 2 {
			uCov += su
			wCov += sw
		}
	}
	gs := 1.0
	if mode == "global" && wCov > 0 && math.Sqrt(uCov) > ratio*math.Sqrt(wCov) {
		gs = ratio * math.Sqrt(wCov) / math.Sqrt(uCov)
	}
	var uAll float64
	for i, p := range d.Params {
		s := 1.0
		d.Bound[i] = false
		if (mode == "layer" || mode == "global") && len(p.Shape) >= 2 && wn[i] > 0 {
			st.Covered++
			if mode == "global" {
				s = gs
			} else if math.Sqrt(un[i]) > ratio*math.Sqrt(wn[i]) {
				s = ratio * math.Sqrt(wn[i]) / math.Sqrt(un[i])
			}
		}
		u := d.slab(i)
		if s < 1 {
			d.Bound[i] = true
			st.Bound++
			s32 := float32(s)
			for j, w := range p.W {
				old := u[j]
				u[j] = (w - old) * s32
				p.W[j] = old + u[j]
			}
		} else {
			for j, w := range p.W {
				u[j] = w - u[j]
			}
		}
		for _, x := range u {
			uAll += float64(x) * float64(x)
		}
		if d.Trace != nil {
			tr, lam := d.Trace[d.off[i]:d.off[i]+len(u)], float32(d.Decay)
			for j, x := range u {
				tr[j] = lam*tr[j] + x
			}
		}
	}
	if wAll > 0 {
		st.UpdateRatio = math.Sqrt(uAll) / math.Sqrt(wAll)
	}
	return st
}

// Dots returns the dot products of the current gradients with the last applied update (with the
// trace of updates when EnableTrace was called), split by whether the trust region bound the tensor
// (bound) or the learning rate set its step (free), and the norms of all gradients and of that
// update. float64 sums in parameter order: deterministic.
func (d *Delta) Dots() (free, bound, gNorm, uNorm float64) {
	var gg, uu float64
	for i, p := range d.Params {
		u := d.slab(i)
		if d.Trace != nil {
			u = d.Trace[d.off[i] : d.off[i]+len(p.W)]
		}
		var s float64
		for j, g := range p.G {
			s += float64(g) * float64(u[j])
			gg += float64(g) * float64(g)
			uu += float64(u[j]) * float64(u[j])
		}
		if d.Bound[i] {
			bound += s
		} else {
			free += s
		}
	}
	return free, bound, math.Sqrt(gg), math.Sqrt(uu)
}
