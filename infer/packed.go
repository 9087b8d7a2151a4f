package infer

// Packed models: the deployable form of a trained causal transformer. BitLinear weights are ternary,
// packed 5 trits per byte (1.6 bits/weight, quant/pack.go) with one fp32 scale each, and stay packed in
// memory: the file is memory-mapped and the GEMV kernel (kernels.TernaryGemv) reads the mapped bytes
// directly. Embeddings, norms and biases are fp16 (or fp32) in the file; the token table and LM head stay
// mapped, as fp16 where kernels.SgemvF16 has an assembly path or as int8 rows with scales (tern pack
// --table int8); the rest is widened to fp32. Decoding runs
// one token at a time with a KV cache, with the same quantization as training (per-vector int8 absmax
// activations, absmean ternary weights), so greedy decoding matches the training forward.
//
// The file is model.WritePacked's (tern safetensors, tern.kind = "packed"), read through
// model.OpenPacked, the layout's one reader: every parameter by its name in model's name table; a packed
// BitLinear weight is a U8 tensor (N, ceil(K/5)) plus "<name>.scale" (F32, [1]).

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"tern/format"
	"tern/half"
	"tern/kernels"
	"tern/model"
	"tern/nn"
	"tern/quant"
	"tern/share"
	"tern/tensor"
)

// Pack writes lm in packed form to path atomically (model.WritePackedAs: BitLinear weights as trit5
// tensors, everything else as pf says) and returns what the ternary part costs, measured from the
// tensors written (payload + scale bytes); lm is packed once.
func Pack(path string, lm model.LM, tokSpec string, pf model.PackFormat) (PackStats, error) {
	ts, tmeta, err := model.PackedTensorsAs(lm, pf)
	if err != nil {
		return PackStats{}, fmt.Errorf("pack: %w", err)
	}
	widths := model.Widths(lm)
	bytesOf := map[string]int{} // a packed matrix's bytes: codes + scale tensor
	for _, t := range ts {
		if t.DType == format.U8 { // a packed matrix (trits or n-bit codes); its F32 scale follows
			bytesOf[t.Name] += len(t.Data)
		}
	}
	for _, t := range ts {
		if n, ok := strings.CutSuffix(t.Name, ".scale"); ok {
			if _, packed := bytesOf[n]; packed {
				bytesOf[n] += len(t.Data)
			}
		}
	}
	st := PackStats{ByWidth: map[quant.Width]WidthStats{}}
	for _, p := range nn.Unique(lm.Params()) {
		b, packed := bytesOf[p.Name]
		if !packed {
			st.FloatParams += len(p.W)
			continue
		}
		w := widths[p.Name]
		ws := st.ByWidth[w]
		ws.Weights += len(p.W)
		ws.Bytes += b
		ws.Matrices++
		st.ByWidth[w] = ws
		if w == quant.WidthTernary {
			st.TernaryWeights += len(p.W)
			st.TernaryBytes += b
		}
	}
	if _, err := model.WritePackedTensors(path, lm, tokSpec, pf, ts, tmeta); err != nil {
		return st, fmt.Errorf("pack: %w", err)
	}
	return st, nil
}

// PackStats describes a packed file's quantized part, measured from the tensors written.
type PackStats struct {
	TernaryWeights int                        // weights stored as trits
	TernaryBytes   int                        // their bytes, scales included
	ByWidth        map[quant.Width]WidthStats // every width's matrices (ternary included)
	FloatParams    int                        // other parameters
}

// WidthStats is what one width's matrices take in a packed file.
type WidthStats struct {
	Matrices, Weights, Bytes int // bytes: codes and scales as written
}

// BitsPerWeight of these matrices, scales included.
func (s WidthStats) BitsPerWeight() float64 {
	if s.Weights == 0 {
		return 0
	}
	return 8 * float64(s.Bytes) / float64(s.Weights)
}

