package model_test

import (
	"math"
	"testing"

	"tern/model"
	"tern/nn"
	"tern/share"
	"tern/tensor"
)

// encdecRows: two rows of source (one padded) | BOS | target, T = 8.
func encdecRows(cfg model.Config) ([]int32, int, int) {
	pad, bos := int32(cfg.PadID()), int32(cfg.BOSID())
	return []int32{
		1, 2, 3, 4, bos, 5, 6, 7,
		8, 9, pad, pad, bos, 1, 0, 2,
	}, 2, 8
}

// TestEncDecGradients checks Backward against central finite differences of sum(logits · R) for
// entries of every kind of tensor: token table (read by encoder, decoder and tied head), both
// position tables, encoder attention, cross-attention (Q from the decoder, KV from the memory), norms.
func TestEncDecGradients(t *testing.T) {
	cfg := tinyEncDec(share.Spec{}, 2)
	cfg.Linear, cfg.Layers = "fp32", 2
	lm := build(t, cfg)
	ids, b, T := encdecRows(cfg)
	R := make([]float32, b*T*cfg.Vocab)
	tensor.NewRNG(5).FillNormal(R, 1)
	loss := func() float64 {
		lg, err := lm.Forward(ids, b, T)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, v := range lg {
			s += float64(v) * float64(R[i])
		}
		return s
	}
	for _, p := range nn.Unique(lm.Params()) {
		p.ZeroGrad()
	}
	loss()
	lm.Backward(append([]float32(nil), R...))
	checked := 0
	for _, p := range nn.Unique(lm.Params()) {
		switch p.Name {
		case "tok_emb.weight", "enc_pos_emb.weight", "dec_pos_emb.weight", "enc.0.attn.qkv.weight",
			"dec.1.cross.q.weight", "dec.0.cross.kv.weight", "dec.1.attn.o.weight", "ln_enc.weight", "dec.0.ln_cross.bias", "enc.1.ffn.fc2.weight":
		default:
			continue
		}
		checked++
		for _, i := range []int{1, 9 % p.Size(), p.Size() / 3, p.Size() - 2} {
			const h = 1e-3 // LayerNorm over 0.02-scale embeddings is strongly curved: 1e-2 is too coarse
			w := p.W[i]
			p.W[i] = w + h
			lp := loss()
			p.W[i] = w - h
			lm2 := loss()
			p.W[i] = w
			fd := (lp - lm2) / (2 * h)
			if math.Abs(fd-float64(p.G[i])) > 2e-2*(1+math.Abs(fd)) {
				t.Errorf("%s[%d]: grad %g, finite difference %g", p.Name, i, p.G[i], fd)
			}
		}
	}
	if checked != 10 {
		t.Fatalf("checked %d tensors, want 10", checked)
	}
	// the padded source positions of row 1 must not influence anything
	lg1 := append([]float32(nil), logitsOf(t, lm, ids, b, T)...)
	ids2 := append([]int32(nil), ids...)
	ids2[T+2], ids2[T+3] = int32(cfg.PadID()), int32(cfg.PadID())
	lm.(*model.EncDec).TokEnc.W.W[cfg.PadID()*cfg.Hidden] += 3 // change the pad embedding
	lg2 := logitsOf(t, lm, ids2, b, T)
	for i := T * cfg.Vocab; i < 2*T*cfg.Vocab; i++ {
		if math.Abs(float64(lg1[i]-lg2[i])) > 1e-5 {
			t.Fatalf("padding changed logit %d: %g vs %g", i, lg1[i], lg2[i])
		}
	}
}

func logitsOf(t *testing.T, lm model.LM, ids []int32, b, T int) []float32 {
	lg, err := lm.Forward(ids, b, T)
	if err != nil {
		t.Fatal(err)
	}
	return lg
}

func TestEncDecBadRows(t *testing.T) {
	cfg := tinyEncDec(share.Spec{}, 2)
	lm := build(t, cfg)
	bos := int32(cfg.BOSID())
	for _, c := range []struct {
		ids  []int32
		b, t int
	}{
		{[]int32{1, 2, 3, 4}, 1, 4},                        // no BOS
		{[]int32{bos, 2, 3, 4}, 1, 4},                      // empty source
		{[]int32{1, bos, 3, 4, 1, 2, bos, 4}, 2, 4},        // rows split differently
		{[]int32{1, bos, 3, int32(cfg.PadID() + 1)}, 1, 4}, // id outside the table
	} {
		if _, err := lm.Forward(c.ids, c.b, c.t); err == nil {
			t.Errorf("Forward(%v) accepted", c.ids)
		}
	}
}
