package infer

import (
	"fmt"
	"math"

	"tern/kernels"
	"tern/tensor"
)

// LlamaBatch decodes several sequences of one Llama-family model (a GGUF file, a packed tern file, or
// a training checkpoint built in memory) together, for the server's scheduler: each slot has its own
// KV cache (keys and values of its KVHeads per layer, allocated when the slot first starts; slot 0 is
// the model's own cache) and its own position for RoPE; a Step feeds one token to each of any set of
// started slots and runs every projection once for all of them (rowLinear, the dispatch Batch uses:
// one packed batch GEMV over the rows, from gemmFrom rows the product over resident matrices), the
// head once per step (an F16 table through kernels.SgemvF16Batch, int8/fp32 tables read once in
// L2-sized chunks: table.gemvBatch). Attention runs per (row, query head) pair against the row's
// cache, as Llama.Step computes it. Start prefills a prompt in one pass (Llama.Prefill) into the
// slot's cache.
//
// Every ternary path sums the same int32 products and rescales them as Llama.Step's GEMV, the heads sum
// each row as the one-row kernel does, and norms and attention are per row, so with ternary
// projections a sequence's logits do not depend on its batch, bit for bit (TestLlamaBatchMatchesAlone).
// fp32 projections (GGUF types that are not ternary) run as one Sgemm over the rows instead of Step's
// Sgemv: equal to float rounding.
type LlamaBatch struct {
	m     *Llama
	slots []llamaSlot
	lin   *rowLinear

	x, h, q, k, v, att, y, g, u, logits []float32
	scores, rstd, startLogits           []float32
	cur                                 []*llamaSlot // the slots of the step in progress
	li                                  int          // the layer attention works on
	attendFn                            func(lo, hi int)
}

type llamaSlot struct {
	kc, vc [][]float32 // per layer (Ctx, KVHeads·hs); nil until the slot first starts
	pos    int
}

// NewLlamaBatch returns a batch of n slots over m (which it then owns: closing the batch closes it).
// The KV caches of all n slots must fit in memory (checked now, allocated as slots first start).
// With gemm and n >= gemmFrom(), the ternary matrices are unpacked once into their batch form
// (Resident: 2-bit panels with AVX-512 VNNI, else one byte per weight) for the steps with that many
// rows: memory for speed.
func NewLlamaBatch(m *Llama, n int, gemm bool) (*LlamaBatch, error) {
	return newLlamaBatch(m, n, gemm, gemmFrom())
}

func newLlamaBatch(m *Llama, n int, gemm bool, gemmFrom int) (*LlamaBatch, error) {
	if n < 1 {
		return nil, fmt.Errorf("batch: %d slots, want at least 1", n)
	}
	if err := checkKVSlots(n-1, float64(m.Cfg.KVBytes())); err != nil { // slot 0 is the model's own cache
		return nil, err
	}
	if gemm && gemmFrom <= n {
		if err := m.Resident(); err != nil {
			return nil, err
		}
	}
	b := &LlamaBatch{m: m, slots: make([]llamaSlot, n), lin: newRowLinear(n, gemmFrom)}
	s := &b.slots[0]
	for li := range m.layers {
		s.kc = append(s.kc, m.layers[li].kc)
		s.vc = append(s.vc, m.layers[li].vc)
	}
	b.attendFn = b.attend
	return b, nil
}

// Resident unpacks every ternary matrix once into its batch form (makeResident), for LlamaBatch's
// steps of many rows.
func (m *Llama) Resident() error {
	var ls []*linear
	for li := range m.layers {
		ly := &m.layers[li]
		ls = append(ls, &ly.q, &ly.k, &ly.v, &ly.o, &ly.gate, &ly.up, &ly.down)
	}
	return makeResident(ls)
}

// Close releases the model.
func (b *LlamaBatch) Close() error { return b.m.Close() }

// Model is the batch's model.
func (b *LlamaBatch) Model() *Llama { return b.m }

func (b *LlamaBatch) Slots() int        { return len(b.slots) }
func (b *LlamaBatch) Vocab() int        { return b.m.Cfg.Vocab }
func (b *LlamaBatch) PromptLimit() int  { return b.m.Cfg.Ctx - 1 }
func (b *LlamaBatch) Room(slot int) int { return b.m.Cfg.Ctx - b.slots[slot].pos }

// StartMany starts several slots at once (ManyStarter): prompts of 2 to llamaChunk tokens run as
// prefill passes over the rows of as many of them as fit in llamaChunk rows (each weight matrix read
// once per pass for all of them), each row against its own slot's cache; other prompts as Start runs
// them. The heads of the prompts' last rows are one batched head product. Each slot's logits and cache
// equal what Start gives it, bit for bit.
func (b *LlamaBatch) StartMany(slots []int, prompts [][]int) ([]float32, error) {
	if len(slots) != len(prompts) {
		return nil, fmt.Errorf("batch: %d slots for %d prompts", len(slots), len(prompts))
	}
	return b.resumeMany(slots, make([]int, len(slots)), prompts)
}

