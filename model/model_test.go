package model

import (
	"math"
	"strings"
	"testing"

	"tern/nn"
	"tern/quant"
	"tern/tensor"
)

// gradCheck compares the analytic gradient of L = sum(logits * R) with central finite differences at a
// few coordinates of every parameter tensor: it checks the wiring of the whole model (each layer's own
// backward is checked in package nn).
func gradCheck(t *testing.T, lm LM, ids []int32, b, tt int) {
	t.Helper()
	V := lm.Config().Vocab
	rng := tensor.NewRNG(3)
	R := make([]float32, b*tt*V)
	rng.FillNormal(R, 1)
	loss := func() float64 {
		logits, err := lm.Forward(ids, b, tt)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, v := range logits {
			s += float64(v) * float64(R[i])
		}
		return s
	}
	ps := nn.Unique(lm.Params())
	for _, p := range ps {
		clear(p.G)
	}
	loss()
	lm.Backward(append([]float32(nil), R...))
	for _, p := range ps {
		for k := 0; k < 3; k++ {
			j := rng.Intn(len(p.W))
			w0 := p.W[j]
			const eps = 1e-2
			p.W[j] = w0 + eps
			lp := loss()
			p.W[j] = w0 - eps
			lm2 := loss()
			p.W[j] = w0
			num := (lp - lm2) / (2 * eps)
			got := float64(p.G[j])
			if math.Abs(num-got) > 2e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: analytic %.5f, numeric %.5f", p.Name, j, got, num)
			}
		}
	}
}

func tinyConfig() Config {
	return Config{Type: "transformer", Objective: "causal", Vocab: 11, Hidden: 8, Layers: 2, Heads: 2, FFN: 16,
		MaxPos: 6, Linear: "fp32", TieEmbeddings: true, Norm: "layernorm"}
}

func TestTransformerGradients(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"causal-tied":  func(c *Config) {},
		"mlm-types":    func(c *Config) { c.Objective, c.TypeVocab = "mlm", 2 },
		"rmsnorm-head": func(c *Config) { c.Norm, c.TieEmbeddings, c.Bias = "rmsnorm", false, true },
		"lstm": func(c *Config) {
			*c = Config{Type: "rnn", Cell: "lstm", Objective: "causal", Vocab: 11, Hidden: 8, Layers: 2, MaxPos: 6, Linear: "fp32"}
		},
		"gru-tied": func(c *Config) {
			*c = Config{Type: "rnn", Cell: "gru", Objective: "causal", Vocab: 11, Hidden: 8, Layers: 2, MaxPos: 6, Linear: "fp32", TieEmbeddings: true}
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := tinyConfig()
			mut(&cfg)
			lm, err := New(cfg, tensor.NewRNG(1))
			if err != nil {
				t.Fatal(err)
			}
			// scale weights up from 0.02 so the check is not dominated by float32 rounding of tiny terms
			for _, p := range nn.Unique(lm.Params()) {
				if len(p.Shape) == 2 && cfg.Type == "transformer" { // RNN init is already U(±1/sqrt(H))
					for j := range p.W {
						p.W[j] *= 10
					}
				}
			}
			ids := []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1}
			gradCheck(t, lm, ids, 2, 6)
		})
	}
}

