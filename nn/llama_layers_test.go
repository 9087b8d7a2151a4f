package nn

import (
	"math"
	"testing"

	"tern/tensor"
)

// rope64 rotates x (N, W) in float64 for rows at position row%t, pairs (i, i+hs/2): an independent
// reference of RoPE.Forward.
func rope64(x []float32, n, t, w, hs int, theta float64) []float32 {
	y := make([]float32, len(x))
	half := hs / 2
	for r := 0; r < n; r++ {
		p := float64(r % t)
		for h := 0; h < w; h += hs {
			for i := 0; i < half; i++ {
				a := p / math.Pow(theta, float64(2*i)/float64(hs))
				x0, x1 := float64(x[r*w+h+i]), float64(x[r*w+h+i+half])
				y[r*w+h+i] = float32(x0*math.Cos(a) - x1*math.Sin(a))
				y[r*w+h+i+half] = float32(x0*math.Sin(a) + x1*math.Cos(a))
			}
		}
	}
	return y
}

func TestRoPE(t *testing.T) {
	const b, tt, w, hs = 2, 5, 12, 4
	rng := tensor.NewRNG(40)
	r := NewRoPE(hs, 500000)
	x := randn(rng, b*tt*w, 1)
	y := r.Forward(x, b, tt, w)
	want := rope64(x, b*tt, tt, w, hs, 500000)
	for i := range want {
		if math.Abs(float64(y[i]-want[i])) > 1e-6 {
			t.Fatalf("y[%d] = %v, want %v", i, y[i], want[i])
		}
	}
	// position 0 is the identity; norms of each pair are kept
	for i := 0; i < w; i++ {
		if y[i] != x[i] {
			t.Fatalf("position 0 changed x[%d]: %v -> %v", i, x[i], y[i])
		}
	}
	rr := randn(rng, b*tt*w, 1)
	loss := func() float64 { return dot64(r.Forward(x, b, tt, w), rr) }
	loss()
	checkFD(t, "rope dx", x, clone(r.Backward(rr)), loss)
}

// refGQA is the float64 attention core of grouped-query attention: q (N, C), k and v (N, KV·HS) with
// KV heads expanded to the query heads that read them, through refAttention.
func refGQA(q, k, v []float32, b, tt, c, nh, kv int) []float64 {
	hs, g := c/nh, nh/kv
	ke, ve := make([]float32, b*tt*c), make([]float32, b*tt*c)
	for r := 0; r < b*tt; r++ {
		for h := 0; h < nh; h++ {
			copy(ke[r*c+h*hs:r*c+h*hs+hs], k[r*kv*hs+h/g*hs:][:hs])
			copy(ve[r*c+h*hs:r*c+h*hs+hs], v[r*kv*hs+h/g*hs:][:hs])
		}
	}
	y, _ := refAttention(q, ke, ve, b, tt, tt, c, nh, true, nil)
	return y
}

func TestGQAttention(t *testing.T) {
	const b, tt, c, nh = 2, 5, 16, 4
	for _, tc := range []struct {
		kv  int
		sub bool
		t   int
	}{{4, false, tt}, {2, true, tt}, {1, false, tt}, {2, false, 40}} { // T=40 runs the causal blocks
		name := map[bool]string{false: "plain", true: "subnorm"}[tc.sub]
		rng := tensor.NewRNG(41)
		a, err := NewGQAttention("attn", c, nh, tc.kv, 10000, tc.sub, 1e-5, LinearProj(rng, false))
		if err != nil {
			t.Fatal(err)
		}
		randomizeParams(rng, a.Params(), 0.4)
		if a.SubNorm != nil {
			for i := range a.SubNorm.G.W {
				a.SubNorm.G.W[i] = 1 + a.SubNorm.G.W[i]
			}
		}
		n := b * tc.t
		x := randn(rng, n*c, 1)
		r := randn(rng, n*c, 1)
		loss := func() float64 { return dot64(a.Forward(x, b, tc.t), r) }
		loss()
		hs := c / nh
		q := rope64(a.Q.(*Linear).y, n, tc.t, c, hs, 10000)
		k := rope64(a.K.(*Linear).y, n, tc.t, tc.kv*hs, hs, 10000)
		yRef := refGQA(q, k, a.V.(*Linear).y, b, tc.t, c, nh, tc.kv)
		for i, w := range yRef {
			if math.Abs(float64(a.core.y[i])-w) > 2e-5 {
				t.Fatalf("kv=%d %s: y[%d] = %v, want %v", tc.kv, name, i, a.core.y[i], w)
			}
		}
		if tc.t > 8 {
			continue // the long case checks the blocked forward; gradients are the short cases' job
		}
		zeroGrads(a.Params())
		dx := clone(a.Backward(r))
		checkFD(t, name+" dx", x, dx, loss)
		for _, p := range a.Params() {
			checkFD(t, name+" "+p.Name, p.W, clone(p.G), loss)
		}
	}
	if _, err := NewGQAttention("a", 16, 4, 3, 10000, false, 1e-5, nil); err == nil {
		t.Fatal("3 KV heads for 4 query heads: want an error")
	}
	if _, err := NewGQAttention("a", 12, 4, 2, 10000, false, 1e-5, nil); err == nil {
		t.Fatal("odd head size 3: want an error")
	}
}

