package kernels

import (
	"math"
	"testing"

	"tern/tensor"
)

// Row-wise kernels against float64 references: forward passes against direct float64 formulas,
// backward passes against float64 central differences of those formulas (exact enough at eps 1e-6),
// every dispatcher against its Generic twin, and thread-count independence.

const (
	maxErrRow   = 2e-5 // float32 row kernels vs float64 reference, relative to 1+|want|
	maxErrRowBw = 1e-4 // backward passes (longer float32 sums)
)

var rowSizes = []int{1, 3, 7, 8, 15, 16, 17, 33, 65, 257, 1000}

func randRow(rng *tensor.RNG, n int, std float64) []float32 {
	x := make([]float32, n)
	rng.FillNormal(x, std)
	return x
}

func near(t *testing.T, name string, got float32, want, tol float64) {
	t.Helper()
	if math.IsNaN(float64(got)) || math.Abs(float64(got)-want) > tol*(1+math.Abs(want)) {
		t.Fatalf("%s = %v, want %v", name, got, want)
	}
}

func sameBits32(t *testing.T, name string, a, b []float32) {
	t.Helper()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s[%d]: %v vs %v", name, i, a[i], b[i])
		}
	}
}

// float64 references, one row.
func lnRef(x []float64, g, b []float32) []float64 {
	c := float64(len(x))
	var m, v float64
	for _, a := range x {
		m += a
	}
	m /= c
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	r := 1 / math.Sqrt(v/c+LayerNormEps)
	y := make([]float64, len(x))
	for j, a := range x {
		y[j] = (a-m)*r*float64(g[j]) + float64(b[j])
	}
	return y
}

func rmsRef(x []float64, g []float32, eps float64) []float64 {
	var ss float64
	for _, a := range x {
		ss += a * a
	}
	r := 1 / math.Sqrt(ss/float64(len(x))+eps)
	y := make([]float64, len(x))
	for j, a := range x {
		y[j] = a * r * float64(g[j])
	}
	return y
}

// fdRow returns d(Σ_j f(x)_j·dout_j)/dx in float64.
func fdRow(x []float32, dout []float32, f func([]float64) []float64) []float64 {
	xd := make([]float64, len(x))
	for i, v := range x {
		xd[i] = float64(v)
	}
	loss := func() float64 {
		var s float64
		for j, y := range f(xd) {
			s += y * float64(dout[j])
		}
		return s
	}
	const eps = 1e-6
	grad := make([]float64, len(x))
	for i := range xd {
		old := xd[i]
		xd[i] = old + eps
		lp := loss()
		xd[i] = old - eps
		lm := loss()
		xd[i] = old
		grad[i] = (lp - lm) / (2 * eps)
	}
	return grad
}

func TestSoftmaxRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := tensor.NewRNG(1)
		for _, c := range rowSizes {
			const n = 3
			x := randRow(rng, n*c, 3)
			x[0] = 90 // would overflow exp without the max shift
			got := make([]float32, n*c)
			SoftmaxRows(got, x, n, c)
			gen := make([]float32, n*c)
			SoftmaxRowsGeneric(gen, x, n, c)
			for i := 0; i < n; i++ {
				row := x[i*c : i*c+c]
				m := math.Inf(-1)
				for _, v := range row {
					m = math.Max(m, float64(v))
				}
				var s float64
				for _, v := range row {
					s += math.Exp(float64(v) - m)
				}
				for j, v := range row {
					want := math.Exp(float64(v)-m) / s
					near(t, "softmax", got[i*c+j], want, maxErrRow)
					near(t, "softmax generic", gen[i*c+j], want, maxErrRow)
				}
			}
			SoftmaxRows(x, x, n, c) // in place
			sameBits32(t, "softmax in place", x, got)
		}
	})
}

func TestLayerNormRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := tensor.NewRNG(2)
		for _, c := range rowSizes {
			const n = 3
			x := randRow(rng, n*c, 2)
			for j := 0; j < c; j++ {
				x[j] += 5 // a row with a large mean
			}
			g, b := randRow(rng, c, 1), randRow(rng, c, 1)
			dout := randRow(rng, n*c, 1)
			y := make([]float32, n*c)
			mean, rstd := make([]float32, n), make([]float32, n)
			LayerNormForward(y, mean, rstd, x, g, b, n, c)
			yg := make([]float32, n*c)
			mg, rg := make([]float32, n), make([]float32, n)
			LayerNormForwardGeneric(yg, mg, rg, x, g, b, n, c)
			dx, dgr, dbr := make([]float32, n*c), make([]float32, c), make([]float32, c)
			LayerNormBackward(dx, dgr, dbr, dout, x, g, mean, rstd, n, c)
			dxg, dgg, dbg := make([]float32, n*c), make([]float32, c), make([]float32, c)
			LayerNormBackwardGeneric(dxg, dgg, dbg, dout, x, g, mg, rg, n, c)
			wantDg, wantDb := make([]float64, c), make([]float64, c)
			for i := 0; i < n; i++ {
				row := x[i*c : i*c+c]
				xd := make([]float64, c)
				for j, v := range row {
					xd[j] = float64(v)
				}
				yr := lnRef(xd, g, b)
				ddx := fdRow(row, dout[i*c:i*c+c], func(z []float64) []float64 { return lnRef(z, g, b) })
				zero := make([]float32, c)
				xh := lnRef(xd, onesF(c), zero)
				for j := 0; j < c; j++ {
					near(t, "layernorm y", y[i*c+j], yr[j], maxErrRow)
					near(t, "layernorm y generic", yg[i*c+j], yr[j], maxErrRow)
					if c > 1 { // with C=1 the output is constant and the gradient is 0 up to rounding
						near(t, "layernorm dx", dx[i*c+j], ddx[j], maxErrRowBw)
						near(t, "layernorm dx generic", dxg[i*c+j], ddx[j], maxErrRowBw)
					}
					wantDg[j] += float64(dout[i*c+j]) * xh[j]
					wantDb[j] += float64(dout[i*c+j])
				}
			}
			for j := 0; j < c; j++ {
				near(t, "layernorm dg", dgr[j], wantDg[j], maxErrRowBw)
				near(t, "layernorm db", dbr[j], wantDb[j], maxErrRowBw)
			}
			for j := 0; j < c; j++ {
				near(t, "layernorm dg generic", dgg[j], wantDg[j], maxErrRowBw)
				near(t, "layernorm db generic", dbg[j], wantDb[j], maxErrRowBw)
			}
		}
	})
}

func onesF(c int) []float32 {
	o := make([]float32, c)
	for i := range o {
		o[i] = 1
	}
	return o
}

func TestRMSNormRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := tensor.NewRNG(3)
		const eps = 1e-6
		for _, c := range rowSizes {
			const n = 3
			x := randRow(rng, n*c, 2)
			g := randRow(rng, c, 1)
			dout := randRow(rng, n*c, 1)
			y, rstd := make([]float32, n*c), make([]float32, n)
			RMSNormForward(y, rstd, x, g, n, c, eps)
			dx, dg := make([]float32, n*c), make([]float32, c)
			RMSNormBackward(dx, dg, dout, x, g, rstd, n, c)
			wantDg := make([]float64, c)
			for i := 0; i < n; i++ {
				row := x[i*c : i*c+c]
				xd := make([]float64, c)
				for j, v := range row {
					xd[j] = float64(v)
				}
				yr := rmsRef(xd, g, eps)
				xh := rmsRef(xd, onesF(c), eps)
				ddx := fdRow(row, dout[i*c:i*c+c], func(z []float64) []float64 { return rmsRef(z, g, eps) })
				for j := 0; j < c; j++ {
					near(t, "rmsnorm y", y[i*c+j], yr[j], maxErrRow)
					near(t, "rmsnorm dx", dx[i*c+j], ddx[j], maxErrRowBw)
					wantDg[j] += float64(dout[i*c+j]) * xh[j]
				}
			}
			for j := 0; j < c; j++ {
				near(t, "rmsnorm dg", dg[j], wantDg[j], maxErrRowBw)
			}
		}
	})
}

func TestGELURows(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := tensor.NewRNG(4)
		for _, tanh := range []bool{false, true} {
			f := func(x float64) float64 {
				if tanh {
					return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
				}
				return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
			}
			for _, n := range rowSizes {
				x := randRow(rng, n, 3)
				x[0] = -12 // tails: tanh saturates, erf underflows
				if n > 1 {
					x[1] = 12
				}
				dout := randRow(rng, n, 1)
				y, dx := make([]float32, n), make([]float32, n)
				GELUForward(y, x, n, tanh)
				GELUBackward(dx, x, dout, n, tanh)
				yg, dxg := make([]float32, n), make([]float32, n)
				GELUForwardGeneric(yg, x, n, tanh)
				GELUBackwardGeneric(dxg, x, dout, n, tanh)
				for i, v := range x {
					xf := float64(v)
					near(t, "gelu", y[i], f(xf), maxErrRow)
					near(t, "gelu generic", yg[i], f(xf), maxErrRow)
					d := (f(xf+1e-6) - f(xf-1e-6)) / 2e-6 * float64(dout[i])
					near(t, "gelu backward", dx[i], d, maxErrRowBw)
					near(t, "gelu backward generic", dxg[i], d, maxErrRowBw)
				}
			}
		}
	})
}