// BitsPerWeight of the ternary tensors, scales included.
func (s PackStats) BitsPerWeight() float64 {
	if s.TernaryWeights == 0 {
		return 0
	}
	return 8 * float64(s.TernaryBytes) / float64(s.TernaryWeights)
}

// ---------------------------------------------------------------------------------------------------

// linear is one projection of a packed model: ternary (w packed, scale), n-bit (w codes, bits, steps:
// adaptive bit widths) or fp32 (fw).
type linear struct {
	n, k  int
	w     []byte                 // (N, ceil(K/5)) packed trits, or (N, ceil(K·bits/8)) n-bit codes; nil for fp32
	scale float32                // ternary scale
	bits  int                    // n-bit width (1, 2, 3, 4, 8); 0 = ternary
	steps []float32              // n-bit steps: 1 or N
	fw    []float32              // (N, K) fp32 weights of a non-ternary projection
	bias  []float32              // (N) or nil
	tm    *kernels.TernaryMatrix // w unpacked to a byte per weight for the int8 GEMM (Resident without AVX-512 VNNI), or nil
	tp    *kernels.TernaryPanels // w in 2-bit panels for the batched product (Resident with AVX-512 VNNI), or nil
}

type norm struct {
	g, b []float32 // (C); b nil for RMSNorm
	rms  bool
	eps  float32
}

type layer struct {
	ln1, ln2       norm
	qkv, o, fc, f2 linear
	k, v           []float32 // (MaxPos, C) KV cache in fp32 ...
	kh, vh         []uint16  // ... or in F16 (SetKV)
}

// Packed is a loaded packed model, ready to decode.
type Packed struct {
	Cfg     model.Config
	TokSpec string
	tok     table     // (V', C)
	pos     []float32 // (MaxPos, C)
	head    table     // (V, C): the token table when tied
	layers  []layer
	lnf     norm
	file    *model.PackedFile
	kvF16   bool // the KV cache holds F16 (SetKV)

	// scratch, sized once
	vec                   map[int]*kernels.GemvVec
	acc                   []int32
	x, h, qkv, att, y, f1 []float32
	scores, mean, rstd    []float32 // scores: (Heads, MaxPos)
	logits                []float32
	pf                    *prefill         // Prefill's buffers (shared by a Batch's slots)
	ly                    *layer           // the layer attend works on
	attendFn              func(lo, hi int) // m.attend, bound once
	Pos                   int              // tokens in the KV cache
}

// LoadPacked opens a packed file (model.OpenPacked) and checks it against its config.
func LoadPacked(path string) (*Packed, error) {
	pf, err := model.OpenPacked(path)
	if err != nil {
		return nil, err
	}
	m, err := newPacked(pf)
	if err != nil {
		pf.Close()
		return nil, err
	}
	return m, nil
}

// Close releases the mapping.
func (m *Packed) Close() error {
	if m.file == nil {
		return nil
	}
	return m.file.Close()
}

