package nn

import (
	"math"
	"testing"

	"tern/tensor"
)

// refAttention is a float64 reference of the attention core from q (B,Tq,C), k, v (B,Tk,C):
// returns y (B,Tq,C) and att (B,NH,Tq,Tk).
func refAttention(q, k, v []float32, b, tq, tk, c, nh int, causal bool, pad []bool) (y, att []float64) {
	hs := c / nh
	y = make([]float64, b*tq*c)
	att = make([]float64, b*nh*tq*tk)
	for bi := 0; bi < b; bi++ {
		for h := 0; h < nh; h++ {
			for i := 0; i < tq; i++ {
				row := att[((bi*nh+h)*tq+i)*tk:][:tk]
				m := math.Inf(-1)
				for j := 0; j < tk; j++ {
					if (causal && j > i) || (pad != nil && pad[bi*tk+j]) {
						row[j] = math.Inf(-1)
						continue
					}
					var s float64
					for d := 0; d < hs; d++ {
						s += float64(q[(bi*tq+i)*c+h*hs+d]) * float64(k[(bi*tk+j)*c+h*hs+d])
					}
					row[j] = s / math.Sqrt(float64(hs))
					m = math.Max(m, row[j])
				}
				var sum float64
				for j := range row {
					if math.IsInf(m, -1) {
						row[j] = 0
						continue
					}
					row[j] = math.Exp(row[j] - m)
					sum += row[j]
				}
				for j := range row {
					if sum > 0 {
						row[j] /= sum
					}
					for d := 0; d < hs; d++ {
						y[(bi*tq+i)*c+h*hs+d] += row[j] * float64(v[(bi*tk+j)*c+h*hs+d])
					}
				}
			}
		}
	}
	return y, att
}

func randomizeParams(rng *tensor.RNG, ps []*Param, std float64) {
	for _, p := range ps {
		rng.FillNormal(p.W, std)
	}
}

func TestSelfAttentionMatchesReference(t *testing.T) {
	const b, tt, c, nh = 2, 5, 8, 2
	for _, causal := range []bool{false, true} {
		rng := tensor.NewRNG(20)
		a, err := NewSelfAttention("attn", c, nh, causal, true, LinearProj(rng, true))
		if err != nil {
			t.Fatal(err)
		}
		randomizeParams(rng, a.Params(), 0.5)
		x := randn(rng, b*tt*c, 1)
		pad := make([]bool, b*tt)
		pad[1*tt+3], pad[1*tt+4] = true, true // second sequence has 2 padded keys
		a.Forward(x, b, tt, pad)
		qkv := a.QKV.(*Linear).y
		q, k, v := make([]float32, b*tt*c), make([]float32, b*tt*c), make([]float32, b*tt*c)
		for r := 0; r < b*tt; r++ {
			copy(q[r*c:], qkv[r*3*c:r*3*c+c])
			copy(k[r*c:], qkv[r*3*c+c:r*3*c+2*c])
			copy(v[r*c:], qkv[r*3*c+2*c:r*3*c+3*c])
		}
		yRef, attRef := refAttention(q, k, v, b, tt, tt, c, nh, causal, pad)
		for i, w := range attRef {
			if math.Abs(float64(a.Weights()[i])-w) > 1e-5 {
				t.Fatalf("causal=%v att[%d] = %v, want %v", causal, i, a.Weights()[i], w)
			}
		}
		for i, w := range yRef {
			if math.Abs(float64(a.y[i])-w) > 1e-5 {
				t.Fatalf("causal=%v y[%d] = %v, want %v", causal, i, a.y[i], w)
			}
		}
	}
}

func TestSelfAttentionGradients(t *testing.T) {
	const b, tt, c, nh = 2, 4, 6, 2
	cases := []struct {
		name   string
		causal bool
		pad    []bool
	}{
		{"plain", false, nil},
		{"causal", true, nil},
		{"padded", false, []bool{false, false, false, false, false, false, true, true}},
		{"causal+padded", true, []bool{false, false, true, true, true, false, false, false}}, // b=1 t=0 fully masked
	}
	for _, tc := range cases {
		rng := tensor.NewRNG(21)
		a, err := NewSelfAttention("attn", c, nh, tc.causal, true, LinearProj(rng, true))
		if err != nil {
			t.Fatal(err)
		}
		randomizeParams(rng, a.Params(), 0.5)
		x := randn(rng, b*tt*c, 1)
		r := randn(rng, b*tt*c, 1)
		loss := func() float64 { return dot64(a.Forward(x, b, tt, tc.pad), r) }
		loss()
		for _, w := range a.Weights() {
			if math.IsNaN(float64(w)) {
				t.Fatalf("%s: NaN attention weight", tc.name)
			}
		}
		zeroGrads(a.Params())
		dx := clone(a.Backward(r))
		checkFD(t, tc.name+" dx", x, dx, loss)
		for _, p := range a.Params() {
			checkFD(t, tc.name+" "+p.Name, p.W, clone(p.G), loss)
		}
	}
}

