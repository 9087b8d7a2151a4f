package nn

import (
	"math"
	"strings"
	"testing"

	"tern/quant"
	"tern/tensor"
)

func TestLinearForwardMatchesNaive(t *testing.T) {
	rng := tensor.NewRNG(1)
	const n, in, out = 5, 7, 3
	l := NewLinear("fc", in, out, true, rng)
	rng.FillNormal(l.B.W, 1)
	x := randn(rng, n*in, 1)
	y := l.Forward(x, n)
	for i := 0; i < n; i++ {
		for j := 0; j < out; j++ {
			want := float64(l.B.W[j])
			for p := 0; p < in; p++ {
				want += float64(x[i*in+p]) * float64(l.W.W[j*in+p])
			}
			if math.Abs(float64(y[i*out+j])-want) > 1e-5 {
				t.Fatalf("y[%d,%d] = %v, want %v", i, j, y[i*out+j], want)
			}
		}
	}
}

func TestLinearGradients(t *testing.T) {
	for _, bias := range []bool{false, true} {
		rng := tensor.NewRNG(2)
		const n, in, out = 4, 6, 5
		l := NewLinear("fc", in, out, bias, rng)
		for _, p := range l.Params() {
			rng.FillNormal(p.W, 0.5)
		}
		x := randn(rng, n*in, 1)
		r := randn(rng, n*out, 1)
		loss := func() float64 { return dot64(l.Forward(x, n), r) }
		loss()
		zeroGrads(l.Params())
		dx := clone(l.Backward(r))
		checkFD(t, "Linear dx", x, dx, loss)
		for _, p := range l.Params() {
			checkFD(t, "Linear "+p.Name, p.W, clone(p.G), loss)
		}
	}
}

// A Param shared by two Linear layers used in sequence gets the sum of both uses' gradients.
func TestSharedParamSumsGradients(t *testing.T) {
	rng := tensor.NewRNG(3)
	const n, c = 3, 4
	l1 := NewLinear("a", c, c, false, rng)
	l2 := NewLinear("b", c, c, false, rng)
	l2.W = l1.W
	rng.FillNormal(l1.W.W, 0.5)
	x := randn(rng, n*c, 1)
	r := randn(rng, n*c, 1)
	loss := func() float64 { return dot64(l2.Forward(l1.Forward(x, n), n), r) }
	loss()
	l1.W.ZeroGrad()
	dx := clone(l1.Backward(l2.Backward(r)))
	checkFD(t, "shared W", l1.W.W, clone(l1.W.G), loss)
	checkFD(t, "shared dx", x, dx, loss)
	if got := len(Unique(append(l1.Params(), l2.Params()...))); got != 1 {
		t.Fatalf("Unique: %d params, want 1", got)
	}
}

// bitRef is a float64 reference of the PyTorch BitLinear: F.linear(xq, wq) with wq = s·clamp(round(W/s))
// and xq = clamp(round(x·g))/g, and its straight-through gradients dX = dY·wq, dW = dYᵀ·xq.
// (width: another weight quantizer of refWidth, one step per matrix, or per row when perRow)
func bitRef(x, w, b, dy []float32, n, in, out int, width quant.Width, perRow bool) (y, dx, dw []float64) {
	w64 := make([]float64, len(w))
	for i, v := range w {
		w64[i] = float64(v)
	}
	var wq []float64
	if perRow {
		for j := 0; j < out; j++ {
			wq = append(wq, refWidth(w64[j*in:j*in+in], width)...)
		}
	} else {
		wq = refWidth(w64, width)
	}
	xq := make([]float64, len(x))
	for i := 0; i < n; i++ {
		var amax float64
		for _, v := range x[i*in : i*in+in] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		g := 127 / math.Max(amax, 1e-5)
		for p := 0; p < in; p++ {
			xq[i*in+p] = math.Max(-128, math.Min(127, math.Round(float64(x[i*in+p])*g))) / g
		}
	}
	y, dx, dw = make([]float64, n*out), make([]float64, n*in), make([]float64, out*in)
	for i := 0; i < n; i++ {
		for j := 0; j < out; j++ {
			acc := 0.0
			if b != nil {
				acc = float64(b[j])
			}
			for p := 0; p < in; p++ {
				acc += xq[i*in+p] * wq[j*in+p]
				dx[i*in+p] += float64(dy[i*out+j]) * wq[j*in+p]
				dw[j*in+p] += float64(dy[i*out+j]) * xq[i*in+p]
			}
			y[i*out+j] = acc
		}
	}
	return y, dx, dw
}

