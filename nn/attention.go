package nn

import (
	"fmt"
	"math"

	"tern/kernels"
	"tern/tensor"
)

// Multi-head scaled dot-product attention (https://arxiv.org/abs/1706.03762), as GPT-2/nanoGPT's
// CausalSelfAttention and BERT's self-attention, plus encoder-decoder cross-attention:
//
//	self:  q,k,v = split(QKV(x))          x (B,T,C) -> (B,T,3C), one fused projection
//	cross: q = Q(x), k,v = split(KV(mem))  x (B,Tq,C), mem (B,Tk,C)
//	per head h: att = softmax(q_h·k_hᵀ / sqrt(HS) + mask) (B,NH,Tq,Tk), y_h = att·v_h; out = O(y).
//
// Masks: a key j is excluded from query i's softmax when padMask[b,j] (true = padding) or, with Causal,
// when j > i. Excluded keys get probability exactly 0; a query with no allowed key (fully padded) gets
// an all-zero row (so y = 0 there), never NaN. The products run as one Sgemm per (batch, head) on
// strided views of the projection outputs (row stride 3C or 2C), so q, k, v are never copied apart.
type Attention struct {
	NH, C  int
	Causal bool
	// KeepWeights is accepted for API symmetry: the weights are always kept, because Backward needs
	// them, and Weights() returns them after any Forward.
	KeepWeights bool

	QKV   Projection // self-attention: C -> 3C (q | k | v)
	Q, KV Projection // cross-attention: C -> C, C -> 2C (k | v)
	O     Projection // C -> C

	// Group is the number of query heads per key/value head (grouped-query attention, GQA): query head
	// h reads KV head h/Group. 0 or 1: one KV head per query head. Set by NewGQAttention.
	Group int

	cross     bool
	b, tq, tk int
	pad       []bool    // (B, Tk) referenced, or nil
	qkv       []float32 // (B*T, 3C) QKV output (self)
	q, kv     []float32 // (B*Tq, C), (B*Tk, 2C) (cross)
	att       []float32 // (B, NH, Tq, Tk) probabilities
	datt      []float32 // (B, NH, Tq, Tk) scratch
	y         []float32 // (B*Tq, C) heads concatenated, input of O
	dqkv      []float32 // (B*T, 3C)
	dq, dkv   []float32 // (B*Tq, C), (B*Tk, 2C)
}

func defaultProj(name string, bias bool, proj ProjFunc) ProjFunc {
	if proj != nil {
		return proj
	}
	return LinearProj(tensor.NewRNG(fnv64(name)), bias)
}

func checkHeads(name string, c, nh int) error {
	if c <= 0 || nh <= 0 || c%nh != 0 {
		return fmt.Errorf("nn: attention %s: %d heads must divide %d channels (both positive)", name, nh, c)
	}
	return nil
}

// NewSelfAttention returns self-attention over C channels in NH heads; proj builds the QKV (C -> 3C)
// and O (C -> C) projections, named name+".qkv" and name+".o". A nil proj makes Linear layers (with
// bias if bias) initialized from an RNG seeded by the name; bias is only used then.
func NewSelfAttention(name string, c, nh int, causal bool, bias bool, proj ProjFunc) (*Attention, error) {
	if err := checkHeads(name, c, nh); err != nil {
		return nil, err
	}
	proj = defaultProj(name, bias, proj)
	return &Attention{NH: nh, C: c, Causal: causal, QKV: proj(name+".qkv", c, 3*c), O: proj(name+".o", c, c)}, nil
}

// NewCrossAttention returns cross-attention (queries from x, keys and values from a memory, both C
// channels); proj builds Q (C -> C), KV (C -> 2C) and O, named name+".q", ".kv", ".o". Causal masks
// key j > query i (only meaningful when Tq == Tk); encoder-decoder models leave it false.
func NewCrossAttention(name string, c, nh int, causal bool, bias bool, proj ProjFunc) (*Attention, error) {
	if err := checkHeads(name, c, nh); err != nil {
		return nil, err
	}
	proj = defaultProj(name, bias, proj)
	return &Attention{NH: nh, C: c, Causal: causal, Q: proj(name+".q", c, c), KV: proj(name+".kv", c, 2*c), O: proj(name+".o", c, c)}, nil
}

