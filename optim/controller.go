package optim

import (
	"fmt"
	"math"

	"tern/nn"
	"tern/tensor"
)

// Controller is the learned step-size controller (`tern train --controller aux`): a small MLP
// (Linear 8→16, GELU, Linear 16→2, from package nn) maps the step's training signals to a
// learning-rate multiplier m = exp(MaxLogMult·tanh(z₀)) and a trust-radius multiplier
// ρ = exp(MaxLogRadius·tanh(z₁)), both bounded and both exactly 1 at z = 0 (the output layer starts
// at zero, so a fresh controller is plain AdamW).
//
// What it learns from: the hypergradient of the next loss with respect to the log learning rate
// (Baydin et al., https://arxiv.org/abs/1703.04782). The step W_{t+1} = W_t + u_t scales with the
// step's learning rate, so ∂L(W_{t+1})/∂log η_t = g_{t+1}·u_t: the next gradient dotted with the
// applied update. It is measured exactly, on the real objective, one step later and at the cost of
// one dot product, whereas regression on the realized loss decrease would have to separate the
// step's effect from minibatch noise in the loss itself. We use it normalised, as the cosine
// g_{t+1}·u_t/(‖g‖‖u‖): the raw value spans orders of magnitude over a run, the sign and the
// alignment are what say "longer" or "shorter". Tensors the trust region bound took a step set by
// the radius, not the learning rate, so their share of the dot trains the radius output instead.
// Gradient descent on θ with ∂J/∂θ = cos_free·∂log m/∂θ + cos_bound·∂log ρ/∂θ, by the controller's
// own AdamW (learning rate LR; 0 freezes it).
type Controller struct {
	L1, L2 *nn.Linear
	Act    nn.GELU
	Opt    *AdamW
	LR     float64 // the controller's own learning rate

	MaxLogMult, MaxLogRadius float64 // output bounds: m ∈ [e^-a, e^a], ρ ∈ [e^-b, e^b]

	State ControllerState
}

// ControllerInputs is the input width: see Signals.
const ControllerInputs = 8

// Signals are the training signals of one step, before its update.
type Signals struct {
	Loss     float64 // the step's training loss
	GradNorm float64 // global gradient norm before clipping
	Cluster  float64 // the step's majority cluster id / k (0 without clusters)
	StepFrac float64 // step / total steps
	LRFrac   float64 // the schedule's learning rate / its peak
	TrustOn  bool    // whether a trust region uses the radius output
}

// ControllerState is what the controller carries between steps (and in checkpoints).
type ControllerState struct {
	Steps       int       `json:"steps"`         // decisions made
	Loss0       float64   `json:"loss0"`         // the first step's loss (normalises the loss input)
	LossEMA     float64   `json:"loss_ema"`      // EMA of the loss (β 0.9)
	LogGNormEMA float64   `json:"log_gnorm_ema"` // EMA of log ‖g‖
	LogGNormVar float64   `json:"log_gnorm_var"` // EMA of its squared deviation
	UpdateRatio float64   `json:"update_ratio"`  // ‖u‖/‖W‖ of the last applied update
	Input       []float32 `json:"input"`         // the last decision's input
	TrustOn     bool      `json:"trust_on"`      // whether the last decision's radius was used
}

// NewController returns a controller with seeded first-layer weights and a zero output layer.
func NewController(seed uint64, lr float64) *Controller {
	rng := tensor.NewRNG(seed)
	c := &Controller{LR: lr, MaxLogMult: math.Log(4), MaxLogRadius: math.Log(2)}
	c.L1 = nn.NewLinear("controller.l1", ControllerInputs, 16, true, rng)
	rng.FillNormal(c.L1.W.W, 1/math.Sqrt(ControllerInputs)) // inputs are O(1): keep the hidden layer out of GELU's flat part
	c.L2 = nn.NewLinear("controller.l2", 16, 2, true, rng)
	clear(c.L2.W.W)
	c.Opt = NewAdamW(c.Params(), nil)
	return c
}