// Outputs and the column-reduced dg/db are bit-identical for 1 and 2 threads.
func TestRowwiseThreadIndependent(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		const n, c = 300, 257
		rng := tensor.NewRNG(5)
		x, g, b, dout := randRow(rng, n*c, 1), randRow(rng, c, 1), randRow(rng, c, 1), randRow(rng, n*c, 1)
		run := func() [][]float32 {
			y, mean, rstd := make([]float32, n*c), make([]float32, n), make([]float32, n)
			LayerNormForward(y, mean, rstd, x, g, b, n, c)
			dx, dg, db := make([]float32, n*c), make([]float32, c), make([]float32, c)
			LayerNormBackward(dx, dg, db, dout, x, g, mean, rstd, n, c)
			sm := make([]float32, n*c)
			SoftmaxRows(sm, x, n, c)
			ge := make([]float32, n*c)
			GELUForward(ge, x, n*c, true)
			return [][]float32{y, dx, dg, db, sm, ge}
		}
		old := Threads()
		defer SetThreads(old)
		SetThreads(1)
		one := run()
		SetThreads(2)
		two := run()
		for i := range one {
			sameBits32(t, "rowwise output", one[i], two[i])
		}
	})
}

// Benchmarks at the small GPT config's sizes (B·T = 1024 rows, C = 256, hidden 1024, NH·T = 512
// attention rows of 128 per batch row).
func BenchmarkRowwise(b *testing.B) {
	for _, name := range distinctImpls(rowPathName) {
		withImplName(name, func() { b.Run(name, benchRowwise) })
	}
}

func benchRowwise(b *testing.B) {
	rng := tensor.NewRNG(6)
	const n, c = 1024, 256
	x, g, bb, dout := randRow(rng, n*c, 1), randRow(rng, c, 1), randRow(rng, c, 1), randRow(rng, n*c, 1)
	y, mean, rstd := make([]float32, n*c), make([]float32, n), make([]float32, n)
	dx, dg, db := make([]float32, n*c), make([]float32, c), make([]float32, c)
	b.Run("layernorm_fwd", func(b *testing.B) {
		b.SetBytes(int64(n * c * 4))
		for b.Loop() {
			LayerNormForward(y, mean, rstd, x, g, bb, n, c)
		}
	})
	b.Run("layernorm_bwd", func(b *testing.B) {
		b.SetBytes(int64(n * c * 4))
		for b.Loop() {
			LayerNormBackward(dx, dg, db, dout, x, g, mean, rstd, n, c)
		}
	})
	sm := randRow(rng, 4096*128, 2)
	smo := make([]float32, len(sm))
	b.Run("softmax_4096x128", func(b *testing.B) {
		b.SetBytes(int64(len(sm) * 4))
		for b.Loop() {
			SoftmaxRows(smo, sm, 4096, 128)
		}
	})
	gx := randRow(rng, n*1024, 1)
	gy, gd := make([]float32, len(gx)), randRow(rng, len(gx), 1)
	for _, tanh := range []bool{true, false} {
		name := "erf"
		if tanh {
			name = "tanh"
		}
		b.Run("gelu_"+name+"_fwd_1M", func(b *testing.B) {
			b.SetBytes(int64(len(gx) * 4))
			for b.Loop() {
				GELUForward(gy, gx, len(gx), tanh)
			}
		})
		b.Run("gelu_"+name+"_bwd_1M", func(b *testing.B) {
			b.SetBytes(int64(len(gx) * 4))
			for b.Loop() {
				GELUBackward(gy, gx, gd, len(gx), tanh)
			}
		})
	}
}

func TestScalarMath(t *testing.T) {
	for x := float32(-90); x <= 89; x += 0.01237 {
		want := math.Exp(float64(min(x, expMax)))
		got := float64(Exp32(x))
		if x < expMin {
			want = 0
		}
		if math.Abs(got-want) > 3e-7*want {
			t.Fatalf("Exp32(%v) = %v, want %v", x, got, want)
		}
	}
	if Exp32(float32(math.Inf(-1))) != 0 || !math.IsNaN(float64(Exp32(float32(math.NaN())))) {
		t.Fatal("Exp32: -Inf must give 0 and NaN must stay NaN")
	}
	for x := float32(-12); x <= 12; x += 0.00731 {
		if got, want := Tanh32(x), math.Tanh(float64(x)); math.Abs(float64(got)-want) > 2e-7 {
			t.Fatalf("Tanh32(%v) = %v, want %v", x, got, want)
		}
		if got, want := Sigmoid32(x), 1/(1+math.Exp(-float64(x))); math.Abs(float64(got)-want) > 2e-7 {
			t.Fatalf("Sigmoid32(%v) = %v, want %v", x, got, want)
		}
		cdf, pdf := normalCDF(x)
		xf := float64(x)
		if want := 0.5 * math.Erfc(-xf/math.Sqrt2); math.Abs(float64(cdf)-want) > 2.5e-7 {
			t.Fatalf("normalCDF(%v) = %v, want %v", x, cdf, want)
		}
		if want := math.Exp(-xf*xf/2) / math.Sqrt(2*math.Pi); math.Abs(float64(pdf)-want) > 1e-7 {
			t.Fatalf("normal pdf(%v) = %v, want %v", x, pdf, want)
		}
	}
}

