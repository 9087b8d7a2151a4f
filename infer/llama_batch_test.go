package infer

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"tern/gguf"
	"tern/model"
	"tern/quant"
)

// headAs replaces m's head by a copy in another storage: "f16" (as loaded), "int8" (rows with one step
// each, tern pack --table int8's layout) or "f32".
func headAs(m *Llama, kind string) {
	V, C := m.Cfg.Vocab, m.Cfg.Hidden
	if kind == "f16" {
		return
	}
	w := make([]float32, V*C)
	for i := range V {
		m.head.row(w[i*C:(i+1)*C], i)
	}
	if kind == "int8" {
		q, step := quant.Int8RowSteps(w, V, C)
		m.head = table{i8: q, step: step, cols: C}
	} else {
		m.head = table{f32: w, cols: C}
	}
}

// TestLlamaBatchMatchesAlone: with temperature 0, a GGUF model's request decodes to the same tokens, and
// the same logits bit for bit, whether it runs alone or in a batch that others join and leave (1 to 12
// rows, on both sides of gemmMin and of the int8 GEMM's row count, with and without resident
// matrices), for the bitnet and llama architectures (NEOX and adjacent-pair RoPE, GQA with 2 query
// heads per KV head, sub-norms) and F16, int8 and fp32 heads: every ternary path sums the same int32
// products as Llama.Step's GEMV and each head sums a row as its one-row kernel does. A lone
// sequence reproduces Llama.Step's logits bit for bit.
func TestLlamaBatchMatchesAlone(t *testing.T) {
	prompts := [][]int{{1, 2, 3}, {9}, {5, 5, 5, 5, 5, 5, 5, 5}, {200, 3}, {7, 8, 9, 10, 11}, {42}, {13, 14}, {100, 101, 102},
		{6, 1}, {77}, {3, 3, 3}, {150, 20, 10}, {19, 18}, {60}, {61, 62, 63, 64}, {2}}
	const S, n = 12, 10
	for _, arch := range []string{"bitnet", "llama"} {
		path := tinyBitnet(t, gguf.TQ2_0, arch)
		for _, mode := range []struct {
			gemm     bool
			gemmFrom int
			head     string
		}{{false, ternaryGemmFrom, "f16"}, {true, gemmMin, "f16"}, {true, 5, "f16"}, {true, 5, "int8"}, {false, ternaryGemmFrom, "f32"}} {
			name := fmt.Sprintf("%s %+v", arch, mode)
			ref, err := LoadGGUF(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			headAs(ref, mode.head)
			m, err := LoadGGUF(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			headAs(m, mode.head)
			b, err := newLlamaBatch(m, S, mode.gemm, mode.gemmFrom)
			if err != nil {
				t.Fatal(err)
			}
			alone := make([][]int, len(prompts))
			aloneLogits := make([][][]float32, len(prompts))
			for i, p := range prompts {
				alone[i], aloneLogits[i] = greedyAlone(t, b, p, n)
				// the batch of one is Llama.Step
				ref.Reset()
				var l []float32
				for _, id := range p {
					if l, err = ref.Step(id); err != nil {
						t.Fatal(err)
					}
				}
				for k := range n {
					if l, err = ref.Step(alone[i][k]); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(l, aloneLogits[i][k]) {
						t.Fatalf("%s: prompt %d step %d: a batch of one differs from Llama.Step", name, i, k)
					}
				}
			}
			got, worst := joinLeave(t, b, prompts, aloneLogits, n)
			for i := range prompts {
				if !slices.Equal(got[i], alone[i]) {
					t.Errorf("%s: request %d: batched %v, alone %v", name, i, got[i], alone[i])
				}
			}
			if worst != 0 {
				t.Errorf("%s: logits batched vs alone differ by up to %.3g", name, worst)
			}
			ref.Close()
			b.Close()
		}
	}
}

// TestLlamaBatchErrors: steps of slots that were never started, out of range or full, and tokens
// outside the vocabulary are errors, not panics.
func TestLlamaBatchErrors(t *testing.T) {
	m, err := LoadGGUF(tinyBitnet(t, gguf.TQ2_0, "bitnet"), 8)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLlamaBatch(m, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Step([]int{1}, []int{5}); err == nil {
		t.Error("a step of an unstarted slot succeeded")
	}
	if _, err := b.Start(3, []int{1}); err == nil {
		t.Error("Start of slot 3 of 3 succeeded")
	}
	if _, err := b.Start(1, make([]int, 8)); err == nil {
		t.Error("a prompt filling the context started")
	}
	if _, err := b.Start(1, []int{1, 2, 3, 4, 5, 6, 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step([]int{1}, []int{m.Cfg.Vocab}); err == nil {
		t.Error("a token outside the vocabulary was fed")
	}
	if b.Room(1) != 1 {
		t.Errorf("Room %d with one position left", b.Room(1))
	}
	if _, err := b.Step([]int{1}, []int{4}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step([]int{1}, []int{4}); err == nil {
		t.Error("a step past the context succeeded")
	}
}

// TestLlamaFromModelMatchesRecompute: an unpacked llama/bitnet training model served through
// NewDecoder (packed in memory onto LlamaBatch: KV caches, batched slots) gives the logits of Recompute
// (the training forward over the whole sequence per token) within 1e-4 of the logit range, for requests
// joining and leaving a batch of 3 slots, and the same greedy tokens.
func TestLlamaFromModelMatchesRecompute(t *testing.T) {
	base := model.Config{Vocab: 97, Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 96, MaxPos: 40, TieEmbeddings: true}
	bitnet := model.ArchDefaults(base, model.TypeBitNet)
	swiglu := bitnet
	swiglu.FFNAct, swiglu.TieEmbeddings, swiglu.KVHeads, swiglu.RopeTheta = model.ActSwiGLU, false, 1, 500000
	llama := model.ArchDefaults(base, model.TypeLlama)
	llamaBit := llama
	llamaBit.Linear = model.LinearBitNet
	prompts := [][]int{{3, 1, 4, 1}, {9}, {5, 9, 2, 6, 5, 3}, {58, 97 - 1}, {27, 18}}
	const n = 12
	for name, cfg := range map[string]model.Config{"bitnet-relu2": bitnet, "bitnet-swiglu-untied-mqa": swiglu, "llama": llama, "llama-bitlinear": llamaBit} {
		lm := randomLlama(t, cfg)
		d, err := NewDecoder(lm, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := d.(*LlamaBatch); !ok {
			t.Fatalf("%s: NewDecoder gave a %T, want *LlamaBatch", name, d)
		}
		rec, err := NewRecompute(lm, 1)
		if err != nil {
			t.Fatal(err)
		}
		alone := make([][]int, len(prompts))
		want := make([][][]float32, len(prompts))
		lo, hi := math.Inf(1), math.Inf(-1)
		for i, p := range prompts {
			alone[i], want[i] = greedyAlone(t, rec, p, n)
			for _, l := range want[i] {
				lo, hi = math.Min(lo, float64(slices.Min(l))), math.Max(hi, float64(slices.Max(l)))
			}
		}
		got, worst := joinLeave(t, d, prompts, want, n)
		t.Logf("%s: max |Δlogit| %.3g over a logit range of %.3g", name, worst, hi-lo)
		if worst > 1e-4*(hi-lo) {
			t.Errorf("%s: logits differ from Recompute by %.3g > 1e-4 of the range %.3g", name, worst, hi-lo)
		}
		for i := range prompts {
			if !slices.Equal(got[i], alone[i]) {
				t.Errorf("%s: request %d: LlamaBatch %v, Recompute %v", name, i, got[i], alone[i])
			}
		}
	}
}

// TestLlamaBatchStartMany: StartMany's logits, and the logits of steps after it, equal Start's one slot
// at a time bit for bit, with one-token prompts, prompts that share a pass, passes split at llamaChunk
// rows, and a prompt longer than llamaChunk (started alone, in chunks).
func TestLlamaBatchStartMany(t *testing.T) {
	old := llamaChunk
	llamaChunk = 12
	defer func() { llamaChunk = old }()
	path := tinyBitnet(t, gguf.TQ2_0, "bitnet")
	var bs [2]*LlamaBatch
	for k := range bs {
		m, err := LoadGGUF(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if bs[k], err = NewLlamaBatch(m, 6, false); err != nil {
			t.Fatal(err)
		}
		defer bs[k].Close()
	}
	slots := []int{4, 0, 2, 5, 1, 3}
	prompts := [][]int{{1, 2, 3}, {9}, {5, 6, 7, 8, 9, 10, 11}, {200, 3}, {7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, {42, 43, 44, 45}}
	V := bs[0].Vocab()
	many, err := bs[0].StartMany(slots, prompts)
	if err != nil {
		t.Fatal(err)
	}
	many = slices.Clone(many)
	for i, sl := range slots {
		l, err := bs[1].Start(sl, prompts[i])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l, many[i*V:(i+1)*V]) {
			t.Fatalf("slot %d: StartMany's logits differ from Start's", sl)
		}
		if bs[0].Room(sl) != bs[1].Room(sl) {
			t.Fatalf("slot %d: Room %d after StartMany, %d after Start", sl, bs[0].Room(sl), bs[1].Room(sl))
		}
	}
	ids := []int{3, 1, 4, 1, 5, 9}
	for range 3 {
		a, err := bs[0].Step(slots, ids)
		if err != nil {
			t.Fatal(err)
		}
		a = slices.Clone(a)
		b, err := bs[1].Step(slots, ids)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) {
			t.Fatal("the caches StartMany filled give other logits than Start's")
		}
	}
	if _, err := bs[0].StartMany([]int{0, 1}, [][]int{{1, 2}, {V, 1}}); err == nil {
		t.Error("StartMany took a token outside the vocabulary")
	}
}

// TestLlamaBatchResumeMany: slots that keep part of an earlier request's cache (filled by prefill and
// by steps) and feed only the rest give the logits, and the steps after them, of a fresh Start of
// the whole prompt, bit for bit: in one shared pass, a pass split at llamaChunk rows, a one-token rest
// and a rest longer than llamaChunk; bad requests are refused.
func TestLlamaBatchResumeMany(t *testing.T) {
	old := llamaChunk
	llamaChunk = 12
	defer func() { llamaChunk = old }()
	path := tinyBitnet(t, gguf.TQ2_0, "bitnet")
	var bs [2]*LlamaBatch
	for k := range bs {
		m, err := LoadGGUF(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if bs[k], err = NewLlamaBatch(m, 4, false); err != nil {
			t.Fatal(err)
		}
		defer bs[k].Close()
	}
	b := bs[0]
	slots := []int{2, 0, 3, 1}
	first := [][]int{{5, 6, 7, 8, 9, 10, 11}, {1, 2, 3}, {42, 43, 44, 45}, {9, 9}}
	gen := [][]int{{12, 13}, {}, {46}, {7, 7, 7}}
	keep := []int{8, 2, 5, 0}
	rests := [][]int{{20, 21, 22}, {4}, {50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63}, {1, 2}}
	var fed [][]int
	for i, sl := range slots {
		if _, err := b.Start(sl, first[i]); err != nil {
			t.Fatal(err)
		}
		f := slices.Clone(first[i])
		for _, id := range gen[i] {
			if _, err := b.Step([]int{sl}, []int{id}); err != nil {
				t.Fatal(err)
			}
			f = append(f, id)
		}
		fed = append(fed, f)
	}
	res, err := b.ResumeMany(slots, keep, rests)
	if err != nil {
		t.Fatal(err)
	}
	res = slices.Clone(res)
	V := b.Vocab()
	for i, sl := range slots {
		want, err := bs[1].Start(sl, append(slices.Clone(fed[i][:keep[i]]), rests[i]...))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(want, res[i*V:(i+1)*V]) {
			t.Fatalf("slot %d: resumed logits differ from a fresh start", sl)
		}
		if b.Room(sl) != bs[1].Room(sl) {
			t.Fatalf("slot %d: room %d resumed, %d fresh", sl, b.Room(sl), bs[1].Room(sl))
		}
	}
	ids := []int{3, 1, 4, 1}
	for range 3 {
		l0, _ := b.Step(slots, ids)
		l0 = slices.Clone(l0)
		l1, _ := bs[1].Step(slots, ids)
		if !slices.Equal(l0, l1) {
			t.Fatal("the resumed caches give other logits")
		}
	}
	for _, tc := range []struct {
		slots, keep []int
		rests       [][]int
		want        string
	}{
		{[]int{1}, []int{99}, [][]int{{1}}, "cannot keep 99"},
		{[]int{1}, []int{1}, [][]int{{}}, "nothing to feed"},
		{[]int{1, 1}, []int{1, 1}, [][]int{{1}, {2}}, "given twice"},
		{[]int{9}, []int{0}, [][]int{{1}}, "outside"},
		{[]int{1}, []int{1}, [][]int{{V}}, "outside vocabulary"},
	} {
		if _, err := b.ResumeMany(tc.slots, tc.keep, tc.rests); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ResumeMany(%v, %v, %v): %v, want %q", tc.slots, tc.keep, tc.rests, err, tc.want)
		}
	}
}
