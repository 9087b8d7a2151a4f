package infer

// Llama-family models read from GGUF files (llama.cpp's "llama" and "bitnet" architectures, bitnet.cpp's
// "bitnet-b1.58", llama_arch.go) or from tern's packed files (model types llama and bitnet,
// llama_packed.go), decoded one token at a time with a KV cache:
//
//	x = token_embd[id]
//	per block: h = rmsnorm(x)·attn_norm; q, k, v = Wq·h, Wk·h, Wv·h; RoPE on q and k
//	           a = softmax(q·Kᵀ/√hs)·V per head, KV heads shared by Heads/KVHeads query heads (GQA)
//	           [bitnet: a = rmsnorm(a)·attn_sub_norm]; x += Wo·a
//	           h = rmsnorm(x)·ffn_norm; f = act(Wgate·h) ⊙ Wup·h  [bitnet: f = rmsnorm(f)·ffn_sub_norm]
//	           (act SiLU for llama/bitnet GGUF files, as llama.cpp; ReLU² for bitnet-b1.58, as bitnet.cpp;
//	           SiLU or ReLU² for tern's models: nn.GateAct)
//	           x += Wdown·f
//	logits = output·(rmsnorm(x)·output_norm), output = token_embd when the file has no output.weight
//
// RoPE rotates pairs (2i, 2i+1) for llama and (i, i+hs/2) for bitnet and bitnet-b1.58 (NORM and NEOX rope
// types). Ternary weights (TQ1_0, TQ2_0, I2_S) are converted once at load into tern's trit5 layout
// (1.6 bits/weight) with one scale per matrix, and run through the same packed GEMV as tern's own models
// (per-vector int8 activations); this needs every block of a TQ matrix to carry the same scale, as
// tern, bitnet.cpp and gguf-py's quantizer of ternary weights produce (a matrix whose blocks differ is
// decoded to fp32 instead). Other matrices (F32, F16, BF16, Q8_0, Q6_K) are widened to fp32, except an
// F16 token table, which stays mapped in place.

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"tern/gguf"
	"tern/half"
	"tern/internal/sysmem"
	"tern/kernels"
	"tern/model"
	"tern/nn"
	"tern/quant"
	"tern/tokenizer"
)

// LlamaConfig is the architecture of a Llama-family GGUF model.
type LlamaConfig struct {
	Arch                  string // "llama", "bitnet" or "bitnet-b1.58"
	Vocab, Hidden, Layers int
	Heads, KVHeads, FFN   int
	Ctx                   int     // KV cache positions (the file's context length, capped at load)
	RopeBase              float64 // θ base, e.g. 10000 or 500000
	RopeNeox              bool    // pairs (i, i+hs/2) instead of (2i, 2i+1)
	Eps                   float32 // RMSNorm ε
	SubNorms              bool    // BitNet's norms before Wo and Wdown
	Act                   string  // gated FFN activation: nn.ActSwiGLU (llama.cpp's llama and bitnet) or nn.ActReLU2
}

// kvDim is the width of a layer's cached keys (and values): KVHeads·head size.
func (c LlamaConfig) kvDim() int { return c.KVHeads * (c.Hidden / c.Heads) }

// KVBytes is the memory of one KV cache: fp32 keys and values of every layer over Ctx positions.
func (c LlamaConfig) KVBytes() int64 {
	return 2 * 4 * int64(c.Layers) * int64(c.Ctx) * int64(c.kvDim())
}

// checkMemory checks, before a model is loaded, that its KV cache and RoPE tables (cos and sin,
// (Ctx, hs/2) each) fit in memory; what names the file.
func (c LlamaConfig) checkMemory(what string) error {
	b := float64(c.KVBytes()) + 4*float64(c.Ctx)*float64(c.Hidden/c.Heads)
	return sysmem.Check(fmt.Sprintf("load %s: the KV cache of %d positions", what, c.Ctx), b)
}

