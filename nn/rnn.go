package nn

import (
	"fmt"
	"math"

	"tern/kernels"
	"tern/quant"
	"tern/tensor"
)

// Multi-layer LSTM (https://www.bioinf.jku.at/publications/older/2604.pdf) and GRU
// (https://arxiv.org/abs/1406.1078) with PyTorch's gate conventions, batch-first:
//
//	LSTM, gates i,f,g,o:  [i f g o] = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh; i,f,o = σ(.), g = tanh(.)
//	                      c' = f·c + i·g,  h' = o·tanh(c')
//	GRU, gates r,z,n:     r = σ(x·W_irᵀ + b_ir + h·W_hrᵀ + b_hr),  z likewise
//	                      n = tanh(x·W_inᵀ + b_in + r·(h·W_hnᵀ + b_hn)),  h' = (1-z)·n + z·h
//
// Input projections for all T steps are one GEMM per layer; only h·W_hhᵀ runs step by step. Gate
// nonlinearities run as vector passes (kernels.SigmoidInPlace/TanhInPlace, ~1e-7 absolute error).
//
// Truncated BPTT: Forward takes the initial state (h0, c0; nil = zeros) and returns the final state,
// which the caller carries into the next window. Backward treats the initial state as a constant, so
// gradients stop at the window boundary and never flow into the carried state (nor from the returned
// final state: only dout on the outputs is back-propagated). Forward does not keep the initial state by
// reference: it copies it, so the caller may overwrite h0 with hN right away.
//
// Init as PyTorch: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)). No inter-layer dropout.
//
// Quantized gate projections (SetQuantized, what --linear bitnet means for an RNN): both products,
// x·W_ihᵀ and h·W_hhᵀ, follow BitLinear's rule. Each weight matrix is quantized at its width (ternary
// absmean by default, or a quant.Width) and each input row, x_t and every step's h_{t-1}, to int8
// absmax; the gates use the dequantized values, and backward is the straight-through estimator:
// gradients computed for the quantized W and inputs are applied to the latent fp32 ones. Biases and
// the gate nonlinearities stay fp32, as BitLinear's bias does.

type rnnLayer struct {
	Wih, Whh, Bih, Bhh *Param // (G·H, in), (G·H, H), (G·H), (G·H); G = 4 (LSTM) or 3 (GRU)

	Quant              bool        // quantized gate projections (BitLinear's rule, see above)
	WidthIH, WidthHH   quant.Width // widths of W_ih and W_hh when Quant (zero value: ternary)
	PerRowIH, PerRowHH bool        // per-row steps (n-bit widths)
	// FixedIH, FixedHH (n-bit widths): use these steps instead of computing them from the weights, as
	// BitLinear.FixedSteps: a model loaded from a packed file reproduces the stored codes exactly.
	FixedIH, FixedHH []float32

	in    int
	wih   []float32 // (G·H, in) the W_ih of the last forward: Wih.W, or its quantized copy
	whh   []float32 // (G·H, H) likewise
	rec   recurrent // the per-time-step products with whh (packed once per pass in bf16)
	xin   []float32 // (B, T, in) the input rows the gates saw: inp, or its int8 fake-quantization
	hin   []float32 // (B, T, H) likewise for hprev
	wq    []float32 // (G·H, in + H) quantized copies of W_ih and W_hh
	codes []uint8   // scratch for quant.Width.FakeQuant
	steps []float32
	xq    []int8    // (B·T·max(in, H)) int8 scratch
	xg    []float32 // (B·T) scales
	inp   []float32 // (B, T, in) referenced
	gates []float32 // (B, T, G·H) activated gates (LSTM: i f g o; GRU: r z n)
	hg    []float32 // (B, T, 3H) GRU only: h·W_hhᵀ + b_hh (needed for the n gate's backward)
	c     []float32 // (B, T, H) LSTM cell states
	tc    []float32 // (B, T, H) LSTM tanh(c)
	hprev []float32 // (B, T, H) h_{t-1} for every step (h0 at t = 0)
	cprev []float32 // (B, H) LSTM c0
	out   []float32 // (B, T, H)
	dg    []float32 // (B, T, G·H) gate pre-activation gradients (GRU: input side)
	dhg   []float32 // (B, T, 3H) GRU: gradient of h·W_hhᵀ + b_hh
	dx    []float32 // (B, T, in)
}

