package infer

import (
	"math"
	"path/filepath"
	"slices"
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

// TestBatchMixedWidths: in infer.Batch and Prefill the n-bit matrices go through kernels.NBitGemvBatch
// (8 rows per kernel call; 2, 4 and 8 bits on the batch kernel where the CPU has AVX-512 VNNI, 3 bits
// per row): 8 sequences decoded together give each the logits it gets alone (a batch of one, whose
// projections are NBitGemv's), bit for bit, and a 20-token prompt's prefill equals stepping it.
func TestBatchMixedWidths(t *testing.T) {
	cfg, _ := model.Preset("tiny")
	cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 211, 64, 2, 4, 512, 64
	// K = 64 or 512: 8 bits (K 64) and the FFN's second matrices (K 512) at 2 and 4 bits run the batch
	// kernel, 4 bits at K 64 (under its 128-code block) and 3 bits run per row
	cfg.Bits = model.WidthMap{"blocks.0.attn.qkv.weight": quant.Width8, "blocks.0.ffn.fc.weight": quant.Width4,
		"blocks.0.ffn.fc2.weight": quant.Width2, "blocks.1.attn.o.weight": quant.Width3, "blocks.1.ffn.fc2.weight": quant.Width4}
	m, err := RandomPacked(cfg, 7, format.F16)
	if err != nil {
		t.Fatal(err)
	}
	const S, n = 8, 6
	b, err := NewBatch(m, S, false)
	if err != nil {
		t.Fatal(err)
	}
	prompts := make([][]int, S)
	logits := make([][]float32, S)
	for s := range prompts {
		prompts[s] = []int{1 + s, 2 * s, 100 + s}
		if logits[s], err = b.Start(s, prompts[s]); err != nil {
			t.Fatal(err)
		}
		logits[s] = slices.Clone(logits[s])
	}
	slots := make([]int, S)
	for s := range slots {
		slots[s] = s
	}
	for range n {
		ids := make([]int, S)
		for s := range ids {
			ids[s] = NewSampler(Sampling{}, 1).Next(logits[s])
			prompts[s] = append(prompts[s], ids[s])
		}
		out, err := b.Step(slots, ids)
		if err != nil {
			t.Fatal(err)
		}
		V := cfg.Vocab
		for s := range S {
			logits[s] = slices.Clone(out[s*V : (s+1)*V])
		}
	}
	alone, _ := RandomPacked(cfg, 7, format.F16)
	b1, err := NewBatch(alone, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	for s := range S { // each sequence alone (a batch of one row: the GEMV), the same tokens
		l, err := b1.Start(0, prompts[s][:3])
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range prompts[s][3:] {
			if l, err = b1.Step([]int{0}, []int{id}); err != nil {
				t.Fatal(err)
			}
		}
		for j := range l {
			if math.Float32bits(l[j]) != math.Float32bits(logits[s][j]) {
				t.Fatalf("sequence %d logit %d: batch %v, alone %v", s, j, logits[s][j], l[j])
			}
		}
	}
	ids := make([]int, 20)
	for i := range ids {
		ids[i] = (7*i + 3) % cfg.Vocab
	}
	ref, _ := RandomPacked(cfg, 7, format.F16)
	ref.SetKV(format.F32) // prefill equals stepping with an fp32 cache (as TestPackedMixedWidths)
	var stepped []float32
	for _, id := range ids {
		if stepped, err = ref.Step(id); err != nil {
			t.Fatal(err)
		}
	}
	stepped = slices.Clone(stepped)
	ref.Reset()
	pre, err := ref.Prefill(ids)
	if err != nil {
		t.Fatal(err)
	}
	for j := range pre {
		if math.Float32bits(pre[j]) != math.Float32bits(stepped[j]) {
			t.Fatalf("prefill logit %d = %v, stepping %v", j, pre[j], stepped[j])
		}
	}
}
