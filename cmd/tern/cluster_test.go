package main

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"tern/model"
	"tern/tensor"
)

// TestModelFeatures checks `tern cluster --features model`: each window's feature is the mean over its
// positions of the model's final hidden state, L2-normalised. The reference runs the model on one window
// at a time and sums in float64; modelFeatures runs batches of 16, and 21 windows cross a batch edge.
func TestModelFeatures(t *testing.T) {
	cfg, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hidden, cfg.FFN, cfg.Heads, cfg.Layers, cfg.Vocab, cfg.MaxPos, cfg.Dropout = 24, 48, 2, 2, 50, 16, 0
	lm, err := model.New(cfg, tensor.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	const seq, n = 8, 21
	r := rand.New(rand.NewPCG(4, 4))
	toks := make([]int32, n*seq+3) // a partial window at the end is not a window
	for i := range toks {
		toks[i] = int32(r.IntN(cfg.Vocab))
	}
	x, err := modelFeatures(context.Background(), lm, toks, seq, n)
	if err != nil {
		t.Fatal(err)
	}
	if x.N() != n || x.Dim != cfg.Hidden {
		t.Fatalf("got %d rows of %d, want %d of %d", x.N(), x.Dim, n, cfg.Hidden)
	}
	tm := model.AsTransformer(lm)
	C := cfg.Hidden
	for w := 0; w < n; w++ {
		h, err := tm.ForwardHidden(toks[w*seq:(w+1)*seq], nil, nil, 1, seq)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, C)
		var ss float64
		for j := range want {
			for p := 0; p < seq; p++ {
				want[j] += float64(h[p*C+j]) / seq
			}
			ss += want[j] * want[j]
		}
		idx, val := x.Row(w)
		for j := range want {
			if int(idx[j]) != j {
				t.Fatalf("window %d: index %d is %d", w, j, idx[j])
			}
			if d := math.Abs(float64(val[j]) - want[j]/math.Sqrt(ss)); d > 1e-5 {
				t.Fatalf("window %d, dim %d: %g, want %g", w, j, val[j], want[j]/math.Sqrt(ss))
			}
		}
	}
	if _, err := modelFeatures(context.Background(), lm, toks, cfg.MaxPos+1, 1); err == nil || !strings.Contains(err.Error(), "max_pos") {
		t.Errorf("a window longer than the model's positions: err %v", err)
	}
	rnn, err := model.Preset("lstm")
	if err != nil {
		t.Fatal(err)
	}
	rnn.Hidden, rnn.Vocab = 16, 50
	lstm, err := model.New(rnn, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := modelFeatures(context.Background(), lstm, toks, seq, n); err == nil || !strings.Contains(err.Error(), "transformer") {
		t.Errorf("an LSTM: err %v", err)
	}
}