func newRNNLayer(name string, in, h, g int, rng *tensor.RNG) rnnLayer {
	l := rnnLayer{
		Wih: NewParam(name+".weight_ih", g*h, in), Whh: NewParam(name+".weight_hh", g*h, h),
		Bih: NewParam(name+".bias_ih", g*h), Bhh: NewParam(name+".bias_hh", g*h), in: in,
	}
	k := 1 / math.Sqrt(float64(h))
	for _, p := range []*Param{l.Wih, l.Whh, l.Bih, l.Bhh} {
		rng.FillUniform(p.W, -k, k)
	}
	return l
}

func (l *rnnLayer) params() []*Param { return []*Param{l.Wih, l.Whh, l.Bih, l.Bhh} }

func (l *rnnLayer) quantSlots() []QuantSlot {
	gh := l.Wih.Shape[0]
	return []QuantSlot{
		{W: l.Wih, Width: &l.WidthIH, PerRow: &l.PerRowIH, FixedSteps: &l.FixedIH, Rows: gh, Cols: l.in},
		{W: l.Whh, Width: &l.WidthHH, PerRow: &l.PerRowHH, FixedSteps: &l.FixedHH, Rows: gh, Cols: l.Whh.Shape[1]},
	}
}

// begin prepares a layer's forward over inp (n rows): the weights and input rows the gates use.
func (l *rnnLayer) begin(inp []float32, n int) {
	l.inp = inp
	if !l.Quant {
		l.wih, l.whh, l.xin, l.hin = l.Wih.W, l.Whh.W, inp, l.hprev
		return
	}
	gh, h := l.Wih.Shape[0], l.Whh.Shape[1]
	l.wq = tensor.Grow(l.wq, gh*(l.in+h))
	l.wih, l.whh = l.wq[:gh*l.in], l.wq[gh*l.in:]
	l.codes = tensor.Grow(l.codes, gh*max(l.in, h))
	if l.FixedIH != nil {
		l.WidthIH.FakeQuantFixed(l.wih, l.codes, l.FixedIH, l.Wih.W, gh, l.in)
	} else {
		l.steps = l.WidthIH.FakeQuant(l.wih, l.codes, l.steps, l.Wih.W, gh, l.in, l.PerRowIH)
	}
	if l.FixedHH != nil {
		l.WidthHH.FakeQuantFixed(l.whh, l.codes, l.FixedHH, l.Whh.W, gh, h)
	} else {
		l.steps = l.WidthHH.FakeQuant(l.whh, l.codes, l.steps, l.Whh.W, gh, h, l.PerRowHH)
	}
	l.xin = tensor.Grow(l.xin, n*l.in)
	l.hin = tensor.Grow(l.hin, n*h)
	l.xq = tensor.Grow(l.xq, n*max(l.in, h))
	l.xg = tensor.Grow(l.xg, n)
	fakeInt8Rows(l.xin, l.xq, l.xg, inp, n, l.in)
}

// stepInput returns the rows h_{s-1} (strided by T·H) that step s multiplies by W_hhᵀ, quantizing
// them first when Quant.
func (l *rnnLayer) stepInput(s, b, t, h int) []float32 {
	if l.Quant {
		for bi := 0; bi < b; bi++ {
			r := bi*t + s
			fakeInt8Rows(l.hin[r*h:r*h+h], l.xq[:h], l.xg[:1], l.hprev[r*h:r*h+h], 1, h)
		}
	}
	return l.hin[s*h:]
}

