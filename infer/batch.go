package infer

import (
	"fmt"
	"sync"

	"tern/kernels"
	"tern/quant"
	"tern/tensor"
)

// Batch decodes several sequences of one packed model together (continuous batching): each slot has
// its own KV cache; a Step feeds one token to each of any set of started slots and runs every
// projection once for all of them (rowLinear, the dispatch every batched decoder shares). When gemm
// is set and the batch has at least gemmFrom() slots, the ternary matrices are made resident in a
// batch form (Resident): with AVX-512 VNNI 2-bit panels (kernels.TernaryPanelForward, 0.25 byte per
// weight, from 2 rows), elsewhere one byte per weight (kernels.BitLinearForward, from 16 rows); below
// that, or without resident matrices, 2 or more rows are one packed batch GEMV
// (kernels.TernaryGemvBatch: each packed weight block read and decoded once per step for every row);
// one row runs the packed GEMV, as Packed.Step does. An F16 LM head (the default
// table) is kernels.SgemvF16Batch: the table read once per step, each row's logits summed exactly as
// Packed.Step's SgemvF16. An int8 or fp32 head reads its table once per step in L2-sized chunks below
// headGemmMin rows (table.gemvBatch), and is one fp32 GEMM from there. All ternary paths compute the
// same int32 sums and rescale, so with an F16 head a sequence's logits do not depend on its batch bit
// for bit; the GEMM head of int8/fp32 tables sums in another order, which moves logits by float
// rounding only (TestBatchMatchesAlone states the bound and checks the tokens).
type Batch struct {
	m     *Packed   // the weights
	slots []*Packed // per slot: its KV cache and attention scratch; weights shared with m
	head  []float32 // (V, C) fp32 copy of an int8 head for Sgemm from headGemmMin rows (gemm only)
	gemm  bool

	x, h, qkv, att, y, f1, logits []float32
	startLogits                   []float32 // StartMany's result
	mean, rstd                    []float32
	lin                           *rowLinear // the projections' dispatch over the step's rows
	cur                           []*Packed  // the slots of the step in progress
	li                            int        // the layer attention works on
	attendFn                      func(lo, hi int)
}

// gemmMin is the batch size from which Batch runs a ternary projection as one batched product rather
// than one packed GEMV per row. ternaryGemmFrom is where the int8 GEMM over resident matrices takes
// over from the packed batch GEMV (and NewBatch unpacks the matrices only for at least that many
// slots: +528 MB for 700M): the packed kernel reads 5x fewer weight bytes but spends as many VPDPBUSD
// as the GEMM plus the decoding, and on the 2-vCPU Zen 5 the two measured level within noise at 4 rows
// and the GEMM ahead from 16 (BenchmarkBatchStep, 700M: 16 rows 102-106 ms GEMM against 120-200 ms
// packed; 100M 31-32 against 35-37 ms; machine shared, see README). headGemmMin is where an int8 or
// fp32 LM head switches from its table read once in L2-sized chunks (table.gemvBatch, exact per row)
// to kernels.Sgemm: Sgemm runs products of up to 8 rows as matrix-vector loops that read the whole
// head per row, and from 9 rows its packed micro-kernel beats the chunked GEMVs (100M head,
// BenchmarkHeadBatch: 16 rows 19.5 against 33 ms, 64 rows 27 against 127 ms, best of three on the
// loaded 2-vCPU Zen 5). An F16 head uses neither (kernels.SgemvF16Batch is faster at every size).
// panelGemmFrom is where the product over resident 2-bit panels takes over: from 2 rows it beats both
// the packed batch GEMV and per-row packed GEMVs (2048 x 768 matrix, one thread, thread CPU time,
// weights cold: 2 rows 17-21 us against 50-52 us and 43 us; 4 rows 20-25 against 53 and 78 us; loaded
// 2-vCPU Zen 5), while one row stays on the packed GEMV (0.2 byte per weight read, its cold time
// within 10% of the panels' at one thread and memory-bound on two).
const (
	gemmMin         = 2
	headGemmMin     = 9
	ternaryGemmFrom = 16
	panelGemmFrom   = gemmMin
)

// NewBatch returns a batch of n slots over m (which it then owns: its KV cache is not used). With gemm,
// an int8 head is copied to fp32 and, for n >= gemmFrom() slots, the ternary matrices are unpacked
// once into their batch form (Resident): memory for the batched products.
func NewBatch(m *Packed, n int, gemm bool) (*Batch, error) {
	return newBatch(m, n, gemm, gemmFrom())
}

