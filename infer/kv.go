package infer

// KVDecoder: incremental decoding with a training-path model's own layers (the unpacked form, any
// sharing map): a causal transformer keeps each slot's keys and values per layer; an encoder-decoder
// runs its encoder once per source and keeps, per decoder layer, the cross-attention's keys and values
// of that memory and the decoder's own self-attention cache. Each position then costs one row through
// every layer instead of the whole sequence (Recompute), and a Step runs the rows of all its slots
// through each projection together (BitLinear's int8 x ternary GEMM over B rows). The layers are the
// model's: projections, norms and embeddings compute every row as the full forward does (BitLinear's
// per-row int8 activations and exact integer sums), so logits differ from Recompute's only by the
// order of float sums in attention and fp32 products (TestKVDecoder states the bound).

import (
	"fmt"
	"math"

	"tern/internal/sysmem"
	"tern/kernels"
	"tern/model"
	"tern/nn"
	"tern/tensor"
)

// normLayer is a model's LayerNorm or RMSNorm.
type normLayer interface {
	Forward(inp []float32, n int) []float32
}

// kvBlock is one decoder layer: self-attention, cross-attention (encoder-decoders) and FFN, pre-LN.
type kvBlock struct {
	ln1, lnCross, lnFFN normLayer
	self, cross         *nn.Attention // cross nil for a causal LM
	ffn                 *nn.FFN
}

// kvSlot is one sequence's cache.
type kvSlot struct {
	n    int         // decoder positions filled: causal LM prompt + fed tokens; seq2seq BOS + fed tokens
	k, v [][]float32 // per layer (MaxPos, C)
	mem  [][]float32 // seq2seq: per layer the cross-attention's k | v of the source (Ts, 2C)
	pad  []bool      // seq2seq: (Ts) padded source positions, or nil
	ts   int         // seq2seq: source length
}

// KVDecoder is a Decoder over a causal model.Transformer or a model.EncDec (see the file comment).
type KVDecoder struct {
	cfg     model.Config
	enc     *model.EncDec // seq2seq: the encoder's owner; nil for a causal LM
	tok     *nn.Embedding // decoder token table
	pos     *nn.Embedding // decoder positions
	typ     *nn.Embedding // segment embeddings (row 0 is added, as Forward does without types), or nil
	blocks  []kvBlock
	lnF     normLayer
	head    *nn.Linear // nil: tied to tok
	headW   []float32  // (V', C) the tied table (rows [0, V) are the classes)
	slots   []*kvSlot
	scale   float32 // 1/√HS
	x, att  []float32
	hw      []float32 // (rows out, C) final hidden of the rows whose logits are wanted
	logits  []float32
	scores  []float32
	ids     []int32
	posIDs  []int32
	types   []int32
	rows    []kvRow
	outRows []int
}

type kvRow struct{ slot, pos int }

// NewKVDecoder returns a KVDecoder with slots sequences over lm, a causal transformer or an
// encoder-decoder (its prompt is the source); other models give an error (use NewDecoder).
func NewKVDecoder(lm model.LM, slots int) (*KVDecoder, error) {
	cfg := lm.Config()
	d := &KVDecoder{cfg: cfg}
	if t := model.AsTransformer(lm); t != nil && cfg.Type == model.TypeTransformer && cfg.Objective == model.ObjCausal {
		d.tok, d.pos, d.typ, d.lnF, d.head = t.Tok, t.Pos, t.Type, t.LnF, t.Head
		for _, b := range t.Blocks {
			d.blocks = append(d.blocks, kvBlock{ln1: b.Ln1, lnFFN: b.Ln2, self: b.Attn, ffn: b.FFN})
		}
	} else if ed, ok := lm.(*model.EncDec); ok {
		d.enc, d.tok, d.pos, d.lnF, d.head = ed, ed.TokDec, ed.DecPos, ed.LnF, ed.Head
		for _, b := range ed.Dec {
			d.blocks = append(d.blocks, kvBlock{ln1: b.Ln1, lnCross: b.Ln2, lnFFN: b.Ln3, self: b.Self, cross: b.Cross, ffn: b.FFN})
		}
	} else {
		return nil, fmt.Errorf("incremental decoding needs a causal transformer or an encoder-decoder, not a %s %s model", cfg.Type, cfg.Objective)
	}
	for _, b := range d.blocks {
		if b.self.Group > 1 || b.cross != nil && b.cross.Group > 1 {
			return nil, fmt.Errorf("incremental decoding: grouped-query attention is not supported here")
		}
	}
	if slots < 1 {
		return nil, fmt.Errorf("incremental decoding: %d slots, want at least 1", slots)
	}
	// each slot's fp32 keys and values, made when the slot first starts
	if err := checkKVSlots(slots, float64(len(d.blocks))*2*float64(cfg.MaxPos)*float64(cfg.Hidden)*4); err != nil {
		return nil, err
	}
	d.headW = d.tok.W.W
	d.scale = float32(1 / math.Sqrt(float64(cfg.Hidden/cfg.Heads)))
	for range slots {
		d.slots = append(d.slots, &kvSlot{})
	}
	return d, nil
}