// inputGrads adds the parameter gradients that do not depend on time order and returns dx.
//
//	W_ih.G += dgᵀ·inp, b_ih.G += Σ dg; W_hh.G += dhgᵀ·hprev, b_hh.G += Σ dhg; dx = dg·W_ih
//
// (inp, hprev and W_ih as the gates saw them: quantized when Quant).
func (l *rnnLayer) inputGrads(dg, dhg []float32, n, gh, h int) []float32 {
	Matmul(true, false, gh, l.in, n, 1, dg, gh, l.xin, l.in, 1, l.Wih.Grad(), l.in)
	biasGrad(l.Bih.Grad(), dg, n, gh)
	Matmul(true, false, gh, h, n, 1, dhg, gh, l.hin, h, 1, l.Whh.Grad(), h)
	biasGrad(l.Bhh.Grad(), dhg, n, gh)
	l.dx = tensor.Grow(l.dx, n*l.in)
	Matmul(false, false, n, l.in, gh, 1, dg, gh, l.wih, l.in, 0, l.dx, l.in)
	return l.dx
}

func checkRNN(kind, name string, in, h, layers int) {
	if in <= 0 || h <= 0 || layers <= 0 {
		panic(fmt.Sprintf("nn: New%s %s: in=%d hidden=%d layers=%d must be positive", kind, name, in, h, layers))
	}
}

func checkState(kind, what string, s []float32, want int) {
	if s != nil && len(s) != want {
		panic(fmt.Sprintf("nn: %s: %s has %d elements, want (L,B,H) = %d", kind, what, len(s), want))
	}
}

// ---------------------------------------------------------------------------------------------------

// LSTM is a stack of LSTM layers, batch-first.
type LSTM struct {
	Layers []rnnLayer // parameters per layer, names name+".l{k}.weight_ih" etc.

	h      int
	b, t   int
	hN, cN []float32 // (L, B, H)
	dh, dc []float32 // (B, H) scratch
}

// NewLSTM returns a layers-deep LSTM from in to hidden features (nil rng: seeded from name).
func NewLSTM(name string, in, hidden, layers int, rng *tensor.RNG) *LSTM {
	return &LSTM{h: hidden, Layers: newRNNLayers("LSTM", name, in, hidden, layers, 4, rng)}
}

// Hidden is H.
func (m *LSTM) Hidden() int { return m.h }

// Params returns each layer's W_ih, W_hh, b_ih, b_hh.
func (m *LSTM) Params() []*Param { return rnnParams(m.Layers) }

// SetQuantized turns quantized gate projections on or off in every layer.
func (m *LSTM) SetQuantized(on bool) { setQuant(m.Layers, on) }

// QuantSlots returns each layer's W_ih and W_hh (meaningful when quantized).
func (m *LSTM) QuantSlots() []QuantSlot { return rnnSlots(m.Layers) }

