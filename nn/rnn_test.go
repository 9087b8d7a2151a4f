package nn

import (
	"fmt"
	"math"
	"testing"

	"tern/quant"
	"tern/tensor"
)

func sig64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// rnnRef is a float64 step-by-step reference of a stacked LSTM (gru=false) or GRU with PyTorch's
// equations, written from the documentation independently of rnn.go's batched layout.
//
// q (nil: none) quantizes the gate projections' weights and input rows as --linear bitnet does.
func rnnRef(layers []rnnLayer, x []float32, b, t, in, h int, h0, c0 []float32, gru bool, q *refQuant) (out, hN, cN []float64) {
	cur := make([]float64, b*t*in)
	for i, v := range x {
		cur[i] = float64(v)
	}
	curIn := in
	hN, cN = make([]float64, len(layers)*b*h), make([]float64, len(layers)*b*h)
	for k := range layers {
		l := &layers[k]
		next := make([]float64, b*t*h)
		wih := q.weights(fmt.Sprint(k, "ih"), l.Wih.W, l.WidthIH)
		whh := q.weights(fmt.Sprint(k, "hh"), l.Whh.W, l.WidthHH)
		for bi := 0; bi < b; bi++ {
			hs, cs := make([]float64, h), make([]float64, h)
			for j := 0; j < h; j++ {
				if h0 != nil {
					hs[j] = float64(h0[(k*b+bi)*h+j])
				}
				if c0 != nil {
					cs[j] = float64(c0[(k*b+bi)*h+j])
				}
			}
			for s := 0; s < t; s++ {
				xs := q.int8(fmt.Sprint(k, "x", bi, s), cur[(bi*t+s)*curIn:(bi*t+s+1)*curIn])
				hq := q.int8(fmt.Sprint(k, "h", bi, s), hs)
				pre := func(row int) (xi, hh float64) {
					xi = float64(l.Bih.W[row])
					for p := 0; p < curIn; p++ {
						xi += wih[row*curIn+p] * xs[p]
					}
					hh = float64(l.Bhh.W[row])
					for p := 0; p < h; p++ {
						hh += whh[row*h+p] * hq[p]
					}
					return
				}
				nh, nc := make([]float64, h), make([]float64, h)
				for j := 0; j < h; j++ {
					if gru {
						xr, hr := pre(j)
						xz, hz := pre(h + j)
						xn, hn := pre(2*h + j)
						r, z := sig64(xr+hr), sig64(xz+hz)
						n := math.Tanh(xn + r*hn)
						nh[j] = (1-z)*n + z*hs[j]
						continue
					}
					a, e := pre(j)
					i := sig64(a + e)
					a, e = pre(h + j)
					f := sig64(a + e)
					a, e = pre(2*h + j)
					g := math.Tanh(a + e)
					a, e = pre(3*h + j)
					o := sig64(a + e)
					nc[j] = f*cs[j] + i*g
					nh[j] = o * math.Tanh(nc[j])
				}
				hs, cs = nh, nc
				copy(next[(bi*t+s)*h:], hs)
			}
			copy(hN[(k*b+bi)*h:], hs)
			copy(cN[(k*b+bi)*h:], cs)
		}
		cur, curIn = next, h
	}
	return cur, hN, cN
}

// refQuant is the reference's quantizer, in float64 from the definitions (BitNet's ternary absmean,
// the mid-rise n-bit grid, int8 absmax rows). Its first pass records each quantized tensor's offset
// q(v) - v; later passes (replay) add the recorded offsets instead of re-quantizing. That replay is the
// straight-through estimator's surrogate, x + (q(x) - x).detach(), so finite differences of a replayed
// loss check the STE gradients the layers compute.
type refQuant struct {
	offs   map[string][]float64
	replay bool
}

func newRefQuant() *refQuant { return &refQuant{offs: map[string][]float64{}} }

