package infer

import (
	"fmt"
	"math"

	"tern/kernels"
	"tern/tensor"
)

// Prefill of a GGUF model: the tokens of a prompt through every block at once, as Packed.Prefill does
// for tern's models. Each projection multiplies all the rows together (prefill.rows: packed batch
// GEMVs up to prefillPacked rows, else the int8 × ternary GEMM over the matrix unpacked once per call),
// attention runs per row against the cache, and only the last row goes through the
// head. Every row's products are the int32 sums and rescale Step's GEMV computes, and attention runs
// Step's one-row products per row, so the logits equal stepping's bit for bit (TestLlamaPrefill) for ternary
// matrices; fp32 matrices (non-ternary types) run as one Sgemm instead of GEMVs and agree to float
// rounding.

// llamaPrefill holds Prefill's row buffers, grown to the longest prompt seen.
type llamaPrefill struct {
	prefill
	x, h, q, k, v, att, y, g, u []float32
	scores, lg                  []float32
	seqOf, posOf                []int // per row of a pass: its sequence, its position
}

// llamaChunk bounds the rows of one pass (and so its buffers): longer prompts are fed in chunks, each
// attending to the cache as the previous ones left it (the same results).
var llamaChunk = 256 // a variable for the tests

// Prefill feeds ids at positions Pos, Pos+1, ... (usually into an empty cache) in one pass and returns
// the logits for the position after the last (Vocab), owned by the model until its next Step or Prefill.
func (m *Llama) Prefill(ids []int) ([]float32, error) { return m.prefillChunks(ids, false) }

// PrefillAll is Prefill returning the logits after every one of ids (len(ids)·Vocab), for scoring
// text: each row's logits equal Step's for that token, bit for bit. The head reads the table once per
// chunk for all its rows.
func (m *Llama) PrefillAll(ids []int) ([]float32, error) { return m.prefillChunks(ids, true) }

func (m *Llama) prefillChunks(ids []int, all bool) ([]float32, error) {
	c := m.Cfg
	if len(ids) == 0 {
		return nil, fmt.Errorf("prefill: no tokens")
	}
	if m.Pos+len(ids) > c.Ctx {
		return nil, fmt.Errorf("prefill: %d tokens after %d exceed the %d-position context", len(ids), m.Pos, c.Ctx)
	}
	for _, id := range ids {
		if id < 0 || id >= c.Vocab {
			return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", id, c.Vocab)
		}
	}
	var out []float32
	if all {
		out = make([]float32, len(ids)*c.Vocab)
	}
	var lg []float32
	for done := 0; done < len(ids); {
		n := min(llamaChunk, len(ids)-done)
		outRows := 0
		if all {
			outRows = n
		} else if done+n == len(ids) {
			outRows = 1
		}
		var err error
		if lg, err = m.prefill(ids[done:done+n], outRows); err != nil {
			return nil, err
		}
		if all {
			copy(out[done*c.Vocab:], lg)
		}
		done += n
	}
	if all {
		return out, nil
	}
	return lg, nil
}

// llamaSeq is one sequence of a prefill pass: its tokens, the position of the first, and the KV cache
// (per layer) they extend.
type llamaSeq struct {
	ids    []int
	pos    int
	kc, vc [][]float32
}

// prefill runs one chunk into the model's own cache and the head for its last outRows rows
// ((outRows, Vocab) logits).
func (m *Llama) prefill(ids []int, outRows int) ([]float32, error) {
	c := m.Cfg
	C, M := c.Hidden, len(ids)
	seq := llamaSeq{ids: ids, pos: m.Pos}
	for li := range m.layers {
		seq.kc, seq.vc = append(seq.kc, m.layers[li].kc), append(seq.vc, m.layers[li].vc)
	}
	x, err := m.blocks([]llamaSeq{seq})
	if err != nil {
		return nil, err
	}
	m.Pos += M
	pf := m.pf
	if outRows == 0 {
		return nil, nil
	}
	if outRows == 1 {
		m.rmsnorm(m.h, x[(M-1)*C:], m.norm) // usually only the last position's logits are needed
		m.head.gemv(m.lg, m.h, c.Vocab)
		return m.lg, nil
	}
	last := x[(M-outRows)*C:]
	kernels.RMSNormForward(pf.h, pf.rstd, last, m.norm, outRows, C, c.Eps)
	pf.lg = tensor.Grow(pf.lg, outRows*c.Vocab)
	m.head.gemvBatch(pf.lg, pf.h[:outRows*C], c.Vocab, outRows)
	return pf.lg, nil
}