// TestCausalMasking: changing a later token must not change earlier logits of a causal model, and must
// change them in a bidirectional one.
func TestCausalMasking(t *testing.T) {
	for _, obj := range []Objective{ObjCausal, ObjMLM} {
		cfg := tinyConfig()
		cfg.Objective = obj
		lm, _ := New(cfg, tensor.NewRNG(1))
		a, _ := lm.Forward([]int32{1, 2, 3, 4}, 1, 4)
		a = append([]float32(nil), a...)
		b, _ := lm.Forward([]int32{1, 2, 3, 9}, 1, 4)
		same := true
		for i := 0; i < 3*cfg.Vocab; i++ {
			same = same && a[i] == b[i]
		}
		if same != (obj == "causal") {
			t.Errorf("%s: earlier logits unchanged = %v", obj, same)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"heads":     func(c *Config) { c.Heads = 3 },
		"type":      func(c *Config) { c.Type = "mamba" },
		"linear":    func(c *Config) { c.Linear = "int4" },
		"objective": func(c *Config) { c.Objective = "span" },
		"vocab":     func(c *Config) { c.Vocab = 0 },
	} {
		c := tinyConfig()
		mut(&c)
		if _, err := New(c, tensor.NewRNG(1)); err == nil {
			t.Errorf("%s: bad config accepted", name)
		}
	}
	lm, _ := New(tinyConfig(), tensor.NewRNG(1))
	if _, err := lm.Forward([]int32{1, 2, 3, 4, 5, 6, 7}, 1, 7); err == nil {
		t.Error("sequence longer than max_pos accepted")
	}
	if _, err := lm.Forward([]int32{1, 99}, 1, 2); err == nil {
		t.Error("out-of-vocabulary id accepted")
	}
	if _, err := ParseConfig([]byte(`{"hiden": 3}`), tinyConfig(), "x.json"); err == nil {
		t.Error("unknown config key accepted")
	}
}

// --linear bitnet on an RNN quantizes its gate projections (it once trained fp32 while saying bitnet):
// the same seed gives other logits than fp32, and every layer is marked quantized.
func TestRNNBitnetQuantizes(t *testing.T) {
	for _, cell := range []Cell{CellLSTM, CellGRU} {
		logits := map[Linear][]float32{}
		for _, lin := range []Linear{LinearFP32, LinearBitNet} {
			cfg := Config{Type: "rnn", Cell: cell, Objective: "causal", Vocab: 11, Hidden: 8, Layers: 2, MaxPos: 6, Linear: lin}
			lm, err := New(cfg, tensor.NewRNG(1))
			if err != nil {
				t.Fatal(err)
			}
			r := lm.(*RNN)
			var slots []nn.QuantSlot
			if r.LSTM != nil {
				slots = r.LSTM.QuantSlots()
				for k := range r.LSTM.Layers {
					if r.LSTM.Layers[k].Quant != (lin == "bitnet") {
						t.Fatalf("%s %s: layer %d Quant = %v", cell, lin, k, r.LSTM.Layers[k].Quant)
					}
				}
			} else {
				slots = r.GRU.QuantSlots()
				for k := range r.GRU.Layers {
					if r.GRU.Layers[k].Quant != (lin == "bitnet") {
						t.Fatalf("%s %s: layer %d Quant = %v", cell, lin, k, r.GRU.Layers[k].Quant)
					}
				}
			}
			if len(slots) != 4 {
				t.Fatalf("%s: %d quantized matrices, want 4 (W_ih, W_hh per layer)", cell, len(slots))
			}
			out, err := lm.Forward([]int32{1, 2, 3, 4, 5, 6}, 1, 6)
			if err != nil {
				t.Fatal(err)
			}
			logits[lin] = append([]float32(nil), out...)
		}
		diff := 0.0
		for i := range logits["fp32"] {
			diff = math.Max(diff, math.Abs(float64(logits["fp32"][i]-logits["bitnet"][i])))
		}
		if diff < 1e-4 {
			t.Fatalf("%s: bitnet logits equal fp32 ones (max diff %g): the flag is ignored", cell, diff)
		}
	}
}

// Width maps: applied to every slot by name (others take bits_default), recorded by SetWidths, and a
// name that is no quantized matrix of the model, or widths on an fp32 model, are errors naming it.
func TestWidthMaps(t *testing.T) {
	cfg := tinyConfig()
	cfg.Linear, cfg.BitsDefault = "bitnet", quant.Width4
	cfg.Bits = WidthMap{"blocks.1.ffn.fc.weight": quant.Width1}
	lm, err := New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	ms := QuantMatrices(lm)
	if len(ms) != 8 {
		t.Fatalf("%d quantized matrices, want 8", len(ms))
	}
	for _, m := range ms {
		want := quant.Width4
		if m.Name == "blocks.1.ffn.fc.weight" {
			want = quant.Width1
		}
		if m.Width() != want {
			t.Fatalf("%s: width %v, want %v", m.Name, m.Width(), want)
		}
	}
	// 8 bits: 8 per weight plus one fp32 step per matrix
	if err := SetWidths(lm, WidthMap{"blocks.0.attn.qkv.weight": quant.Width8}); err != nil {
		t.Fatal(err)
	}
	if lm.Config().Bits["blocks.0.attn.qkv.weight"] != quant.Width8 || Widths(lm)["blocks.1.ffn.fc.weight"] != quant.WidthTernary {
		t.Fatalf("SetWidths: config %v, widths %v", lm.Config().Bits, Widths(lm))
	}
	bad := cfg
	bad.Bits = WidthMap{"blocks.7.attn.qkv.weight": quant.Width2}
	if _, err := New(bad, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), `"blocks.7.attn.qkv.weight"`) || !strings.Contains(err.Error(), "blocks.0.attn.qkv.weight") {
		t.Fatalf("unknown matrix: err = %v", err)
	}
	fp := tinyConfig()
	fp.BitsDefault = quant.Width4
	if _, err := New(fp, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "need linear bitnet") {
		t.Fatalf("fp32 with widths: err = %v", err)
	}
	if _, err := ParseWidthMap([]byte(`{"blocks.0.attn.qkv.weight": 5}`), "m.json"); err == nil ||
		!strings.Contains(err.Error(), `"blocks.0.attn.qkv.weight"`) || !strings.Contains(err.Error(), "1, 1.58, 2, 3, 4, 8") {
		t.Fatalf("bad width: err = %v", err)
	}
}

