package infer

import (
	"context"
	"slices"
	"testing"

	"tern/model"
	"tern/share"
	"tern/tensor"
)

// TestRecompute: the Decoder over a training-path model gives, greedily, what the existing
// generation loops give (infer.Generate for causal LMs, EncDec.Generate for seq2seq), for a shared
// transformer, an LSTM, a GRU and an encoder-decoder, with two slots decoding side by side.
func TestRecompute(t *testing.T) {
	tiny, _ := model.Preset("tiny")
	tiny.Vocab, tiny.Hidden, tiny.Layers, tiny.Heads, tiny.FFN, tiny.MaxPos = 61, 32, 4, 2, 64, 24
	tiny.Sharing, _ = share.Parse("alternate=2")
	lstm, _ := model.Preset("lstm")
	lstm.Vocab, lstm.Hidden, lstm.MaxPos = 61, 32, 24
	gru := lstm
	gru.Cell = "gru"
	ed := model.Config{Type: "encdec", Objective: "seq2seq", Vocab: 61, Hidden: 32, Layers: 2, DecoderLayers: 2, Heads: 2, FFN: 64,
		MaxPos: 24, Linear: "bitnet", TieEmbeddings: true, Norm: "layernorm"}
	for name, cfg := range map[string]model.Config{"transformer-alternate": tiny, "lstm": lstm, "gru": gru, "encdec": ed} {
		t.Run(name, func(t *testing.T) {
			lm, err := model.New(cfg, tensor.NewRNG(5))
			if err != nil {
				t.Fatal(err)
			}
			prompts := [][]int{{3, 9, 27}, {40, 1}}
			want := make([][]int, 2)
			for i, p := range prompts {
				if e, ok := lm.(*model.EncDec); ok {
					src := []int32{int32(p[0]), int32(p[1])}
					if len(p) > 2 {
						src = append(src, int32(p[2]))
					}
					out, err := e.Generate(context.Background(), src, 8, NewSampler(Sampling{}, 1).Next)
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range out {
						want[i] = append(want[i], int(v))
					}
					continue
				}
				out, err := Generate(context.Background(), lm, p, 8, NewSampler(Sampling{}, 1), nil)
				if err != nil {
					t.Fatal(err)
				}
				want[i] = out[len(p):]
			}
			d, err := NewRecompute(lm, 2)
			if err != nil {
				t.Fatal(err)
			}
			got := make([][]int, 2)
			for i, p := range prompts {
				l, err := d.Start(i, p)
				if err != nil {
					t.Fatal(err)
				}
				got[i] = append(got[i], NewSampler(Sampling{}, 1).Next(l))
			}
			V := d.Vocab()
			for len(got[0]) < 8 {
				l, err := d.Step([]int{0, 1}, []int{got[0][len(got[0])-1], got[1][len(got[1])-1]})
				if err != nil {
					t.Fatal(err)
				}
				for i := range 2 {
					got[i] = append(got[i], NewSampler(Sampling{}, 1).Next(l[i*V:(i+1)*V]))
				}
			}
			for i := range 2 {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("slot %d: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
	mlm := tiny
	mlm.Objective, mlm.Sharing = "mlm", share.Spec{}
	if _, err := NewRecompute(must(model.New(mlm, tensor.NewRNG(1))), 1); err == nil {
		t.Error("an MLM encoder accepted as a decoder")
	}
}

func must(lm model.LM, err error) model.LM {
	if err != nil {
		panic(err)
	}
	return lm
}
