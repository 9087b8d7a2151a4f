package infer

import (
	"fmt"
	"math"
	"sync"

	"tern/kernels"
	"tern/quant"
	"tern/tensor"
)

// Prefill: a prompt's tokens through the packed model all at once, as the training forward runs them,
// instead of one Step per token. Up to prefillPacked rows each ternary matrix is read packed once for
// all of them (kernels.TernaryGemvBatch); longer prompts unpack it into the int8 × ternary GEMM's
// layout (kernels.TernaryMatrix, or the resident panels), so its bytes are decoded once per prompt
// rather than once per token and the product runs at GEMM speed; attention is one causal (M, M)
// product per head (fp32 cache) or each row through Step's attention kernel (F16 cache). Every row
// comes out as stepping computes it, so GeneratePacked prefills any prompt of prefillMin tokens or more
// (`tern bench decode --preset 100m --prompt 16`, Zen 5, 2 threads: 1,262 tokens/s prefilled against
// 227 stepped).

// prefillMin is the prompt length from which GeneratePacked prefills instead of stepping.
const prefillMin = 2

// scoresPool holds the (M, M) attention scores of prefill's (prompt, head) pairs, one per
// goroutine at work.
var scoresPool = sync.Pool{New: func() any { return new([]float32) }}

// prefill holds Prefill's buffers, grown to the longest prompt seen.
type prefill struct {
	x, h, qkv, att, y, f1 []float32
	mean, rstd            []float32
	xq                    []int8
	xs                    []float32
	w                     []int8                            // one matrix's unpacked trits
	tm                    map[[2]int]*kernels.TernaryMatrix // by (rows, cols): one per shape, refilled per layer
	gb                    map[int]*kernels.GemvBatch        // by input size: prompts of up to prefillPacked rows
}

// prefillPacked is the longest prompt whose ternary products run as packed batch GEMVs
// (kernels.TernaryGemvBatch, the weights read packed once) rather than unpacking each matrix for
// the int8 GEMM, which costs more than the products for short prompts (700M, 16 tokens: the
// unpacking took ~3/4 of Prefill's time).
const prefillPacked = 64

// Prefill feeds ids into an empty KV cache in one pass and returns the logits for the position after
// the last (V), owned by the model until the next Step or Prefill. The linear products are exactly the
// ones Step computes (the same int32 sums and rescale) and attention sums each dot in the same order
// (fp32 cache) or is Step's own kernel over the rounded cache, row by row (F16 cache), so the logits
// equal Step's bit for bit (TestPrefill).
func (m *Packed) Prefill(ids []int) ([]float32, error) {
	if m.Pos != 0 {
		return nil, fmt.Errorf("prefill needs an empty KV cache (Reset), it holds %d tokens", m.Pos)
	}
	hl, err := m.prefillMany([]*Packed{m}, [][]int{ids})
	if err != nil {
		return nil, err
	}
	m.head.gemv(m.logits, hl, m.Cfg.Vocab) // only the last position's logits are needed
	return m.logits, nil
}