// blocks runs the rows of every sequence of seqs (each extending its own cache from its own position)
// through the blocks in one pass and returns their outputs (rows in order, before the final norm),
// valid until the next pass. Projections run over all rows at once; RoPE, the cache writes and
// attention per row at its sequence's position and against its sequence's cache, so each row is
// computed as a pass over its sequence alone computes it (and as Step does).
func (m *Llama) blocks(seqs []llamaSeq) ([]float32, error) {
	c := m.Cfg
	C, F := c.Hidden, c.FFN
	hs := C / c.Heads
	kvDim, group := c.kvDim(), c.Heads/c.KVHeads
	if m.pf == nil {
		m.pf = &llamaPrefill{}
	}
	pf := m.pf
	pf.seqOf, pf.posOf = pf.seqOf[:0], pf.posOf[:0]
	T := 0 // the most keys a row attends to
	for s, sq := range seqs {
		for j := range sq.ids {
			pf.seqOf, pf.posOf = append(pf.seqOf, s), append(pf.posOf, sq.pos+j)
		}
		T = max(T, sq.pos+len(sq.ids))
	}
	M := len(pf.seqOf)
	grow := func(b *[]float32, n int) []float32 { *b = tensor.Grow(*b, n); return *b }
	x, h, q, att, y := grow(&pf.x, M*C), grow(&pf.h, M*C), grow(&pf.q, M*C), grow(&pf.att, M*C), grow(&pf.y, M*C)
	k, v := grow(&pf.k, M*kvDim), grow(&pf.v, M*kvDim)
	g, u := grow(&pf.g, M*F), grow(&pf.u, M*F)
	pf.rstd = tensor.Grow(pf.rstd, M)
	norm := func(out, in, gain []float32, n int) {
		kernels.RMSNormForward(out, pf.rstd, in, gain, M, n, c.Eps)
	}
	i := 0
	for _, sq := range seqs {
		for _, id := range sq.ids {
			m.tok.row(x[i*C:(i+1)*C], id)
			i++
		}
	}
	sc := float32(1 / math.Sqrt(float64(hs)))
	for li := range m.layers {
		ly := &m.layers[li]
		norm(h, x, ly.attnNorm, C)
		for _, p := range []struct {
			out []float32
			l   linear
		}{{q, ly.q}, {k, ly.k}, {v, ly.v}} {
			if err := pf.rows(p.out, h, p.l, M); err != nil {
				return nil, err
			}
		}
		kernels.ParallelFor(M, 8, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				m.rope(q[i*C:(i+1)*C], c.Heads, pf.posOf[i])
				m.rope(k[i*kvDim:(i+1)*kvDim], c.KVHeads, pf.posOf[i])
			}
		})
		r := 0
		for _, sq := range seqs {
			n := len(sq.ids)
			copy(sq.kc[li][sq.pos*kvDim:(sq.pos+n)*kvDim], k[r*kvDim:])
			copy(sq.vc[li][sq.pos*kvDim:(sq.pos+n)*kvDim], v[r*kvDim:])
			r += n
		}
		// per head and row: the scores against the row's keys (its position's and those before, in its
		// own sequence's cache), softmax, and their sum of values, as Step's attend computes them
		// (kernels.AttendF32 per row: a many-row GEMM sums in another order, and a last-bit difference
		// here can flip an int8 activation later on). Attention is a small part of the work next to
		// the projections.
		pf.scores = tensor.Grow(pf.scores, c.Heads*T)
		kernels.ParallelFor(c.Heads, 1, func(lo, hi int) {
			for hd := lo; hd < hi; hd++ {
				kv := hd / group
				for i := range M {
					sq, n := seqs[pf.seqOf[i]], pf.posOf[i]+1
					kc, vc := sq.kc[li], sq.vc[li]
					s := pf.scores[hd*T : hd*T+n]
					kernels.AttendF32(att[i*C+hd*hs:], q[i*C+hd*hs:], kc[kv*hs:], vc[kv*hs:], kvDim, n, hs, sc, s)
				}
			}
		})
		if ly.attnSub != nil {
			norm(att, att, ly.attnSub, C)
		}
		if err := pf.rows(y, att, ly.o, M); err != nil {
			return nil, err
		}
		kernels.AddInPlace(x, y[:len(x)])
		norm(h, x, ly.ffnNorm, C)
		if err := pf.rows(g, h, ly.gate, M); err != nil {
			return nil, err
		}
		if err := pf.rows(u, h, ly.up, M); err != nil {
			return nil, err
		}
		gateAct(c.Act, g, u) // act(gate)·up, as Step
		if ly.ffnSub != nil {
			norm(g, g, ly.ffnSub, F)
		}
		if err := pf.rows(y, g, ly.down, M); err != nil {
			return nil, err
		}
		kernels.AddInPlace(x, y[:len(x)])
	}
	return x, nil
}

// Vocab is the number of tokens.
func (m *Llama) Vocab() int { return m.Cfg.Vocab }

// Rows returns the (n, Vocab) logits predicting the last n tokens of window from an emptied cache: the
// rows after window[len(window)-1-n], ..., window[len(window)-2] (eval.RowScorer).
func (m *Llama) Rows(window []int, n int) ([]float32, error) {
	T := len(window)
	if n < 1 || n > T-1 {
		return nil, fmt.Errorf("rows: %d scored tokens of a %d-token window", n, T)
	}
	m.Reset()
	first := T - 1 - n
	if first > 0 {
		if _, err := m.prefillChunks(window[:first], false); err != nil {
			return nil, err
		}
	}
	return m.PrefillAll(window[first : T-1])
}
