package model

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"tern/nn"
	"tern/tensor"
)

func tinyCfg(objective Objective, linear Linear) Config {
	return Config{Type: "transformer", Objective: objective, Vocab: 11, Hidden: 8, Layers: 1, Heads: 2, FFN: 16,
		MaxPos: 8, TypeVocab: 2, Linear: linear, TieEmbeddings: true, Norm: "layernorm"}
}

// lossOf is L = Σ logits·r: dL/dlogits = r, so the model's backward gives dL/dparams to compare with
// central differences.
func lossOf(t *testing.T, m *TaskModel, ids, types []int32, pad []bool, b, tt int, r []float32) float64 {
	out, err := m.Forward(ids, types, pad, b, tt)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for i, v := range out {
		s += float64(v) * float64(r[i])
	}
	return s
}

// TestHeadsFiniteDifferences checks TaskModel.Backward (head + BackwardHidden) against central
// differences for every head kind and pooling, with padding, on a tiny fp32 model.
func TestHeadsFiniteDifferences(t *testing.T) {
	const b, tt = 2, 5
	ids := []int32{1, 2, 3, 4, 5, 6, 7, 8, 0, 0}
	types := []int32{0, 0, 1, 1, 1, 0, 0, 1, 0, 0}
	pad := []bool{false, false, false, false, false, false, false, false, true, true}
	cases := []struct {
		objective Objective
		hc        HeadConfig
	}{
		{"mlm", HeadConfig{Kind: "sequence", Pool: "first", Labels: []string{"a", "b", "c"}, Linear: "fp32"}},
		{"causal", HeadConfig{Kind: "sequence", Pool: "mean", Labels: []string{"a", "b"}, Linear: "fp32"}},
		{"causal", HeadConfig{Kind: "sequence", Pool: "last", Labels: []string{"a", "b"}, Linear: "fp32"}},
		{"mlm", HeadConfig{Kind: "token", Labels: []string{"O", "B", "I", "X"}, Linear: "fp32"}},
		{"causal", HeadConfig{Kind: "span", Labels: []string{"start", "end"}, Linear: "fp32"}},
	}
	for _, c := range cases {
		t.Run(c.hc.Kind+"-"+c.hc.Pool+"-"+string(c.objective), func(t *testing.T) {
			rng := tensor.NewRNG(7)
			enc, err := NewTransformer(tinyCfg(c.objective, "fp32"), rng)
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewTaskModel(enc, "test", c.hc, rng)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Head.Params() { // non-zero bias and larger weights so every path matters
				rng.FillNormal(p.W, 0.5)
			}
			out, err := m.Forward(ids, types, pad, b, tt)
			if err != nil {
				t.Fatal(err)
			}
			r := make([]float32, len(out))
			rng.FillNormal(r, 1)
			for _, p := range nn.Unique(m.Params()) {
				p.ZeroGrad()
			}
			m.Backward(append([]float32(nil), r...))
			checked := 0
			for _, p := range nn.Unique(m.Params()) {
				for _, i := range []int{0, len(p.W) / 2, len(p.W) - 1} {
					const eps = 2e-3
					w0 := p.W[i]
					p.W[i] = w0 + eps
					lp := lossOf(t, m, ids, types, pad, b, tt, r)
					p.W[i] = w0 - eps
					lm := lossOf(t, m, ids, types, pad, b, tt, r)
					p.W[i] = w0
					fd := (lp - lm) / (2 * eps)
					g := float64(p.G[i])
					if math.Abs(fd-g) > 2e-2*max(1, math.Abs(fd)) {
						t.Errorf("%s[%d]: backward %.5f, finite difference %.5f", p.Name, i, g, fd)
					}
					checked++
				}
			}
			if checked < 30 {
				t.Fatalf("only %d entries checked", checked)
			}
		})
	}
}

// TestPoolingOnPadding: mean and last pooling ignore padding (changing a padded token's id changes
// nothing), and dh is zero at padding positions.
func TestPoolingOnPadding(t *testing.T) {
	for _, pool := range []string{"mean", "last"} {
		rng := tensor.NewRNG(3)
		enc, _ := NewTransformer(tinyCfg("causal", "fp32"), rng)
		m, err := NewTaskModel(enc, "x", HeadConfig{Kind: "sequence", Pool: pool, Labels: []string{"a", "b"}, Linear: "fp32"}, rng)
		if err != nil {
			t.Fatal(err)
		}
		pad := []bool{false, false, false, true}
		a, _ := m.Forward([]int32{1, 2, 3, 4}, nil, pad, 1, 4)
		a = append([]float32(nil), a...)
		bb, _ := m.Forward([]int32{1, 2, 3, 9}, nil, pad, 1, 4)
		for i := range a {
			if a[i] != bb[i] {
				t.Errorf("%s: padded token changed logit %d: %v vs %v", pool, i, a[i], bb[i])
			}
		}
		dh := m.Head.Backward([]float32{1, -1})
		for k := 3 * 8; k < 4*8; k++ {
			if dh[k] != 0 {
				t.Fatalf("%s: dh at padding = %v", pool, dh[k])
			}
		}
	}
}