func (d *KVDecoder) Slots() int { return len(d.slots) }
func (d *KVDecoder) Vocab() int { return d.cfg.Vocab }

// PromptLimit: a causal LM needs a position left to generate into; a source fills up to MaxPos.
func (d *KVDecoder) PromptLimit() int {
	if d.enc != nil {
		return d.cfg.MaxPos
	}
	return d.cfg.MaxPos - 1
}

// Room counts as Recompute does: a seq2seq slot's BOS takes no position of the generated text.
func (d *KVDecoder) Room(slot int) int {
	if d.enc != nil {
		return d.cfg.MaxPos - d.slots[slot].n + 1
	}
	return d.cfg.MaxPos - d.slots[slot].n
}

// Start empties slot and feeds prompt: a causal LM's prompt as one pass of len(prompt) rows; a seq2seq
// source through the encoder (its memory projected once per layer into cross-attention keys and
// values), then BOS.
func (d *KVDecoder) Start(slot int, prompt []int) ([]float32, error) {
	return d.StartMany([]int{slot}, [][]int{prompt})
}

// StartMany starts several slots in one pass (ManyStarter): the rows of every prompt (seq2seq: every
// BOS, after each source's encoding) go through each projection together.
func (d *KVDecoder) StartMany(slots []int, prompts [][]int) ([]float32, error) {
	cfg := d.cfg
	if len(slots) != len(prompts) {
		return nil, fmt.Errorf("incremental decoding: %d slots for %d prompts", len(slots), len(prompts))
	}
	d.rows, d.ids, d.outRows = d.rows[:0], d.ids[:0], d.outRows[:0]
	for i, slot := range slots {
		s, prompt := d.slots[slot], prompts[i]
		if len(prompt) == 0 || len(prompt) > d.PromptLimit() {
			return nil, fmt.Errorf("prompt of %d tokens: want 1 to %d", len(prompt), d.PromptLimit())
		}
		first := len(d.ids)
		for _, id := range prompt {
			if id < 0 || id >= cfg.InputVocab() {
				return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", id, cfg.InputVocab())
			}
			d.ids = append(d.ids, int32(id))
		}
		s.n = 0
		if s.k == nil {
			C := cfg.Hidden
			for range d.blocks {
				s.k, s.v = append(s.k, make([]float32, cfg.MaxPos*C)), append(s.v, make([]float32, cfg.MaxPos*C))
			}
			s.mem = make([][]float32, len(d.blocks))
		}
		if d.enc != nil {
			mem, pad, err := d.enc.Encode(d.ids[first:])
			if err != nil {
				return nil, err
			}
			s.ts, s.pad = len(prompt), nil
			if pad != nil {
				s.pad = append([]bool(nil), pad...)
			}
			for li, b := range d.blocks {
				s.mem[li] = append(s.mem[li][:0], b.cross.KV.Forward(mem, s.ts)...)
			}
			d.ids = append(d.ids[:first], int32(cfg.BOSID()))
			d.rows = append(d.rows, kvRow{slot, 0})
		} else {
			for p := range prompt {
				d.rows = append(d.rows, kvRow{slot, p})
			}
		}
		d.outRows = append(d.outRows, len(d.rows)-1)
	}
	l, err := d.forward()
	if err != nil {
		return nil, err
	}
	for _, r := range d.rows {
		d.slots[r.slot].n = r.pos + 1
	}
	return l, nil
}

// Step feeds ids[i] to slots[i] and returns the logits (len(slots), V).
func (d *KVDecoder) Step(slots []int, ids []int) ([]float32, error) {
	d.rows, d.ids, d.outRows = d.rows[:0], d.ids[:0], d.outRows[:0]
	for i, sl := range slots {
		s := d.slots[sl]
		if s.n == 0 || s.n >= d.cfg.MaxPos {
			return nil, fmt.Errorf("slot %d: not started or context full (%d positions)", sl, d.cfg.MaxPos)
		}
		if ids[i] < 0 || ids[i] >= d.cfg.Vocab {
			return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", ids[i], d.cfg.Vocab)
		}
		d.rows = append(d.rows, kvRow{sl, s.n})
		d.ids = append(d.ids, int32(ids[i]))
		d.outRows = append(d.outRows, i)
	}
	if len(slots) == 0 {
		return nil, nil
	}
	l, err := d.forward()
	if err != nil {
		return nil, err
	}
	for _, sl := range slots {
		d.slots[sl].n++
	}
	return l, nil
}