// prefillMany feeds prompts[p] into the KV cache of seqs[p] (m itself, or Batch slots sharing m's
// weights and Prefill buffers) from that seq's position Pos (0 for a fresh cache; more when the first
// Pos positions hold a kept prefix, Batch.ResumeMany), all prompts in one pass: every projection runs
// once over the rows of all of them (the weights read once), attention is per head and prompt. Each row
// is computed exactly as stepping would compute it. It sets each seq's Pos and returns the final-norm
// hidden state of each prompt's last row (P, C), in m's Prefill buffers.
func (m *Packed) prefillMany(seqs []*Packed, prompts [][]int) ([]float32, error) {
	cfg := m.Cfg
	C, F, NH, P := cfg.Hidden, cfg.FFN, cfg.Heads, len(prompts)
	N := 0
	for p, ids := range prompts {
		switch M := len(ids); {
		case M == 0:
			return nil, fmt.Errorf("prefill: no tokens")
		case seqs[p].Pos+M > cfg.MaxPos:
			return nil, fmt.Errorf("prefill: %d tokens after %d exceed the %d-position context", M, seqs[p].Pos, cfg.MaxPos)
		}
		for _, id := range ids {
			if id < 0 || id >= cfg.InputVocab() {
				return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", id, cfg.InputVocab())
			}
		}
		N += len(ids)
	}
	pf := m.pf
	x := tensor.Grow(pf.x, N*C)
	h := tensor.Grow(pf.h, N*C)
	qkv := tensor.Grow(pf.qkv, N*3*C)
	att := tensor.Grow(pf.att, N*C)
	y := tensor.Grow(pf.y, N*C)
	f1 := tensor.Grow(pf.f1, N*F)
	pf.x, pf.h, pf.qkv, pf.att, pf.y, pf.f1 = x, h, qkv, att, y, f1
	pf.mean, pf.rstd = tensor.Grow(pf.mean, N), tensor.Grow(pf.rstd, N)
	starts := make([]int, P) // each prompt's first row
	r := 0
	for p, ids := range prompts {
		starts[p] = r
		for i, id := range ids {
			row, at := x[r*C:(r+1)*C], seqs[p].Pos+i
			m.tok.row(row, id)
			kernels.AddInPlace(row, m.pos[at*C:(at+1)*C])
			r++
		}
	}
	hs := C / NH
	sc := float32(1 / math.Sqrt(float64(hs)))
	for li := range m.layers {
		ly := &m.layers[li]
		m.normRows(h, x, ly.ln1, N)
		if err := m.linearRows(qkv, h, ly.qkv, N); err != nil {
			return nil, err
		}
		// (prompt, head) pairs in parallel: each stores its head's slice of the prompt's keys and
		// values and attends; pairs differ in cost (prompt lengths), so they go in chunks.
		kernels.ParallelChunks(P*NH, 1, func(lo, hi int) {
			sp := scoresPool.Get().(*[]float32)
			for pi := lo; pi < hi; pi++ {
				p, hd := pi/NH, pi%NH
				sq := seqs[p]
				r0, M, from, kv := starts[p], len(prompts[p]), sq.Pos, &sq.layers[li]
				a := hd * hs
				for i := range M {
					sq.storeKV(kv, hd, from+i, qkv[(r0+i)*3*C:(r0+i+1)*3*C])
				}
				if m.kvF16 || from > 0 { // each row attends to the cache as Step does, bit for bit
					*sp = tensor.Grow(*sp, from+M)
					for i := range M {
						sq.attendRow(kv, hd, from+i+1, qkv[(r0+i)*3*C+a:][:hs], att[(r0+i)*C+a:][:hs], *sp)
					}
					continue
				}
				*sp = tensor.Grow(*sp, M*M)
				s, qp := (*sp)[:M*M], qkv[r0*3*C:]
				q, k, v := qp[a:], qp[C+a:], qp[2*C+a:]
				// S = Q·Kᵀ/√hs (M, M), causal softmax per row, then S·V into the head's columns.
				kernels.Sgemm(false, true, M, M, hs, sc, q, 3*C, k, 3*C, 0, s, M)
				for i := range M {
					row := s[i*M : (i+1)*M]
					kernels.SoftmaxRow(row[:i+1], row[:i+1])
					clear(row[i+1:])
				}
				kernels.Sgemm(false, false, M, hs, M, 1, s, M, v, 3*C, 0, att[r0*C+a:], C)
			}
			scoresPool.Put(sp)
		})
		if li == len(m.layers)-1 {
			// Past the last layer's attention only each prompt's last row matters (the others'
			// keys and values are stored): its rows move to the front, rows p < their source, and
			// the rest of the layer runs on those P rows alone, each computed as before.
			for p, ids := range prompts {
				r := starts[p] + len(ids) - 1
				copy(x[p*C:(p+1)*C], x[r*C:(r+1)*C])
				copy(att[p*C:(p+1)*C], att[r*C:(r+1)*C])
			}
			N, x, att, f1 = P, x[:P*C], att[:P*C], f1[:P*F]
		}
		if err := m.linearRows(y, att, ly.o, N); err != nil {
			return nil, err
		}
		kernels.AddInPlace(x, y[:len(x)])
		m.normRows(h, x, ly.ln2, N)
		if err := m.linearRows(f1, h, ly.fc, N); err != nil {
			return nil, err
		}
		kernels.GELUForward(f1, f1, len(f1), false)
		if err := m.linearRows(y, f1, ly.f2, N); err != nil {
			return nil, err
		}
		kernels.AddInPlace(x, y[:len(x)])
	}
	for p, ids := range prompts {
		seqs[p].Pos += len(ids)
	}
	m.normRows(h[:P*C], x[:P*C], m.lnf, P) // x holds each prompt's last row
	return h[:P*C], nil
}

// normRows is norm over n rows.
func (m *Packed) normRows(out, x []float32, nm norm, n int) {
	c := len(x) / n
	if nm.rms {
		kernels.RMSNormForward(out, m.pf.rstd, x, nm.g, n, c, nm.eps)
		return
	}
	kernels.LayerNormForward(out, m.pf.mean, m.pf.rstd, x, nm.g, nm.b, n, c)
}

