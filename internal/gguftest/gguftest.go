// Package gguftest writes a tiny random llama-family GGUF for the tests of the packages that read
// one (infer's llama decoder, cmd/tern's serve and eval), so that they share one fixture. It is a
// test helper, not an exporter: model.ExportGGUF writes real models.
package gguftest

import (
	"path/filepath"
	"testing"

	"tern/gguf"
	"tern/tensor"
)

// Tiny describes the fixture. The shape is fixed: hidden 256, FFN 512, 4 heads over 2 KV heads,
// 2 blocks, F32 norms, an F16 token table (std 0.05) and ternary matrices (scale 0.05), drawn from
// seed 3.
type Tiny struct {
	Arch   string    // "bitnet" (with the attention and FFN sub-norms) or "llama"
	Type   gguf.Type // of the ternary matrices, e.g. gguf.TQ2_0, gguf.TQ1_0, gguf.I2_S
	Vocab  int       // e.g. 300
	Ctx    int       // context length, e.g. 64
	Untied bool      // an F16 output head of its own (std 0.5); a tied random head echoes the input
	KV     []gguf.KV // more metadata after the model's (a tokenizer, a chat template)
}

// Write writes the fixture into a file under t.TempDir and returns its path.
func (m Tiny) Write(t testing.TB) string {
	t.Helper()
	const C, F, L = 256, 512, 2
	a := m.Arch
	kv := []gguf.KV{gguf.String(gguf.KeyArchitecture, a),
		gguf.Uint32(a+".context_length", uint32(m.Ctx)), gguf.Uint32(a+".embedding_length", C),
		gguf.Uint32(a+".block_count", L), gguf.Uint32(a+".feed_forward_length", F),
		gguf.Uint32(a+".attention.head_count", 4), gguf.Uint32(a+".attention.head_count_kv", 2),
		gguf.Float32(a+"."+gguf.KeyRopeBase, 10000), gguf.Float32(a+"."+gguf.KeyRMSEps, 1e-5)}
	kv = append(kv, m.KV...)
	rng := tensor.NewRNG(3)
	var ts []gguf.Tensor
	floats := func(name string, dims []uint64, n int, std, mean float32, typ gguf.Type) {
		v := make([]float32, n)
		rng.FillNormal(v, float64(std))
		for i := range v {
			v[i] += mean
		}
		b, err := gguf.EncodeFloat(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, gguf.Tensor{Name: name, Dims: dims, Type: typ, Data: b})
	}
	tern := func(name string, n, k int) {
		tr := make([]int8, n*k)
		for i := range tr {
			tr[i] = int8(rng.Intn(3) - 1)
		}
		b, err := gguf.EncodeTernary(m.Type, tr, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, gguf.Tensor{Name: name, Dims: gguf.Matrix(n, k), Type: m.Type, Data: b})
	}
	V := m.Vocab
	floats(gguf.NameTokenEmbd, gguf.Matrix(V, C), V*C, 0.05, 0, gguf.F16)
	if m.Untied {
		floats(gguf.NameOutput, gguf.Matrix(V, C), V*C, 0.5, 0, gguf.F16)
	}
	floats(gguf.NameOutputNorm, []uint64{C}, C, 0.1, 1, gguf.F32)
	for l := range L {
		n := gguf.LlamaBlockNames(l)
		floats(n.AttnNorm, []uint64{C}, C, 0.1, 1, gguf.F32)
		floats(n.FFNNorm, []uint64{C}, C, 0.1, 1, gguf.F32)
		if a == "bitnet" {
			floats(n.AttnSubNorm, []uint64{C}, C, 0.1, 1, gguf.F32)
			floats(n.FFNSubNorm, []uint64{F}, F, 0.1, 1, gguf.F32)
		}
		tern(n.Q, C, C)
		tern(n.K, C/2, C)
		tern(n.V, C/2, C)
		tern(n.O, C, C)
		tern(n.Gate, F, C)
		tern(n.Up, F, C)
		tern(n.Down, C, F)
	}
	path := filepath.Join(t.TempDir(), a+".gguf")
	if err := gguf.Write(path, kv, ts); err != nil {
		t.Fatal(err)
	}
	return path
}
