package nn

import (
	"math"
	"testing"

	"tern/tensor"
)

func sig64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// rnnRef is a float64 step-by-step reference of a stacked LSTM (gru=false) or GRU with PyTorch's
// equations, written from the documentation independently of rnn.go's batched layout.
func rnnRef(layers []rnnLayer, x []float32, b, t, in, h int, h0, c0 []float32, gru bool) (out, hN, cN []float64) {
	at := func(p *Param, i, j, cols int) float64 { return float64(p.W[i*cols+j]) }
	cur := make([]float64, b*t*in)
	for i, v := range x {
		cur[i] = float64(v)
	}
	curIn := in
	hN, cN = make([]float64, len(layers)*b*h), make([]float64, len(layers)*b*h)
	for k := range layers {
		l := &layers[k]
		next := make([]float64, b*t*h)
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
				xs := cur[(bi*t+s)*curIn : (bi*t+s+1)*curIn]
				pre := func(row int) (xi, hh float64) {
					xi = float64(l.Bih.W[row])
					for p := 0; p < curIn; p++ {
						xi += at(l.Wih, row, p, curIn) * xs[p]
					}
					hh = float64(l.Bhh.W[row])
					for p := 0; p < h; p++ {
						hh += at(l.Whh, row, p, h) * hs[p]
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
	ro, rh, rc := rnnRef(m.Layers, x, rnnB, rnnT, rnnIn, rnnH, h0, c0, false)
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
	ro, rh, _ := rnnRef(m.Layers, x, rnnB, rnnT, rnnIn, rnnH, h0, nil, true)
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