func TestBitLinearMatchesReference(t *testing.T) {
	type variant struct {
		bias   bool
		width  quant.Width
		perRow bool
	}
	vs := []variant{{false, quant.WidthTernary, false}, {true, quant.WidthTernary, false}}
	for _, w := range quant.Widths() {
		if w != quant.WidthTernary {
			vs = append(vs, variant{true, w, false}, variant{false, w, true})
		}
	}
	for _, v := range vs {
		bias := v.bias
		rng := tensor.NewRNG(4)
		const n, in, out = 6, 33, 17
		l := NewBitLinear("bit", in, out, bias, rng)
		l.Width, l.PerRow = v.width, v.perRow
		if bias {
			rng.FillNormal(l.B.W, 0.1)
		}
		x := randn(rng, n*in, 1)
		x[5] = 0 // an exact zero, and a zero row below: scale clamps at 1e-5
		for p := 0; p < in; p++ {
			x[2*in+p] = 0
		}
		dy := randn(rng, n*out, 1)
		var bw []float32
		if bias {
			bw = l.B.W
		}
		yRef, dxRef, dwRef := bitRef(x, l.W.W, bw, dy, n, in, out, v.width, v.perRow)
		y := l.Forward(x, n)
		zeroGrads(l.Params())
		dx := l.Backward(dy)
		cmp := func(name string, got []float32, want []float64, tol float64) {
			for i := range want {
				if math.Abs(float64(got[i])-want[i]) > tol*(1+math.Abs(want[i])) {
					t.Fatalf("%+v %s[%d] = %v, want %v", v, name, i, got[i], want[i])
				}
			}
		}
		cmp("y", y, yRef, 1e-5)
		cmp("dx", dx, dxRef, 1e-5)
		cmp("dW", l.W.G, dwRef, 1e-5)
		if bias {
			db := make([]float64, out)
			for i := 0; i < n; i++ {
				for j := 0; j < out; j++ {
					db[j] += float64(dy[i*out+j])
				}
			}
			cmp("db", l.B.G, db, 1e-5)
		}
		for _, v := range l.Ternary() {
			if v < -1 || v > 1 {
				t.Fatalf("ternary weight %d", v)
			}
		}
	}
}

func TestEmbedding(t *testing.T) {
	rng := tensor.NewRNG(5)
	const v, c = 7, 3
	e := NewEmbedding("wte", v, c, rng)
	ids := []int32{1, 4, 1, 6} // a repeated id sums
	r := randn(rng, len(ids)*c, 1)
	loss := func() float64 { return dot64(e.Forward(ids, len(ids)), r) }
	loss()
	e.W.ZeroGrad()
	e.Backward(r)
	checkFD(t, "Embedding W", e.W.W, clone(e.W.G), loss)
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "outside vocabulary") {
			t.Fatalf("out-of-range id: panic %q", msg)
		}
	}()
	e.Forward([]int32{7}, 1)
}

func TestLayerNormGradients(t *testing.T) {
	rng := tensor.NewRNG(6)
	const n, c = 4, 9
	l := NewLayerNorm("ln", c)
	rng.FillNormal(l.G.W, 1)
	rng.FillNormal(l.B.W, 1)
	x := randn(rng, n*c, 2)
	r := randn(rng, n*c, 1)
	loss := func() float64 { return dot64(l.Forward(x, n), r) }
	y := l.Forward(x, n)
	// reference forward in float64
	for i := 0; i < n; i++ {
		var m, v float64
		for _, a := range x[i*c : i*c+c] {
			m += float64(a)
		}
		m /= c
		for _, a := range x[i*c : i*c+c] {
			v += (float64(a) - m) * (float64(a) - m)
		}
		v /= c
		for j := 0; j < c; j++ {
			want := (float64(x[i*c+j])-m)/math.Sqrt(v+1e-5)*float64(l.G.W[j]) + float64(l.B.W[j])
			if math.Abs(float64(y[i*c+j])-want) > 1e-5 {
				t.Fatalf("y[%d,%d] = %v, want %v", i, j, y[i*c+j], want)
			}
		}
	}
	zeroGrads(l.Params())
	dx := clone(l.Backward(r))
	checkFD(t, "LayerNorm dx", x, dx, loss)
	checkFD(t, "LayerNorm G", l.G.W, clone(l.G.G), loss)
	checkFD(t, "LayerNorm B", l.B.W, clone(l.B.G), loss)
}

func TestRMSNormGradients(t *testing.T) {
	rng := tensor.NewRNG(7)
	const n, c = 4, 9
	l := NewRMSNorm("rms", c)
	rng.FillNormal(l.G.W, 1)
	x := randn(rng, n*c, 2)
	r := randn(rng, n*c, 1)
	loss := func() float64 { return dot64(l.Forward(x, n), r) }
	y := l.Forward(x, n)
	for i := 0; i < n; i++ {
		var ss float64
		for _, a := range x[i*c : i*c+c] {
			ss += float64(a) * float64(a)
		}
		for j := 0; j < c; j++ {
			want := float64(x[i*c+j]) / math.Sqrt(ss/c+1e-6) * float64(l.G.W[j])
			if math.Abs(float64(y[i*c+j])-want) > 1e-5 {
				t.Fatalf("y[%d,%d] = %v, want %v", i, j, y[i*c+j], want)
			}
		}
	}
	zeroGrads(l.Params())
	dx := clone(l.Backward(r))
	checkFD(t, "RMSNorm dx", x, dx, loss)
	checkFD(t, "RMSNorm G", l.G.W, clone(l.G.G), loss)
}