// forward runs d.rows (slot, position) with tokens d.ids through the decoder, writing each row's keys
// and values into its slot's cache before any row attends (so the rows of one prompt see each other
// causally), and returns the logits of d.outRows (len(outRows), V).
func (d *KVDecoder) forward() ([]float32, error) {
	cfg := d.cfg
	C, V, n := cfg.Hidden, cfg.Vocab, len(d.rows)
	d.posIDs = tensor.Grow(d.posIDs, n)
	for i, r := range d.rows {
		d.posIDs[i] = int32(r.pos)
	}
	d.x = tensor.Grow(d.x, n*C)
	x := d.x
	copy(x, d.tok.Forward(d.ids, n))
	kernels.AddInPlace(x, d.pos.Forward(d.posIDs, n)[:len(x)])
	if d.typ != nil {
		d.types = tensor.Grow(d.types, n)
		clear(d.types)
		kernels.AddInPlace(x, d.typ.Forward(d.types, n)[:len(x)])
	}
	d.att = tensor.Grow(d.att, n*C)
	for li, b := range d.blocks {
		qkv := b.self.QKV.Forward(b.ln1.Forward(x, n), n) // (n, 3C)
		for i, r := range d.rows {
			s := d.slots[r.slot]
			copy(s.k[li][r.pos*C:(r.pos+1)*C], qkv[i*3*C+C:i*3*C+2*C])
			copy(s.v[li][r.pos*C:(r.pos+1)*C], qkv[i*3*C+2*C:(i+1)*3*C])
		}
		for i, r := range d.rows {
			s := d.slots[r.slot]
			d.attend(d.att[i*C:(i+1)*C], qkv[i*3*C:i*3*C+C], s.k[li], s.v[li], C, r.pos+1, nil)
		}
		kernels.AddInPlace(x, b.self.O.Forward(d.att, n)[:len(x)])
		if b.cross != nil {
			q := b.cross.Q.Forward(b.lnCross.Forward(x, n), n) // (n, C)
			for i, r := range d.rows {
				s := d.slots[r.slot]
				d.attend(d.att[i*C:(i+1)*C], q[i*C:(i+1)*C], s.mem[li], s.mem[li][C:], 2*C, s.ts, s.pad)
			}
			kernels.AddInPlace(x, b.cross.O.Forward(d.att, n)[:len(x)])
		}
		kernels.AddInPlace(x, b.ffn.Forward(b.lnFFN.Forward(x, n), n)[:len(x)])
	}
	h := d.lnF.Forward(x, n)
	m := len(d.outRows)
	d.hw = tensor.Grow(d.hw, m*C)
	for j, i := range d.outRows {
		copy(d.hw[j*C:(j+1)*C], h[i*C:(i+1)*C])
	}
	if d.head != nil {
		d.logits = append(d.logits[:0], d.head.Forward(d.hw, m)...)
		return d.logits, nil
	}
	d.logits = tensor.Grow(d.logits, m*V)
	nn.Matmul(false, true, m, V, C, 1, d.hw, C, d.headW, C, 0, d.logits, V)
	return d.logits, nil
}

// attend computes out (C) for query q (C) over keys k and values v (nk rows, ld apart; head h's
// columns at h·HS), as nn.Attention's core does per row: scores = q_h·k_hᵀ/√HS, padded keys excluded
// (-Inf), softmax, out_h = scores·v_h.
func (d *KVDecoder) attend(out, q, k, v []float32, ld, nk int, pad []bool) {
	C, NH := d.cfg.Hidden, d.cfg.Heads
	hs := C / NH
	d.scores = tensor.Grow(d.scores, nk)
	s := d.scores
	for h := range NH {
		nn.Matmul(false, true, 1, nk, hs, d.scale, q[h*hs:], hs, k[h*hs:], ld, 0, s, nk)
		for j, p := range pad[:min(len(pad), nk)] {
			if p {
				s[j] = float32(math.Inf(-1))
			}
		}
		kernels.SoftmaxRow(s, s)
		nn.Matmul(false, false, 1, hs, nk, 1, s, nk, v[h*hs:], ld, 0, out[h*hs:], hs)
	}
}

// checkKVSlots checks that slots KV caches of perSlot bytes each fit in memory (NewKVDecoder, NewBatch).
func checkKVSlots(slots int, perSlot float64) error {
	return sysmem.Check(fmt.Sprintf("the KV caches of %d slots", slots), float64(slots)*perSlot)
}