// Forward runs x (B,T,In) from state h0, c0 (L,B,H; nil = zeros) and returns the top layer's outputs
// (B,T,H) and the final state hN, cN (L,B,H), all owned by the layer.
func (m *LSTM) Forward(x []float32, b, t int, h0, c0 []float32) (out, hN, cN []float32) {
	L, H := len(m.Layers), m.h
	need("LSTM", "x", len(x), b*t*m.Layers[0].in)
	checkState("LSTM", "h0", h0, L*b*H)
	checkState("LSTM", "c0", c0, L*b*H)
	m.b, m.t = b, t
	m.hN, m.cN = tensor.Grow(m.hN, L*b*H), tensor.Grow(m.cN, L*b*H)
	inp := x[:b*t*m.Layers[0].in]
	for k := range m.Layers {
		l := &m.Layers[k]
		n, gh := b*t, 4*H
		l.inp = inp
		l.gates, l.c, l.hprev, l.out = tensor.Grow(l.gates, n*gh), tensor.Grow(l.c, n*H), tensor.Grow(l.hprev, n*H), tensor.Grow(l.out, n*H)
		l.tc = tensor.Grow(l.tc, n*H)
		l.cprev = tensor.Grow(l.cprev, b*H)
		for bi := 0; bi < b; bi++ { // step 0's previous state
			hp, cp := l.hprev[bi*t*H:bi*t*H+H], l.cprev[bi*H:bi*H+H]
			if h0 != nil {
				copy(hp, h0[(k*b+bi)*H:])
			} else {
				clear(hp)
			}
			if c0 != nil {
				copy(cp, c0[(k*b+bi)*H:(k*b+bi)*H+H])
			} else {
				clear(cp)
			}
		}
		l.begin(inp, n)
		Matmul(false, true, n, gh, l.in, 1, l.xin, l.in, l.wih, l.in, 0, l.gates, gh)
		for r := 0; r < n; r++ {
			row := l.gates[r*gh : r*gh+gh]
			for j := range row {
				row[j] += l.Bih.W[j] + l.Bhh.W[j]
			}
		}
		l.rec.prepare(true, gh, H, l.whh, H)
		for s := 0; s < t; s++ {
			// gates_s += h_{s-1}·W_hhᵀ, rows strided by T
			l.rec.mul(b, 1, l.stepInput(s, b, t, H), t*H, 1, l.gates[s*gh:], t*gh)
			for bi := 0; bi < b; bi++ {
				r := bi*t + s
				g := l.gates[r*gh : r*gh+gh]
				var cp []float32
				if s == 0 {
					cp = l.cprev[bi*H : bi*H+H]
				} else {
					cp = l.c[(r-1)*H : (r-1)*H+H]
				}
				c, tc, h := l.c[r*H:r*H+H], l.tc[r*H:r*H+H], l.out[r*H:r*H+H]
				kernels.SigmoidInPlace(g[:2*H]) // i, f
				kernels.TanhInPlace(g[2*H : 3*H])
				kernels.SigmoidInPlace(g[3*H:]) // o
				for j := 0; j < H; j++ {
					c[j] = g[H+j]*cp[j] + g[j]*g[2*H+j]
				}
				copy(tc, c)
				kernels.TanhInPlace(tc)
				for j := 0; j < H; j++ {
					h[j] = g[3*H+j] * tc[j]
				}
				if s+1 < t {
					copy(l.hprev[(r+1)*H:(r+1)*H+H], h)
				}
			}
		}
		for bi := 0; bi < b; bi++ {
			r := bi*t + t - 1
			copy(m.hN[(k*b+bi)*H:(k*b+bi)*H+H], l.out[r*H:r*H+H])
			copy(m.cN[(k*b+bi)*H:(k*b+bi)*H+H], l.c[r*H:r*H+H])
		}
		inp = l.out
	}
	return m.Layers[L-1].out, m.hN, m.cN
}

// Backward returns dx (B,T,In) for dout (B,T,H) on the last Forward's outputs and adds into every
// layer's parameter gradients (truncated BPTT: nothing flows into h0, c0).
func (m *LSTM) Backward(dout []float32) []float32 {
	b, t, H := m.b, m.t, m.h
	n, gh := b*t, 4*H
	need("LSTM", "dout", len(dout), n*H)
	m.dh, m.dc = tensor.Grow(m.dh, b*H), tensor.Grow(m.dc, b*H)
	d := dout[:n*H]
	for k := len(m.Layers) - 1; k >= 0; k-- {
		l := &m.Layers[k]
		l.dg = tensor.Grow(l.dg, n*gh)
		clear(m.dh)
		clear(m.dc)
		l.rec.prepare(false, H, gh, l.whh, H)
		for s := t - 1; s >= 0; s-- {
			for bi := 0; bi < b; bi++ {
				r := bi*t + s
				g, dg := l.gates[r*gh:r*gh+gh], l.dg[r*gh:r*gh+gh]
				var cp []float32
				if s == 0 {
					cp = l.cprev[bi*H : bi*H+H]
				} else {
					cp = l.c[(r-1)*H : (r-1)*H+H]
				}
				tcr, dh, dc := l.tc[r*H:r*H+H], m.dh[bi*H:bi*H+H], m.dc[bi*H:bi*H+H]
				for j := 0; j < H; j++ {
					ig, fg, gg, og := g[j], g[H+j], g[2*H+j], g[3*H+j]
					dht := d[r*H+j] + dh[j]
					tc := tcr[j]
					dct := dc[j] + dht*og*(1-tc*tc)
					dg[j] = dct * gg * ig * (1 - ig)
					dg[H+j] = dct * cp[j] * fg * (1 - fg)
					dg[2*H+j] = dct * ig * (1 - gg*gg)
					dg[3*H+j] = dht * tc * og * (1 - og)
					dc[j] = dct * fg
				}
			}
			// dh_{s-1} = dgates_s · W_hh
			l.rec.mul(b, 1, l.dg[s*gh:], t*gh, 0, m.dh, H)
		}
		d = l.inputGrads(l.dg, l.dg, n, gh, H)
	}
	return d
}