type llamaLayer struct {
	attnNorm, attnSub, ffnNorm, ffnSub []float32
	q, k, v, o, gate, up, down         linear
	kc, vc                             []float32 // (Ctx, KVHeads·hs)
}

// Llama is a loaded Llama-family model.
type Llama struct {
	Cfg     LlamaConfig
	File    *gguf.File        // the GGUF file, or nil
	Packed  *model.PackedFile // the packed tern file (llama_packed.go), or nil
	TokSpec string            // a packed file's tokenizer spec
	tok     table
	head    table
	norm    []float32
	layers  []llamaLayer
	Pos     int // tokens in the KV cache

	// TernaryFileBytes and TernaryBytes are the ternary matrices' bytes in the file and after
	// conversion to trit5 (payload + one float32 scale each); Converted counts them.
	TernaryFileBytes, TernaryBytes int64
	Converted                      int

	vec                             map[int]*kernels.GemvVec
	acc                             []int32
	x, h, q, k, v, att, y, g, u, lg []float32
	scores, rstd                    []float32
	cos, sin                        []float32   // (Ctx, hs/2)
	curLayer                        *llamaLayer // the layer attend works on
	attendFn                        func(lo, hi int)
	pf                              *llamaPrefill
}

// LoadGGUF opens a GGUF model of architecture llama or bitnet; maxCtx > 0 caps the KV cache (and so
// the context) below the file's context length.
func LoadGGUF(path string, maxCtx int) (*Llama, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := newLlama(f, maxCtx)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}

// Detach copies what the model still reads in place from the file's mapping (an F16 token table or
// head) into private memory and releases the mapping: afterwards nothing the model computes depends on
// the file, which may then be rewritten or truncated without affecting it (what a server needs; the
// metadata, e.g. the tokenizer, stays readable). It costs the table's bytes in private memory, which the
// mapping's page cache held before.
func (m *Llama) Detach() error {
	if m.File == nil {
		return nil // a packed tern file is read into memory, never mapped
	}
	shared := m.sharedHead()
	if m.tok.f16 != nil {
		m.tok.f16 = slices.Clone(m.tok.f16)
	}
	if shared {
		m.head = m.tok
	} else if m.head.f16 != nil {
		m.head.f16 = slices.Clone(m.head.f16)
	}
	return m.File.DropData()
}

// ModelBytes is the memory the model's weights take as loaded: trit5 matrices and their scales, fp32
// matrices, the token table and a separate head in their stored types, norm gains. Mapped tables
// count as well (they are resident once read).
func (m *Llama) ModelBytes() int64 {
	b := m.tok.bytes() + 4*int64(len(m.norm))
	if !m.sharedHead() {
		b += m.head.bytes()
	}
	for _, ly := range m.layers {
		for _, l := range []linear{ly.q, ly.k, ly.v, ly.o, ly.gate, ly.up, ly.down} {
			b += int64(len(l.w)) + 4*int64(len(l.fw))
			if l.w != nil {
				b += 4
			}
		}
		b += 4 * int64(len(ly.attnNorm)+len(ly.attnSub)+len(ly.ffnNorm)+len(ly.ffnSub))
	}
	return b
}

// TableFormat says how the token table is held: "F16 in place" (mapped), "int8 rows" (converted from a
// block-quantized type) or "fp32" (widened).
func (m *Llama) TableFormat() string {
	switch {
	case m.tok.f16 != nil:
		return "F16 in place"
	case m.tok.i8 != nil:
		return "int8 rows"
	}
	return "fp32"
}

// sharedHead reports whether the head is the token table.
func (m *Llama) sharedHead() bool {
	switch {
	case m.tok.f16 != nil && m.head.f16 != nil:
		return &m.tok.f16[0] == &m.head.f16[0]
	case m.tok.f32 != nil && m.head.f32 != nil:
		return &m.tok.f32[0] == &m.head.f32[0]
	case m.tok.i8 != nil && m.head.i8 != nil:
		return &m.tok.i8[0] == &m.head.i8[0]
	}
	return false
}