// gemmFrom is the batch size from which the ternary products run over the resident matrices:
// panelGemmFrom where the 2-bit panels have their kernel, ternaryGemmFrom for one byte per weight.
func gemmFrom() int {
	if kernels.TernaryPanelsFast() {
		return panelGemmFrom
	}
	return ternaryGemmFrom
}

// newBatch is NewBatch with the batch size from which ternary products run as the int8 GEMM over
// resident matrices (tests pin it to cover both paths).
func newBatch(m *Packed, n int, gemm bool, gemmFrom int) (*Batch, error) {
	if n < 1 {
		return nil, fmt.Errorf("batch: %d slots, want at least 1", n)
	}
	kvBytes := 2 * float64(len(m.layers)) * float64(m.Cfg.MaxPos) * float64(m.Cfg.Hidden) * map[bool]float64{true: 2, false: 4}[m.kvF16]
	if err := checkKVSlots(n, kvBytes); err != nil {
		return nil, err
	}
	b := &Batch{m: m, gemm: gemm, lin: newRowLinear(n, gemmFrom)}
	if gemm {
		if gemmFrom <= n {
			if err := m.Resident(); err != nil {
				return nil, err
			}
		}
		if V, C := m.Cfg.Vocab, m.Cfg.Hidden; m.head.i8 != nil { // F16 and fp32 tables are multiplied in place
			b.head = make([]float32, V*C)
			for i := range V {
				m.head.row(b.head[i*C:(i+1)*C], i)
			}
		}
	}
	for range n {
		b.slots = append(b.slots, m.clone())
	}
	b.attendFn = b.attend
	return b, nil
}

// clone is a decoder over m's weights with its own KV cache and per-token scratch; Prefill's buffers
// (and the resident matrices) are shared, so clones must be driven from one goroutine.
func (m *Packed) clone() *Packed {
	c := *m
	c.layers = append([]layer(nil), m.layers...)
	c.vec = map[int]*kernels.GemvVec{}
	c.Pos = 0
	c.alloc()
	return &c
}

// Resident gives every ternary matrix its batch form once (a matrix shared across layers once), for
// Prefill and Batch to use instead of unpacking per call: see makeResident.
func (m *Packed) Resident() error {
	var ls []*linear
	for li := range m.layers {
		ly := &m.layers[li]
		ls = append(ls, &ly.qkv, &ly.o, &ly.fc, &ly.f2)
	}
	return makeResident(ls)
}

// makeResident unpacks each ternary projection of ls (n-bit and fp32 ones stay as they are) into
// the form the batched product reads: where the CPU has its kernel (AVX-512 VNNI), 2 bits per
// weight (kernels.TernaryPanels: +25% of the 5-trit bytes, 175 MB for 700M); elsewhere one byte per
// weight (kernels.TernaryMatrix, +528 MB for 700M). Projections sharing packed bytes share the result.
func makeResident(ls []*linear) error { return makeResidentAs(ls, kernels.TernaryPanelsFast()) }

// makeResidentAs is makeResident with the form chosen: 2-bit panels or one byte per weight.
func makeResidentAs(ls []*linear, panels bool) error {
	doneP := map[*byte]*kernels.TernaryPanels{}
	doneM := map[*byte]*kernels.TernaryMatrix{}
	var w []int8
	for _, l := range ls {
		if l.w == nil || l.bits > 0 || l.tm != nil || l.tp != nil { // n-bit matrices stay packed (NBitGemvBatch reads them in place)
			continue
		}
		if panels {
			if tp := doneP[&l.w[0]]; tp != nil {
				l.tp = tp
				continue
			}
			tp, err := panelsOf(l.w, l.n, l.k)
			if err != nil {
				return err
			}
			l.tp, doneP[&l.w[0]] = tp, tp
			continue
		}
		if tm := doneM[&l.w[0]]; tm != nil {
			l.tm = tm
			continue
		}
		w = tensor.Grow(w, l.n*l.k)
		if err := unpackRows(w, l.w, l.n, l.k); err != nil {
			return err
		}
		l.tm = kernels.NewTernaryMatrix(w, l.n, l.k)
		doneM[&l.w[0]] = l.tm
	}
	return nil
}

