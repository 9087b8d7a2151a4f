package infer

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tern/gguf"
	"tern/model"
)

// TestBitnetB158BadFiles: a bitnet-b1.58 file with a tensor the architecture does not define, without
// one it needs, or whose vocab_size disagrees with its token table is refused with an error naming
// the file and the tensor or key.
func TestBitnetB158BadFiles(t *testing.T) {
	cfg := model.ArchDefaults(model.Config{Vocab: 64, Hidden: 256, Layers: 2, Heads: 4, KVHeads: 2, FFN: 256, MaxPos: 16, TieEmbeddings: true}, model.TypeBitNet)
	lm := randomLlama(t, cfg)
	kv, ts, err := model.GGUFTensors(lm, gguf.I2_S)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := kv[0].Value.(string); a != gguf.ArchBitnetB158 {
		t.Fatalf("architecture %v", kv[0].Value)
	}
	drop := func(name string) []gguf.Tensor {
		return slices.DeleteFunc(slices.Clone(ts), func(x gguf.Tensor) bool { return x.Name == name })
	}
	withVocab := func(v uint32) []gguf.KV {
		out := slices.Clone(kv)
		for i, e := range out {
			if e.Key == gguf.ArchBitnetB158+"."+gguf.KeyVocabSize {
				out[i] = gguf.Uint32(e.Key, v)
			}
		}
		return out
	}
	extra := gguf.Tensor{Name: "rope_freqs.weight", Dims: []uint64{32}, Type: gguf.F32, Data: make([]byte, 128)}
	for _, tc := range []struct {
		name string
		kv   []gguf.KV
		ts   []gguf.Tensor
		want string
	}{
		{"ok", kv, ts, ""},
		{"extra", kv, append(slices.Clone(ts), extra), "tensor rope_freqs.weight is not part of the bitnet-b1.58 architecture"},
		{"scale", kv, append(slices.Clone(ts), gguf.Tensor{Name: "blk.0.attn_q.scale", Dims: []uint64{1}, Type: gguf.F32, Data: make([]byte, 4)}), "tensor blk.0.attn_q.scale is not part"},
		{"missing", kv, drop("blk.1.ffn_sub_norm.weight"), "no tensor blk.1.ffn_sub_norm.weight"},
		{"vocab", withVocab(65), ts, "metadata bitnet-b1.58.vocab_size = 65, but tensor token_embd.weight has 64 rows"},
	} {
		path := filepath.Join(t.TempDir(), tc.name+".gguf")
		if err := gguf.Write(path, tc.kv, tc.ts); err != nil {
			t.Fatal(err)
		}
		m, err := LoadGGUF(path, 0)
		if tc.want == "" {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if m.Cfg.Act != "relu2" || !m.Cfg.SubNorms || !m.Cfg.RopeNeox {
				t.Fatalf("config %+v", m.Cfg)
			}
			m.Close()
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming %s and %q", tc.name, err, path, tc.want)
		}
		if _, err := model.LoadGGUF(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("model.LoadGGUF %s: %v", tc.name, err)
		}
	}
}
