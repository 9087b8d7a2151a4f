package infer

import (
	"math"
	"slices"
	"testing"

	"tern/format"
	"tern/kernels"
	"tern/model"
)

// greedyAlone decodes prompt alone (slot 0, nothing else in the batch) for n tokens, returning the
// tokens and the logits of each step.
func greedyAlone(t *testing.T, b Decoder, prompt []int, n int) ([]int, [][]float32) {
	t.Helper()
	l, err := b.Start(0, prompt)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	var ls [][]float32
	for range n {
		next := NewSampler(Sampling{}, 1).Next(l)
		out = append(out, next)
		if l, err = b.Step([]int{0}, []int{next}); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, slices.Clone(l))
	}
	return out, ls
}

// TestBatchMatchesAlone: with temperature 0, a request's tokens are the same whether it decodes alone
// or in a full batch that others join and leave at different steps (batches of 1 to 12 rows, on both
// sides of gemmMin, headGemmMin and ternaryGemmFrom), with an F16 and an int8 head, over the resident
// 2-bit panels and (under the avx512 implementation, which lacks their kernel) the one-byte
// matrices. The logits are
// identical (asserted 0: the ternary products are exact integer sums on every path, and the F16
// head, kernels.SgemvF16Batch, sums each row as SgemvF16 does) except for an int8 (or fp32) head with
// gemm, an fp32 GEMM from headGemmMin rows that sums in another order: at most 1e-5 (measured ~3e-7). A
// lone sequence reproduces Packed.Step's tokens.
func TestBatchMatchesAlone(t *testing.T) {
	cfg, _ := model.Preset("tiny")
	cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 211, 64, 2, 4, 128, 64
	for _, mode := range []struct {
		gemm     bool
		gemmFrom int
		table    format.DType
		impl     string // kernels.Use this implementation ("": the best)
	}{{false, ternaryGemmFrom, format.F16, ""}, {true, ternaryGemmFrom, format.F16, ""}, {true, gemmMin, format.F16, ""}, {true, 5, format.F16, ""},
		{false, ternaryGemmFrom, format.I8, ""}, {true, 5, format.I8, ""}, {true, 5, format.F16, "avx512"}} {
		gemm := mode.gemm
		if mode.impl != "" {
			restore, err := kernels.Use(mode.impl)
			if err != nil {
				t.Logf("skipping %+v: %v", mode, err)
				continue
			}
			defer restore()
		}
		for _, kv := range []format.DType{format.F32, format.F16} {
			ref, err := RandomPacked(cfg, 7, mode.table)
			if err != nil {
				t.Fatal(err)
			}
			ref.SetKV(kv)
			m, _ := RandomPacked(cfg, 7, mode.table)
			m.SetKV(kv)
			const S, n = 12, 12
			b, err := newBatch(m, S, gemm, mode.gemmFrom)
			if err != nil {
				t.Fatal(err)
			}
			if l := m.layers[0].fc; gemm && mode.gemmFrom <= S && ((l.tp != nil) != kernels.TernaryPanelsFast() || (l.tp == nil) == (l.tm == nil)) {
				t.Fatalf("%+v: resident forms: panels %v, bytes %v (panel kernel %v)", mode, l.tp != nil, l.tm != nil, kernels.TernaryPanelsFast())
			}
			prompts := [][]int{{1, 2, 3}, {9}, {5, 5, 5, 5, 5, 5, 5, 5}, {200, 3}, {7, 8, 9, 10, 11}, {42}, {13, 14}, {100, 101, 102},
				{6, 1}, {77}, {3, 3, 3}, {150, 20, 10}, {19, 18}, {60}, {61, 62, 63, 64}, {2}}
			alone := make([][]int, len(prompts))
			aloneLogits := make([][][]float32, len(prompts))
			for i, p := range prompts {
				alone[i], aloneLogits[i] = greedyAlone(t, b, p, n)
			}
			if kv == format.F32 { // the batch of one is Packed.Step
				for i, p := range prompts {
					ref.Reset()
					var l []float32
					for _, id := range p {
						l, _ = ref.Step(id)
					}
					for k := range n {
						next := NewSampler(Sampling{}, 1).Next(l)
						if next != alone[i][k] {
							t.Fatalf("prompt %d token %d: batch %d, Packed.Step %d", i, k, alone[i][k], next)
						}
						l, _ = ref.Step(next)
					}
				}
			}
			got, worst := joinLeave(t, b, prompts, aloneLogits, n)
			for i := range prompts {
				if !slices.Equal(got[i], alone[i]) {
					t.Errorf("%+v KV %s: request %d: batched %v, alone %v", mode, kv, i, got[i], alone[i])
				}
			}
			t.Logf("%+v KV %s: max |logit difference| batched vs alone %.3g", mode, kv, worst)
			// the GEMM head serves int8 tables, and fp32 ones (an F16 table without the F16 kernels)
			if bound := map[bool]float64{false: 0, true: 1e-5}[gemm && b.m.head.f16 == nil]; worst > bound {
				t.Errorf("%+v KV %s: logits differ by %.3g > %.3g", mode, kv, worst, bound)
			}
		}
	}
}

// joinLeave decodes every prompt greedily for n tokens through d's slots: request i joins at step i (or
// when a slot frees), leaves after n tokens. It returns each request's tokens and the largest
// difference of its logits from aloneLogits (the logits of the same request decoded alone).
func joinLeave(t *testing.T, d Decoder, prompts [][]int, aloneLogits [][][]float32, n int) ([][]int, float64) {
	t.Helper()
	S, V := d.Slots(), d.Vocab()
	type run struct {
		req, slot int
		toks      []int
		logits    []float32
	}
	var active []*run
	var free []int
	for i := range S {
		free = append(free, i)
	}
	next, worst, step := 0, 0.0, 0
	got := make([][]int, len(prompts))
	for next < len(prompts) || len(active) > 0 {
		for next < len(prompts) && len(free) > 0 && step >= next {
			r := &run{req: next, slot: free[0]}
			free = free[1:]
			l, err := d.Start(r.slot, prompts[next])
			if err != nil {
				t.Fatal(err)
			}
			r.logits = slices.Clone(l)
			active = append(active, r)
			next++
		}
		step++
		if len(active) == 0 {
			continue
		}
		var slotsNow, ids []int
		for _, r := range active {
			tok := NewSampler(Sampling{}, 1).Next(r.logits)
			r.toks = append(r.toks, tok)
			slotsNow, ids = append(slotsNow, r.slot), append(ids, tok)
		}
		l, err := d.Step(slotsNow, ids)
		if err != nil {
			t.Fatal(err)
		}
		kept := active[:0]
		for i, r := range active {
			r.logits = slices.Clone(l[i*V : (i+1)*V])
			for j, v := range r.logits {
				worst = math.Max(worst, math.Abs(float64(v-aloneLogits[r.req][len(r.toks)-1][j])))
			}
			if len(r.toks) == n {
				got[r.req] = r.toks
				free = append(free, r.slot)
			} else {
				kept = append(kept, r)
			}
		}
		active = kept
	}
	return got, worst
}