func newPacked(f *model.PackedFile) (*Packed, error) {
	cfg, path := f.Cfg, f.Path
	if cfg.Type != model.TypeTransformer || cfg.Objective != model.ObjCausal {
		return nil, fmt.Errorf("load %s: packed decoding needs a causal transformer (got %s/%s)", path, cfg.Type, cfg.Objective)
	}
	C := cfg.Hidden
	m := &Packed{Cfg: cfg, TokSpec: f.Tok, file: f, vec: map[int]*kernels.GemvVec{}}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("load %s: "+format, append([]any{path}, a...)...)
	}
	var err error
	proj := func(name string, n, k int, bias bool) (linear, error) {
		l, err := packedLinear(f, model.Weight(name), n, k)
		if err != nil {
			return l, err
		}
		if bias {
			if l.bias, err = f.Floats(model.Bias(name), n); err != nil {
				return l, err
			}
		}
		return l, nil
	}
	loadNorm := func(name string) (norm, error) {
		nm := norm{rms: cfg.Norm == model.NormRMS, eps: 1e-6}
		if nm.g, err = f.Floats(model.Weight(name), C); err != nil {
			return nm, err
		}
		if !nm.rms {
			nm.b, err = f.Floats(model.Bias(name), C)
		}
		return nm, err
	}
	tableOf := func(name string, rows int) (table, error) {
		t, err := f.Table(model.Weight(name), rows, C, kernels.SgemvF16Fast())
		return table{f16: t.F16, f32: t.F32, i8: t.I8, step: t.Step, cols: C}, err
	}
	if m.tok, err = tableOf(model.NameTokEmb, cfg.InputVocab()); err != nil {
		return nil, err
	}
	if m.pos, err = f.Floats(model.Weight(model.NamePosEmb), cfg.MaxPos, C); err != nil {
		return nil, err
	}
	m.head = m.tok
	if !cfg.TieEmbeddings {
		if m.head, err = tableOf(model.NameLMHead, cfg.Vocab); err != nil {
			return nil, err
		}
	}
	// Cross-layer sharing: a file stores each shared tensor once, under its owner's name, so a layer
	// whose sublayer is owned by an earlier one reuses that layer's loaded projections and norms.
	plan, err := cfg.Sharing.Plan(cfg.Layers)
	if err != nil {
		return nil, bad("%v", err)
	}
	if err := checkSharingMap(f.File.Meta[model.MetaSharing], plan, cfg); err != nil {
		return nil, bad("%v", err)
	}
	for l := 0; l < cfg.Layers; l++ {
		bn := model.TransformerBlock(l)
		var ly layer
		var err error
		if o := plan.Ln1[l]; o != l {
			ly.ln1 = m.layers[o].ln1
		} else if ly.ln1, err = loadNorm(bn.Ln1); err != nil {
			return nil, err
		}
		if o := plan.Ln2[l]; o != l {
			ly.ln2 = m.layers[o].ln2
		} else if ly.ln2, err = loadNorm(bn.Ln2); err != nil {
			return nil, err
		}
		if o := plan.Attn[l]; o != l {
			ly.qkv, ly.o = m.layers[o].qkv, m.layers[o].o
		} else {
			if ly.qkv, err = proj(bn.QKV, 3*C, C, cfg.Bias); err != nil {
				return nil, err
			}
			if ly.o, err = proj(bn.O, C, C, cfg.Bias); err != nil {
				return nil, err
			}
		}
		if o := plan.FFN[l]; o != l {
			ly.fc, ly.f2 = m.layers[o].fc, m.layers[o].f2
		} else {
			if ly.fc, err = proj(bn.Fc, cfg.FFN, C, cfg.Bias); err != nil {
				return nil, err
			}
			if ly.f2, err = proj(bn.Fc2, C, cfg.FFN, cfg.Bias); err != nil {
				return nil, err
			}
		}
		m.layers = append(m.layers, ly)
	}
	if m.lnf, err = loadNorm(model.NameLnF); err != nil {
		return nil, err
	}
	if err := model.CheckUsed(f.File, path); err != nil {
		return nil, err
	}
	m.kvF16 = KVF16Default()
	m.alloc()
	return m, nil
}

// packedLinear loads the (n, k) projection weight name of a packed file as stored: packed trits,
// n-bit codes, or floats.
func packedLinear(f *model.PackedFile, name string, n, k int) (linear, error) {
	l := linear{n: n, k: k}
	switch {
	case f.IsNBit(name):
		pk, err := f.NBit(name, n, k)
		if err != nil {
			return l, err
		}
		l.w, l.bits, l.steps = pk.Data, pk.Bits, pk.Steps
	case f.IsTernary(name):
		pt, err := f.Ternary(name, n, k)
		if err != nil {
			return l, err
		}
		l.w, l.scale = pt.Data, pt.Scale
	default:
		var err error
		if l.fw, err = f.Floats(name, n, k); err != nil {
			return l, err
		}
	}
	return l, nil
}