// TestSoftmaxVeryNegative: a row whose entries all lie below exp's range (attention scores of a few
// hundred below zero) is a softmax like any other, not the zeros of a fully masked row.
func TestSoftmaxVeryNegative(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := tensor.NewRNG(11)
		for _, c := range rowSizes {
			x := randRow(rng, c, 3)
			for j := range x {
				x[j] -= 200
			}
			got, scaled := make([]float32, c), make([]float32, c)
			SoftmaxRows(got, x, 1, c)
			lse := SoftmaxRowScaled(scaled, x, 1)
			m := math.Inf(-1)
			for _, v := range x {
				m = math.Max(m, float64(v))
			}
			var s float64
			for _, v := range x {
				s += math.Exp(float64(v) - m)
			}
			near(t, "lse", lse, m+math.Log(s), maxErrRow)
			for j, v := range x {
				want := math.Exp(float64(v)-m) / s
				near(t, "softmax", got[j], want, maxErrRow)
				near(t, "scaled softmax", scaled[j], want, maxErrRow)
			}
		}
	})
}

func TestSoftmaxMasked(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		inf := float32(math.Inf(-1))
		for _, c := range rowSizes {
			x := make([]float32, 2*c)
			rng := tensor.NewRNG(uint64(c))
			for j := range x[:c] {
				x[j] = inf
			}
			for j := c; j < 2*c; j++ {
				x[j] = float32(rng.NormFloat64())
				if j%3 == 1 {
					x[j] = inf
				}
			}
			x[2*c-1] = 0.5 // at least one allowed
			y := make([]float32, 2*c)
			SoftmaxRows(y, x, 2, c)
			var s float64
			for j := range y {
				if j < c && y[j] != 0 {
					t.Fatalf("c=%d fully masked row: %v", c, y[j])
				}
				if x[j] == inf && y[j] != 0 {
					t.Fatalf("c=%d masked entry %d: %v", c, j, y[j])
				}
				if j >= c {
					s += float64(y[j])
				}
			}
			if math.Abs(s-1) > 1e-5 {
				t.Fatalf("c=%d row sum %v", c, s)
			}
		}
	})
}

func TestLogSumExpAndExpShift(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := tensor.NewRNG(7)
		for _, c := range rowSizes {
			const n = 3
			x := randRow(rng, n*c, 4)
			lse := make([]float32, n)
			LogSumExpRows(lse, x, n, c)
			p := make([]float32, n*c)
			ExpShiftRows(p, x, lse, 0.5, n, c)
			for i := 0; i < n; i++ {
				var s float64
				for _, v := range x[i*c : i*c+c] {
					s += math.Exp(float64(v))
				}
				near(t, "lse", lse[i], math.Log(s), maxErrRow)
				for j, v := range x[i*c : i*c+c] {
					near(t, "expshift", p[i*c+j], 0.5*math.Exp(float64(v))/s, maxErrRow)
				}
			}
		}
	})
}

func TestSigmoidTanhInPlace(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := tensor.NewRNG(8)
		for _, n := range rowSizes {
			x := randRow(rng, n, 4)
			x[0] = -100 // saturation on both sides
			if n > 1 {
				x[1] = 100
			}
			s, th := clone32(x), clone32(x)
			SigmoidInPlace(s)
			TanhInPlace(th)
			for i, v := range x {
				xf := float64(v)
				if want := 1 / (1 + math.Exp(-xf)); math.Abs(float64(s[i])-want) > 3e-7 {
					t.Fatalf("n=%d sigmoid(%v) = %v, want %v", n, v, s[i], want)
				}
				if want := math.Tanh(xf); math.Abs(float64(th[i])-want) > 3e-7 {
					t.Fatalf("n=%d tanh(%v) = %v, want %v", n, v, th[i], want)
				}
			}
		}
	})
}

func clone32(x []float32) []float32 { return append([]float32(nil), x...) }

func TestSoftmaxRowScaled(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := tensor.NewRNG(9)
		for _, c := range rowSizes {
			x := randRow(rng, c, 5)
			out := make([]float32, c)
			lse := SoftmaxRowScaled(out, x, 0.25)
			var s float64
			for _, v := range x {
				s += math.Exp(float64(v))
			}
			near(t, "lse", lse, math.Log(s), maxErrRow)
			for j, v := range x {
				near(t, "scaled softmax", out[j], 0.25*math.Exp(float64(v))/s, maxErrRow)
			}
		}
	})
}