func (q *refQuant) apply(key string, v []float64, f func([]float64) []float64) []float64 {
	if q == nil {
		return v
	}
	out := make([]float64, len(v))
	if q.replay {
		for i, d := range q.offs[key] {
			out[i] = v[i] + d
		}
		return out
	}
	qv := f(v)
	d := make([]float64, len(v))
	for i := range v {
		d[i] = qv[i] - v[i]
	}
	q.offs[key] = d
	return qv
}

func (q *refQuant) weights(key string, w []float32, width quant.Width) []float64 {
	v := make([]float64, len(w))
	for i, x := range w {
		v[i] = float64(x)
	}
	return q.apply(key, v, func(v []float64) []float64 { return refWidth(v, width) })
}

func (q *refQuant) int8(key string, x []float64) []float64 {
	return q.apply(key, x, func(x []float64) []float64 {
		var amax float64
		for _, v := range x {
			amax = math.Max(amax, math.Abs(v))
		}
		g := 127 / math.Max(amax, 1e-5)
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = math.Max(-128, math.Min(127, math.Round(v*g))) / g
		}
		return out
	})
}

// refWidth is one matrix quantized at width w with one step, from quant/width.go's definitions.
func refWidth(v []float64, w quant.Width) []float64 {
	var mean, amax float64
	for _, x := range v {
		mean += math.Abs(x)
		amax = math.Max(amax, math.Abs(x))
	}
	mean = math.Max(mean/float64(len(v)), 1e-5)
	out := make([]float64, len(v))
	if w == quant.WidthTernary {
		for i, x := range v {
			out[i] = math.Max(-1, math.Min(1, math.Round(x/mean))) * mean
		}
		return out
	}
	b := w.Bits()
	levels := float64(int(1) << b)
	step := map[int]float64{1: 2 * mean, 2: 0.9957 / math.Sqrt(2/math.Pi) * mean, 3: 0.5860 / math.Sqrt(2/math.Pi) * mean,
		4: 0.3352 / math.Sqrt(2/math.Pi) * mean, 8: math.Max(amax, 1e-5) / 127.5}[b]
	for i, x := range v {
		u := math.Max(0, math.Min(levels-1, math.Floor(x/step)+levels/2))
		out[i] = (u - (levels-1)/2) * step
	}
	return out
}