// checkSharingMap checks a file's stored sharing map (model.MetaSharing, {slot: tensor it uses}) against
// the plan its config makes: a block tensor the map redirects must be redirected by the plan to the same
// owner, and the other way round, or the decoder would silently run other weights than were trained.
// A file without a map (written before sharing existed) must share nothing.
func checkSharingMap(raw string, plan share.Plan, cfg model.Config) error {
	stored := map[string]string{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &stored); err != nil {
			return fmt.Errorf("metadata %s: %v", model.MetaSharing, err)
		}
	}
	want := map[string]string{}
	add := func(l, o int, layer func(model.BlockNames) string, tensors ...func(string) string) {
		if o == l {
			return
		}
		for _, t := range tensors {
			want[t(layer(model.TransformerBlock(l)))] = t(layer(model.TransformerBlock(o)))
		}
	}
	normNames, projNames := []func(string) string{model.Weight, model.Bias}, []func(string) string{model.Weight}
	if cfg.Norm == model.NormRMS {
		normNames = normNames[:1]
	}
	if cfg.Bias {
		projNames = []func(string) string{model.Weight, model.Bias}
	}
	for l := range plan.Attn {
		add(l, plan.Ln1[l], func(b model.BlockNames) string { return b.Ln1 }, normNames...)
		add(l, plan.Ln2[l], func(b model.BlockNames) string { return b.Ln2 }, normNames...)
		add(l, plan.Attn[l], func(b model.BlockNames) string { return b.QKV }, projNames...)
		add(l, plan.Attn[l], func(b model.BlockNames) string { return b.O }, projNames...)
		add(l, plan.FFN[l], func(b model.BlockNames) string { return b.Fc }, projNames...)
		add(l, plan.FFN[l], func(b model.BlockNames) string { return b.Fc2 }, projNames...)
	}
	if raw == "" && len(want) > 0 {
		return fmt.Errorf("config shares layers (%s) but the file has no %s", cfg.Sharing, model.MetaSharing)
	}
	for slot, owner := range stored {
		if !strings.HasPrefix(slot, "blocks.") {
			continue // lm_head -> tok_emb: tying, read from the config
		}
		if want[slot] != owner {
			return fmt.Errorf("sharing map: %s uses %s in the file, but the config's plan (%s) says %s", slot, owner, cfg.Sharing, orSelf(want[slot], slot))
		}
	}
	for slot, owner := range want {
		if stored[slot] != owner {
			return fmt.Errorf("sharing map: the config's plan (%s) has %s use %s, but the file stores it as %s", cfg.Sharing, slot, owner, orSelf(stored[slot], slot))
		}
	}
	return nil
}

func orSelf(owner, slot string) string {
	if owner == "" {
		return slot
	}
	return owner
}

func (m *Packed) alloc() {
	cfg := m.Cfg
	C := cfg.Hidden
	m.allocKV()
	m.acc = make([]int32, max(3*C, cfg.FFN))
	m.x, m.h, m.y = make([]float32, C), make([]float32, C), make([]float32, C)
	m.qkv, m.att, m.f1 = make([]float32, 3*C), make([]float32, C), make([]float32, cfg.FFN)
	m.scores = make([]float32, cfg.Heads*cfg.MaxPos)
	m.attendFn = m.attend
	m.mean, m.rstd = make([]float32, 1), make([]float32, 1)
	m.logits = make([]float32, cfg.Vocab)
	if m.pf == nil {
		m.pf = &prefill{}
	}
}

// Reset empties the KV cache.
func (m *Packed) Reset() { m.Pos = 0 }