// A mixed-width model packs each matrix in its width (n-bit codes and steps, trits), LoadPacked gives
// back a model whose logits match the original's (fp32 floats: exactly for the n-bit matrices, whose
// steps it pins; the ternary scales to float rounding), and re-packing it gives the same n-bit bytes.
func TestPackMixedWidths(t *testing.T) {
	cfg := tinyConfig()
	cfg.Linear = LinearBitNet
	cfg.Bits = WidthMap{"blocks.0.attn.qkv.weight": quant.Width1, "blocks.0.attn.o.weight": quant.Width2,
		"blocks.0.ffn.fc.weight": quant.Width3, "blocks.0.ffn.fc2.weight": quant.Width4, "blocks.1.attn.qkv.weight": quant.Width8, "blocks.1.ffn.fc.weight": quant.Width4}
	lm, err := New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range QuantMatrices(lm) {
		if m.Name == "blocks.1.ffn.fc.weight" {
			*m.Slots[0].PerRow = true // per-row steps travel too
		}
	}
	ids := []int32{1, 2, 3, 4, 5, 6}
	want, err := lm.Forward(ids, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	want = append([]float32(nil), want...)
	path := t.TempDir() + "/m.tern"
	if _, err := WritePackedAs(path, lm, "", PackFormat{Float: "F32"}); err != nil {
		t.Fatal(err)
	}
	back, _, err := LoadPacked(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := Widths(back); got["blocks.0.ffn.fc.weight"] != quant.Width3 || got["blocks.1.attn.o.weight"] != quant.WidthTernary {
		t.Fatalf("widths after loading: %v", got)
	}
	got, err := back.Forward(ids, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("logit %d: %v after packing, %v before", i, got[i], want[i])
		}
	}
	a, _, _ := PackedTensorsAs(lm, PackFormat{Float: "F32"})
	b, _, _ := PackedTensorsAs(back, PackFormat{Float: "F32"})
	for i := range a {
		if a[i].Name == "blocks.0.ffn.fc.weight" || a[i].Name == "blocks.1.ffn.fc.weight.scale" {
			if string(a[i].Data) != string(b[i].Data) {
				t.Fatalf("%s: re-packed bytes differ: %v vs %v (%s %s)", a[i].Name, a[i].Shape, b[i].Shape, a[i].Name, b[i].Name)
			}
		}
	}
}

// An LSTM/GRU with quantized gates packs each gate matrix at its width (trit5 or n-bit codes, not F16
// latents), loads back to the same logits, and re-packs to the same bytes: the stored steps are pinned
// on load (nn rnnLayer.FixedIH/HH), so no code can flip by re-quantizing rounded latents.
func TestPackRNNWidths(t *testing.T) {
	for _, cell := range []Cell{CellLSTM, CellGRU} {
		cfg := Config{Type: "rnn", Cell: cell, Objective: "causal", Vocab: 11, Hidden: 24, Layers: 2, MaxPos: 6, Linear: LinearBitNet}
		qm, _ := New(cfg, tensor.NewRNG(1))
		ms := QuantMatrices(qm)
		if len(ms) != 4 {
			t.Fatalf("%s: %d quantized matrices, want 4", cell, len(ms))
		}
		cfg.Bits = WidthMap{ms[0].Name: quant.Width4, ms[1].Name: quant.Width2, ms[3].Name: quant.Width3} // ms[2] stays ternary
		lm, err := New(cfg, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		ids := []int32{1, 2, 3, 4, 5, 6}
		want, err := lm.Forward(ids, 1, 6)
		if err != nil {
			t.Fatal(err)
		}
		want = append([]float32(nil), want...)
		path := t.TempDir() + "/m.tern"
		if _, err := WritePackedAs(path, lm, "", PackFormat{Float: "F32"}); err != nil {
			t.Fatal(err)
		}
		f, err := OpenPacked(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range ms {
			if nb, tr := f.IsNBit(m.Name), f.IsTernary(m.Name); nb != (i != 2) || tr != (i == 2) {
				t.Fatalf("%s %s: stored n-bit %v, ternary %v", cell, m.Name, nb, tr)
			}
		}
		f.Close()
		back, _, err := LoadPacked(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := back.Forward(ids, 1, 6)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := range want {
			worst = max(worst, math.Abs(float64(got[i]-want[i])))
		}
		t.Logf("%s: max |logit difference| %.2g", cell, worst)
		if worst > 1e-5 { // the ternary scale's float rounding; n-bit values are identical
			t.Fatalf("%s: logits after packing differ by up to %g", cell, worst)
		}
		// codes of every gate matrix and the n-bit steps re-pack identically (a ternary scale is
		// recomputed from the latents set to reproduce it, equal up to float rounding: not compared)
		a, _, _ := PackedTensorsAs(lm, PackFormat{Float: "F32"})
		b, _, _ := PackedTensorsAs(back, PackFormat{Float: "F32"})
		for i := range a {
			if strings.Contains(a[i].Name, "weight_") && a[i].Name != ms[2].Name+".scale" && string(a[i].Data) != string(b[i].Data) {
				t.Fatalf("%s %s: re-packed bytes differ", cell, a[i].Name)
			}
		}
	}
}
