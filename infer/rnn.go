package infer

import (
	"fmt"

	"tern/model"
	"tern/nn"
	"tern/tensor"
)

// RNNDecoder is a Decoder over an LSTM or GRU language model with incremental state: each slot keeps
// its layers' hidden (and LSTM cell) state, a Step runs one time step for all the step's slots as one
// batch (B, T=1) from their states, and a prompt is run once in Start. Per token it costs one step of
// the recurrence instead of rerunning the sequence (Recompute).
type RNNDecoder struct {
	m      *model.RNN
	L, H   int
	h, c   [][]float32 // per slot (L, H); c for LSTM
	n      []int       // tokens fed per slot
	hb, cb []float32   // the step's gathered state (L, B, H)
	ids    []int32
	logits []float32
}

// NewRNNDecoder returns a decoder with slots sequences for m.
func NewRNNDecoder(m *model.RNN, slots int) *RNNDecoder {
	d := &RNNDecoder{m: m, L: m.Cfg.Layers, H: m.Cfg.Hidden}
	for range slots {
		d.h = append(d.h, make([]float32, d.L*d.H))
		d.c = append(d.c, make([]float32, d.L*d.H))
		d.n = append(d.n, 0)
	}
	return d
}

func (d *RNNDecoder) Slots() int        { return len(d.h) }
func (d *RNNDecoder) Vocab() int        { return d.m.Cfg.Vocab }
func (d *RNNDecoder) PromptLimit() int  { return d.m.Cfg.MaxPos - 1 }
func (d *RNNDecoder) Room(slot int) int { return d.m.Cfg.MaxPos - d.n[slot] }

// run feeds ids (B, T) from states h0, c0 (L, B, H) and returns the top layer's outputs (B, T, H)
// and the final states.
func (d *RNNDecoder) run(ids []int32, b, t int, h0, c0 []float32) (out, hN, cN []float32, err error) {
	V := d.m.Cfg.Vocab
	for _, id := range ids {
		if id < 0 || int(id) >= V {
			return nil, nil, nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", id, V)
		}
	}
	x := d.m.Emb.Forward(ids, b*t)
	if d.m.LSTM != nil {
		out, hN, cN = d.m.LSTM.Forward(x, b, t, h0, c0)
	} else {
		out, hN = d.m.GRU.Forward(x, b, t, h0)
	}
	return out, hN, cN, nil
}

// head computes logits (n, V) for top outputs h (n, H), as the model's Forward does.
func (d *RNNDecoder) head(h []float32, n int) []float32 {
	V, C := d.m.Cfg.Vocab, d.H
	if d.m.Head != nil {
		return d.m.Head.Forward(h, n)
	}
	d.logits = tensor.Grow(d.logits, n*V)
	nn.Matmul(false, true, n, V, C, 1, h, C, d.m.Emb.W.W, C, 0, d.logits, V)
	return d.logits
}

func (d *RNNDecoder) Start(slot int, prompt []int) ([]float32, error) {
	if len(prompt) == 0 || len(prompt) > d.PromptLimit() {
		return nil, fmt.Errorf("prompt of %d tokens: want 1 to %d", len(prompt), d.PromptLimit())
	}
	d.ids = d.ids[:0]
	for _, id := range prompt {
		d.ids = append(d.ids, int32(id))
	}
	t := len(prompt)
	out, hN, cN, err := d.run(d.ids, 1, t, nil, nil)
	if err != nil {
		return nil, err
	}
	copy(d.h[slot], hN)
	if cN != nil {
		copy(d.c[slot], cN)
	}
	d.n[slot] = t
	return d.head(out[(t-1)*d.H:t*d.H], 1), nil
}

func (d *RNNDecoder) Step(slots []int, ids []int) ([]float32, error) {
	B, L, H := len(slots), d.L, d.H
	d.hb, d.cb = tensor.Grow(d.hb, L*B*H), tensor.Grow(d.cb, L*B*H)
	d.ids = d.ids[:0]
	for i, s := range slots {
		if d.n[s] >= d.m.Cfg.MaxPos {
			return nil, fmt.Errorf("slot %d: context full: %d positions", s, d.m.Cfg.MaxPos)
		}
		d.ids = append(d.ids, int32(ids[i]))
		for k := range L {
			copy(d.hb[(k*B+i)*H:(k*B+i+1)*H], d.h[s][k*H:(k+1)*H])
			copy(d.cb[(k*B+i)*H:(k*B+i+1)*H], d.c[s][k*H:(k+1)*H])
		}
	}
	var c0 []float32
	if d.m.LSTM != nil {
		c0 = d.cb
	}
	out, hN, cN, err := d.run(d.ids, B, 1, d.hb, c0)
	if err != nil {
		return nil, err
	}
	for i, s := range slots {
		for k := range L {
			copy(d.h[s][k*H:(k+1)*H], hN[(k*B+i)*H:(k*B+i+1)*H])
			if cN != nil {
				copy(d.c[s][k*H:(k+1)*H], cN[(k*B+i)*H:(k*B+i+1)*H])
			}
		}
		d.n[s]++
	}
	return d.head(out, B), nil
}

// NewDecoder returns the Decoder that serves lm best: incremental state for RNNs (RNNDecoder), the
// Llama decoder packed in memory for llama/bitnet models (LlamaFromModel, LlamaBatch: KV caches, the
// slots' projections batched), a KV cache for causal transformers and encoder-decoders (KVDecoder),
// otherwise Recompute (packed models use Batch).
func NewDecoder(lm model.LM, slots int) (Decoder, error) {
	if r, ok := lm.(*model.RNN); ok {
		return NewRNNDecoder(r, slots), nil
	}
	if lm.Config().IsLlama() {
		m, err := LlamaFromModel(lm, "the "+string(lm.Config().Type)+" model", 0)
		if err != nil {
			return nil, err
		}
		b, err := NewLlamaBatch(m, slots, true) // resident batch matrices from gemmFrom() slots: a fraction of the fp32 model
		if err != nil {
			m.Close()
			return nil, err
		}
		return b, nil
	}
	if d, err := NewKVDecoder(lm, slots); err == nil {
		return d, nil
	}
	return NewRecompute(lm, slots)
}