// KVF16Default is the KV cache type a loaded model starts with: F16 where kernels.AttendF16 has
// an assembly path (half the bytes attention reads per token, which at long contexts rival the
// weights: a 700M model's fp32 cache at 512 tokens is 151 MB against 204 MB of weights), else fp32.
func KVF16Default() bool { return kernels.SgemvF16Fast() }

// SetKV chooses the KV cache's storage, format.F16 or format.F32, and empties it. F32 keeps keys and
// values exactly as computed (the training forward's parity tests use it); F16 rounds them.
func (m *Packed) SetKV(dt format.DType) error {
	switch dt {
	case format.F16, format.F32:
	default:
		return fmt.Errorf("KV cache must be F16 or F32, not %s", dt)
	}
	m.kvF16 = dt == format.F16
	m.allocKV()
	m.Reset()
	return nil
}

// KV is the KV cache's storage type.
func (m *Packed) KV() format.DType {
	if m.kvF16 {
		return format.F16
	}
	return format.F32
}

func (m *Packed) allocKV() {
	n := m.Cfg.MaxPos * m.Cfg.Hidden
	for i := range m.layers {
		ly := &m.layers[i]
		ly.k, ly.v, ly.kh, ly.vh = nil, nil, nil, nil
		if m.kvF16 {
			ly.kh, ly.vh = make([]uint16, n), make([]uint16, n)
		} else {
			ly.k, ly.v = make([]float32, n), make([]float32, n)
		}
	}
}

// Step feeds one token at the next position and returns the logits for the position after it (V),
// owned by the model until the next Step.
func (m *Packed) Step(id int) ([]float32, error) {
	cfg := m.Cfg
	C := cfg.Hidden
	if id < 0 || id >= cfg.InputVocab() {
		return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", id, cfg.InputVocab())
	}
	if m.Pos >= cfg.MaxPos {
		return nil, fmt.Errorf("context full: %d positions", cfg.MaxPos)
	}
	p := m.Pos
	x := m.x
	m.tok.row(x, id)
	kernels.AddInPlace(x, m.pos[p*C:(p+1)*C])
	for li := range m.layers {
		ly := &m.layers[li]
		m.norm(m.h, x, ly.ln1)
		m.linear(m.qkv, m.h, ly.qkv)
		for h := range cfg.Heads {
			m.storeKV(ly, h, p, m.qkv)
		}
		m.ly = ly
		kernels.ParallelFor(cfg.Heads, 1, m.attendFn)
		m.linear(m.y, m.att, ly.o)
		kernels.AddInPlace(x, m.y[:len(x)])
		m.norm(m.h, x, ly.ln2)
		m.linear(m.f1, m.h, ly.fc)
		kernels.GELUForward(m.f1, m.f1, len(m.f1), false)
		m.linear(m.y, m.f1, ly.f2)
		kernels.AddInPlace(x, m.y[:len(x)])
	}
	m.norm(m.h, x, m.lnf)
	// logits (V) = head (V, C) · h
	m.head.gemv(m.logits, m.h, cfg.Vocab)
	m.Pos++
	return m.logits, nil
}

// attend computes heads [lo, hi) of the current layer's attention for the newest position, Pos:
// scores = q·Kᵀ/√hs over positions 0..Pos, softmax, then scores·V on the cache's columns of the head
// (F16 cache: one fused kernel, kernels.AttendF16; fp32: two one-row products on kernels.Sgemm's
// matrix-vector path, the same sums as Prefill's GEMM). Heads run in parallel, each in its own score
// row.
func (m *Packed) attend(lo, hi int) {
	for h := lo; h < hi; h++ {
		m.attendHead(m.ly, h)
	}
}

// attendHead is head h of attend on layer ly's cache.
func (m *Packed) attendHead(ly *layer, h int) {
	hs := m.Cfg.Hidden / m.Cfg.Heads
	m.attendRow(ly, h, m.Pos+1, m.qkv[h*hs:(h+1)*hs], m.att[h*hs:(h+1)*hs], m.scores[h*m.Cfg.MaxPos:])
}