func TestFullyMaskedRowIsZero(t *testing.T) {
	const b, tt, c, nh = 1, 3, 4, 1
	a, _ := NewSelfAttention("attn", c, nh, true, false, nil)
	x := randn(tensor.NewRNG(22), b*tt*c, 1)
	a.Forward(x, b, tt, []bool{true, false, false}) // query 0 may only see key 0, which is padded
	for j := 0; j < tt; j++ {
		if w := a.Weights()[j]; w != 0 {
			t.Fatalf("fully masked row: weight %v, want 0", w)
		}
	}
	for i := 0; i < c; i++ {
		if a.y[i] != 0 {
			t.Fatalf("fully masked row: y %v, want 0", a.y[i])
		}
	}
}

func TestCrossAttentionGradients(t *testing.T) {
	const b, tq, tk, c, nh = 2, 3, 5, 6, 3
	for _, pad := range [][]bool{nil, {false, false, false, false, false, false, false, false, true, true}} {
		rng := tensor.NewRNG(23)
		a, err := NewCrossAttention("xattn", c, nh, false, true, LinearProj(rng, true))
		if err != nil {
			t.Fatal(err)
		}
		randomizeParams(rng, a.Params(), 0.5)
		x := randn(rng, b*tq*c, 1)
		mem := randn(rng, b*tk*c, 1)
		r := randn(rng, b*tq*c, 1)
		loss := func() float64 { return dot64(a.ForwardCross(x, b, tq, mem, tk, pad), r) }
		loss()
		// forward against the reference
		q := a.Q.(*Linear).y
		kv := a.KV.(*Linear).y
		k, v := make([]float32, b*tk*c), make([]float32, b*tk*c)
		for i := 0; i < b*tk; i++ {
			copy(k[i*c:], kv[i*2*c:i*2*c+c])
			copy(v[i*c:], kv[i*2*c+c:i*2*c+2*c])
		}
		yRef, _ := refAttention(q, k, v, b, tq, tk, c, nh, false, pad)
		for i, w := range yRef {
			if math.Abs(float64(a.y[i])-w) > 1e-5 {
				t.Fatalf("cross y[%d] = %v, want %v", i, a.y[i], w)
			}
		}
		zeroGrads(a.Params())
		dx, dmem := a.BackwardCross(r)
		dx, dmem = clone(dx), clone(dmem)
		checkFD(t, "cross dx", x, dx, loss)
		checkFD(t, "cross dmem", mem, dmem, loss)
		for _, p := range a.Params() {
			checkFD(t, "cross "+p.Name, p.W, clone(p.G), loss)
		}
	}
}

func TestAttentionHeadsMustDivide(t *testing.T) {
	if _, err := NewSelfAttention("attn", 10, 3, false, false, nil); err == nil {
		t.Fatal("3 heads over 10 channels: want an error")
	}
	if _, err := NewCrossAttention("x", 8, 0, false, false, nil); err == nil {
		t.Fatal("0 heads: want an error")
	}
}

func TestFFNGradients(t *testing.T) {
	for _, bias := range []bool{false, true} {
		rng := tensor.NewRNG(24)
		f := NewFFN("ffn", 5, 12, LinearProj(rng, bias))
		randomizeParams(rng, f.Params(), 0.5)
		x := randn(rng, 3*5, 1)
		r := randn(rng, 3*5, 1)
		loss := func() float64 { return dot64(f.Forward(x, 3), r) }
		loss()
		zeroGrads(f.Params())
		dx := clone(f.Backward(r))
		checkFD(t, "FFN dx", x, dx, loss)
		for _, p := range f.Params() {
			checkFD(t, "FFN "+p.Name, p.W, clone(p.G), loss)
		}
	}
}