// Close releases the file.
func (m *Llama) Close() error {
	if m.Packed != nil {
		return m.Packed.Close()
	}
	return m.File.Close()
}

// LlamaConfigOf reads the architecture from a GGUF file's metadata.
func LlamaConfigOf(f *gguf.File) (LlamaConfig, error) {
	arch, err := f.String(gguf.KeyArchitecture)
	if err != nil {
		return LlamaConfig{}, err
	}
	c := LlamaConfig{Arch: arch, Act: nn.ActSwiGLU}
	switch arch {
	case "llama":
	case "bitnet":
		c.RopeNeox, c.SubNorms = true, true
	case gguf.ArchBitnetB158: // bitnet.cpp's BitNet b1.58 2B4T (llama_arch.go)
		c.RopeNeox, c.SubNorms, c.Act = true, true, nn.ActReLU2
	default:
		return c, fmt.Errorf("architecture %q is not supported (tern runs llama, bitnet and bitnet-b1.58 GGUF files)", arch)
	}
	key := func(k string) string { return arch + "." + k }
	ints := []struct {
		k   string
		dst *int
		def int
	}{{gguf.KeyEmbedding, &c.Hidden, 0}, {gguf.KeyBlockCount, &c.Layers, 0}, {gguf.KeyFFNLength, &c.FFN, 0},
		{gguf.KeyHeadCount, &c.Heads, 0}, {gguf.KeyHeadCountKV, &c.KVHeads, -1}, {gguf.KeyContextLength, &c.Ctx, 2048}}
	for _, e := range ints {
		v, err := f.Int(key(e.k))
		if err != nil {
			if e.def == 0 {
				return c, err
			}
			v = int64(e.def)
		}
		if v > 1<<24 || (v <= 0 && e.def != -1) {
			return c, fmt.Errorf("metadata %s = %d is out of range", key(e.k), v)
		}
		*e.dst = int(v)
	}
	if c.KVHeads <= 0 {
		c.KVHeads = c.Heads
	}
	if c.Hidden%c.Heads != 0 || c.Heads%c.KVHeads != 0 || (c.Hidden/c.Heads)%2 != 0 {
		return c, fmt.Errorf("%d heads / %d KV heads do not divide hidden size %d into even head sizes", c.Heads, c.KVHeads, c.Hidden)
	}
	c.RopeBase = 10000
	if v, err := f.Float(key(gguf.KeyRopeBase)); err == nil {
		c.RopeBase = v
	}
	c.Eps = 1e-5
	if v, err := f.Float(key(gguf.KeyRMSEps)); err == nil {
		c.Eps = float32(v)
	}
	if v, err := f.Int(key(gguf.KeyRopeDims)); err == nil && int(v) != c.Hidden/c.Heads {
		return c, fmt.Errorf("metadata %s = %d: partial rotary embeddings are not supported (head size %d)", key(gguf.KeyRopeDims), v, c.Hidden/c.Heads)
	}
	t, ok := f.Tensor(gguf.NameTokenEmbd)
	if !ok {
		return c, fmt.Errorf("no tensor %s", gguf.NameTokenEmbd)
	}
	if len(t.Dims) != 2 || int(t.Dims[0]) != c.Hidden {
		return c, fmt.Errorf("tensor %s has dims %v, want [%d, vocab]", gguf.NameTokenEmbd, t.Dims, c.Hidden)
	}
	c.Vocab = int(t.Dims[1])
	return c, checkLlamaFile(f, c) // llama_arch.go
}

