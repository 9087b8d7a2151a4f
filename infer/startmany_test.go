package infer

import (
	"math"
	"slices"
	"strings"
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

// TestResumeMany: a slot that keeps the first positions of an earlier request's cache and prefills
// only the rest gives the logits, and the steps after them, of starting the whole prompt afresh, bit
// for bit (both KV types; matrices resident or packed; several slots in one pass, with kept prefixes
// of 0, part and all but one of the old tokens, rests of one or many tokens, the old cache filled by
// prefill and by steps); bad requests are refused.
func TestResumeMany(t *testing.T) {
	cfg, _ := model.Preset("tiny")
	cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 211, 64, 2, 4, 128, 64
	old := [][]int{{5, 9, 2, 77, 3, 1, 8, 40, 41}, {60, 61, 62}, {7, 7, 7, 7, 7}, {1, 2, 3, 4, 5, 6}}
	gen := [][]int{{11, 12, 13}, {14}, {}, {15, 16}} // fed by steps after the old prompts
	slots := []int{2, 0, 3, 1}
	keep := []int{10, 0, 3, 7} // of 12, 4, 5 and 8 fed tokens: the prompt and a step; none; part of a prompt; part of the steps
	rests := [][]int{{99, 98, 97, 96}, {1, 2}, {8}, {100, 101, 102, 103, 104, 105}}
	for _, gemmFrom := range []int{ternaryGemmFrom, gemmMin} {
		for _, kv := range []format.DType{format.F32, format.F16} {
			var bs [2]*Batch
			for k := range bs {
				m, _ := RandomPacked(cfg, 7, format.F16)
				m.SetKV(kv)
				var err error
				if bs[k], err = newBatch(m, 4, true, gemmFrom); err != nil {
					t.Fatal(err)
				}
			}
			b := bs[1]
			var fed [][]int
			for i, sl := range slots {
				if _, err := b.Start(sl, old[i]); err != nil {
					t.Fatal(err)
				}
				f := slices.Clone(old[i])
				for _, id := range gen[i] {
					if _, err := b.Step([]int{sl}, []int{id}); err != nil {
						t.Fatal(err)
					}
					f = append(f, id)
				}
				if keep[i] > len(f) {
					t.Fatalf("test setup: slot %d keeps %d of %d fed tokens", sl, keep[i], len(f))
				}
				fed = append(fed, f)
			}
			res, err := b.ResumeMany(slots, keep, rests)
			if err != nil {
				t.Fatal(err)
			}
			res = slices.Clone(res)
			V := cfg.Vocab
			ids := make([]int, len(slots))
			for i, sl := range slots {
				full := append(slices.Clone(fed[i][:keep[i]]), rests[i]...)
				want, err := bs[0].Start(sl, full)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(want, res[i*V:(i+1)*V]) {
					t.Fatalf("gemm from %d KV %s: slot %d: resumed logits differ from a fresh start", gemmFrom, kv, sl)
				}
				if bs[0].Room(sl) != b.Room(sl) {
					t.Fatalf("slot %d: room %d resumed, %d fresh", sl, b.Room(sl), bs[0].Room(sl))
				}
				ids[i] = NewSampler(Sampling{}, 1).Next(want)
			}
			for range 3 {
				l0, _ := bs[0].Step(slots, ids)
				l0 = slices.Clone(l0)
				l1, _ := b.Step(slots, ids)
				if !slices.Equal(l0, l1) {
					t.Fatalf("gemm from %d KV %s: the resumed caches give other logits", gemmFrom, kv)
				}
				for i := range ids {
					ids[i] = NewSampler(Sampling{}, 1).Next(l0[i*V : (i+1)*V])
				}
			}
		}
	}
	m, _ := RandomPacked(cfg, 7, format.F16)
	b, _ := NewBatch(m, 2, false)
	b.Start(0, []int{1, 2, 3})
	for _, tc := range []struct {
		slots, keep []int
		rests       [][]int
		want        string
	}{
		{[]int{0}, []int{4}, [][]int{{1}}, "cannot keep 4"},
		{[]int{0}, []int{-1}, [][]int{{1}}, "cannot keep -1"},
		{[]int{0}, []int{2}, [][]int{{}}, "nothing to feed"},
		{[]int{0}, []int{3}, [][]int{make([]int, 61)}, "fills the 64-position context"},
		{[]int{0, 0}, []int{1, 1}, [][]int{{1}, {2}}, "given twice"},
		{[]int{5}, []int{0}, [][]int{{1}}, "slot 5 outside [0, 2)"},
		{[]int{0}, []int{0, 1}, [][]int{{1}}, "kept lengths"},
		{[]int{0}, []int{1}, [][]int{{1 << 20}}, "outside vocabulary"},
	} {
		if _, err := b.ResumeMany(tc.slots, tc.keep, tc.rests); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ResumeMany(%v, %v, %v): %v, want %q", tc.slots, tc.keep, tc.rests, err, tc.want)
		}
	}
}