// A GPT-style block on BitLinear projections: thread-count independent and allocation-free when warm.
func TestAttentionThreadsAndAllocs(t *testing.T) {
	const b, tt, c, nh = 2, 16, 32, 4
	run := func() [][]float32 {
		rng := tensor.NewRNG(25)
		a, _ := NewSelfAttention("attn", c, nh, true, false, BitLinearProj(rng, false))
		f := NewFFN("ffn", c, 4*c, BitLinearProj(rng, false))
		x := randn(rng, b*tt*c, 1)
		pad := make([]bool, b*tt)
		pad[tt+tt-1] = true
		y := f.Forward(a.Forward(x, b, tt, pad), b*tt)
		dx := a.Backward(f.Backward(y))
		out := [][]float32{clone(y), clone(dx)}
		for _, p := range append(a.Params(), f.Params()...) {
			out = append(out, clone(p.G))
		}
		return out
	}
	var one, two [][]float32
	withThreads(1, func() { one = run() })
	withThreads(2, func() { two = run() })
	for i := range one {
		sameBits(t, "attention block", one[i], two[i])
	}

	perStep := func(bb int) float64 {
		rng := tensor.NewRNG(26)
		a, _ := NewSelfAttention("attn", c, nh, true, false, LinearProj(rng, false))
		x := randn(rng, bb*tt*c, 1)
		return bytesPerRun(func() { a.Backward(a.Forward(x, bb, tt, nil)) })
	}
	small, big := perStep(1), perStep(2)
	t.Logf("attention step allocates %.0f bytes at B=1, %.0f at B=2 (pool closures per Sgemm call)", small, big)
	// Per-(batch, head) Sgemm calls each cost a pool closure; buffers (4+ KiB here) must not reappear.
	if big > 2*small+maxStepBytes {
		t.Fatalf("attention allocates %.0f bytes at B=1 and %.0f at B=2: buffers not reused", small, big)
	}
}

// The causal lower-triangle blocking: small blocks (1, 2, 3 rows) over T = 4 and 5 exercise full,
// partial and single-row blocks against the reference and finite differences.
func TestCausalBlocking(t *testing.T) {
	old := causalBlock
	defer func() { causalBlock = old }()
	for _, blk := range []int{1, 2, 3} {
		causalBlock = blk
		t.Run("reference", TestSelfAttentionMatchesReference)
		t.Run("gradients", TestSelfAttentionGradients)
	}
	// a longer sequence, blocked (32) vs one block, bit-for-bit on the forward weights' support
	const b, tt, c, nh = 1, 70, 8, 2
	run := func(blk int) ([]float32, []float32) {
		causalBlock = blk
		rng := tensor.NewRNG(27)
		a, _ := NewSelfAttention("attn", c, nh, true, false, LinearProj(rng, false))
		x := randn(rng, b*tt*c, 1)
		y := clone(a.Forward(x, b, tt, nil))
		return y, clone(a.Backward(y))
	}
	y1, d1 := run(32)
	y2, d2 := run(tt)
	for i := range y1 {
		if math.Abs(float64(y1[i]-y2[i])) > 1e-5 || math.Abs(float64(d1[i]-d2[i])) > 1e-5 {
			t.Fatalf("blocked vs unblocked at %d: y %v / %v, dx %v / %v", i, y1[i], y2[i], d1[i], d2[i])
		}
	}
}

// Degenerate sizes: one position (causal softmax over a single key is 1) and an empty batch.
func TestAttentionEdgeSizes(t *testing.T) {
	rng := tensor.NewRNG(28)
	a, _ := NewSelfAttention("attn", 4, 2, true, true, LinearProj(rng, true))
	x := randn(rng, 3*1*4, 1)
	a.Forward(x, 3, 1, nil)
	for _, w := range a.Weights() {
		if w != 1 {
			t.Fatalf("T=1 causal weight %v, want 1", w)
		}
	}
	a.Backward(randn(rng, 3*4, 1))
	if y := a.Forward(nil, 0, 5, nil); len(y) != 0 {
		t.Fatalf("empty batch: %d outputs", len(y))
	}
	if dx := a.Backward(nil); len(dx) != 0 {
		t.Fatalf("empty batch: %d input grads", len(dx))
	}
	l := NewLinear("fc", 3, 2, true, rng)
	if y := l.Forward(nil, 0); len(y) != 0 || len(l.Backward(nil)) != 0 {
		t.Fatal("Linear with n=0")
	}
}