// TestGQABlockedBackward checks the causal-blocked backward (T > 32) with GQA against finite
// differences on a few inputs.
func TestGQABlockedBackward(t *testing.T) {
	const b, tt, c, nh, kv = 1, 40, 8, 4, 2
	rng := tensor.NewRNG(42)
	a, err := NewGQAttention("attn", c, nh, kv, 10000, false, 1e-5, LinearProj(rng, false))
	if err != nil {
		t.Fatal(err)
	}
	randomizeParams(rng, a.Params(), 0.4)
	x := randn(rng, b*tt*c, 1)
	r := randn(rng, b*tt*c, 1)
	loss := func() float64 { return dot64(a.Forward(x, b, tt), r) }
	loss()
	zeroGrads(a.Params())
	dx := clone(a.Backward(r))
	checkFD(t, "blocked dx", x, dx, loss)
	checkFD(t, "blocked k", a.K.Params()[0].W, clone(a.K.Params()[0].G), loss)
	checkFD(t, "blocked v", a.V.Params()[0].W, clone(a.V.Params()[0].G), loss)
}

func TestGatedFFN(t *testing.T) {
	const n, c, f = 6, 8, 12
	for _, act := range []string{ActSwiGLU, ActReLU2} {
		for _, sub := range []bool{false, true} {
			name := act
			if sub {
				name += "+subnorm"
			}
			rng := tensor.NewRNG(43)
			l, err := NewGatedFFN("ffn", c, f, act, sub, 1e-5, LinearProj(rng, false))
			if err != nil {
				t.Fatal(err)
			}
			randomizeParams(rng, l.Params(), 0.4)
			if l.SubNorm != nil {
				for i := range l.SubNorm.G.W {
					l.SubNorm.G.W[i] = 1 + l.SubNorm.G.W[i]
				}
			}
			x := randn(rng, n*c, 1)
			r := randn(rng, n*c, 1)
			loss := func() float64 { return dot64(l.Forward(x, n), r) }
			loss()
			// forward against a float64 reference of act(g)·u
			g, u := l.Gate.(*Linear).y, l.Up.(*Linear).y
			for i := range g {
				gv, uv := float64(g[i]), float64(u[i])
				want := gv / (1 + math.Exp(-gv)) * uv
				if act == ActReLU2 {
					want = math.Max(gv, 0) * math.Max(gv, 0) * uv
				}
				if math.Abs(float64(l.h[i])-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("%s: h[%d] = %v, want %v", name, i, l.h[i], want)
				}
			}
			zeroGrads(l.Params())
			dx := clone(l.Backward(r))
			checkFD(t, name+" dx", x, dx, loss)
			for _, p := range l.Params() {
				checkFD(t, name+" "+p.Name, p.W, clone(p.G), loss)
			}
		}
	}
	if _, err := NewGatedFFN("ffn", 4, 4, "gelu", false, 1e-5, nil); err == nil {
		t.Fatal("unknown activation: want an error")
	}
}

// TestLlamaLayersThreadIndependent: the Llama layers (BitLinear projections, GQA with sub-norm, gated
// FFN) give bit-identical outputs and gradients on 1 and 2 threads; a warm step allocates no
// activation buffers.
func TestLlamaLayersThreadIndependent(t *testing.T) {
	const b, tt, c, f = 2, 40, 64, 96
	build := func() (*GQAttention, *GatedFFN, []float32) {
		rng := tensor.NewRNG(44)
		a, err := NewGQAttention("attn", c, 4, 2, 10000, true, 1e-5, BitLinearProj(rng, false))
		if err != nil {
			t.Fatal(err)
		}
		ffn, err := NewGatedFFN("ffn", c, f, ActReLU2, true, 1e-5, BitLinearProj(rng, false))
		if err != nil {
			t.Fatal(err)
		}
		return a, ffn, randn(rng, b*tt*c, 1)
	}
	step := func(a *GQAttention, ffn *GatedFFN, x []float32) []float32 {
		y := ffn.Forward(a.Forward(x, b, tt), b*tt)
		return a.Backward(ffn.Backward(y))
	}
	run := func() [][]float32 {
		a, ffn, x := build()
		out := [][]float32{clone(step(a, ffn, x))}
		for _, p := range append(a.Params(), ffn.Params()...) {
			out = append(out, clone(p.G))
		}
		return out
	}
	var one, two [][]float32
	withThreads(1, func() { one = run() })
	withThreads(2, func() { two = run() })
	for i := range one {
		sameBits(t, "output "+string(rune('A'+i)), one[i], two[i])
	}
	a, ffn, x := build()
	if got := bytesPerRun(func() { step(a, ffn, x) }); got > 8*maxStepBytes {
		t.Fatalf("a warm step allocates %.0f bytes", got)
	}
}