// Params returns the projections' parameters (QKV or Q, KV; then O).
func (a *Attention) Params() []*Param {
	var ps []*Param
	for _, p := range []Projection{a.QKV, a.Q, a.KV, a.O} {
		if p != nil {
			ps = append(ps, p.Params()...)
		}
	}
	return ps
}

// Weights returns the attention probabilities of the last Forward, (B, NH, Tq, Tk), owned by the layer.
func (a *Attention) Weights() []float32 { return a.att }

// Forward runs self-attention on x (B,T,C); padMask (B,T) marks padded keys (nil: none).
// It returns (B,T,C).
func (a *Attention) Forward(x []float32, b, t int, padMask []bool) []float32 {
	if a.QKV == nil {
		panic("nn: Attention.Forward on a cross-attention layer (use ForwardCross)")
	}
	c := a.C
	need("Attention", "x", len(x), b*t*c)
	if padMask != nil {
		need("Attention", "padMask", len(padMask), b*t)
	}
	a.cross, a.b, a.tq, a.tk, a.pad = false, b, t, t, padMask
	a.qkv = a.QKV.Forward(x[:b*t*c], b*t)
	a.core(a.qkv, 3*c, from(a.qkv, c), 3*c, from(a.qkv, 2*c), 3*c)
	return a.O.Forward(a.y, b*t)
}

// Backward returns dx (B,T,C) for dout (B,T,C) of the last Forward and adds into all parameter grads.
func (a *Attention) Backward(dout []float32) []float32 {
	if a.cross {
		panic("nn: Attention.Backward after ForwardCross (use BackwardCross)")
	}
	c, n := a.C, a.b*a.tq
	dy := a.O.Backward(dout)
	a.dqkv = tensor.Grow(a.dqkv, n*3*c)
	a.coreBackward(dy, a.qkv, 3*c, from(a.qkv, c), 3*c, from(a.qkv, 2*c), 3*c, a.dqkv, 3*c, from(a.dqkv, c), 3*c, from(a.dqkv, 2*c), 3*c)
	return a.QKV.Backward(a.dqkv)
}

// ForwardCross attends from x (B,Tq,C) to mem (B,Tk,C); memPad (B,Tk) marks padded memory positions
// (nil: none). It returns (B,Tq,C).
func (a *Attention) ForwardCross(x []float32, b, tq int, mem []float32, tk int, memPad []bool) []float32 {
	if a.Q == nil || a.KV == nil {
		panic("nn: Attention.ForwardCross on a self-attention layer (use Forward)")
	}
	c := a.C
	need("Attention", "x", len(x), b*tq*c)
	need("Attention", "mem", len(mem), b*tk*c)
	if memPad != nil {
		need("Attention", "memPad", len(memPad), b*tk)
	}
	a.cross, a.b, a.tq, a.tk, a.pad = true, b, tq, tk, memPad
	a.q = a.Q.Forward(x[:b*tq*c], b*tq)
	a.kv = a.KV.Forward(mem[:b*tk*c], b*tk)
	a.core(a.q, c, a.kv, 2*c, from(a.kv, c), 2*c)
	return a.O.Forward(a.y, b*tq)
}

// BackwardCross returns dx (B,Tq,C) and dmem (B,Tk,C) (both owned by the projections) for dout
// (B,Tq,C). A memory read by several layers gets the sum of their dmem: the caller adds them.
func (a *Attention) BackwardCross(dout []float32) (dx, dmem []float32) {
	if !a.cross {
		panic("nn: Attention.BackwardCross after a self-attention Forward")
	}
	c := a.C
	dy := a.O.Backward(dout)
	a.dq = tensor.Grow(a.dq, a.b*a.tq*c)
	a.dkv = tensor.Grow(a.dkv, a.b*a.tk*2*c)
	a.coreBackward(dy, a.q, c, a.kv, 2*c, from(a.kv, c), 2*c, a.dq, c, a.dkv, 2*c, from(a.dkv, c), 2*c)
	return a.Q.Backward(a.dq), a.KV.Backward(a.dkv)
}

