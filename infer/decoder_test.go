package infer

import (
	"context"
	"slices"
	"testing"

	"tern/model"
	"tern/share"
	"tern/tensor"
)

// TestRecompute: the Decoders over training-path models give, greedily, what the existing generation
// loops give (infer.Generate for causal LMs, EncDec.Generate for seq2seq), for a shared transformer,
// LSTMs and GRUs (fp32 and BitLinear-quantized gates, tied and untied; Recompute and the incremental
// RNNDecoder, whose step batches the slots) and an encoder-decoder, with two slots side by side.
func TestRecompute(t *testing.T) {
	tiny, _ := model.Preset("tiny")
	tiny.Vocab, tiny.Hidden, tiny.Layers, tiny.Heads, tiny.FFN, tiny.MaxPos = 61, 32, 4, 2, 64, 24
	tiny.Sharing, _ = share.Parse("alternate=2")
	lstm, _ := model.Preset("lstm")
	lstm.Vocab, lstm.Hidden, lstm.MaxPos = 61, 32, 24
	gru := lstm
	gru.Cell = "gru"
	lstmQ := lstm
	lstmQ.Linear = model.LinearBitNet
	gruQ := gru
	gruQ.Linear, gruQ.TieEmbeddings = model.LinearBitNet, false
	ed := model.Config{Type: "encdec", Objective: "seq2seq", Vocab: 61, Hidden: 32, Layers: 2, DecoderLayers: 2, Heads: 2, FFN: 64,
		MaxPos: 24, Linear: "bitnet", TieEmbeddings: true, Norm: "layernorm"}
	for name, cfg := range map[string]model.Config{"transformer-alternate": tiny, "lstm": lstm, "gru": gru, "lstm-bitnet": lstmQ, "gru-bitnet-untied": gruQ, "encdec": ed} {
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
			for _, incremental := range []bool{false, true} {
				var d Decoder
				if incremental {
					r, ok := lm.(*model.RNN)
					if !ok {
						continue
					}
					d = NewRNNDecoder(r, 2)
				} else if d, err = NewRecompute(lm, 2); err != nil {
					t.Fatal(err)
				}
				checkDecoder(t, d, prompts, want)
			}
		})
	}
	mlm := tiny
	mlm.Objective, mlm.Sharing = "mlm", share.Spec{}
	if _, err := NewRecompute(must(model.New(mlm, tensor.NewRNG(1))), 1); err == nil {
		t.Error("an MLM encoder accepted as a decoder")
	}
}

// checkDecoder decodes prompts greedily in slots 0 and 1 side by side and compares with want.
func checkDecoder(t *testing.T, d Decoder, prompts, want [][]int) {
	t.Helper()
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
			t.Errorf("%T slot %d: %v, want %v", d, i, got[i], want[i])
		}
	}
}

func must(lm model.LM, err error) model.LM {
	if err != nil {
		panic(err)
	}
	return lm
}

// TestDecodeOne: one slot through DecodeOne gives infer.Generate's tokens for an LSTM, and stops at
// the context.
func TestDecodeOne(t *testing.T) {
	cfg, _ := model.Preset("lstm")
	cfg.Vocab, cfg.Hidden, cfg.MaxPos = 61, 32, 12
	lm := must(model.New(cfg, tensor.NewRNG(9)))
	want, err := Generate(context.Background(), lm, []int{4, 5, 6}, 6, NewSampler(Sampling{Temperature: 0.9}, 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeOne(context.Background(), NewRNNDecoder(lm.(*model.RNN), 1), []int{4, 5, 6}, 6, NewSampler(Sampling{Temperature: 0.9}, 3), nil)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("DecodeOne %v (%v), Generate %v", got, err, want)
	}
	got, err = DecodeOne(context.Background(), NewRNNDecoder(lm.(*model.RNN), 1), []int{4, 5, 6}, 50, NewSampler(Sampling{}, 3), nil)
	if err != nil || len(got) != cfg.MaxPos {
		t.Errorf("at the context: %d tokens (%v), want %d", len(got), err, cfg.MaxPos)
	}
}
