package infer

import (
	"math"
	"path/filepath"
	"testing"

	"tern/format"
	"tern/model"
	"tern/quant"
)

// mixedWidths gives the tiny test model one matrix at every n-bit width; the others stay ternary.
func mixedWidths(c *model.Config) {
	c.Bits = model.WidthMap{"blocks.0.attn.qkv.weight": quant.Width1, "blocks.0.attn.o.weight": quant.Width2,
		"blocks.0.ffn.fc.weight": quant.Width3, "blocks.0.ffn.fc2.weight": quant.Width4, "blocks.1.attn.qkv.weight": quant.Width8,
		"blocks.1.ffn.fc2.weight": quant.Width4}
}

// TestPackedMixedWidths: a model trained at mixed widths packs each matrix in its width, and the packed
// decoder (kernels.NBitGemv for the n-bit matrices, the trit5 GEMV for the ternary ones) reproduces the
// training forward's logits at every position (max |difference| <= 2e-3 with fp32 floats, the bound of
// the ternary parity test; measured ~1e-6) and its greedy tokens; prefill equals stepping bit for bit.
func TestPackedMixedWidths(t *testing.T) {
	r, dir := trainedTiny(t, mixedWidths)
	path := filepath.Join(dir, "m.tern")
	if _, err := Pack(path, r.Model, r.Tok.Spec(), model.PackFormat{Float: format.F32}); err != nil {
		t.Fatal(err)
	}
	f, err := model.OpenPacked(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range r.Model.Config().Bits {
		p, err := f.NBit(name, 0, 0)
		if err == nil || p != nil {
			t.Fatalf("%s: shape check missing", name)
		}
		if !f.IsNBit(name) || f.IsTernary(name) {
			t.Fatalf("%s (%v) is not stored as n-bit", name, w)
		}
	}
	if !f.IsTernary("blocks.1.attn.o.weight") {
		t.Fatal("a ternary matrix is not stored as trits")
	}
	f.Close()
	pm, err := LoadPacked(path)
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	if err := pm.SetKV(format.F32); err != nil {
		t.Fatal(err)
	}
	packedParity(t, r, r.Model, pm, 2e-3, true)

	ids32 := r.Tok.Encode32("ROMEO:\nWhat light through yonder window breaks? It is the east, and Juliet is the sun.")[:40]
	ids := make([]int, len(ids32))
	for i, v := range ids32 {
		ids[i] = int(v)
	}
	pm.Reset()
	var stepped []float32
	for _, id := range ids {
		if stepped, err = pm.Step(id); err != nil {
			t.Fatal(err)
		}
	}
	stepped = append([]float32(nil), stepped...)
	pm.Reset()
	pre, err := pm.Prefill(ids)
	if err != nil {
		t.Fatal(err)
	}
	for j := range pre {
		if math.Float32bits(pre[j]) != math.Float32bits(stepped[j]) {
			t.Fatalf("prefill logit %d = %v, stepping %v", j, pre[j], stepped[j])
		}
	}
}