// causalBlock is the query-block height of the causal products: block [r0,r1) only needs keys [0,r1),
// so with T = 128 and blocks of 32 the score and value products do 10/16 of the full work.
var causalBlock = 32

// blocked reports whether the causal lower-triangle products apply (self-attention shapes).
func (a *Attention) blocked() bool { return a.Causal && a.tq == a.tk }

// core computes a.att and a.y from q (B*Tq rows, stride ldq), k, v (B*Tk rows, strides ldk, ldv);
// head h's columns start at h*HS in each.
func (a *Attention) core(q []float32, ldq int, k []float32, ldk int, v []float32, ldv int) {
	b, tq, tk, nh, c := a.b, a.tq, a.tk, a.NH, a.C
	hs, g := c/nh, a.group()
	scale := float32(1 / math.Sqrt(float64(hs)))
	a.att = tensor.Grow(a.att, b*nh*tq*tk)
	a.y = tensor.Grow(a.y, b*tq*c)
	blk := tq
	if a.blocked() {
		blk = causalBlock
	}
	for bi := 0; bi < b; bi++ {
		for h := 0; h < nh; h++ {
			att := from(a.att, (bi*nh+h)*tq*tk)
			kb := from(k, bi*tk*ldk+h/g*hs)
			for r0 := 0; r0 < tq; r0 += blk {
				r1, kn := min(r0+blk, tq), tk
				if a.blocked() {
					kn = r1 // keys beyond r1 are masked for every query of the block
				}
				Matmul(false, true, r1-r0, kn, hs, scale, from(q, (bi*tq+r0)*ldq+h*hs), ldq, kb, ldk, 0, from(att, r0*tk), tk)
			}
		}
	}
	kernels.ParallelFor(b*nh*tq, max(1, 2048/max(tk, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			a.maskedSoftmax(a.att[r*tk:r*tk+tk], r/(nh*tq), r%tq)
		}
	})
	for bi := 0; bi < b; bi++ {
		for h := 0; h < nh; h++ {
			att := from(a.att, (bi*nh+h)*tq*tk)
			vb := from(v, bi*tk*ldv+h/g*hs)
			for r0 := 0; r0 < tq; r0 += blk {
				r1, kn := min(r0+blk, tq), tk
				if a.blocked() {
					kn = r1
				}
				Matmul(false, false, r1-r0, hs, kn, 1, from(att, r0*tk), tk, vb, ldv, 0, from(a.y, (bi*tq+r0)*c+h*hs), c)
			}
		}
	}
}

// maskedSoftmax turns one row of scores into probabilities over the allowed keys (0 elsewhere; all
// zeros when no key is allowed): disallowed scores become -Inf, which the softmax kernel maps to exactly
// 0. Causal rows only run the softmax over keys 0..i.
func (a *Attention) maskedSoftmax(row []float32, bi, i int) {
	if a.Causal && i+1 < len(row) {
		clear(row[i+1:])
		row = row[:i+1]
	}
	if a.pad != nil {
		pad := a.pad[bi*a.tk : bi*a.tk+len(row)]
		for j, p := range pad {
			if p {
				row[j] = negInf
			}
		}
	}
	kernels.SoftmaxRow(row, row)
}

var negInf = float32(math.Inf(-1))