// ResumeMany implements Resumer: each slot keeps its first keep[i] positions and feeds rests[i] after
// them, grouped into passes as StartMany groups prompts (Llama.blocks extends each cache from its own
// position); each slot's logits and cache equal a fresh Start of its whole prompt, bit for bit.
func (b *LlamaBatch) ResumeMany(slots []int, keep []int, rests [][]int) ([]float32, error) {
	if err := checkResume(slots, keep, rests, len(b.slots), func(sl int) int { return b.slots[sl].pos }); err != nil {
		return nil, err
	}
	return b.resumeMany(slots, keep, rests)
}

func (b *LlamaBatch) resumeMany(slots, keep []int, prompts [][]int) ([]float32, error) {
	m, c := b.m, b.m.Cfg
	C, V := c.Hidden, c.Vocab
	out := tensor.Grow(b.startLogits, len(slots)*V)
	b.startLogits = out
	var group []llamaSeq
	var at []int // per sequence of group: its index in slots
	run := func() error {
		if len(group) == 0 {
			return nil
		}
		x, err := m.blocks(group)
		if err != nil {
			return err
		}
		b.h, b.rstd = tensor.Grow(b.h, len(group)*C), tensor.Grow(b.rstd, len(group))
		r := 0
		for k, sq := range group { // each prompt's last row
			r += len(sq.ids)
			copy(b.h[k*C:(k+1)*C], x[(r-1)*C:r*C])
			b.slots[slots[at[k]]].pos = sq.pos + len(sq.ids)
		}
		kernels.RMSNormForward(b.h, b.rstd, b.h, m.norm, len(group), C, c.Eps)
		b.logits = tensor.Grow(b.logits, len(group)*V)
		m.head.gemvBatch(b.logits, b.h, V, len(group))
		for k, i := range at {
			copy(out[i*V:(i+1)*V], b.logits[k*V:(k+1)*V])
		}
		group, at = group[:0], at[:0]
		return nil
	}
	rows := 0
	for i, sl := range slots {
		p := prompts[i]
		if sl < 0 || sl >= len(b.slots) {
			return nil, fmt.Errorf("slot %d outside [0, %d)", sl, len(b.slots))
		}
		if len(p) < 2 || len(p) > llamaChunk || keep[i]+len(p) > b.PromptLimit() {
			l, err := b.resume(sl, keep[i], p)
			if err != nil {
				return nil, err
			}
			copy(out[i*V:(i+1)*V], l)
			continue
		}
		for _, id := range p {
			if id < 0 || id >= V {
				return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", id, V)
			}
		}
		if rows+len(p) > llamaChunk {
			if err := run(); err != nil {
				return nil, err
			}
			rows = 0
		}
		s := b.slot(sl)
		s.pos = keep[i]
		group, at = append(group, llamaSeq{ids: p, pos: keep[i], kc: s.kc, vc: s.vc}), append(at, i)
		rows += len(p)
	}
	if err := run(); err != nil {
		return nil, err
	}
	return out, nil
}

// slot returns slot sl with its caches allocated.
func (b *LlamaBatch) slot(sl int) *llamaSlot {
	s := &b.slots[sl]
	if s.kc == nil {
		n := b.m.Cfg.Ctx * b.m.Cfg.kvDim()
		for range b.m.layers {
			s.kc = append(s.kc, make([]float32, n))
			s.vc = append(s.vc, make([]float32, n))
		}
	}
	return s
}

// Start empties slot and feeds prompt: one Prefill pass of the model over the slot's cache (one Step
// for a one-token prompt).
func (b *LlamaBatch) Start(slot int, prompt []int) ([]float32, error) {
	return b.resume(slot, 0, prompt)
}

// resume keeps slot's first keep positions (checked by the caller) and feeds prompt after them.
func (b *LlamaBatch) resume(slot, keep int, prompt []int) ([]float32, error) {
	m := b.m
	if slot < 0 || slot >= len(b.slots) {
		return nil, fmt.Errorf("slot %d outside [0, %d)", slot, len(b.slots))
	}
	if len(prompt) == 0 || keep+len(prompt) > b.PromptLimit() {
		return nil, fmt.Errorf("prompt of %d tokens: want 1 to %d", keep+len(prompt), b.PromptLimit())
	}
	s := b.slot(slot)
	s.pos = keep
	// the model's own Step and Prefill run on the slot's cache, then get slot 0's back
	for li := range m.layers {
		m.layers[li].kc, m.layers[li].vc = s.kc[li], s.vc[li]
	}
	defer func() {
		for li := range m.layers {
			m.layers[li].kc, m.layers[li].vc = b.slots[0].kc[li], b.slots[0].vc[li]
		}
	}()
	m.Reset()
	m.Pos = keep
	var l []float32
	var err error
	if len(prompt) == 1 {
		l, err = m.Step(prompt[0])
	} else {
		l, err = m.Prefill(prompt)
	}
	if err != nil {
		return nil, err
	}
	s.pos = m.Pos
	return l, nil
}

