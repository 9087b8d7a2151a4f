package nn

import (
	"math"
	"testing"

	"tern/tensor"
)

// bf16 layers against fp32 ones. Rounding both operands of a product to bf16 (8 significant bits,
// unit roundoff u = 2^-8) perturbs each product term by at most 2u relative; summed over K terms
// with independent signs, the result's error in the Frobenius norm is below that, about
// sqrt(2/3)·u·‖result‖ for uniformly spread rounding errors (measured: 0.57u for one product). We
// allow 2u = 0.78% relative Frobenius error per bf16 product on the longest chain from a parameter
// or input to the compared tensor: 1 for Linear and BitLinear (dX and dW are one product each), 2
// for FFN, 4 for attention (qkv, q·kᵀ, p·v, out), 2 for LSTM/GRU (input and recurrent gate
// products: an earlier step's error reaches later ones through gate derivatives below 1, damped,
// not compounded). Where a path has no bf16 product (BitLinear's forward) the result must be
// bit-identical.
const bf16RelPerProduct = 2.0 / 256

// relErr is ‖got-want‖ / ‖want‖ (Frobenius).
func relErr(got, want []float32) float64 {
	var d, w float64
	for i := range want {
		e := float64(got[i]) - float64(want[i])
		d += e * e
		w += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(d / w)
}

// precisionCase runs a layer's forward and backward (dout R fixed) and returns out, dinp and the
// param gradients; products is the length of the longest bf16 chain (see above).
type precisionCase struct {
	name     string
	products float64
	fwdExact bool // no bf16 product in the forward: out must match bit for bit
	params   []*Param
	run      func() (out, dinp []float32)
}

func TestBF16MatchesFP32(t *testing.T) {
	defer SetPrecision(Precision())
	var cases []precisionCase
	{
		rng := tensor.NewRNG(41)
		l := NewLinear("lin", 64, 48, true, rng)
		x, r := randn(rng, 37*64, 1), randn(rng, 37*48, 1)
		cases = append(cases, precisionCase{"Linear", 1, false, l.Params(), func() ([]float32, []float32) {
			out := clone(l.Forward(x, 37))
			return out, clone(l.Backward(r))
		}})
	}
	{
		rng := tensor.NewRNG(42)
		l := NewBitLinear("bit", 64, 48, true, rng)
		x, r := randn(rng, 37*64, 1), randn(rng, 37*48, 1)
		cases = append(cases, precisionCase{"BitLinear", 1, true, l.Params(), func() ([]float32, []float32) {
			out := clone(l.Forward(x, 37))
			return out, clone(l.Backward(r))
		}})
	}
	{
		rng := tensor.NewRNG(43)
		f := NewFFN("ffn", 32, 96, BitLinearProj(rng, false))
		x, r := randn(rng, 21*32, 1), randn(rng, 21*32, 1)
		cases = append(cases, precisionCase{"FFN-bitlinear", 2, true, f.Params(), func() ([]float32, []float32) {
			out := clone(f.Forward(x, 21))
			return out, clone(f.Backward(r))
		}})
	}
	for _, causal := range []bool{false, true} {
		rng := tensor.NewRNG(44)
		a, err := NewSelfAttention("attn", 32, 4, causal, true, LinearProj(rng, true))
		if err != nil {
			t.Fatal(err)
		}
		randomizeParams(rng, a.Params(), 0.3)
		x, r := randn(rng, 2*9*32, 1), randn(rng, 2*9*32, 1)
		name := "Attention"
		if causal {
			name += "-causal"
		}
		cases = append(cases, precisionCase{name, 4, false, a.Params(), func() ([]float32, []float32) {
			out := clone(a.Forward(x, 2, 9, nil))
			return out, clone(a.Backward(r))
		}})
	}
	{
		rng := tensor.NewRNG(45)
		m := NewLSTM("lstm", 16, 24, 2, rng)
		randomizeParams(rng, m.Params(), 0.3)
		x, r := randn(rng, 3*5*16, 1), randn(rng, 3*5*24, 1)
		cases = append(cases, precisionCase{"LSTM", 2, false, m.Params(), func() ([]float32, []float32) {
			out, _, _ := m.Forward(x, 3, 5, nil, nil)
			out = clone(out)
			return out, clone(m.Backward(r))
		}})
	}
	{
		rng := tensor.NewRNG(46)
		m := NewGRU("gru", 16, 24, 2, rng)
		randomizeParams(rng, m.Params(), 0.3)
		x, r := randn(rng, 3*5*16, 1), randn(rng, 3*5*24, 1)
		cases = append(cases, precisionCase{"GRU", 2, false, m.Params(), func() ([]float32, []float32) {
			out, _ := m.Forward(x, 3, 5, nil)
			out = clone(out)
			return out, clone(m.Backward(r))
		}})
	}
	for _, c := range cases {
		run := func(p string) (out, dinp []float32, grads [][]float32) {
			if err := SetPrecision(p); err != nil {
				t.Fatal(err)
			}
			zeroGrads(c.params)
			out, dinp = c.run()
			for _, p := range c.params {
				grads = append(grads, clone(p.G))
			}
			return out, dinp, grads
		}
		o32, d32, g32 := run(PrecisionFP32)
		o16, d16, g16 := run(PrecisionBF16)
		bound := c.products * bf16RelPerProduct
		check := func(what string, got, want []float32) {
			e := relErr(got, want)
			if !(e <= bound) {
				t.Errorf("%s %s: bf16 differs from fp32 by %.3g (relative Frobenius), bound %.3g", c.name, what, e, bound)
			}
			t.Logf("%s %s: relative error %.2e (bound %.2e)", c.name, what, e, bound)
			if e == 0 && what == "dinp" { // bias gradients are plain sums of dout and may match exactly
				t.Errorf("%s %s: bf16 gives exactly the fp32 result: the bf16 products did not run", c.name, what)
			}
		}
		if c.fwdExact {
			for i := range o32 {
				if math.Float32bits(o16[i]) != math.Float32bits(o32[i]) {
					t.Fatalf("%s: bf16 forward out[%d] = %v, fp32 %v: the forward has no bf16 product and must not change", c.name, i, o16[i], o32[i])
				}
			}
		} else {
			check("out", o16, o32)
		}
		check("dinp", d16, d32)
		for i, p := range c.params {
			check(p.Name+" grad", g16[i], g32[i])
		}
	}
}

func TestSetPrecision(t *testing.T) {
	defer SetPrecision(Precision())
	for _, bad := range []string{"fp16", "", "BF16", "float32"} {
		if err := SetPrecision(bad); err == nil {
			t.Errorf("SetPrecision(%q) accepted", bad)
		}
	}
	if err := SetPrecision("bf16"); err != nil || Precision() != "bf16" {
		t.Fatalf("SetPrecision(bf16): %v, Precision() = %q", err, Precision())
	}
}

// TestLazyGrads: building and running a layer forward allocates no gradient; Backward and
// AllocGrads do.
func TestLazyGrads(t *testing.T) {
	rng := tensor.NewRNG(47)
	l := NewLinear("lin", 8, 4, true, rng)
	x := randn(rng, 3*8, 1)
	l.Forward(x, 3)
	for _, p := range l.Params() {
		if p.G != nil {
			t.Fatalf("%s has a gradient after Forward only", p.Name)
		}
	}
	l.Backward(randn(rng, 3*4, 1))
	for _, p := range l.Params() {
		if len(p.G) != len(p.W) {
			t.Fatalf("%s: gradient of %d after Backward, want %d", p.Name, len(p.G), len(p.W))
		}
	}
	e := NewEmbedding("emb", 10, 4, rng)
	AllocGrads(e.Params())
	if len(e.W.G) != 40 {
		t.Fatalf("AllocGrads: embedding gradient of %d, want 40", len(e.W.G))
	}
}

// TestRecurrentPacked: in bf16 the LSTM and GRU (plain and quantized gates, 2 layers, several time
// steps) give exactly the bits of per-step Matmul calls when W_hh is packed once per pass.
func TestRecurrentPacked(t *testing.T) {
	defer SetPrecision(Precision())
	if err := SetPrecision(PrecisionBF16); err != nil {
		t.Fatal(err)
	}
	for _, quant := range []bool{false, true} {
		for _, gru := range []bool{false, true} {
			rng := tensor.NewRNG(47)
			var params []*Param
			var run func() ([]float32, []float32)
			x, r := randn(rng, 3*7*16, 1), randn(rng, 3*7*40, 1)
			if gru {
				m := NewGRU("gru", 16, 40, 2, rng)
				for i := range m.Layers {
					m.Layers[i].Quant = quant
				}
				params = m.Params()
				run = func() ([]float32, []float32) {
					out, _ := m.Forward(x, 3, 7, nil)
					out = clone(out)
					return out, clone(m.Backward(r))
				}
			} else {
				m := NewLSTM("lstm", 16, 40, 2, rng)
				for i := range m.Layers {
					m.Layers[i].Quant = quant
				}
				params = m.Params()
				run = func() ([]float32, []float32) {
					out, _, _ := m.Forward(x, 3, 7, nil, nil)
					out = clone(out)
					return out, clone(m.Backward(r))
				}
			}
			randomizeParams(rng, params, 0.3)
			results := make([][][]float32, 2)
			for i, pack := range []bool{true, false} {
				packRecurrent = pack
				zeroGrads(params)
				out, dinp := run()
				results[i] = [][]float32{out, dinp}
				for _, p := range params {
					results[i] = append(results[i], clone(p.G))
				}
			}
			packRecurrent = true
			for j := range results[0] {
				for i, v := range results[0][j] {
					if math.Float32bits(v) != math.Float32bits(results[1][j][i]) {
						t.Fatalf("gru %v quant %v: result %d element %d: packed %v, per-step %v", gru, quant, j, i, v, results[1][j][i])
					}
				}
			}
		}
	}
}