// attendRow writes out (hs) = head h's attention of query q (hs) over the first n positions of ly's
// cache, scores being scratch of at least n values: the one computation behind Step, a batched step
// and prefill's rows, so each gives the others' bits.
func (m *Packed) attendRow(ly *layer, h, n int, q, out, scores []float32) {
	hs := m.Cfg.Hidden / m.Cfg.Heads
	sc := float32(1 / math.Sqrt(float64(hs)))
	s, o := scores[:n], m.kvRow(h, 0)
	if m.kvF16 {
		kernels.AttendF16(out, q, ly.kh[o:], ly.vh[o:], hs, n, hs, sc, s)
		return
	}
	kernels.Sgemm(false, true, 1, n, hs, sc, q, hs, ly.k[o:], hs, 0, s, n)
	kernels.SoftmaxRow(s, s)
	kernels.Sgemm(false, false, 1, hs, n, 1, s, n, ly.v[o:], hs, 0, out, hs)
}

// The KV cache is head-major: head h's keys (and values) of positions 0, 1, ... are consecutive
// rows of hs values, so a head's attention streams one contiguous block instead of hs-value pieces
// C apart (a 16-slot step reads ~20 MB of cache on the 100M preset: strided it ran at ~12 GB/s).

// kvRow is where head h's row of position p starts in a layer's cache.
func (m *Packed) kvRow(h, p int) int {
	hs := m.Cfg.Hidden / m.Cfg.Heads
	return (h*m.Cfg.MaxPos + p) * hs
}

// storeKV stores head h's slice of the key and value in qkv (one row: q, k, v of C each) at
// position p of ly's cache, rounded to F16 for an F16 cache.
func (m *Packed) storeKV(ly *layer, h, p int, qkv []float32) {
	C := m.Cfg.Hidden
	hs := C / m.Cfg.Heads
	o, a := m.kvRow(h, p), h*hs
	if m.kvF16 {
		toF16(ly.kh[o:o+hs], qkv[C+a:C+a+hs])
		toF16(ly.vh[o:o+hs], qkv[2*C+a:2*C+a+hs])
	} else {
		copy(ly.k[o:o+hs], qkv[C+a:C+a+hs])
		copy(ly.v[o:o+hs], qkv[2*C+a:2*C+a+hs])
	}
}

func (m *Packed) norm(out, x []float32, nm norm) {
	if nm.rms {
		kernels.RMSNormForward(out, m.rstd, x, nm.g, 1, len(x), nm.eps)
		return
	}
	kernels.LayerNormForward(out, m.mean, m.rstd, x, nm.g, nm.b, 1, len(x))
}

// linear computes out (N) = W·x (+ b): ternary with the training forward's quantization (per-vector
// int8 absmax), or fp32.
func (m *Packed) linear(out, x []float32, l linear) { applyLinear(out, x, l, m.vec, m.acc) }

// applyLinear computes out (N) = W·x (+ b) for a projection of any decoder: ternary through the packed
// GEMV with x quantized per vector to int8 (vec caches one GemvVec per input size, acc is scratch of at
// least N), or fp32.
func applyLinear(out, x []float32, l linear, vec map[int]*kernels.GemvVec, acc []int32) {
	if l.w == nil {
		kernels.Sgemv(out, l.fw, x, l.n, l.k)
	} else {
		v := vec[l.k]
		if v == nil {
			v = kernels.NewGemvVec(l.k)
			vec[l.k] = v
		}
		g := v.SetFloat32(x) // per-vector int8 absmax, as training's per-row quantizer, into v.X
		if l.bits > 0 {
			kernels.NBitGemv(out, l.w, l.steps, l.n, l.k, l.bits, v.X, g)
		} else {
			kernels.TernaryGemvF32(out, acc[:l.n], l.w, l.n, l.k, v, l.scale, g)
		}
	}
	if l.bias != nil {
		for j := range out[:l.n] {
			out[j] += l.bias[j]
		}
	}
}

