package infer

import (
	"math"
	"slices"
	"strings"
	"testing"

	"tern/format"
	"tern/model"
	"tern/share"
	"tern/tensor"
)

// kvBound is how far KVDecoder's logits may be from Recompute's: the projections compute each row
// bit for bit as the full forward, attention and fp32 products sum in another order (one row against
// the whole sequence), and BitLinear's int8 rounding of a row can move by one step where such a float
// difference crosses a rounding boundary. Measured 1.8e-7 to 1.9e-6 on these models.
const kvBound = 1e-4

// TestKVDecoder: incremental decoding (KVDecoder) against rerunning the sequence (Recompute), for
// causal transformers with every sharing strategy (tied and untied, LayerNorm and RMSNorm, biases,
// fp32 and BitLinear projections, token types) and encoder-decoders (own stacks, shared layers, the
// decoder reusing the encoder's layers). Three requests with prompts of 1 to 6 tokens run greedily in
// three slots, joining at different steps, so the Steps batch 1 to 3 rows: at every step each slot's
// logits are within kvBound of Recompute's and its greedy tokens are identical.
func TestKVDecoder(t *testing.T) {
	type tc struct {
		spec            string
		untied, fp32    bool
		norm            model.Norm
		types, seq2seq  bool
		encLayers, decL int
	}
	cases := []tc{
		{spec: "none"}, {spec: "sequential=2"}, {spec: "alternate=2"}, {spec: "all"}, {spec: "attention"}, {spec: "ffn"},
		{spec: "groups=0,2;1,3"}, {spec: "alternate=2+norms"}, {spec: "all+norms", untied: true, norm: "rmsnorm"},
		{spec: "sequential=2+norms", untied: true}, {spec: "scope=ffn+groups=0,3", untied: true},
		{spec: "none", fp32: true, untied: true}, {spec: "alternate=2", types: true},
		{spec: "none", seq2seq: true, encLayers: 2, decL: 2}, {spec: "sequential=2", seq2seq: true, encLayers: 2, decL: 4, untied: true, norm: "rmsnorm"},
		{spec: "decoder=all", seq2seq: true, encLayers: 2, decL: 2}, {spec: "decoder=0,1+norms", seq2seq: true, encLayers: 3, decL: 2, fp32: true},
	}
	for _, c := range cases {
		name := strings.NewReplacer("=", "", ";", "_", ",", "", "+", "_").Replace(c.spec)
		if c.seq2seq {
			name = "encdec-" + name
		}
		for _, f := range []struct {
			flag string
			on   bool
		}{{"-untied", c.untied}, {"-fp32", c.fp32}, {"-types", c.types}, {"-" + string(c.norm), c.norm != ""}} {
			if f.on {
				name += f.flag
			}
		}
		t.Run(name, func(t *testing.T) {
			cfg, _ := model.Preset("tiny")
			cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 97, 32, 4, 2, 64, 16
			if c.seq2seq {
				cfg.Type, cfg.Objective, cfg.Layers, cfg.DecoderLayers = model.TypeEncDec, model.ObjSeq2Seq, c.encLayers, c.decL
			}
			cfg.TieEmbeddings, cfg.Bias = !c.untied, c.untied
			if c.norm != "" {
				cfg.Norm = c.norm
			}
			if c.fp32 {
				cfg.Linear = model.LinearFP32
			}
			if c.types {
				cfg.TypeVocab = 2
			}
			if c.spec != "none" {
				sp, err := share.Parse(c.spec)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Sharing = sp
			}
			lm, err := model.New(cfg, tensor.NewRNG(11))
			if err != nil {
				t.Fatal(err)
			}
			scaleWeights(lm, 4) // logits spread well beyond kvBound, so greedy choices are not ties
			ref, err := NewRecompute(lm, 3)
			if err != nil {
				t.Fatal(err)
			}
			kv, err := NewKVDecoder(lm, 3)
			if err != nil {
				t.Fatal(err)
			}
			worst := compareDecoders(t, ref, kv, [][]int{{5, 17, 3, 88, 41, 2}, {60}, {7, 7, 30}}, []int{0, 2, 3}, 9)
			t.Logf("max |logit difference| incremental vs recompute: %.3g", worst)
		})
	}
}