// coreBackward: from dy (B*Tq, C) compute dq, dk, dv (overwritten, same strides as q, k, v).
// With causal blocking, key block [k0,k1) only receives from queries [k0,T) (att[i,j] = 0 for j > i).
func (a *Attention) coreBackward(dy, q []float32, ldq int, k []float32, ldk int, v []float32, ldv int,
	dq []float32, lddq int, dk []float32, lddk int, dv []float32, lddv int) {
	b, tq, tk, nh, c := a.b, a.tq, a.tk, a.NH, a.C
	hs, g := c/nh, a.group()
	scale := float32(1 / math.Sqrt(float64(hs)))
	a.datt = tensor.Grow(a.datt, b*nh*tq*tk)
	blocked := a.blocked()
	blk := tq
	if blocked {
		blk = causalBlock
	}
	for bi := 0; bi < b; bi++ {
		for h := 0; h < nh; h++ {
			off := (bi*nh + h) * tq * tk
			dyh, vb := from(dy, bi*tq*c+h*hs), from(v, bi*tk*ldv+h/g*hs)
			// the first query head of a KV group writes dk and dv, the others add (GQA)
			beta := float32(min(h%g, 1))
			if !blocked {
				// datt = dy_h · v_hᵀ (Tq,Tk); dv_h = attᵀ · dy_h (Tk,HS)
				Matmul(false, true, tq, tk, hs, 1, dyh, c, vb, ldv, 0, from(a.datt, off), tk)
				Matmul(true, false, tk, hs, tq, 1, from(a.att, off), tk, dyh, c, beta, from(dv, bi*tk*lddv+h/g*hs), lddv)
				continue
			}
			for r0 := 0; r0 < tq; r0 += blk {
				r1 := min(r0+blk, tq)
				Matmul(false, true, r1-r0, r1, hs, 1, from(dyh, r0*c), c, vb, ldv, 0, from(a.datt, off+r0*tk), tk)
				// dv[r0:r1] = att[r0:T, r0:r1]ᵀ · dy[r0:T]
				Matmul(true, false, r1-r0, hs, tq-r0, 1, from(a.att, off+r0*tk+r0), tk, from(dyh, r0*c), c, beta, from(dv, (bi*tk+r0)*lddv+h/g*hs), lddv)
			}
		}
	}
	// softmax backward, scale folded in: dpre = att·(datt - Σ_j att·datt)·scale; masked entries have
	// att = 0 and get 0 (causal rows: only keys 0..i are computed, the rest set to 0).
	kernels.ParallelFor(b*nh*tq, max(1, 2048/max(tk, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			p, d := a.att[r*tk:r*tk+tk], a.datt[r*tk:r*tk+tk]
			if a.Causal {
				i := r % tq
				if i+1 < tk {
					clear(d[i+1:])
					p, d = p[:i+1], d[:i+1]
				}
			}
			var s float32
			for j, pv := range p {
				s += pv * d[j]
			}
			for j, pv := range p {
				d[j] = pv * (d[j] - s) * scale
			}
		}
	})
	for bi := 0; bi < b; bi++ {
		for h := 0; h < nh; h++ {
			off := (bi*nh + h) * tq * tk
			kb, qb := from(k, bi*tk*ldk+h/g*hs), from(q, bi*tq*ldq+h*hs)
			beta := float32(min(h%g, 1))
			if !blocked {
				// dq_h = dpre · k_h (Tq,HS); dk_h = dpreᵀ · q_h (Tk,HS)
				Matmul(false, false, tq, hs, tk, 1, from(a.datt, off), tk, kb, ldk, 0, from(dq, bi*tq*lddq+h*hs), lddq)
				Matmul(true, false, tk, hs, tq, 1, from(a.datt, off), tk, qb, ldq, beta, from(dk, bi*tk*lddk+h/g*hs), lddk)
				continue
			}
			for r0 := 0; r0 < tq; r0 += blk {
				r1 := min(r0+blk, tq)
				Matmul(false, false, r1-r0, hs, r1, 1, from(a.datt, off+r0*tk), tk, kb, ldk, 0, from(dq, (bi*tq+r0)*lddq+h*hs), lddq)
				Matmul(true, false, r1-r0, hs, tq-r0, 1, from(a.datt, off+r0*tk+r0), tk, from(qb, r0*ldq), ldq, beta, from(dk, (bi*tk+r0)*lddk+h/g*hs), lddk)
			}
		}
	}
}

func (a *Attention) group() int { return max(a.Group, 1) }

// from is s[off:], or nil when off is past the end (empty batches and sequences, whose products are
// all empty and never read it).
func from(s []float32, off int) []float32 {
	if off >= len(s) {
		return nil
	}
	return s[off:]
}
