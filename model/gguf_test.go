package model

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tern/gguf"
	"tern/half"
	"tern/kernels"
	"tern/nn"
	"tern/tensor"
)

// TestGGUFRoundTrip: tern -> GGUF (gpt2) -> tern per type. Every BitLinear matrix comes back with
// exactly its trits; its scale exactly for I2_S (float32) and rounded to F16 for TQ1_0, TQ2_0 and F16
// (their d or values are F16); LayerNorm parameters exactly (F32); token and position tables rounded
// to F16; the config (shapes, tying, bias) as it was.
func TestGGUFRoundTrip(t *testing.T) {
	for _, untied := range []bool{false, true} {
		cfg := Config{Type: TypeTransformer, Objective: ObjCausal, Vocab: 50, Hidden: 256, Layers: 2, Heads: 4, FFN: 512,
			MaxPos: 16, Linear: LinearBitNet, Norm: NormLayer, TieEmbeddings: !untied, Bias: untied}
		lm, err := New(cfg, tensor.NewRNG(5))
		if err != nil {
			t.Fatal(err)
		}
		src := AsTransformer(lm)
		for _, p := range nn.Unique(lm.Params()) { // nonzero biases and norm offsets, so they are checked
			if strings.HasSuffix(p.Name, ".bias") || strings.HasPrefix(p.Name, "blocks.0.ln") {
				for i := range p.W {
					p.W[i] = float32(i%7) * 0.01
				}
			}
		}
		for _, typ := range GGUFTypes {
			path := filepath.Join(t.TempDir(), "m.gguf")
			if err := ExportGGUF(path, lm, typ, nil); err != nil {
				t.Fatal(err)
			}
			back, err := LoadGGUF(path)
			if err != nil {
				t.Fatal(err)
			}
			if back.Config().JSON() != cfg.JSON() {
				t.Fatalf("%s: config\n%s\nwant\n%s", typ, back.Config().JSON(), cfg.JSON())
			}
			dst := AsTransformer(back)
			for i, p := range lm.Params() {
				q := back.Params()[i]
				if p.Name != q.Name {
					t.Fatalf("param %d: %s vs %s", i, p.Name, q.Name)
				}
				if ternaryParam(lm, p) {
					a, b := make([]int8, len(p.W)), make([]int8, len(q.W))
					sa, sb := kernels.QuantizeTernary(a, p.W), kernels.QuantizeTernary(b, q.W)
					want := sa
					if typ != gguf.I2_S {
						want = half.F16ToFloat32(half.Float32ToF16(sa))
					}
					if !slices.Equal(a, b) || !close32(sb, want) {
						t.Fatalf("%s %s: trits equal %v, scale %v want %v", typ, p.Name, slices.Equal(a, b), sb, want)
					}
					continue
				}
				f16 := p == src.Tok.W || p == src.Pos.W || (src.Head != nil && p == src.Head.W)
				for j, v := range p.W {
					w := v
					if f16 {
						w = half.F16ToFloat32(half.Float32ToF16(v))
					}
					if q.W[j] != w {
						t.Fatalf("%s %s[%d] = %v, want %v", typ, p.Name, j, q.W[j], w)
					}
				}
			}
			_ = dst
		}
	}
}

// close32 compares scales rebuilt from latent weights (t·s/p, whose absmean is s up to float rounding).
func close32(a, b float32) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-6*b
}

// TestGGUFExportErrors: shapes the GGUF block types cannot hold, and other architectures, are refused
// by name.
func TestGGUFExportErrors(t *testing.T) {
	cfg := Config{Type: TypeTransformer, Objective: ObjCausal, Vocab: 50, Hidden: 128, Layers: 1, Heads: 4, FFN: 512,
		MaxPos: 16, Linear: LinearBitNet, Norm: NormLayer, TieEmbeddings: true}
	lm, _ := New(cfg, tensor.NewRNG(1))
	if _, _, err := GGUFTensors(lm, gguf.TQ2_0); err == nil || !strings.Contains(err.Error(), "blk.0.attn_qkv") {
		t.Errorf("hidden 128 as TQ2_0: %v", err)
	}
	cfg.Norm = NormRMS
	lm, _ = New(cfg, tensor.NewRNG(1))
	if _, _, err := GGUFTensors(lm, gguf.F16); err == nil || !strings.Contains(err.Error(), "LayerNorm") {
		t.Errorf("rmsnorm: %v", err)
	}
}