// Params lists the controller's weights (checkpoint order).
func (c *Controller) Params() []*nn.Param { return append(c.L1.Params(), c.L2.Params()...) }

// forward returns z (2) for one input row.
func (c *Controller) forward(x []float32) []float32 {
	return c.L2.Forward(c.Act.Forward(c.L1.Forward(x, 1), 16), 1)
}

// Outputs maps z to the multiplier and the radius factor.
func (c *Controller) Outputs(z []float32) (mult, radius float64) {
	return math.Exp(c.MaxLogMult * math.Tanh(float64(z[0]))), math.Exp(c.MaxLogRadius * math.Tanh(float64(z[1])))
}

// backward adds ∂J/∂θ for J = cFree·log m + cBound·log ρ at the last forward's input.
func (c *Controller) backward(z []float32, cFree, cBound float64) {
	t0, t1 := math.Tanh(float64(z[0])), math.Tanh(float64(z[1]))
	dz := []float32{float32(cFree * c.MaxLogMult * (1 - t0*t0)), float32(cBound * c.MaxLogRadius * (1 - t1*t1))}
	c.L1.Backward(c.Act.Backward(c.L2.Backward(dz)))
}

// Learn takes one controller step from the hypergradient of its last decision: free and bound are
// the current gradient's dots with the last update over the tensors the learning rate and the
// trust radius set, gNorm and uNorm the two norms (Delta.Dots). Nothing happens before the first
// decision, with a zero norm, or with LR 0.
func (c *Controller) Learn(free, bound, gNorm, uNorm float64) {
	st := &c.State
	if st.Input == nil || c.LR == 0 || !(gNorm > 0) || !(uNorm > 0) {
		return
	}
	cFree, cBound := free/(gNorm*uNorm), bound/(gNorm*uNorm)
	if !st.TrustOn {
		cBound = 0
	}
	if math.IsNaN(cFree) || math.IsNaN(cBound) {
		return // the training loop stops on non-finite gradients itself
	}
	for _, p := range c.Params() {
		clear(p.G)
	}
	z := c.forward(st.Input) // recomputed: cheap, and the same after a resume
	c.backward(z, cFree, cBound)
	c.Opt.Update(c.LR, 0)
}

// Decide updates the running signals with this step's and returns the learning-rate multiplier and
// the trust-radius factor for it. A non-finite output is an error: the caller must not step.
func (c *Controller) Decide(s Signals) (mult, radius float64, err error) {
	st := &c.State
	lg := math.Log(math.Max(s.GradNorm, 1e-30))
	if st.Steps == 0 {
		st.Loss0, st.LossEMA, st.LogGNormEMA = s.Loss, s.Loss, lg
	}
	st.Steps++
	trend := s.Loss - st.LossEMA
	dev := lg - st.LogGNormEMA
	st.LossEMA = 0.9*st.LossEMA + 0.1*s.Loss
	st.LogGNormEMA = 0.9*st.LogGNormEMA + 0.1*lg
	st.LogGNormVar = 0.9*st.LogGNormVar + 0.1*dev*dev
	ur := 0.0
	if st.UpdateRatio > 0 {
		ur = math.Log10(st.UpdateRatio) + 3 // ~1e-3 is typical: centre it on 0
	}
	l0 := st.Loss0
	if !(l0 > 0) {
		l0 = 1
	}
	x := []float32{float32(s.Loss / l0), float32(trend), float32(dev), float32(math.Sqrt(st.LogGNormVar)),
		float32(ur), float32(s.Cluster), float32(s.StepFrac), float32(s.LRFrac)}
	st.Input = append(st.Input[:0], x...)
	st.TrustOn = s.TrustOn
	z := c.forward(x)
	mult, radius = c.Outputs(z)
	if math.IsNaN(mult) || math.IsInf(mult, 0) || math.IsNaN(radius) || math.IsInf(radius, 0) {
		return 0, 0, fmt.Errorf("controller: non-finite output (lr multiplier %v, trust radius %v) from inputs %v", mult, radius, x)
	}
	return mult, radius, nil
}