func cmp64(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > tol {
			t.Fatalf("%s[%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}

const (
	rnnB, rnnT, rnnIn, rnnH, rnnL = 2, 4, 3, 5, 2
)

func TestLSTM(t *testing.T) {
	rng := tensor.NewRNG(30)
	m := NewLSTM("lstm", rnnIn, rnnH, rnnL, rng)
	randomizeParams(rng, m.Params(), 0.5)
	x := randn(rng, rnnB*rnnT*rnnIn, 1)
	h0 := randn(rng, rnnL*rnnB*rnnH, 0.5)
	c0 := randn(rng, rnnL*rnnB*rnnH, 0.5)
	out, hN, cN := m.Forward(x, rnnB, rnnT, h0, c0)
	ro, rh, rc := rnnRef(m.Layers, x, rnnB, rnnT, rnnIn, rnnH, h0, c0, false, nil)
	cmp64(t, "LSTM out", out, ro, 1e-5)
	cmp64(t, "LSTM hN", hN, rh, 1e-5)
	cmp64(t, "LSTM cN", cN, rc, 1e-5)

	r := randn(rng, rnnB*rnnT*rnnH, 1)
	loss := func() float64 {
		o, _, _ := m.Forward(x, rnnB, rnnT, h0, c0)
		return dot64(o, r)
	}
	loss()
	zeroGrads(m.Params())
	dx := clone(m.Backward(r))
	checkFD(t, "LSTM dx", x, dx, loss)
	for _, p := range m.Params() {
		checkFD(t, p.Name, p.W, clone(p.G), loss)
	}
}

func TestGRU(t *testing.T) {
	rng := tensor.NewRNG(31)
	m := NewGRU("gru", rnnIn, rnnH, rnnL, rng)
	randomizeParams(rng, m.Params(), 0.5)
	x := randn(rng, rnnB*rnnT*rnnIn, 1)
	h0 := randn(rng, rnnL*rnnB*rnnH, 0.5)
	out, hN := m.Forward(x, rnnB, rnnT, h0)
	ro, rh, _ := rnnRef(m.Layers, x, rnnB, rnnT, rnnIn, rnnH, h0, nil, true, nil)
	cmp64(t, "GRU out", out, ro, 1e-5)
	cmp64(t, "GRU hN", hN, rh, 1e-5)

	r := randn(rng, rnnB*rnnT*rnnH, 1)
	loss := func() float64 {
		o, _ := m.Forward(x, rnnB, rnnT, h0)
		return dot64(o, r)
	}
	loss()
	zeroGrads(m.Params())
	dx := clone(m.Backward(r))
	checkFD(t, "GRU dx", x, dx, loss)
	for _, p := range m.Params() {
		checkFD(t, p.Name, p.W, clone(p.G), loss)
	}
}

// Carrying the state across two windows equals one forward over the joined window (outputs), and the
// nil state means zeros. Equal to float32 rounding, not bit for bit: the input projection is one GEMM
// over B*T rows in the joined run and over B*T/2 in the split one, and Sgemm picks its blocking (so its
// summation association) by shape.
func TestRNNCarriedState(t *testing.T) {
	rng := tensor.NewRNG(32)
	const b, t2, in, h, L = 2, 6, 3, 4, 2
	x := randn(rng, b*t2*in, 1)
	half := func(k int) []float32 { // window k of 2, (B, T/2, In)
		w := make([]float32, 0, b*t2/2*in)
		for bi := 0; bi < b; bi++ {
			w = append(w, x[(bi*t2+k*t2/2)*in:(bi*t2+(k+1)*t2/2)*in]...)
		}
		return w
	}
	lstm := NewLSTM("lstm", in, h, L, rng)
	full, _, _ := lstm.Forward(x, b, t2, nil, make([]float32, L*b*h))
	full = clone(full)
	_, hN, cN := lstm.Forward(half(0), b, t2/2, nil, nil)
	hN, cN = clone(hN), clone(cN)
	second, _, _ := lstm.Forward(half(1), b, t2/2, hN, cN)
	gru := NewGRU("gru", in, h, L, rng)
	gfull, _ := gru.Forward(x, b, t2, nil)
	gfull = clone(gfull)
	_, gh := gru.Forward(half(0), b, t2/2, nil)
	gsecond, _ := gru.Forward(half(1), b, t2/2, clone(gh))
	for bi := 0; bi < b; bi++ {
		for s := 0; s < t2/2; s++ {
			for j := 0; j < h; j++ {
				if a, w := second[(bi*t2/2+s)*h+j], full[(bi*t2+t2/2+s)*h+j]; !close32(a, w) {
					t.Fatalf("LSTM carried state: %v, want %v", a, w)
				}
				if a, w := gsecond[(bi*t2/2+s)*h+j], gfull[(bi*t2+t2/2+s)*h+j]; !close32(a, w) {
					t.Fatalf("GRU carried state: %v, want %v", a, w)
				}
			}
		}
	}
}

func TestRNNThreadsAndAllocs(t *testing.T) {
	const b, tt, in, h, L = 4, 8, 16, 32, 2
	run := func() [][]float32 {
		rng := tensor.NewRNG(33)
		lstm := NewLSTM("lstm", in, h, L, rng)
		gru := NewGRU("gru", in, h, L, rng)
		x := randn(rng, b*tt*in, 1)
		o1, _, _ := lstm.Forward(x, b, tt, nil, nil)
		o2, _ := gru.Forward(x, b, tt, nil)
		out := [][]float32{clone(o1), clone(o2), clone(lstm.Backward(o1)), clone(gru.Backward(o2))}
		for _, p := range append(lstm.Params(), gru.Params()...) {
			out = append(out, clone(p.G))
		}
		return out
	}
	var one, two [][]float32
	withThreads(1, func() { one = run() })
	withThreads(2, func() { two = run() })
	for i := range one {
		sameBits(t, "rnn", one[i], two[i])
	}
	rng := tensor.NewRNG(34)
	lstm := NewLSTM("lstm", in, h, L, rng)
	x := randn(rng, b*tt*in, 1)
	// buffers here are 4+ KiB each; per-step pool closures are ~100 bytes per Sgemm call (2 per step)
	if got := bytesPerRun(func() {
		o, _, _ := lstm.Forward(x, b, tt, nil, nil)
		lstm.Backward(o)
	}); got > float64(2*L*tt+8)*200 {
		t.Fatalf("LSTM step allocates %.0f bytes: buffers not reused", got)
	}
}

func close32(a, b float32) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	m := b
	if m < 0 {
		m = -m
	}
	return d <= 1e-6*(1+m)
}

// Quantized gate projections (--linear bitnet on an RNN), ternary and every n-bit width: the forward
// matches the float64 reference with BitLinear's quantizers, and the gradients are the
// straight-through estimator's, checked by finite differences of the reference's replayed surrogate.
func TestRNNQuantized(t *testing.T) {
	for _, gru := range []bool{false, true} {
		for _, w := range quant.Widths() {
			name := fmt.Sprintf("gru=%v width=%v", gru, w)
			rng := tensor.NewRNG(35)
			var params []*Param
			var layers []rnnLayer
			var fwd func() []float32
			var bwd func([]float32) []float32
			x := randn(rng, rnnB*rnnT*rnnIn, 1)
			h0 := randn(rng, rnnL*rnnB*rnnH, 0.5)
			c0 := randn(rng, rnnL*rnnB*rnnH, 0.5)
			if gru {
				m := NewGRU("gru", rnnIn, rnnH, rnnL, rng)
				m.SetQuantized(true)
				params, layers = m.Params(), m.Layers
				fwd = func() []float32 { o, _ := m.Forward(x, rnnB, rnnT, h0); return o }
				bwd = m.Backward
				c0 = nil
			} else {
				m := NewLSTM("lstm", rnnIn, rnnH, rnnL, rng)
				m.SetQuantized(true)
				params, layers = m.Params(), m.Layers
				fwd = func() []float32 { o, _, _ := m.Forward(x, rnnB, rnnT, h0, c0); return o }
				bwd = m.Backward
			}
			randomizeParams(rng, params, 0.5)
			for k := range layers {
				layers[k].WidthIH, layers[k].WidthHH = w, w
			}
			out := clone(fwd())
			q := newRefQuant()
			ro, _, _ := rnnRef(layers, x, rnnB, rnnT, rnnIn, rnnH, h0, c0, gru, q)
			// float32 vs float64 can flip an int8 code of h near a rounding tie: ~1/127 of a unit
			cmp64(t, name+" out", out, ro, 2e-3)
			var full []float64 // the plain fp32 reference: quantization must change the output
			full, _, _ = rnnRef(layers, x, rnnB, rnnT, rnnIn, rnnH, h0, c0, gru, nil)
			diff := 0.0
			for i := range full {
				diff = math.Max(diff, math.Abs(full[i]-ro[i]))
			}
			if diff < 1e-3 {
				t.Fatalf("%s: quantized output equals the fp32 one (max diff %g)", name, diff)
			}

			r := randn(rng, rnnB*rnnT*rnnH, 1)
			zeroGrads(params)
			dx := clone(bwd(r))
			q.replay = true
			loss := func() float64 {
				o, _, _ := rnnRef(layers, x, rnnB, rnnT, rnnIn, rnnH, h0, c0, gru, q)
				var s float64
				for i := range o {
					s += o[i] * float64(r[i])
				}
				return s
			}
			checkFD(t, name+" dx", x, dx, loss)
			for _, p := range params {
				checkFD(t, name+" "+p.Name, p.W, clone(p.G), loss)
			}
		}
	}
}