func TestGELU(t *testing.T) {
	for _, tanh := range []bool{false, true} {
		rng := tensor.NewRNG(8)
		g := &GELU{Tanh: tanh}
		x := randn(rng, 50, 2)
		r := randn(rng, 50, 1)
		y := g.Forward(x, len(x))
		for i, v := range x {
			xf := float64(v)
			want := 0.5 * xf * (1 + math.Erf(xf/math.Sqrt2))
			if tanh {
				want = 0.5 * xf * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(xf+0.044715*xf*xf*xf)))
			}
			if math.Abs(float64(y[i])-want) > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("tanh=%v gelu(%v) = %v, want %v", tanh, v, y[i], want)
			}
		}
		loss := func() float64 { return dot64(g.Forward(x, len(x)), r) }
		loss()
		checkFD(t, "GELU dx", x, clone(g.Backward(r)), loss)
	}
}

func TestDropout(t *testing.T) {
	const n = 10000
	x := make([]float32, n)
	for i := range x {
		x[i] = 1
	}
	d := &Dropout{P: 0.25}
	y := clone(d.Forward(x, n, true, tensor.NewRNG(9)))
	zeros := 0
	for _, v := range y {
		switch v {
		case 0:
			zeros++
		case 1 / 0.75:
		default:
			t.Fatalf("dropout output %v, want 0 or 1/(1-P)", v)
		}
	}
	if zeros < 2300 || zeros > 2700 { // 2500 ± 5.8σ
		t.Fatalf("%d of %d dropped, want about 2500", zeros, n)
	}
	dx := d.Backward(x)
	for i := range dx {
		if dx[i] != y[i] { // d(y)/dx is the mask, and dout is all ones
			t.Fatalf("dx[%d] = %v, want %v", i, dx[i], y[i])
		}
	}
	y2 := d.Forward(x, n, true, tensor.NewRNG(9))
	sameBits(t, "dropout with the same seed", y, y2)
	if ev := d.Forward(x, n, false, nil); &ev[0] != &x[0] {
		t.Fatal("evaluation dropout must return its input")
	}
}

func TestCrossEntropy(t *testing.T) {
	rng := tensor.NewRNG(10)
	const n, v = 6, 11
	logits := randn(rng, n*v, 3)
	logits[3] = 80 // large logit: must not overflow
	targets := []int32{3, -1, 0, 10, -1, 5}
	var ce CrossEntropy
	loss := ce.Forward(logits, targets, n, v)
	var want float64
	count := 0
	for i, tg := range targets {
		if tg < 0 {
			continue
		}
		m := math.Inf(-1)
		for _, x := range logits[i*v : i*v+v] {
			m = math.Max(m, float64(x))
		}
		var s float64
		for _, x := range logits[i*v : i*v+v] {
			s += math.Exp(float64(x) - m)
		}
		want += m + math.Log(s) - float64(logits[i*v+int(tg)])
		count++
	}
	want /= float64(count)
	if math.Abs(float64(loss)-want) > 1e-5*(1+want) {
		t.Fatalf("loss %v, want %v", loss, want)
	}
	dl := clone(ce.Backward(1))
	for j := 0; j < v; j++ {
		if dl[1*v+j] != 0 || dl[4*v+j] != 0 {
			t.Fatal("ignored rows must get zero gradient")
		}
	}
	checkFD(t, "CE dlogits", logits, dl, func() float64 { return float64(ce.Forward(logits, targets, n, v)) })

	ip := CrossEntropy{InPlace: true}
	lg := clone(logits)
	ip.Forward(lg, targets, n, v)
	if d := ip.Backward(1); &d[0] != &lg[0] {
		t.Fatal("InPlace: dlogits must overwrite the logits")
	}
	sameBits(t, "in-place dlogits", lg, dl)

	// the fused one-pass form agrees with Forward/Backward (scale 0.5 folds into the gradient)
	fl := clone(logits)
	losses := make([]float32, n)
	sum, cnt := CrossEntropyFused(losses, fl, targets, n, v, 0.5)
	if cnt != 4 || math.Abs(sum/float64(cnt)-want) > 1e-5*(1+want) {
		t.Fatalf("fused: sum %v count %d, want mean %v over 4", sum, cnt, want)
	}
	for i := range fl {
		if math.Abs(float64(fl[i]-0.5*dl[i])) > 1e-7 {
			t.Fatalf("fused dlogits[%d] = %v, want %v", i, fl[i], 0.5*dl[i])
		}
	}

	all := []int32{-1, -1, -1, -1, -1, -1}
	if l := ce.Forward(logits, all, n, v); l != 0 {
		t.Fatalf("all ignored: loss %v, want 0", l)
	}
	for _, g := range ce.Backward(1) {
		if g != 0 {
			t.Fatal("all ignored: nonzero gradient")
		}
	}
}

