package model

import (
	"math"
	"slices"
	"strings"
	"testing"

	"tern/internal/sysmem"
	"tern/tensor"
)

func tinyLlama(t Type, linear Linear, tied, sub bool, act FFNAct) Config {
	c := ArchDefaults(Config{Vocab: 13, Hidden: 16, Layers: 2, Heads: 4, KVHeads: 2, FFN: 24, MaxPos: 8, TieEmbeddings: tied}, t)
	c.Linear, c.SubNorm, c.FFNAct = linear, sub, act
	return c
}

// TestLlamaGradients checks the whole model's wiring (tied and untied heads, sub-norms, both
// activations) against finite differences; each layer is checked on its own in package nn.
func TestLlamaGradients(t *testing.T) {
	for _, c := range []Config{
		tinyLlama(TypeLlama, LinearFP32, true, false, ActSwiGLU),
		tinyLlama(TypeBitNet, LinearFP32, false, true, ActReLU2),
	} {
		lm, err := New(c, tensor.NewRNG(5))
		if err != nil {
			t.Fatal(err)
		}
		// weights of order 0.3 (not 0.02) so that a finite-difference step of 1e-2 is small next to
		// the vectors the RMSNorms divide by; norms away from 1 so their gradients matter
		for _, p := range lm.Params() {
			for i := range p.W {
				if strings.Contains(p.Name, "norm") || strings.Contains(p.Name, "ln") {
					p.W[i] = 1 + 0.3*float32(math.Sin(float64(i)))
				} else {
					p.W[i] *= 15
				}
			}
			p.Grad()
		}
		ids := []int32{1, 4, 7, 2, 12, 0, 3, 3, 9, 5}
		gradCheck(t, lm, ids, 2, 5)
	}
}

// TestLlamaNamesMatchParams: LlamaTensors (names.go) lists exactly the built model's parameters, in
// order and with their shapes, and its GGUF and HF names are distinct.
func TestLlamaNamesMatchParams(t *testing.T) {
	for _, c := range []Config{
		tinyLlama(TypeBitNet, LinearBitNet, true, true, ActReLU2),
		tinyLlama(TypeLlama, LinearFP32, false, false, ActSwiGLU),
	} {
		lm, err := New(c, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		ps, ts := lm.Params(), LlamaTensors(c)
		if len(ps) != len(ts) {
			t.Fatalf("%s: %d params, %d table entries", c.Type, len(ps), len(ts))
		}
		ggufs, hfs := map[string]bool{}, map[string]bool{}
		for i, p := range ps {
			if p.Name != ts[i].Tern || !slices.Equal(p.Shape, ts[i].Shape) {
				t.Fatalf("%s: param %d is %s %v, the table says %s %v", c.Type, i, p.Name, p.Shape, ts[i].Tern, ts[i].Shape)
			}
			if ggufs[ts[i].GGUF] || hfs[ts[i].HF] {
				t.Fatalf("%s: %s: duplicate GGUF/HF name %s / %s", c.Type, p.Name, ts[i].GGUF, ts[i].HF)
			}
			ggufs[ts[i].GGUF], hfs[ts[i].HF] = true, true
		}
		total, _ := CountParams(ps)
		if float64(total) != c.BuiltWeights() {
			t.Fatalf("%s: %d weights built, BuiltWeights says %v", c.Type, total, c.BuiltWeights())
		}
	}
	b := LlamaBlockNames(3)
	if b.FFNSubNorm.HF != "model.layers.3.mlp.ffn_sub_norm.weight" || b.AttnSubNorm.GGUF != "blk.3.attn_sub_norm.weight" || b.Q.Tern != "blocks.3.attn.q.weight" {
		t.Fatalf("block names: %+v", b)
	}
}

// TestBitNet2BPreset: the bitnet-2b preset has BitNet b1.58 2B4T's shapes and ~2.41e9 weights
// (counted by hand below, never allocated), and is refused before allocation on a machine too small.
func TestBitNet2BPreset(t *testing.T) {
	c, err := Preset("bitnet-2b")
	if err != nil {
		t.Fatal(err)
	}
	if c.Hidden != 2560 || c.FFN != 6912 || c.Layers != 30 || c.Heads != 20 || c.KV() != 5 || c.Vocab != 128256 ||
		c.Theta() != 500000 || !c.TieEmbeddings || c.FFNAct != ActReLU2 || !c.SubNorm || c.Linear != LinearBitNet {
		t.Fatalf("bitnet-2b: %+v", c)
	}
	// per layer: q, o 2560²; k, v 2560·640; gate, up, down 2560·6912; 2 norms + 2 sub-norms
	layer := 2*2560*2560 + 2*2560*640 + 3*2560*6912 + 3*2560 + 6912
	want := 128256*2560 + 30*layer + 2560
	if got := c.BuiltWeights(); got != float64(want) {
		t.Fatalf("BuiltWeights %v, want %d", got, want)
	}
	if want < 2.40e9 || want > 2.42e9 {
		t.Fatalf("%d weights, want ~2.41e9", want)
	}
	if sysmem.Total() > 0 && float64(sysmem.Total()) < 8*float64(want) {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "memory") {
			t.Fatalf("Validate on a %d-byte machine: %v, want a memory error", sysmem.Total(), err)
		}
	}
}

func TestLlamaConfigErrors(t *testing.T) {
	base := tinyLlama(TypeBitNet, LinearBitNet, true, true, ActReLU2)
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.KVHeads = 3 }, "kv_heads 3 must divide heads 4"},
		{func(c *Config) { c.FFNAct = "gelu" }, "unknown ffn_act"},
		{func(c *Config) { c.Hidden, c.Heads, c.KVHeads = 12, 4, 2 }, "must be even"},
		{func(c *Config) { c.Bias = true }, "no biases"},
		{func(c *Config) { c.Norm = NormLayer }, "use rmsnorm"},
		{func(c *Config) { c.Objective = ObjMLM }, "causal"},
		{func(c *Config) { c.RopeTheta = math.NaN() }, "rope_theta"},
		{func(c *Config) { c.Type = TypeTransformer; c.Norm = NormLayer }, "are for llama and bitnet"},
	} {
		c := base
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", c, err, tc.want)
		}
	}
}