func newLlama(f *gguf.File, maxCtx int) (*Llama, error) {
	cfg, err := LlamaConfigOf(f)
	if err != nil {
		return nil, err
	}
	if maxCtx > 0 && cfg.Ctx > maxCtx {
		cfg.Ctx = maxCtx
	}
	if err := cfg.checkMemory(f.Path); err != nil {
		return nil, err
	}
	C, kvDim := cfg.Hidden, cfg.kvDim()
	m := &Llama{Cfg: cfg, File: f, vec: map[int]*kernels.GemvVec{}}
	vector := func(name string, n int) ([]float32, error) {
		t, ok := f.Tensor(name)
		if !ok {
			return nil, fmt.Errorf("no tensor %s", name)
		}
		if len(t.Dims) != 1 || int(t.Dims[0]) != n {
			return nil, fmt.Errorf("tensor %s has dims %v, want [%d]", name, t.Dims, n)
		}
		return t.Float32()
	}
	matrix := func(name string, n, k int) (linear, error) { return m.matrix(name, n, k) }
	if m.tok, err = ggufTable(f, gguf.NameTokenEmbd, cfg.Vocab, C); err != nil {
		return nil, err
	}
	m.head = m.tok
	if _, ok := f.Tensor(gguf.NameOutput); ok {
		if m.head, err = ggufTable(f, gguf.NameOutput, cfg.Vocab, C); err != nil {
			return nil, err
		}
	}
	if m.norm, err = vector(gguf.NameOutputNorm, C); err != nil {
		return nil, err
	}
	for l := range cfg.Layers {
		n := gguf.LlamaBlockNames(l)
		var ly llamaLayer
		steps := []func() error{
			func() (err error) { ly.attnNorm, err = vector(n.AttnNorm, C); return },
			func() (err error) { ly.ffnNorm, err = vector(n.FFNNorm, C); return },
			func() (err error) { ly.q, err = matrix(n.Q, C, C); return },
			func() (err error) { ly.k, err = matrix(n.K, kvDim, C); return },
			func() (err error) { ly.v, err = matrix(n.V, kvDim, C); return },
			func() (err error) { ly.o, err = matrix(n.O, C, C); return },
			func() (err error) { ly.gate, err = matrix(n.Gate, cfg.FFN, C); return },
			func() (err error) { ly.up, err = matrix(n.Up, cfg.FFN, C); return },
			func() (err error) { ly.down, err = matrix(n.Down, C, cfg.FFN); return },
		}
		if cfg.SubNorms {
			steps = append(steps,
				func() (err error) { ly.attnSub, err = vector(n.AttnSubNorm, C); return },
				func() (err error) { ly.ffnSub, err = vector(n.FFNSubNorm, cfg.FFN); return })
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return nil, err
			}
		}
		ly.kc, ly.vc = make([]float32, cfg.Ctx*kvDim), make([]float32, cfg.Ctx*kvDim)
		m.layers = append(m.layers, ly)
	}
	m.alloc()
	return m, nil
}

// matrix loads the (n, k) projection name: ternary types converted to trit5, others widened to fp32;
// an optional "<name>.scale" tensor (bitnet) multiplies the output.
func (m *Llama) matrix(name string, n, k int) (linear, error) {
	f := m.File
	t, ok := f.Tensor(name)
	if !ok {
		return linear{}, fmt.Errorf("no tensor %s", name)
	}
	if len(t.Dims) != 2 || int(t.Dims[0]) != k || int(t.Dims[1]) != n {
		return linear{}, fmt.Errorf("tensor %s has dims %v, want [%d, %d]", name, t.Dims, k, n)
	}
	extra := float32(1)
	if st, ok := f.Tensor(gguf.ScaleOf(name)); ok {
		v, err := st.Float32()
		if err != nil || len(v) != 1 {
			return linear{}, fmt.Errorf("tensor %s: want one float scale (%v)", gguf.ScaleOf(name), err)
		}
		extra = v[0]
	}
	l := linear{n: n, k: k}
	if t.Type.Ternary() {
		trits, scales, err := gguf.DecodeTernary(t)
		if err != nil {
			return l, err
		}
		if s, ok := model.UniformScale(trits, scales); ok {
			p := quant.PackTernary(trits, s*extra, n, k)
			l.w, l.scale = p.Data, p.Scale
			m.TernaryFileBytes += int64(len(t.Data))
			m.TernaryBytes += int64(len(p.Data)) + 4
			m.Converted++
			return l, nil
		}
	}
	w, err := t.Float32()
	if err != nil {
		return l, err
	}
	if extra != 1 {
		for i := range w {
			w[i] *= extra
		}
	}
	l.fw = w
	return l, nil
}

