package optim

import (
	"math"
	"testing"

	"tern/nn"
)

// TestAdamWMatchesFormula checks two steps against the update written out in float64 (torch.optim.AdamW).
func TestAdamWMatchesFormula(t *testing.T) {
	p := nn.NewParam("w", 3)
	copy(p.W, []float32{0.5, -1, 2})
	q := nn.NewParam("norm", 1)
	q.W[0] = 1
	o := NewAdamW([]*nn.Param{p, q, p}, []*nn.Param{q})
	if len(o.Params) != 2 {
		t.Fatalf("unique params = %d, want 2 (p listed twice)", len(o.Params))
	}
	grads := [][]float32{{0.1, -0.2, 0.3}, {-0.05, 0.4, 0}}
	w := []float64{0.5, -1, 2}
	m, v := make([]float64, 3), make([]float64, 3)
	lr, wd := 0.01, 0.1
	for step := 1; step <= 2; step++ {
		copy(p.G, grads[step-1])
		q.G[0] = 1
		o.Update(lr, wd)
		for j := range w {
			g := float64(grads[step-1][j])
			w[j] *= 1 - lr*wd
			m[j] = 0.9*m[j] + 0.1*g
			v[j] = 0.999*v[j] + 0.001*g*g
			mh := m[j] / (1 - math.Pow(0.9, float64(step)))
			vh := v[j] / (1 - math.Pow(0.999, float64(step)))
			w[j] -= lr * mh / (math.Sqrt(vh) + 1e-8)
		}
		for j := range w {
			if d := math.Abs(float64(p.W[j]) - w[j]); d > 1e-6 {
				t.Errorf("step %d: w[%d] = %v, want %v", step, j, p.W[j], w[j])
			}
		}
	}
	// q: no decay; with g = 1 constant, m̂ = v̂ = 1 so each step moves by lr (minus eps effect).
	if d := math.Abs(float64(q.W[0]) - (1 - 2*lr)); d > 1e-6 {
		t.Errorf("no-decay param = %v, want %v", q.W[0], 1-2*lr)
	}
}

func TestClipGradNorm(t *testing.T) {
	a, b := nn.NewParam("a", 2), nn.NewParam("b", 1)
	nn.AllocGrads([]*nn.Param{a, b})
	copy(a.G, []float32{3, 0})
	b.G[0] = 4 // global norm 5
	if n := ClipGradNorm([]*nn.Param{a, b}, 1); math.Abs(n-5) > 1e-9 {
		t.Fatalf("norm = %v, want 5", n)
	}
	if n := GradNorm([]*nn.Param{a, b}); math.Abs(n-1) > 1e-5 {
		t.Fatalf("norm after clip = %v, want 1", n)
	}
	b.G[0] = float32(math.NaN())
	if n := ClipGradNorm([]*nn.Param{a, b}, 1); !math.IsNaN(n) {
		t.Fatalf("NaN gradient: norm %v, want NaN", n)
	}
}

func TestSchedules(t *testing.T) {
	s := Schedule{Kind: "cosine", LR: 1, MinLR: 0.1, Warmup: 10, Steps: 110, WD: 0.1}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	near := func(got, want float64, what string) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	lr, _ := s.At(0)
	near(lr, 0.1, "warmup step 0") // (0+1)/10
	lr, _ = s.At(9)
	near(lr, 1, "end of warmup")
	lr, _ = s.At(10)
	near(lr, 1, "cosine start")
	lr, _ = s.At(60) // halfway through the cosine: (1+0.1)/2
	near(lr, 0.55, "cosine middle")
	lr, _ = s.At(110)
	near(lr, 0.1, "cosine end")

	b := Schedule{Kind: "bitnet", LR: 1, MinLR: 0, Warmup: 0, Steps: 100, WD: 0.1}
	lr1, wd1 := b.At(49)
	lr2, wd2 := b.At(50)
	if wd1 != 0.1 || wd2 != 0 {
		t.Errorf("bitnet weight decay: stage one %v, stage two %v; want 0.1, 0", wd1, wd2)
	}
	if !(lr2 < lr1) {
		t.Errorf("bitnet: lr must drop at the stage boundary (%v -> %v)", lr1, lr2)
	}
	near(lr2, 0.5, "bitnet stage two start")
	if err := (Schedule{Kind: "linear", LR: 1, Steps: 1}).Validate(); err == nil {
		t.Error("unknown schedule kind accepted")
	}
}
