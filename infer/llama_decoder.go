package infer

import (
	"fmt"
	"slices"
)

// LlamaDecoder serves a GGUF model (Llama) to the server's scheduler: each slot has its own KV cache
// (allocated when the slot first starts), Start prefills a prompt in one pass, and Step feeds the
// slots their tokens one after another, each as Llama.Step. Not batched: every slot's step reads the
// weights again (batched GGUF steps are future work); a sequence's logits do not depend on the others.
type LlamaDecoder struct {
	m      *Llama
	slots  []llamaSlot
	cur    int // the slot whose cache the model holds, or -1
	logits []float32
}

type llamaSlot struct {
	kc, vc [][]float32 // per layer (Ctx, KVHeads·hs)
	pos    int
}

// NewLlamaDecoder returns a Decoder with slots sequences over m. Slot 0 uses the model's own cache.
func NewLlamaDecoder(m *Llama, slots int) (*LlamaDecoder, error) {
	if slots < 1 {
		return nil, fmt.Errorf("want at least 1 slot, got %d", slots)
	}
	d := &LlamaDecoder{m: m, slots: make([]llamaSlot, slots), cur: -1}
	s := &d.slots[0]
	for li := range m.layers {
		s.kc = append(s.kc, m.layers[li].kc)
		s.vc = append(s.vc, m.layers[li].vc)
	}
	return d, nil
}

// KVBytes is the KV cache memory of one slot.
func (m *Llama) KVBytes() int64 {
	c := m.Cfg
	return 2 * 4 * int64(c.Layers) * int64(c.Ctx) * int64(c.KVHeads*(c.Hidden/c.Heads))
}

func (d *LlamaDecoder) Slots() int       { return len(d.slots) }
func (d *LlamaDecoder) Vocab() int       { return d.m.Cfg.Vocab }
func (d *LlamaDecoder) PromptLimit() int { return d.m.Cfg.Ctx - 1 }
func (d *LlamaDecoder) Room(slot int) int {
	return d.m.Cfg.Ctx - d.slots[slot].pos
}

// Model is the decoder's model.
func (d *LlamaDecoder) Model() *Llama { return d.m }

// use points the model's layers at slot's cache.
func (d *LlamaDecoder) use(slot int) {
	if d.cur >= 0 {
		d.slots[d.cur].pos = d.m.Pos
	}
	s := &d.slots[slot]
	if s.kc == nil {
		n := d.m.KVBytes() / 8 / int64(len(d.m.layers))
		for range d.m.layers {
			s.kc = append(s.kc, make([]float32, n))
			s.vc = append(s.vc, make([]float32, n))
		}
	}
	for li := range d.m.layers {
		d.m.layers[li].kc, d.m.layers[li].vc = s.kc[li], s.vc[li]
	}
	d.m.Pos, d.cur = s.pos, slot
}

func (d *LlamaDecoder) Start(slot int, prompt []int) ([]float32, error) {
	if slot < 0 || slot >= len(d.slots) {
		return nil, fmt.Errorf("slot %d outside [0, %d)", slot, len(d.slots))
	}
	if len(prompt) == 0 || len(prompt) > d.PromptLimit() {
		return nil, fmt.Errorf("prompt of %d tokens: want 1 to %d", len(prompt), d.PromptLimit())
	}
	d.use(slot)
	d.m.Reset()
	var l []float32
	var err error
	if len(prompt) == 1 {
		l, err = d.m.Step(prompt[0])
	} else {
		l, err = d.m.Prefill(prompt)
	}
	d.slots[slot].pos = d.m.Pos
	if err != nil {
		d.m.Reset()
		d.slots[slot].pos = 0
		return nil, err
	}
	d.logits = append(d.logits[:0], l...)
	return d.logits, nil
}

func (d *LlamaDecoder) Step(slots []int, ids []int) ([]float32, error) {
	if len(slots) != len(ids) {
		return nil, fmt.Errorf("%d slots, %d tokens", len(slots), len(ids))
	}
	V := d.m.Cfg.Vocab
	d.logits = slices.Grow(d.logits[:0], len(slots)*V)
	for i, s := range slots {
		if s < 0 || s >= len(d.slots) {
			return nil, fmt.Errorf("slot %d outside [0, %d)", s, len(d.slots))
		}
		d.use(s)
		l, err := d.m.Step(ids[i])
		d.slots[s].pos = d.m.Pos
		if err != nil {
			return nil, fmt.Errorf("slot %d: %w", s, err)
		}
		d.logits = append(d.logits, l...)
	}
	return d.logits, nil
}