// ggufTable loads a (rows, cols) table: F16 mapped in place where kernels.SgemvF16 has an assembly
// path; Q6_K and Q8_0 (block-quantized, bitnet.cpp's default table is Q6_K) converted once to int8
// rows with one absmax step per row (tern pack --table int8's layout, run by kernels.SgemvI8): a
// byte per value instead of fp32's four, at an extra rounding of at most half a step per value
// (TestGGUFTableInt8 measures it against the file's values); anything else widened to fp32.
func ggufTable(f *gguf.File, name string, rows, cols int) (table, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return table{}, fmt.Errorf("no tensor %s", name)
	}
	if len(t.Dims) != 2 || int(t.Dims[0]) != cols || int(t.Dims[1]) != rows {
		return table{}, fmt.Errorf("tensor %s has dims %v, want [%d, %d]", name, t.Dims, cols, rows)
	}
	if t.Type == gguf.F16 && kernels.SgemvF16Fast() {
		if h, ok := half.View(t.Data); ok {
			return table{f16: h, cols: cols}, nil
		}
	}
	if t.Type == gguf.Q6_K || t.Type == gguf.Q8_0 {
		return int8Table(t, rows, cols)
	}
	v, err := t.Float32()
	return table{f32: v, cols: cols}, err
}

// int8Table converts a block-quantized table to int8 rows, a chunk of rows per worker (no fp32 copy of
// the whole table).
func int8Table(t *gguf.TensorInfo, rows, cols int) (table, error) {
	rb := int(t.Type.Bytes(int64(cols)))
	if cols%t.Type.BlockSize() != 0 || len(t.Data) != rb*rows {
		return table{}, fmt.Errorf("tensor %s: rows of %d values are not whole %s blocks", t.Name, cols, t.Type)
	}
	tb := table{i8: make([]int8, rows*cols), step: make([]float32, rows), cols: cols}
	const chunk = 64
	var mu sync.Mutex
	var bad error
	kernels.ParallelFor((rows+chunk-1)/chunk, 1, func(lo, hi int) {
		buf := make([]float32, chunk*cols)
		for c := lo; c < hi; c++ {
			r0, r1 := c*chunk, min(rows, (c+1)*chunk)
			v := buf[:(r1-r0)*cols]
			if err := gguf.Dequantize(t.Type, t.Data[r0*rb:r1*rb], v); err != nil {
				mu.Lock()
				bad = err
				mu.Unlock()
				return
			}
			q, step := quant.Int8RowSteps(v, r1-r0, cols)
			copy(tb.i8[r0*cols:], q)
			copy(tb.step[r0:], step)
		}
	})
	if bad != nil {
		return table{}, fmt.Errorf("tensor %s: %w", t.Name, bad)
	}
	return tb, nil
}

func (m *Llama) alloc() {
	c := m.Cfg
	C, hs := c.Hidden, c.Hidden/c.Heads
	m.acc = make([]int32, max(C, c.FFN))
	m.x, m.h, m.q, m.att, m.y = make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C)
	m.k, m.v = make([]float32, c.KVHeads*hs), make([]float32, c.KVHeads*hs)
	m.g, m.u = make([]float32, c.FFN), make([]float32, c.FFN)
	m.lg = make([]float32, c.Vocab)
	m.scores = make([]float32, c.Heads*c.Ctx)
	m.rstd = make([]float32, 1)
	// RoPE tables: the training layer's (angle p·base^(-2i/hs), float64 rounded once)
	m.cos, m.sin = nn.RoPETables(hs, c.RopeBase, c.Ctx)
	m.attendFn = m.attend
}