// ---------------------------------------------------------------------------------------------------

// GRU is a stack of GRU layers, batch-first.
type GRU struct {
	Layers []rnnLayer // parameters per layer, names name+".l{k}.weight_ih" etc.

	h    int
	b, t int
	hN   []float32 // (L, B, H)
	dh   []float32 // (B, H) scratch
}

// NewGRU returns a layers-deep GRU from in to hidden features (nil rng: seeded from name).
func NewGRU(name string, in, hidden, layers int, rng *tensor.RNG) *GRU {
	return &GRU{h: hidden, Layers: newRNNLayers("GRU", name, in, hidden, layers, 3, rng)}
}

// Hidden is H.
func (m *GRU) Hidden() int { return m.h }

// Params returns each layer's W_ih, W_hh, b_ih, b_hh.
func (m *GRU) Params() []*Param { return rnnParams(m.Layers) }

// SetQuantized turns quantized gate projections on or off in every layer.
func (m *GRU) SetQuantized(on bool) { setQuant(m.Layers, on) }

// QuantSlots returns each layer's W_ih and W_hh (meaningful when quantized).
func (m *GRU) QuantSlots() []QuantSlot { return rnnSlots(m.Layers) }

// Forward runs x (B,T,In) from state h0 (L,B,H; nil = zeros) and returns the top layer's outputs
// (B,T,H) and the final state hN (L,B,H), owned by the layer.
func (m *GRU) Forward(x []float32, b, t int, h0 []float32) (out, hN []float32) {
	L, H := len(m.Layers), m.h
	need("GRU", "x", len(x), b*t*m.Layers[0].in)
	checkState("GRU", "h0", h0, L*b*H)
	m.b, m.t = b, t
	m.hN = tensor.Grow(m.hN, L*b*H)
	inp := x[:b*t*m.Layers[0].in]
	for k := range m.Layers {
		l := &m.Layers[k]
		n, gh := b*t, 3*H
		l.inp = inp
		l.gates, l.hg, l.hprev, l.out = tensor.Grow(l.gates, n*gh), tensor.Grow(l.hg, n*gh), tensor.Grow(l.hprev, n*H), tensor.Grow(l.out, n*H)
		for bi := 0; bi < b; bi++ {
			hp := l.hprev[bi*t*H : bi*t*H+H]
			if h0 != nil {
				copy(hp, h0[(k*b+bi)*H:])
			} else {
				clear(hp)
			}
		}
		l.begin(inp, n)
		Matmul(false, true, n, gh, l.in, 1, l.xin, l.in, l.wih, l.in, 0, l.gates, gh)
		addBias(l.gates, l.Bih.W, n, gh)
		l.rec.prepare(true, gh, H, l.whh, H)
		for s := 0; s < t; s++ {
			l.rec.mul(b, 1, l.stepInput(s, b, t, H), t*H, 0, l.hg[s*gh:], t*gh)
			for bi := 0; bi < b; bi++ {
				r := bi*t + s
				g, hg := l.gates[r*gh:r*gh+gh], l.hg[r*gh:r*gh+gh]
				hp, h := l.hprev[r*H:r*H+H], l.out[r*H:r*H+H]
				for j := 0; j < gh; j++ {
					hg[j] += l.Bhh.W[j]
				}
				for j := 0; j < 2*H; j++ {
					g[j] += hg[j]
				}
				kernels.SigmoidInPlace(g[:2*H]) // r, z
				for j := 0; j < H; j++ {
					g[2*H+j] += g[j] * hg[2*H+j]
				}
				kernels.TanhInPlace(g[2*H:]) // n
				for j := 0; j < H; j++ {
					zg := g[H+j]
					h[j] = (1-zg)*g[2*H+j] + zg*hp[j]
				}
				if s+1 < t {
					copy(l.hprev[(r+1)*H:(r+1)*H+H], h)
				}
			}
		}
		for bi := 0; bi < b; bi++ {
			r := bi*t + t - 1
			copy(m.hN[(k*b+bi)*H:(k*b+bi)*H+H], l.out[r*H:r*H+H])
		}
		inp = l.out
	}
	return m.Layers[L-1].out, m.hN
}