// linearRows computes out (n, N) = in (n, K)·Wᵀ (+ b): a ternary matrix is unpacked into the GEMM's
// layout and multiplied by the rows quantized per row (int8 absmax), exactly as Step's GEMV does one.
func (m *Packed) linearRows(out, in []float32, l linear, n int) error {
	if l.bits > 0 {
		// n-bit (adaptive widths): every row quantized as Step quantizes its vector (QuantizeRowsInt8 is
		// SetFloat32's quantizer), then the int8 x n-bit GEMM over all rows, which gives each row Step's
		// GEMV result bit for bit while reading each block of codes once per 8 rows
		pf := m.pf
		pf.xq, pf.xs = tensor.Grow(pf.xq, n*l.k), tensor.Grow(pf.xs, n)
		kernels.QuantizeRowsInt8(pf.xq, pf.xs, in, n, l.k)
		kernels.NBitGemvBatch(out, l.w, l.steps, l.n, l.k, l.bits, pf.xq, pf.xs, n)
	} else if err := m.pf.rows(out, in, l, n); err != nil {
		return err
	}
	if l.bias != nil {
		for i := range n {
			row := out[i*l.n : (i+1)*l.n]
			for j := range row {
				row[j] += l.bias[j]
			}
		}
	}
	return nil
}

// rows computes out (n, N) = in (n, K)·Wᵀ for an fp32 or ternary matrix (no bias, no n-bit codes),
// the ternary part with the same int32 sums and rescale as one GEMV per row: up to prefillPacked rows
// as packed batch GEMVs, more as the int8 GEMM over the matrix unpacked here (or resident).
func (pf *prefill) rows(out, in []float32, l linear, n int) error {
	if l.w == nil {
		kernels.Sgemm(false, true, n, l.n, l.k, 1, in, l.k, l.fw, l.k, 0, out, l.n)
	} else if l.tp != nil && n >= panelGemmFrom { // resident 2-bit panels
		pf.xq, pf.xs = tensor.Grow(pf.xq, n*l.k), tensor.Grow(pf.xs, n)
		kernels.QuantizeRowsInt8(pf.xq, pf.xs, in, n, l.k)
		kernels.TernaryPanelForward(out, pf.xq, pf.xs, l.tp, l.scale, n)
	} else if (l.tm == nil || l.tp != nil) && n <= prefillPacked { // packed, each row exactly as Step's GEMV
		if pf.gb == nil {
			pf.gb = map[int]*kernels.GemvBatch{}
		}
		gb := pf.gb[l.k]
		if gb == nil {
			gb = kernels.NewGemvBatch(l.k, prefillPacked)
			pf.gb[l.k] = gb
		}
		gb.SetFloat32(in[:n*l.k], n)
		kernels.TernaryGemvBatchF32(out, nil, l.w, l.n, l.k, gb, l.scale)
	} else {
		tm := l.tm // unpacked once (Resident)
		if tm == nil {
			pf.w = tensor.Grow(pf.w, l.n*l.k)
			if err := unpackRows(pf.w, l.w, l.n, l.k); err != nil {
				return err
			}
			if pf.tm == nil {
				pf.tm = map[[2]int]*kernels.TernaryMatrix{}
			}
			if tm = pf.tm[[2]int{l.n, l.k}]; tm == nil {
				tm = kernels.NewTernaryMatrix(pf.w, l.n, l.k)
				pf.tm[[2]int{l.n, l.k}] = tm
			} else {
				tm.Set(pf.w)
			}
		}
		pf.xq, pf.xs = tensor.Grow(pf.xq, n*l.k), tensor.Grow(pf.xs, n)
		kernels.QuantizeRowsInt8(pf.xq, pf.xs, in, n, l.k)
		kernels.BitLinearForward(out, pf.xq, pf.xs, tm, l.scale, n)
	}
	return nil
}

// unpackRows unpacks an (n, k) matrix of 5-trit bytes into w (n·k int8), rows split between threads.
func unpackRows(w []int8, packed []byte, n, k int) error {
	rb := quant.RowBytes(k)
	var mu sync.Mutex
	var bad error
	kernels.ParallelFor(n, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			if err := quant.UnpackTrits(w[r*k:(r+1)*k], packed[r*rb:(r+1)*rb]); err != nil {
				mu.Lock() // validated at load: a failure means the file changed underneath its mapping
				bad = err
				mu.Unlock()
			}
		}
	})
	return bad
}