// panelsOf converts an (n, k) matrix of 5-trit bytes into 2-bit panels, 64 rows at a time through a
// small int8 buffer per thread (no (n, k) int8 slab).
func panelsOf(packed []byte, n, k int) (*kernels.TernaryPanels, error) {
	tp := kernels.NewTernaryPanels(n, k)
	rb := quant.RowBytes(k)
	const rows = 64
	var mu sync.Mutex
	var bad error
	kernels.ParallelFor((n+rows-1)/rows, 1, func(lo, hi int) {
		buf := make([]int8, rows*k)
		for c := lo; c < hi; c++ {
			r0, r1 := c*rows, min(n, (c+1)*rows)
			for r := r0; r < r1; r++ {
				if err := quant.UnpackTrits(buf[(r-r0)*k:(r-r0+1)*k], packed[r*rb:(r+1)*rb]); err != nil {
					mu.Lock()
					bad = fmt.Errorf("row %d: %w", r, err)
					mu.Unlock()
					return
				}
			}
			tp.SetRows(r0, buf[:(r1-r0)*k])
		}
	})
	return tp, bad
}

// Close releases the model.
func (b *Batch) Close() error { return b.m.Close() }

// Model is the batch's packed model.
func (b *Batch) Model() *Packed { return b.m }

func (b *Batch) Slots() int        { return len(b.slots) }
func (b *Batch) Vocab() int        { return b.m.Cfg.Vocab }
func (b *Batch) PromptLimit() int  { return b.m.Cfg.MaxPos - 1 }
func (b *Batch) Room(slot int) int { return b.m.Cfg.MaxPos - b.slots[slot].Pos }

// Start empties slot and feeds prompt: one Prefill pass (which uses the resident matrices when there
// are) or, for a one-token prompt, one Step.
func (b *Batch) Start(slot int, prompt []int) ([]float32, error) {
	s := b.slots[slot]
	s.Reset()
	if len(prompt) > b.PromptLimit() {
		return nil, fmt.Errorf("prompt of %d tokens fills the %d-position context", len(prompt), b.m.Cfg.MaxPos)
	}
	if len(prompt) == 1 {
		return s.Step(prompt[0])
	}
	return s.Prefill(prompt)
}

// StartMany starts several slots at once (ManyStarter): ResumeMany keeping nothing, so all prompts
// run as one prefill pass over all their rows (each weight matrix read once for all of them) and the
// heads of their last rows as one batched head product. Each slot's logits and cache equal what
// Start gives it, bit for bit (prefill computes every row as stepping does).
func (b *Batch) StartMany(slots []int, prompts [][]int) ([]float32, error) {
	if len(slots) != len(prompts) {
		return nil, fmt.Errorf("batch: %d slots for %d prompts", len(slots), len(prompts))
	}
	return b.ResumeMany(slots, make([]int, len(slots)), prompts)
}

// ResumeMany implements Resumer: each slot keeps its first keep[i] positions and prefills rests[i]
// after them, all in one pass (prefillMany from each slot's kept position); the logits equal Start's
// over the whole prompt bit for bit (prefill computes every row as stepping does, TestResumeMany).
func (b *Batch) ResumeMany(slots []int, keep []int, rests [][]int) ([]float32, error) {
	V, P := b.m.Cfg.Vocab, len(slots)
	if err := checkResume(slots, keep, rests, len(b.slots), func(sl int) int { return b.slots[sl].Pos }); err != nil {
		return nil, err
	}
	seqs := make([]*Packed, P)
	for i, sl := range slots {
		if n := keep[i] + len(rests[i]); n > b.PromptLimit() {
			return nil, fmt.Errorf("prompt of %d tokens fills the %d-position context", n, b.m.Cfg.MaxPos)
		}
		seqs[i] = b.slots[sl]
	}
	for i, s := range seqs {
		s.Pos = keep[i]
	}
	hl, err := b.m.prefillMany(seqs, rests)
	if err != nil {
		return nil, err
	}
	b.startLogits = tensor.Grow(b.startLogits, P*V)
	b.m.head.gemvBatch(b.startLogits, hl, V, P) // each row as head.gemv computes it
	return b.startLogits, nil
}