// WeightBytes is the number of weight bytes one decode step reads (packed trits, fp32 weights of
// non-ternary projections, and the head in its precision), the numerator of the bandwidth bound.
func (m *Packed) WeightBytes() int64 {
	var b int64
	for _, ly := range m.layers {
		for _, l := range []linear{ly.qkv, ly.o, ly.fc, ly.f2} {
			b += int64(len(l.w)) + 4*int64(len(l.fw))
		}
	}
	return b + m.head.bytes()
}

// RandomPacked builds a packed model of cfg's shape with random ternary weights (uniform over
// {-1,0,1}; matrices that cfg.Bits / BitsDefault give another width: uniform random codes) and small random floats, for speed and memory measurements (`tern bench decode`): decode
// speed does not depend on the values. table is the token table's storage: F16, F32 or I8.
func RandomPacked(cfg model.Config, seed uint64, table format.DType) (*Packed, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Type != model.TypeTransformer || cfg.Objective != model.ObjCausal {
		return nil, fmt.Errorf("decode benchmark needs a causal transformer")
	}
	rng := tensor.NewRNG(seed)
	C := cfg.Hidden
	floats := func(n int) []float32 {
		v := make([]float32, n)
		rng.FillNormal(v, 0.02)
		return v
	}
	names := map[string]bool{}
	tern := func(name string, n, k int) linear {
		names[name] = true
		w := cfg.BitsDefault
		if b, ok := cfg.Bits[name]; ok {
			w = b
		}
		if w != quant.WidthTernary { // adaptive bit widths: random codes of the matrix's width
			u := make([]uint8, n*k)
			for i := range u {
				u[i] = uint8(rng.Intn(1 << w.Bits()))
			}
			p := &quant.PackedNBit{N: n, K: k, Bits: w.Bits(), Steps: []float32{0.02}, Data: make([]byte, n*quant.BitRowBytes(k, w.Bits()))}
			quant.PackBits(p.Data, u, n, k, w.Bits())
			return linear{n: n, k: k, w: p.Data, bits: w.Bits(), steps: p.Steps}
		}
		t := make([]int8, n*k)
		for i := range t {
			t[i] = int8(rng.Intn(3) - 1)
		}
		return linear{n: n, k: k, w: quant.PackTernary(t, 0.02, n, k).Data, scale: 0.02}
	}
	ones := func() norm {
		g := make([]float32, C)
		for i := range g {
			g[i] = 1
		}
		return norm{g: g, b: make([]float32, C), eps: 1e-6}
	}
	m := &Packed{Cfg: cfg, vec: map[int]*kernels.GemvVec{}}
	m.tok, m.pos = randomTable(floats(cfg.InputVocab()*C), C, table), floats(cfg.MaxPos*C)
	m.head = m.tok
	for l := 0; l < cfg.Layers; l++ {
		p := fmt.Sprintf("blocks.%d.", l)
		m.layers = append(m.layers, layer{ln1: ones(), ln2: ones(), qkv: tern(p+"attn.qkv.weight", 3*C, C), o: tern(p+"attn.o.weight", C, C),
			fc: tern(p+"ffn.fc.weight", cfg.FFN, C), f2: tern(p+"ffn.fc2.weight", C, cfg.FFN)})
	}
	for name := range cfg.Bits {
		if !names[name] {
			return nil, fmt.Errorf("bits: %q is not a quantized matrix of this model (e.g. blocks.0.ffn.fc.weight; widths: %s)", name, quant.WidthNames)
		}
	}
	m.lnf = ones()
	m.kvF16 = KVF16Default()
	m.alloc()
	return m, nil
}