// Reset empties the KV cache.
func (m *Llama) Reset() { m.Pos = 0 }

// rope rotates each head of x (heads of size hs) for position p.
func (m *Llama) rope(x []float32, heads, p int) {
	hs := m.Cfg.Hidden / m.Cfg.Heads
	half := hs / 2
	cs, sn := m.cos[p*half:(p+1)*half], m.sin[p*half:(p+1)*half]
	for h := range heads {
		v := x[h*hs : (h+1)*hs]
		for i := range half {
			a, b := 2*i, 2*i+1
			if m.Cfg.RopeNeox {
				a, b = i, i+half
			}
			x0, x1 := v[a], v[b]
			v[a] = x0*cs[i] - x1*sn[i]
			v[b] = x0*sn[i] + x1*cs[i]
		}
	}
}

func (m *Llama) rmsnorm(out, x, g []float32) {
	kernels.RMSNormForward(out, m.rstd, x, g, 1, len(x), m.Cfg.Eps)
}

// Step feeds one token at the next position and returns the logits (Vocab) for the position after it,
// owned by the model until the next Step.
func (m *Llama) Step(id int) ([]float32, error) {
	c := m.Cfg
	if id < 0 || id >= c.Vocab {
		return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", id, c.Vocab)
	}
	if m.Pos >= c.Ctx {
		return nil, fmt.Errorf("context full: %d positions", c.Ctx)
	}
	p, x := m.Pos, m.x
	kvDim := len(m.k)
	m.tok.row(x, id)
	for li := range m.layers {
		ly := &m.layers[li]
		m.rmsnorm(m.h, x, ly.attnNorm)
		applyLinear(m.q, m.h, ly.q, m.vec, m.acc)
		applyLinear(m.k, m.h, ly.k, m.vec, m.acc)
		applyLinear(m.v, m.h, ly.v, m.vec, m.acc)
		m.rope(m.q, c.Heads, p)
		m.rope(m.k, c.KVHeads, p)
		copy(ly.kc[p*kvDim:], m.k)
		copy(ly.vc[p*kvDim:], m.v)
		m.curLayer = ly
		kernels.ParallelFor(c.Heads, 1, m.attendFn)
		if ly.attnSub != nil {
			m.rmsnorm(m.att, m.att, ly.attnSub)
		}
		applyLinear(m.y, m.att, ly.o, m.vec, m.acc)
		kernels.AddInPlace(x, m.y[:len(x)])
		m.rmsnorm(m.h, x, ly.ffnNorm)
		applyLinear(m.g, m.h, ly.gate, m.vec, m.acc)
		applyLinear(m.u, m.h, ly.up, m.vec, m.acc)
		gateAct(c.Act, m.g, m.u)
		if ly.ffnSub != nil {
			m.rmsnorm(m.g, m.g, ly.ffnSub)
		}
		applyLinear(m.y, m.g, ly.down, m.vec, m.acc)
		kernels.AddInPlace(x, m.y[:len(x)])
	}
	m.rmsnorm(m.h, x, m.norm)
	m.head.gemv(m.lg, m.h, c.Vocab)
	m.Pos++
	return m.lg, nil
}

// gateAct sets g = act(g)·u (nn.GateAct, the training forward's activation), elementwise, in chunks
// split between threads: SiLU's exp on every FFN value is a measurable part of a step (2B4T shape, 16
// rows: a quarter of LlamaBatch.Step's CPU time on one thread).
func gateAct(act string, g, u []float32) {
	const chunk = 2048
	kernels.ParallelFor((len(g)+chunk-1)/chunk, 1, func(lo, hi int) {
		a, b := lo*chunk, min(hi*chunk, len(g))
		nn.GateAct(act, g[a:b], g[a:b], u[a:b])
	})
}