// Step feeds ids[i] to slots[i] and returns the logits (len(slots), V).
func (b *Batch) Step(slots []int, ids []int) ([]float32, error) {
	cfg := b.m.Cfg
	C, F, V, B := cfg.Hidden, cfg.FFN, cfg.Vocab, len(slots)
	if B == 0 {
		return nil, nil
	}
	b.cur = b.cur[:0]
	for i, sl := range slots {
		s := b.slots[sl]
		if s.Pos >= cfg.MaxPos {
			return nil, fmt.Errorf("slot %d: context full: %d positions", sl, cfg.MaxPos)
		}
		if ids[i] < 0 || ids[i] >= cfg.InputVocab() {
			return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", ids[i], cfg.InputVocab())
		}
		b.cur = append(b.cur, s)
	}
	x, h := tensor.Grow(b.x, B*C), tensor.Grow(b.h, B*C)
	qkv, att, y := tensor.Grow(b.qkv, B*3*C), tensor.Grow(b.att, B*C), tensor.Grow(b.y, B*C)
	f1 := tensor.Grow(b.f1, B*F)
	b.x, b.h, b.qkv, b.att, b.y, b.f1 = x, h, qkv, att, y, f1
	b.mean, b.rstd = tensor.Grow(b.mean, B), tensor.Grow(b.rstd, B)
	for i, s := range b.cur {
		row := x[i*C : (i+1)*C]
		b.m.tok.row(row, ids[i])
		kernels.AddInPlace(row, b.m.pos[s.Pos*C:(s.Pos+1)*C])
	}
	for li := range b.m.layers {
		ly := &b.m.layers[li]
		b.norm(h, x, ly.ln1, B)
		b.lin.apply(qkv, h, ly.qkv, B)
		b.li = li
		kernels.ParallelChunks(B*cfg.Heads, attendChunk(B, cfg.Heads), b.attendFn)
		b.lin.apply(y, att, ly.o, B)
		kernels.AddInPlace(x, y)
		b.norm(h, x, ly.ln2, B)
		b.lin.apply(f1, h, ly.fc, B)
		kernels.GELUForward(f1, f1, len(f1), false)
		b.lin.apply(y, f1, ly.f2, B)
		kernels.AddInPlace(x, y)
	}
	b.norm(h, x, b.m.lnf, B)
	b.logits = tensor.Grow(b.logits, B*V)
	switch hd := b.m.head; {
	case b.gemm && hd.f32 != nil && B >= headGemmMin:
		kernels.Sgemm(false, true, B, V, C, 1, h, C, hd.f32, C, 0, b.logits, V)
	case b.head != nil && B >= headGemmMin:
		kernels.Sgemm(false, true, B, V, C, 1, h, C, b.head, C, 0, b.logits, V)
	default: // the table read once for all rows, each row's logits as Packed.Step's
		hd.gemvBatch(b.logits, h, V, B)
	}
	for _, s := range b.cur {
		s.Pos++
	}
	return b.logits, nil
}

// attendChunk is how many (row, head) pairs a thread of a batched step's attention takes at a time:
// with enough rows to keep the threads even (4 per thread), all of a row's heads, so each thread
// walks one slot's cache block after another, a stream the hardware prefetcher follows, where
// chunks of two heads had the threads take turns through each block (100M preset, 16 slots:
// attention 1.6-1.75 -> 1.2 ms a step). With fewer rows, two heads: a thread that starts late
// then takes fewer, where halves would have the other wait for it (one row: halves cost ~0.1 ms a
// step).
func attendChunk(rows, heads int) int {
	if rows >= 4*kernels.Threads() {
		return heads
	}
	return 2
}

// attend runs (row, head) pairs [lo, hi) of the current layer: each pair stores its own head's slice
// of the row's new key and value in the slot's cache and attends with its slice of the query into
// its slice of the output, so the F16 conversions run on every thread rather than between kernels on
// one. Pairs are taken in chunks (kernels.ParallelChunks, attendChunk): slots' contexts differ.
func (b *Batch) attend(lo, hi int) {
	C, NH, T := b.m.Cfg.Hidden, b.m.Cfg.Heads, b.m.Cfg.MaxPos
	hs := C / NH
	for i := lo; i < hi; i++ {
		r, hd := i/NH, i%NH
		s := b.cur[r]
		sl := &s.layers[b.li]
		row, a := b.qkv[r*3*C:(r+1)*3*C], hd*hs
		s.storeKV(sl, hd, s.Pos, row)
		s.attendRow(sl, hd, s.Pos+1, row[a:a+hs], b.att[r*C+a:r*C+a+hs], s.scores[hd*T:])
	}
}

func (b *Batch) norm(out, x []float32, nm norm, n int) {
	if nm.rms {
		kernels.RMSNormForward(out, b.rstd, x, nm.g, n, len(nm.g), nm.eps)
		return
	}
	kernels.LayerNormForward(out, b.mean, b.rstd, x, nm.g, nm.b, n, len(nm.g))
}