// Backward returns dx (B,T,In) for dout (B,T,H) on the last Forward's outputs and adds into every
// layer's parameter gradients (truncated BPTT: nothing flows into h0).
func (m *GRU) Backward(dout []float32) []float32 {
	b, t, H := m.b, m.t, m.h
	n, gh := b*t, 3*H
	need("GRU", "dout", len(dout), n*H)
	m.dh = tensor.Grow(m.dh, b*H)
	d := dout[:n*H]
	for k := len(m.Layers) - 1; k >= 0; k-- {
		l := &m.Layers[k]
		l.dg, l.dhg = tensor.Grow(l.dg, n*gh), tensor.Grow(l.dhg, n*gh)
		clear(m.dh)
		l.rec.prepare(false, H, gh, l.whh, H)
		for s := t - 1; s >= 0; s-- {
			for bi := 0; bi < b; bi++ {
				r := bi*t + s
				g, hg := l.gates[r*gh:r*gh+gh], l.hg[r*gh:r*gh+gh]
				dg, dhg := l.dg[r*gh:r*gh+gh], l.dhg[r*gh:r*gh+gh]
				hp, dh := l.hprev[r*H:r*H+H], m.dh[bi*H:bi*H+H]
				for j := 0; j < H; j++ {
					rg, zg, ng := g[j], g[H+j], g[2*H+j]
					dht := d[r*H+j] + dh[j]
					dan := dht * (1 - zg) * (1 - ng*ng) // through n's tanh
					dar := dan * hg[2*H+j] * rg * (1 - rg)
					daz := dht * (hp[j] - ng) * zg * (1 - zg)
					dg[j], dg[H+j], dg[2*H+j] = dar, daz, dan
					dhg[j], dhg[H+j], dhg[2*H+j] = dar, daz, dan*rg
					dh[j] = dht * zg // direct path h' = ... + z·h
				}
			}
			// dh_{s-1} += dhg_s · W_hh
			l.rec.mul(b, 1, l.dhg[s*gh:], t*gh, 1, m.dh, H)
		}
		d = l.inputGrads(l.dg, l.dhg, n, gh, H)
	}
	return d
}

// newRNNLayers builds the layers of an LSTM (4 gates) or GRU (3): the first from in features, the
// rest from hidden (nil rng: seeded from name).
func newRNNLayers(kind, name string, in, hidden, layers, gates int, rng *tensor.RNG) []rnnLayer {
	checkRNN(kind, name, in, hidden, layers)
	if rng == nil {
		rng = tensor.NewRNG(fnv64(name))
	}
	ls := make([]rnnLayer, 0, layers)
	for k := 0; k < layers; k++ {
		lin := in
		if k > 0 {
			lin = hidden
		}
		ls = append(ls, newRNNLayer(fmt.Sprintf("%s.l%d", name, k), lin, hidden, gates, rng))
	}
	return ls
}

// rnnParams lists each layer's W_ih, W_hh, b_ih, b_hh.
func rnnParams(ls []rnnLayer) []*Param {
	var ps []*Param
	for k := range ls {
		ps = append(ps, ls[k].params()...)
	}
	return ps
}

func setQuant(ls []rnnLayer, on bool) {
	for k := range ls {
		ls[k].Quant = on
	}
}

func rnnSlots(ls []rnnLayer) []QuantSlot {
	var out []QuantSlot
	for k := range ls {
		out = append(out, ls[k].quantSlots()...)
	}
	return out
}
