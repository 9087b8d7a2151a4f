package model

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tern/gguf"
	"tern/half"
	"tern/kernels"
	"tern/tensor"
)

// TestGGUFLlamaRoundTrip: tern -> GGUF (bitnet, bitnet-b1.58 or llama architecture) -> tern for every
// type written. BitLinear matrices come back with exactly their trits (the llama architecture's Q/K row
// permutation undone) and their scale exactly for bitnet (an F32 "<proj>.scale" tensor; I2_S's own
// float32) and for I2_S, rounded to F16 for llama's and bitnet-b1.58's TQ/F16 (the blocks' d or the
// values); norms exactly (F32); the token table and an untied head rounded to F16; fp32 projections
// rounded to F16; the config as it was.
func TestGGUFLlamaRoundTrip(t *testing.T) {
	bitnet := ArchDefaults(Config{Vocab: 50, Hidden: 256, Layers: 2, Heads: 4, KVHeads: 2, FFN: 512, MaxPos: 32, TieEmbeddings: true}, TypeBitNet)
	bitnet.FFNAct, bitnet.RopeTheta = ActSwiGLU, 500000
	llama := ArchDefaults(Config{Vocab: 50, Hidden: 256, Layers: 2, Heads: 8, KVHeads: 2, FFN: 256, MaxPos: 32}, TypeLlama)
	llama.Linear = LinearBitNet
	llamaFP := ArchDefaults(Config{Vocab: 50, Hidden: 64, Layers: 1, Heads: 4, FFN: 96, MaxPos: 32, TieEmbeddings: true}, TypeLlama)
	b158 := ArchDefaults(Config{Vocab: 50, Hidden: 256, Layers: 2, Heads: 4, KVHeads: 1, FFN: 512, MaxPos: 32, TieEmbeddings: true}, TypeBitNet)
	b158.RopeTheta = 500000 // ReLU², sub-norms: bitnet-b1.58
	for _, cfg := range []Config{bitnet, b158, llama, llamaFP} {
		lm, err := New(cfg, tensor.NewRNG(5))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range lm.Params() { // norms away from 1 so they are checked
			if strings.Contains(p.Name, "norm") || strings.Contains(p.Name, "ln") {
				for i := range p.W {
					p.W[i] = 1 + float32(i%7)*0.01
				}
			}
		}
		types := GGUFTypes
		if cfg.Linear == LinearFP32 {
			types = []gguf.Type{gguf.F16}
		}
		for _, typ := range types {
			path := filepath.Join(t.TempDir(), "m.gguf")
			if err := ExportGGUF(path, lm, typ, nil); err != nil {
				t.Fatal(err)
			}
			wantArch := map[bool]string{true: gguf.ArchBitnet, false: gguf.ArchLlama}[cfg.SubNorm]
			if cfg.FFNAct == ActReLU2 {
				wantArch = gguf.ArchBitnetB158
			}
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			arch, _ := f.String(gguf.KeyArchitecture)
			vs, verr := f.Int(arch + "." + gguf.KeyVocabSize)
			f.Close()
			if a, _ := GGUFArch(lm); arch != wantArch || a != wantArch || (arch == gguf.ArchBitnetB158 && (verr != nil || vs != int64(cfg.Vocab))) {
				t.Fatalf("%s %s: architecture %q (GGUFArch %q), want %q; vocab_size %d (%v)", cfg.Type, typ, arch, a, wantArch, vs, verr)
			}
			back, err := LoadGGUF(path)
			if err != nil {
				t.Fatal(err)
			}
			if back.Config().JSON() != cfg.JSON() {
				t.Fatalf("%s %s: config\n%s\nwant\n%s", cfg.Type, typ, back.Config().JSON(), cfg.JSON())
			}
			for i, p := range lm.Params() {
				q := back.Params()[i]
				if p.Name != q.Name {
					t.Fatalf("param %d: %s vs %s", i, p.Name, q.Name)
				}
				if ternaryParam(lm, p) {
					a, b := make([]int8, len(p.W)), make([]int8, len(q.W))
					sa, sb := kernels.QuantizeTernary(a, p.W), kernels.QuantizeTernary(b, q.W)
					want := sa
					if (cfg.Type == TypeLlama || cfg.FFNAct == ActReLU2) && typ != gguf.I2_S {
						want = half.F16ToFloat32(half.Float32ToF16(sa))
					}
					if !slices.Equal(a, b) || !close32(sb, want) {
						t.Fatalf("%s %s %s: trits equal %v, scale %v want %v", cfg.Type, typ, p.Name, slices.Equal(a, b), sb, want)
					}
					continue
				}
				f16 := len(p.Shape) == 2 // tables and fp32 projections
				for j, v := range p.W {
					w := v
					if f16 {
						w = half.F16ToFloat32(half.Float32ToF16(v))
					}
					if q.W[j] != w {
						t.Fatalf("%s %s %s[%d] = %v, want %v", cfg.Type, typ, p.Name, j, q.W[j], w)
					}
				}
			}
		}
	}
}

// TestGGUFLlamaExportRefused: what llama.cpp's graphs cannot compute is refused by name.
func TestGGUFLlamaExportRefused(t *testing.T) {
	c := ArchDefaults(Config{Vocab: 50, Hidden: 256, Layers: 1, Heads: 4, FFN: 256, MaxPos: 32, TieEmbeddings: true}, TypeBitNet)
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.SubNorm = false }, "ReLU² model without sub-norms has no GGUF architecture"},
		{func(c *Config) { c.TieEmbeddings = false }, "bitnet-b1.58 architecture uses token_embd as the head"},
		{func(c *Config) { c.FFNAct, c.TieEmbeddings = ActSwiGLU, false }, "always uses token_embd as the head"},
		{func(c *Config) { c.FFNAct, c.Hidden, c.Heads = ActSwiGLU, 128, 2 }, "rows of whole 256-value blocks"},
	} {
		cfg := c
		tc.mod(&cfg)
		lm, err := New(cfg, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := GGUFTensors(lm, gguf.TQ2_0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", cfg, err, tc.want)
		}
	}
}

// TestRopePermute: the llama export's row permutation is a bijection, undone by its inverse, and
// takes row h·hs + 2i + j from row h·hs + j·hs/2 + i.
func TestRopePermute(t *testing.T) {
	const heads, hs, k = 3, 8, 2
	w := make([]int, heads*hs*k)
	for i := range w {
		w[i] = i / k // each row holds its index
	}
	p := ropePermute(w, heads*hs, k, hs, false)
	for r := 0; r < heads*hs; r++ {
		h, q := r/hs, r%hs
		if want := h*hs + (q%2)*(hs/2) + q/2; p[r*k] != want {
			t.Fatalf("row %d holds %d, want %d", r, p[r*k], want)
		}
	}
	if back := ropePermute(p, heads*hs, k, hs, true); !slices.Equal(back, w) {
		t.Fatalf("inverse: %v", back)
	}
}