// attend computes query heads [lo, hi) for the newest position against the cached keys and values of
// their KV head, each in one fused call (kernels.AttendF32; the same call as LlamaBatch's and
// prefill's, so their logits stay bit-identical to stepping).
func (m *Llama) attend(lo, hi int) {
	c, p, ly := m.Cfg, m.Pos, m.curLayer
	hs := c.Hidden / c.Heads
	kvDim, group := c.KVHeads*hs, c.Heads/c.KVHeads
	sc := float32(1 / math.Sqrt(float64(hs)))
	for h := lo; h < hi; h++ {
		kv := h / group
		s := m.scores[h*c.Ctx : h*c.Ctx+p+1]
		kernels.AttendF32(m.att[h*hs:], m.q[h*hs:], ly.kc[kv*hs:], ly.vc[kv*hs:], kvDim, p+1, hs, sc, s)
	}
}

// Tokenizer reads the tokenizer a GGUF file carries (tokenizer.ggml.*): byte-level BPE ("gpt2") with
// GPT-2's pre-tokenizer ("gpt-2") or LLaMA-3's ("llama-bpe", also spelled "llama3" / "llama-v3").
// Control and user-defined tokens (types 3 and 4) are special. Other tokenizer models and
// pre-tokenizers are refused by name rather than encoded differently from llama.cpp. Chat (llama_chat.go)
// reads the chat template and the special tokens' roles.
func (m *Llama) Tokenizer() (*tokenizer.BPE, error) { return GGUFTokenizer(m.File, m.Cfg.Vocab) }

// GGUFTokenizer reads the tokenizer of any GGUF file (as Llama.Tokenizer says; gpt2 files too) and
// checks that it has vocab tokens.
func GGUFTokenizer(f *gguf.File, vocab int) (*tokenizer.BPE, error) {
	model, err := f.String("tokenizer.ggml.model")
	if err != nil {
		return nil, err
	}
	pre, _ := f.String("tokenizer.ggml.pre")
	kind := map[string]string{"gpt-2": tokenizer.PreGPT2, "llama-bpe": tokenizer.PreLlama3, "llama3": tokenizer.PreLlama3, "llama-v3": tokenizer.PreLlama3}[pre]
	if model != "gpt2" || kind == "" {
		return nil, fmt.Errorf("%s: tokenizer %q with pre-tokenizer %q is not supported yet (tern reads byte-level BPE with the gpt-2 or llama-bpe pre-tokenizer)", f.Path, model, pre)
	}
	tokens, err := f.Strings("tokenizer.ggml.tokens")
	if err != nil {
		return nil, err
	}
	if len(tokens) != vocab {
		return nil, fmt.Errorf("%s: the tokenizer has %d tokens, the model's table %d", f.Path, len(tokens), vocab)
	}
	special := make([]bool, len(tokens))
	if kv, ok := f.Lookup("tokenizer.ggml.token_type"); ok {
		a, _ := kv.Value.(gguf.Array)
		types, ok := a.Values.([]int32)
		if !ok || len(types) != len(tokens) {
			return nil, fmt.Errorf("%s: tokenizer.ggml.token_type is not %d int32s", f.Path, len(tokens))
		}
		for i, t := range types {
			special[i] = t == 3 || t == 4
		}
	}
	merges, _ := f.Strings("tokenizer.ggml.merges") // a vocabulary without merges is valid
	b, err := tokenizer.FromVocabPre(f.Path, kind, tokens, special, merges)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return b, nil
}

// WeightBytes is the number of weight bytes one decode step reads (trit5 matrices with their scales,
// fp32 matrices, the head in its stored precision): the numerator of the bandwidth bound.
func (m *Llama) WeightBytes() int64 {
	var b int64
	for _, ly := range m.layers {
		for _, l := range []linear{ly.q, ly.k, ly.v, ly.o, ly.gate, ly.up, ly.down} {
			b += int64(len(l.w)) + 4*int64(len(l.fw))
			if l.w != nil {
				b += 4
			}
		}
	}
	return b + m.head.bytes()
}