// scaleWeights multiplies every parameter by s (BitLinear's ternary weights are scale-free; this
// widens the embeddings', norms' and fp32 layers' contribution).
func scaleWeights(lm model.LM, s float32) {
	for _, p := range lm.Params() {
		if strings.Contains(p.Name, "emb") || strings.Contains(p.Name, "lm_head") {
			for i := range p.W {
				p.W[i] *= s
			}
		}
	}
}

// compareDecoders runs the same greedy requests through a and b: request i starts at step join[i]
// in slot i and decodes n tokens (or until the context is full). At every step the logits of each
// active slot must agree within kvBound and the tokens must be equal; it returns the largest logit
// difference.
func compareDecoders(t *testing.T, a, b Decoder, prompts [][]int, join []int, n int) float64 {
	t.Helper()
	V := a.Vocab()
	la, lb := make([][]float32, len(prompts)), make([][]float32, len(prompts))
	toks := make([][]int, len(prompts))
	worst := 0.0
	check := func(i int) {
		for j := range la[i] {
			worst = math.Max(worst, math.Abs(float64(la[i][j]-lb[i][j])))
		}
		if worst > kvBound {
			t.Fatalf("request %d after %d tokens: logits differ by %.3g > %.3g", i, len(toks[i]), worst, kvBound)
		}
	}
	for step := 0; ; step++ {
		var slots, ids []int
		for i, p := range prompts {
			switch {
			case step == join[i]:
				l1, err := a.Start(i, p)
				if err != nil {
					t.Fatal(err)
				}
				la[i] = slices.Clone(l1)
				l2, err := b.Start(i, p)
				if err != nil {
					t.Fatal(err)
				}
				lb[i] = slices.Clone(l2)
				check(i)
			case step > join[i] && la[i] != nil:
				ga, gb := NewSampler(Sampling{}, 1).Next(la[i]), NewSampler(Sampling{}, 1).Next(lb[i])
				if ga != gb {
					t.Fatalf("request %d token %d: greedy %d recomputed, %d incremental", i, len(toks[i]), ga, gb)
				}
				toks[i] = append(toks[i], ga)
				if len(toks[i]) == n || a.Room(i) <= 1 || b.Room(i) <= 1 {
					if a.Room(i) != b.Room(i) {
						t.Fatalf("request %d: room %d recomputed, %d incremental", i, a.Room(i), b.Room(i))
					}
					la[i] = nil
					continue
				}
				slots, ids = append(slots, i), append(ids, ga)
			}
		}
		if len(slots) == 0 {
			if step > slices.Max(join) {
				break
			}
			continue
		}
		l1, err := a.Step(slots, ids)
		if err != nil {
			t.Fatal(err)
		}
		l1 = slices.Clone(l1)
		l2, err := b.Step(slots, ids)
		if err != nil {
			t.Fatal(err)
		}
		for k, i := range slots {
			la[i], lb[i] = l1[k*V:(k+1)*V], slices.Clone(l2[k*V:(k+1)*V])
			check(i)
		}
	}
	return worst
}

// TestDecoderMemory: slot counts whose KV caches cannot fit in memory are refused before allocating.
func TestDecoderMemory(t *testing.T) {
	cfg, _ := model.Preset("tiny")
	cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 61, 32, 2, 2, 64, 1024
	lm, err := model.New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	const slots = 1 << 30
	if _, err := NewKVDecoder(lm, slots); err == nil || !strings.Contains(err.Error(), "KV caches") {
		t.Errorf("KVDecoder with %d slots: %v", slots, err)
	}
	m, err := RandomPacked(cfg, 1, format.F16)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewBatch(m, slots, false); err == nil || !strings.Contains(err.Error(), "KV caches") {
		t.Errorf("Batch with %d slots: %v", slots, err)
	}
}