// table is a (rows, cols) float matrix (the token table, the LM head) kept in the precision the
// product reads fastest: F16 as the file stores it, mapped in place, where kernels.SgemvF16 has an
// assembly path (the head is most of a small model's bytes per token, and F16 halves them); fp32
// otherwise; or int8 with a scale per row where the file stores it so (a quarter of fp32's bytes).
// Exactly one of f16, f32 and i8 is set.
type table struct {
	f16  []uint16
	f32  []float32
	i8   []int8    // with step: row i is i8[i]·step[i] (tern pack --table int8)
	step []float32 // (rows)
	cols int
}

// row widens row i into dst (cols).
func (t table) row(dst []float32, i int) {
	c := t.cols
	switch {
	case t.f32 != nil:
		copy(dst, t.f32[i*c:(i+1)*c])
		return
	case t.i8 != nil:
		for j, q := range t.i8[i*c : (i+1)*c] {
			dst[j] = float32(q) * t.step[i]
		}
		return
	}
	for j, h := range t.f16[i*c : (i+1)*c] {
		dst[j] = half.F16ToFloat32(h)
	}
}

// gemv computes y (n) = T[:n]·x.
func (t table) gemv(y, x []float32, n int) {
	switch {
	case t.f32 != nil:
		kernels.Sgemv(y, t.f32, x, n, t.cols)
	case t.i8 != nil:
		kernels.SgemvI8(y, t.i8, t.step, x, n, t.cols)
	default:
		kernels.SgemvF16(y, t.f16, x, n, t.cols)
	}
}

// gemvBatch computes y (B, n) = x (B, cols) · T[:n]ᵀ for B vectors, reading the table from memory
// once. An F16 table is kernels.SgemvF16Batch; int8 and fp32 tables go in row chunks small enough to
// stay in a core's L2 cache (chunks split between threads), each chunk multiplied by every vector
// before the next. Each row's dot is the one gemv computes (the kernels sum a row in a fixed order,
// whatever the split or batch), so a vector's logits do not depend on the others.
func (t table) gemvBatch(y, x []float32, n, B int) {
	if t.f16 != nil {
		kernels.SgemvF16Batch(y, n, t.f16, x, n, t.cols, B)
		return
	}
	if B == 1 {
		t.gemv(y, x, n)
		return
	}
	c := t.cols
	rows := max(16, (256<<10)/(2*c)) // ~256 KiB of int8 (512 of fp32) per chunk
	chunks := (n + rows - 1) / rows
	kernels.ParallelFor(chunks, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			r0, r1 := ch*rows, min(n, (ch+1)*rows)
			for b := range B {
				yb, xb := y[b*n+r0:b*n+r1], x[b*c:(b+1)*c]
				if t.f32 != nil {
					kernels.Sgemv(yb, t.f32[r0*c:r1*c], xb, r1-r0, c)
				} else {
					kernels.SgemvI8(yb, t.i8[r0*c:r1*c], t.step[r0:r1], xb, r1-r0, c)
				}
			}
		}
	})
}

func (t table) bytes() int64 {
	return 2*int64(len(t.f16)) + 4*int64(len(t.f32)) + int64(len(t.i8)) + 4*int64(len(t.step))
}

// randomTable is v as the benchmark model's table stored as dt (F16, F32 or I8), in the form decoding
// would use for a file (F16 only where it is read in place), so that `tern bench decode` measures
// the bytes a packed file costs.
func randomTable(v []float32, cols int, dt format.DType) table {
	if dt == format.I8 {
		q, step := quant.Int8RowSteps(v, len(v)/cols, cols)
		return table{i8: q, step: step, cols: cols}
	}
	if dt == format.F32 || !kernels.SgemvF16Fast() {
		return table{f32: v, cols: cols}
	}
	h := make([]uint16, len(v))
	toF16(h, v)
	return table{f16: h, cols: cols}
}

// toF16 rounds src into dst (a KV cache row, a table): half.Float32ToF16 per value, vectorized.
func toF16(dst []uint16, src []float32) { kernels.ToF16(dst, src) }