// Step feeds ids[i] to slots[i] and returns the logits (len(slots), Vocab), owned by the batch until
// its next call.
func (b *LlamaBatch) Step(slots []int, ids []int) ([]float32, error) {
	m, c := b.m, b.m.Cfg
	C, F, V, B := c.Hidden, c.FFN, c.Vocab, len(slots)
	if len(ids) != B {
		return nil, fmt.Errorf("%d slots, %d tokens", B, len(ids))
	}
	if B == 0 {
		return nil, nil
	}
	b.cur = b.cur[:0]
	for i, sl := range slots {
		if sl < 0 || sl >= len(b.slots) || b.slots[sl].pos == 0 {
			return nil, fmt.Errorf("slot %d is not a started slot of [0, %d)", sl, len(b.slots))
		}
		s := &b.slots[sl]
		if s.pos >= c.Ctx {
			return nil, fmt.Errorf("slot %d: context full: %d positions", sl, c.Ctx)
		}
		if ids[i] < 0 || ids[i] >= V {
			return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", ids[i], V)
		}
		b.cur = append(b.cur, s)
	}
	kvDim := c.kvDim()
	grow := func(p *[]float32, n int) []float32 { *p = tensor.Grow(*p, n); return *p }
	x, h, q, att, y := grow(&b.x, B*C), grow(&b.h, B*C), grow(&b.q, B*C), grow(&b.att, B*C), grow(&b.y, B*C)
	k, v := grow(&b.k, B*kvDim), grow(&b.v, B*kvDim)
	g, u := grow(&b.g, B*F), grow(&b.u, B*F)
	grow(&b.rstd, B)
	grow(&b.scores, B*c.Heads*c.Ctx)
	norm := func(out, in, gain []float32, n int) { kernels.RMSNormForward(out, b.rstd, in, gain, B, n, c.Eps) }
	for i, id := range ids {
		m.tok.row(x[i*C:(i+1)*C], id)
	}
	for li := range m.layers {
		ly := &m.layers[li]
		norm(h, x, ly.attnNorm, C)
		b.lin.apply(q, h, ly.q, B)
		b.lin.apply(k, h, ly.k, B)
		b.lin.apply(v, h, ly.v, B)
		for i, s := range b.cur {
			p := s.pos
			m.rope(q[i*C:(i+1)*C], c.Heads, p)
			m.rope(k[i*kvDim:(i+1)*kvDim], c.KVHeads, p)
			copy(s.kc[li][p*kvDim:(p+1)*kvDim], k[i*kvDim:])
			copy(s.vc[li][p*kvDim:(p+1)*kvDim], v[i*kvDim:])
		}
		b.li = li
		kernels.ParallelChunks(B*c.Heads, 2, b.attendFn) // slots' contexts differ: chunks, not halves
		if ly.attnSub != nil {
			norm(att, att, ly.attnSub, C)
		}
		b.lin.apply(y, att, ly.o, B)
		kernels.AddInPlace(x, y[:len(x)])
		norm(h, x, ly.ffnNorm, C)
		b.lin.apply(g, h, ly.gate, B)
		b.lin.apply(u, h, ly.up, B)
		gateAct(c.Act, g, u) // act(gate)·up, elementwise as Step
		if ly.ffnSub != nil {
			norm(g, g, ly.ffnSub, F)
		}
		b.lin.apply(y, g, ly.down, B)
		kernels.AddInPlace(x, y[:len(x)])
	}
	norm(h, x, m.norm, C)
	b.logits = tensor.Grow(b.logits, B*V)
	m.head.gemvBatch(b.logits, h, V, B) // the table read once for all rows, each row's logits as alone
	for _, s := range b.cur {
		s.pos++
	}
	return b.logits, nil
}

// attend runs (row, query head) pairs [lo, hi) of the current layer: the row's newest query against
// its slot's cached keys and values of the query head's KV head, as Llama.attend.
func (b *LlamaBatch) attend(lo, hi int) {
	c := b.m.Cfg
	hs := c.Hidden / c.Heads
	kvDim, group := c.kvDim(), c.Heads/c.KVHeads
	sc := float32(1 / math.Sqrt(float64(hs)))
	for i := lo; i < hi; i++ {
		r, hd := i/c.Heads, i%c.Heads
		s := b.cur[r]
		p, kc, vc := s.pos, s.kc[b.li], s.vc[b.li]
		kv := hd / group
		sco := b.scores[i*c.Ctx : i*c.Ctx+p+1]
		kernels.AttendF32(b.att[r*c.Hidden+hd*hs:], b.q[r*c.Hidden+hd*hs:], kc[kv*hs:], vc[kv*hs:], kvDim, p+1, hs, sc, sco)
	}
}