func TestCheckShape(t *testing.T) {
	if err := CheckShape("attn", []int{2, 8, 64}, []int{-1, 8, 64}); err != nil {
		t.Fatal(err)
	}
	err := CheckShape("attn", []int{2, 8, 63}, []int{2, 8, 64})
	if err == nil || !strings.Contains(err.Error(), "attn") || !strings.Contains(err.Error(), "(2, 8, 63)") || !strings.Contains(err.Error(), "(2, 8, 64)") {
		t.Fatalf("CheckShape error %v", err)
	}
}

func TestFlatten(t *testing.T) {
	rng := tensor.NewRNG(11)
	a := NewLinear("a", 3, 2, true, rng)
	b := NewLinear("b", 2, 3, false, rng)
	b.W = a.W // shared, counted once
	wa := clone(a.W.W)
	w, g := Flatten(append(a.Params(), b.Params()...))
	if len(w) != 6+2 || len(g) != 8 {
		t.Fatalf("slab sizes %d %d, want 8", len(w), len(g))
	}
	sameBits(t, "flattened W", a.W.W, wa)
	a.W.G[0] = 5
	if g[0] != 5 || &b.W.W[0] != &w[0] {
		t.Fatal("params not re-pointed into the slabs")
	}
}

// Layers give bit-identical outputs and gradients with 1 and 2 threads.
func TestLayersThreadIndependent(t *testing.T) {
	const n, c, v = 64, 96, 50
	run := func() [][]float32 {
		rng := tensor.NewRNG(12)
		lin := NewLinear("fc", c, c, true, rng)
		bit := NewBitLinear("bit", c, c, true, rng)
		ln := NewLayerNorm("ln", c)
		rms := NewRMSNorm("rms", c)
		g := &GELU{}
		head := NewLinear("head", c, v, false, rng)
		x := randn(rng, n*c, 1)
		targets := make([]int32, n)
		for i := range targets {
			targets[i] = int32(rng.Intn(v))
		}
		var ce CrossEntropy
		h := ln.Forward(x, n)
		h = lin.Forward(h, n)
		h = g.Forward(h, n*c)
		h = bit.Forward(h, n)
		h = rms.Forward(h, n)
		logits := head.Forward(h, n)
		loss := ce.Forward(logits, targets, n, v)
		d := head.Backward(ce.Backward(1))
		d = rms.Backward(d)
		d = bit.Backward(d)
		d = g.Backward(d)
		d = lin.Backward(d)
		d = ln.Backward(d)
		out := [][]float32{{loss}, clone(logits), clone(d)}
		for _, l := range [][]*Param{lin.Params(), bit.Params(), ln.Params(), rms.Params(), head.Params()} {
			for _, p := range l {
				out = append(out, clone(p.G))
			}
		}
		return out
	}
	var one, two [][]float32
	withThreads(1, func() { one = run() })
	withThreads(2, func() { two = run() })
	for i := range one {
		sameBits(t, "output "+string(rune('A'+i)), one[i], two[i])
	}
}

// A forward+backward step allocates no activation buffers once warm: what it allocates (the worker
// pool's closures, a few dozen bytes per parallel kernel call) does not grow with the batch.
func TestLayersNoSteadyStateAllocation(t *testing.T) {
	const c = 64
	perStep := func(n int) float64 {
		rng := tensor.NewRNG(13)
		lin := NewLinear("fc", c, c, true, rng)
		bit := NewBitLinear("bit", c, c, false, rng)
		ln := NewLayerNorm("ln", c)
		g := &GELU{Tanh: true}
		x := randn(rng, n*c, 1)
		return bytesPerRun(func() {
			h := bit.Forward(g.Forward(lin.Forward(ln.Forward(x, n), n), n*c), n)
			ln.Backward(lin.Backward(g.Backward(bit.Backward(h))))
		})
	}
	small, big := perStep(16), perStep(256) // big's buffers are 16x larger: 64 KiB each
	if big > small+maxStepBytes || big > 8*maxStepBytes {
		t.Fatalf("step allocates %.0f bytes at n=16 and %.0f at n=256: buffers are not reused", small, big)
	}
	t.Logf("bytes allocated per step (pool closures): %.0f at n=16, %.0f at n=256", small, big)
}
