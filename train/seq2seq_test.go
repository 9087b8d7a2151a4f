package train

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"tern/model"
	"tern/share"
	"tern/tensor"
)

// TestSeq2SeqRows checks the row layout against the original windows: source = the window's first Tt
// tokens with spans replaced by [MASK] (so expanding each mask by the right count gives the original
// back), padding after it, BOS at Ts, decoder input = original shifted right, targets = original.
func TestSeq2SeqRows(t *testing.T) {
	mc := model.Config{Vocab: 50}
	const b, T = 64, 41 // odd T: Ts = 21, Tt = 20
	ts, tt := T-T/2, T/2
	rng := tensor.NewRNG(1)
	ids := make([]int32, b*T)
	for i := range ids {
		ids[i] = int32(rng.Intn(50))
	}
	orig := append([]int32(nil), ids...)
	targets := make([]int32, b*T)
	Seq2SeqRows(ids, targets, b, T, tensor.NewRNG(2), mc, 0.3)
	masked, total := 0, 0
	for r := 0; r < b; r++ {
		row, tg, o := ids[r*T:(r+1)*T], targets[r*T:(r+1)*T], orig[r*T:r*T+tt]
		if row[ts] != int32(mc.BOSID()) {
			t.Fatalf("row %d: no BOS at %d", r, ts)
		}
		for j := 0; j < tt; j++ {
			if tg[ts+j] != o[j] {
				t.Fatalf("row %d: target %d = %d, want %d", r, j, tg[ts+j], o[j])
			}
			if j > 0 && row[ts+j] != o[j-1] {
				t.Fatalf("row %d: decoder input %d = %d, want %d", r, j, row[ts+j], o[j-1])
			}
		}
		for j := 0; j < ts; j++ {
			if tg[j] != -1 {
				t.Fatalf("row %d: source target %d = %d, want -1", r, j, tg[j])
			}
		}
		// the source must expand back to the original, each mask hiding 1..5 tokens, then padding
		n := 0
		for n < ts && row[n] != int32(mc.PadID()) {
			n++
		}
		for j := n; j < ts; j++ {
			if row[j] != int32(mc.PadID()) {
				t.Fatalf("row %d: token %d after padding", r, row[j])
			}
		}
		if !expands(row[:n], o, int32(mc.MaskID())) {
			t.Fatalf("row %d: source %v does not expand to %v", r, row[:n], o)
		}
		for _, v := range row[:n] {
			if v != int32(mc.MaskID()) {
				masked-- // each kept token stands for one original token
			}
		}
		masked += tt
		total += tt
	}
	if f := float64(masked) / float64(total); math.Abs(f-0.3) > 0.08 {
		t.Errorf("masked fraction %.3f, want about 0.3", f)
	}
}

// expands reports whether src, with each mask replaced by 1..5 tokens, can equal o (memoized search).
func expands(src, o []int32, mask int32) bool {
	memo := map[[2]int]bool{}
	var match func(j, i int) bool
	match = func(j, i int) bool {
		if j == len(src) {
			return i == len(o)
		}
		key := [2]int{j, i}
		if v, ok := memo[key]; ok {
			return v
		}
		ok := false
		if src[j] == mask {
			for k := 1; k <= 5 && i+k <= len(o) && !ok; k++ {
				ok = match(j+1, i+k)
			}
		} else {
			ok = i < len(o) && src[j] == o[i] && match(j+1, i+1)
		}
		memo[key] = ok
		return ok
	}
	return match(0, 0)
}

// TestSeq2SeqTrainShared trains a tiny shared encoder-decoder a few steps on the embedded corpus,
// checks the loss falls and is finite, reloads the model, and refuses to resume it with another
// sharing map.
func TestSeq2SeqTrainShared(t *testing.T) {
	dir := t.TempDir()
	mc := model.Config{Type: "encdec", Objective: "seq2seq", Hidden: 32, Layers: 2, DecoderLayers: 2, Heads: 2, FFN: 64,
		MaxPos: 32, Linear: "bitnet", TieEmbeddings: true, Norm: "layernorm", Vocab: 1,
		Sharing: share.Spec{Decoder: "all", Layers: "alternate", Interval: 1}}
	tc := Defaults()
	tc.Out, tc.Steps, tc.Batch, tc.Seq, tc.EvalEvery, tc.EvalBatches, tc.Warmup = dir, 30, 4, 32, 30, 2, 5
	tc.LR, tc.MaskProb = 3e-3, 0.3
	r, err := NewRun(tc, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	first := r.Evaluate(2)
	res, err := r.Train(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !(res.ValLoss < first) || math.IsNaN(res.ValLoss) {
		t.Errorf("val loss %g after training, %g before", res.ValLoss, first)
	}
	if res.UniqueParams >= res.Params {
		t.Errorf("decoder sharing: %d unique of %d slots", res.UniqueParams, res.Params)
	}
	lm, _, err := model.Load(filepath.Join(dir, ModelName))
	if err != nil {
		t.Fatal(err)
	}
	if model.Stats(lm).Unique != res.UniqueParams {
		t.Errorf("reloaded %d unique params, trained %d", model.Stats(lm).Unique, res.UniqueParams)
	}
	other := mc
	other.Sharing = share.Spec{}
	other.Vocab = lm.Config().Vocab
	tc.Steps = 40
	if _, err := NewRun(tc, other, true, io.Discard); err == nil || !strings.Contains(err.Error(), "sharing") {
		t.Errorf("resume with another sharing map: err = %v", err)
	}
	if _, err := NewRun(tc, lm.Config(), true, io.Discard); err != nil {
		t.Errorf("resume with the same sharing: %v", err)
	}
}