// TestBitLinearHead: the 1.58-bit head's dh is the straight-through dlogits · (s·W_t), computed here
// with naive loops from the head's own ternary weights.
func TestBitLinearHead(t *testing.T) {
	rng := tensor.NewRNG(5)
	const b, tt, C, K = 2, 3, 8, 3
	h, err := NewHead(HeadConfig{Kind: "token", Labels: []string{"a", "b", "c"}, Linear: "bitnet"}, C, rng)
	if err != nil {
		t.Fatal(err)
	}
	hid := make([]float32, b*tt*C)
	rng.FillNormal(hid, 1)
	h.Forward(hid, nil, b, tt)
	bl := h.Proj.(*nn.BitLinear)
	s, wt := bl.Scale(), bl.Ternary()
	d := make([]float32, b*tt*K)
	rng.FillNormal(d, 1)
	dh := h.Backward(d)
	for r := 0; r < b*tt; r++ {
		for c := 0; c < C; c++ {
			var want float64
			for k := 0; k < K; k++ {
				want += float64(d[r*K+k]) * float64(s) * float64(wt[k*C+c])
			}
			if math.Abs(float64(dh[r*C+c])-want) > 1e-5 {
				t.Fatalf("dh[%d,%d] = %v, want %v", r, c, dh[r*C+c], want)
			}
		}
	}
}

// TestSaveLoadTask round-trips a fine-tuned model and checks a plain LM file is refused with a
// message that names the file and says what to do.
func TestSaveLoadTask(t *testing.T) {
	dir := t.TempDir()
	rng := tensor.NewRNG(9)
	enc, _ := NewTransformer(tinyCfg("causal", "bitnet"), rng)
	m, err := NewTaskModel(enc, "sst2", HeadConfig{Kind: "sequence", Pool: "last", Labels: []string{"0", "1"}, Linear: "bitnet"}, rng)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ft.safetensors")
	if err := SaveTask(path, m, "gpt2"); err != nil {
		t.Fatal(err)
	}
	m2, tok, err := LoadTask(path)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "gpt2" || m2.Task != "sst2" || m2.Head.Cfg.Pool != "last" || m2.Head.Cfg.Linear != "bitnet" {
		t.Fatalf("round trip: tok %q task %q head %+v", tok, m2.Task, m2.Head.Cfg)
	}
	ids := []int32{1, 2, 3, 4}
	a, _ := m.Forward(ids, nil, nil, 1, 4)
	a = append([]float32(nil), a...)
	c, _ := m2.Forward(ids, nil, nil, 1, 4)
	for i := range a {
		if a[i] != c[i] {
			t.Fatalf("logit %d: %v after reload, %v before", i, c[i], a[i])
		}
	}
	lmPath := filepath.Join(dir, "lm.safetensors")
	if err := Save(lmPath, transformerLM{enc}, "gpt2"); err != nil {
		t.Fatal(err)
	}
	_, _, err = LoadTask(lmPath)
	if err == nil || !strings.Contains(err.Error(), lmPath) || !strings.Contains(err.Error(), "tern finetune") {
		t.Fatalf("plain LM loaded as task model: %v", err)
	}
}

// TestLogitsRows: Logits on a subset of hidden rows equals those rows of the full Forward.
func TestLogitsRows(t *testing.T) {
	for _, tie := range []bool{true, false} {
		cfg := tinyCfg("causal", "fp32")
		cfg.TieEmbeddings = tie
		m, _ := NewTransformer(cfg, tensor.NewRNG(2))
		ids := []int32{1, 2, 3, 4, 5, 6}
		full, _ := m.Forward(ids, nil, nil, 1, 6)
		full = append([]float32(nil), full...)
		h, _ := m.ForwardHidden(ids, nil, nil, 1, 6)
		got := m.Logits(nil, h[3*8:], 3)
		for i, v := range got {
			if d := math.Abs(float64(v - full[3*11+i])); d > 1e-5 {
				t.Fatalf("tie=%v: logit %d differs by %g", tie, i, d)
			}
		}
	}
}
