package infer

import (
	"math"
	"slices"
	"testing"

	"tern/format"
	"tern/model"
	"tern/tensor"
)

// TestStartMany: starting several slots in one pass (batched prefill) gives each slot the logits and
// the cache that Start gives it alone: for Batch bit for bit (both KV types; matrices resident or
// packed, with more than 64 rows in one pass so the packed path unpacks), checked on the start and on
// three Steps after it; for KVDecoder within kvBound (causal and seq2seq).
func TestStartMany(t *testing.T) {
	prompts := [][]int{{5, 9, 2, 77, 3, 1, 8, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49}, {60}, {7, 7}, {1, 2, 3, 4, 5},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10}}
	slots := []int{3, 0, 4, 1, 2}
	cfg, _ := model.Preset("tiny")
	cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 211, 64, 2, 4, 128, 64
	for _, gemmFrom := range []int{ternaryGemmFrom, gemmMin} {
		for _, kv := range []format.DType{format.F32, format.F16} {
			var bs [2]*Batch
			for k := range bs {
				m, _ := RandomPacked(cfg, 7, format.F16)
				m.SetKV(kv)
				var err error
				if bs[k], err = newBatch(m, 5, true, gemmFrom); err != nil {
					t.Fatal(err)
				}
			}
			many, err := bs[1].StartMany(slots, prompts)
			if err != nil {
				t.Fatal(err)
			}
			many = slices.Clone(many)
			V := cfg.Vocab
			ids := make([]int, len(slots))
			for i, sl := range slots {
				one, err := bs[0].Start(sl, prompts[i])
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(one, many[i*V:(i+1)*V]) {
					t.Fatalf("gemm from %d KV %s: slot %d: StartMany's logits differ from Start's", gemmFrom, kv, sl)
				}
				ids[i] = NewSampler(Sampling{}, 1).Next(one)
			}
			for range 3 {
				l0, _ := bs[0].Step(slots, ids)
				l0 = slices.Clone(l0)
				l1, _ := bs[1].Step(slots, ids)
				if !slices.Equal(l0, l1) {
					t.Fatalf("gemm from %d KV %s: the caches StartMany filled give other logits", gemmFrom, kv)
				}
				for i := range ids {
					ids[i] = NewSampler(Sampling{}, 1).Next(l0[i*V : (i+1)*V])
				}
			}
		}
	}
	// KVDecoder, causal and seq2seq
	ed := model.Config{Type: "encdec", Objective: "seq2seq", Vocab: 97, Hidden: 32, Layers: 2, DecoderLayers: 2, Heads: 2, FFN: 64,
		MaxPos: 64, Linear: "bitnet", TieEmbeddings: true, Norm: "layernorm"}
	tr := cfg
	tr.Vocab = 97
	for _, c := range []model.Config{tr, ed} {
		lm, err := model.New(c, tensor.NewRNG(3))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := NewKVDecoder(lm, 5)
		b, _ := NewKVDecoder(lm, 5)
		many, err := b.StartMany(slots, prompts)
		if err != nil {
			t.Fatal(err)
		}
		many = slices.Clone(many)
		for i, sl := range slots {
			one, _ := a.Start(sl, prompts[i])
			for j := range one {
				if d := math.Abs(float64(one[j] - many[i*c.Vocab+j])); d > kvBound {
					t.Fatalf("%s: slot %d: StartMany differs from Start by %.3g", c.Type, sl, d)
				}
			}
			if a.Room(sl) != b.Room(sl) {
				t.Fatalf("%s: slot %d: room %d after Start, %d after StartMany", c.Type, sl, a.Room(sl), b.Room(sl))
			}
		}
	}
}
