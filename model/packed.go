package model

// Packed model files: what a 1.58-bit model costs on disk. Every BitLinear weight is stored as its
// ternary values packed 5 trits per byte (package quant, 1.6 bits/weight) named "<param>" (U8,
// (Out, ceil(In/5))) plus its absmean scale "<param>.scale" (F32, (1)); every other tensor (embeddings,
// norms, biases, an fp32 head) is stored as F16. Shared tensors are stored once, like model files.
// The metadata is a model file's plus tern.kind = "packed" and tern.packing = "trits5-rows/f16".
// PackFormat can store floats as F32 instead, and the token table / LM head (the largest float
// tensors, read whole for every decoded token) as I8 "<param>" with one F32 scale per row
// "<param>.scale" (rows), w ≈ q·scale, absmax per row: tern.packing then ends in "+table-i8".
//
// LoadPacked rebuilds a training-path model from such a file: each latent weight becomes t·s/p, where
// p is the fraction of nonzero trits, so that BitLinear's absmean re-quantization gives back exactly
// the stored trits and (to float rounding) the stored scale s. The cached packed inference path
// (package infer) reads the same bytes without expanding them.

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"os"
	"strings"
	"unsafe"

	"tern/format"
	"tern/half"
	"tern/kernels"
	"tern/nn"
	"tern/quant"
	"tern/tensor"
)

// MetaPacking names the packed layout.
const MetaPacking = "tern.packing"

// PackingLayout is the layout WritePacked writes; WritePackedAs writes "trits5-rows/f32" for F32.
const PackingLayout = "trits5-rows/f16"

const packingPrefix = "trits5-rows/"

// projections lists lm's attention and FFN projections (every slot; shared ones repeat).
func projections(lm LM) []nn.Projection {
	var out []nn.Projection
	attn := func(a *nn.Attention) {
		for _, p := range []nn.Projection{a.QKV, a.Q, a.KV, a.O} {
			if p != nil {
				out = append(out, p)
			}
		}
	}
	if t := AsTransformer(lm); t != nil {
		for _, b := range t.Blocks {
			attn(b.Attn)
			out = append(out, b.FFN.Fc, b.FFN.Fc2)
		}
	}
	if l, ok := lm.(*Llama); ok {
		out = append(out, l.Projections()...)
	}
	if e, ok := lm.(*EncDec); ok {
		for _, b := range e.Enc {
			attn(b.Attn)
			out = append(out, b.FFN.Fc, b.FFN.Fc2)
		}
		for _, b := range e.Dec {
			attn(b.Self)
			attn(b.Cross)
			out = append(out, b.FFN.Fc, b.FFN.Fc2)
		}
	}
	return out
}

// ternaryWeights returns lm's quantized weight matrices (BitLinear weights, an RNN's quantized gate
// projections: QuantMatrices) at the ternary width.
func ternaryWeights(lm LM) map[*nn.Param]bool {
	out := map[*nn.Param]bool{}
	for _, m := range QuantMatrices(lm) {
		if m.Width() == quant.WidthTernary {
			out[m.Param] = true
		}
	}
	return out
}

// nbitWeights returns lm's quantized weight matrices at other widths, each with one of its slots.
func nbitWeights(lm LM) map[*nn.Param]nn.QuantSlot {
	out := map[*nn.Param]nn.QuantSlot{}
	for _, m := range QuantMatrices(lm) {
		if m.Width() != quant.WidthTernary {
			out[m.Param] = m.Slots[0]
		}
	}
	return out
}

func ternaryParam(lm LM, p *nn.Param) bool { return ternaryWeights(lm)[p] }

// PackFormat chooses how the non-ternary tensors of a packed file are stored.
type PackFormat struct {
	Float format.DType // F16 (the default when empty) or F32
	Table format.DType // the token table and LM head: "" (as Float), F16, F32 or I8 (per-row scales)
}

// TableParam reports whether a parameter name is a token table or LM head, the tensors
// PackFormat.Table applies to.
func TableParam(name string) bool { return name == Weight(NameTokEmb) || name == Weight(NameLMHead) }

func (pf PackFormat) check() (PackFormat, error) {
	if pf.Float == "" {
		pf.Float = format.F16
	}
	if pf.Table == "" {
		pf.Table = pf.Float
	}
	if pf.Float != format.F16 && pf.Float != format.F32 {
		return pf, fmt.Errorf("model: packed floats must be F16 or F32, not %s", pf.Float)
	}
	if pf.Table != format.F16 && pf.Table != format.F32 && pf.Table != format.I8 {
		return pf, fmt.Errorf("model: a packed token table must be F16, F32 or I8, not %s", pf.Table)
	}
	return pf, nil
}

// layout is the tern.packing value for pf.
func (pf PackFormat) layout() string {
	l := packingPrefix + strings.ToLower(string(pf.Float))
	if pf.Table != pf.Float {
		l += "+table-" + strings.ToLower(string(pf.Table))
	}
	return l
}

// floatTensor stores w as dt: F32, F16, or I8 rows with their scales (two tensors).
func floatTensor(name string, shape []int, w []float32, dt format.DType) []format.Tensor {
	switch dt {
	case format.F32:
		return []format.Tensor{format.F32Tensor(name, shape, w)}
	case format.I8:
		q, step := quant.Int8RowSteps(w, shape[0], len(w)/max(shape[0], 1))
		return []format.Tensor{format.I8Tensor(name, shape, q), format.F32Tensor(name+".scale", []int{shape[0]}, step)}
	}
	return []format.Tensor{format.F16Tensor(name, shape, w)}
}

// PackedTensorsAs returns lm's tensors in the packed layout, each unique parameter once, and the
// metadata entries that describe the packed matrices (format.TernaryTensors); non-ternary tensors are
// stored as pf says.
func PackedTensorsAs(lm LM, pf PackFormat) ([]format.Tensor, map[string]string, error) {
	pf, err := pf.check()
	if err != nil {
		return nil, nil, err
	}
	tern, nbit := ternaryWeights(lm), nbitWeights(lm)
	var ts []format.Tensor
	meta := map[string]string{}
	seen := map[string]*nn.Param{}
	for _, p := range nn.Unique(lm.Params()) {
		if q, dup := seen[p.Name]; dup && q != p {
			return nil, nil, fmt.Errorf("model: two different parameters are both named %q", p.Name)
		}
		seen[p.Name] = p
		switch {
		case tern[p]:
			n, k := p.Shape[0], p.Shape[1]
			t := make([]int8, n*k)
			s := kernels.QuantizeTernary(t, p.W)
			pts, m := format.TernaryTensors(p.Name, quant.PackTernary(t, s, n, k))
			ts = append(ts, pts...)
			maps.Copy(meta, m)
		case nbit[p].W != nil:
			b := nbit[p]
			var pk *quant.PackedNBit
			if b.FixedSteps != nil && *b.FixedSteps != nil { // loaded from a packed file: keep its steps (and so its codes)
				pk = quant.PackNBitFixed(*b.Width, p.W, p.Shape[0], p.Shape[1], *b.FixedSteps)
			} else {
				pk = quant.PackNBit(*b.Width, p.W, p.Shape[0], p.Shape[1], *b.PerRow)
			}
			pts, m := format.NBitTensors(p.Name, pk)
			ts = append(ts, pts...)
			maps.Copy(meta, m)
		case TableParam(p.Name) && len(p.Shape) == 2:
			ts = append(ts, floatTensor(p.Name, p.Shape, p.W, pf.Table)...)
		default:
			ts = append(ts, floatTensor(p.Name, p.Shape, p.W, pf.Float)...)
		}
	}
	return ts, meta, nil
}

// WritePacked writes lm packed to path atomically and returns the file's size in bytes.
func WritePacked(path string, lm LM, tok string) (int64, error) {
	return WritePackedAs(path, lm, tok, PackFormat{})
}

// WritePackedAs is WritePacked with the non-ternary tensors stored as pf says.
func WritePackedAs(path string, lm LM, tok string, pf PackFormat) (int64, error) {
	ts, tmeta, err := PackedTensorsAs(lm, pf)
	if err != nil {
		return 0, err
	}
	return WritePackedTensors(path, lm, tok, pf, ts, tmeta)
}

// WritePackedTensors writes what PackedTensorsAs(lm, pf) returned, for a caller that also looks at
// the tensors (tern pack's statistics) and so need not pack lm twice.
func WritePackedTensors(path string, lm LM, tok string, pf PackFormat, ts []format.Tensor, tmeta map[string]string) (int64, error) {
	pf, err := pf.check()
	if err != nil {
		return 0, err
	}
	if err := format.Write(path, packedMeta(lm, tok, pf, tmeta), ts); err != nil {
		return 0, fmt.Errorf("model: write packed %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("model: write packed %s: %w", path, err)
	}
	return st.Size(), nil
}

// packedMeta is a packed file's metadata: lm's, the packed matrices' entries, the packing layout.
func packedMeta(lm LM, tok string, pf PackFormat, tmeta map[string]string) map[string]string {
	meta := FileMeta(lm, "packed", tok)
	maps.Copy(meta, tmeta)
	meta[MetaPacking] = pf.layout()
	return meta
}

// PackedInMemory packs lm as WritePackedAs writes it and opens the result without a file, for a
// decoder built from a training model (name stands for the file in errors). It holds the packed
// bytes, a fraction of lm's fp32 weights for ternary models.
func PackedInMemory(lm LM, tok, name string, pf PackFormat) (*PackedFile, error) {
	pf, err := pf.check()
	if err != nil {
		return nil, err
	}
	ts, tmeta, err := PackedTensorsAs(lm, pf)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := format.Encode(&buf, packedMeta(lm, tok, pf, tmeta), ts); err != nil {
		return nil, fmt.Errorf("model: pack %s: %w", name, err)
	}
	f, err := format.Parse(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("model: pack %s: %w", name, err)
	}
	return packedFile(f, name)
}

// PackedSize packs lm into a temporary file in dir ("" = the system temp dir), removes it and returns
// its size: the packed size is always measured from a real file, never from a formula.
func PackedSize(dir string, lm LM) (int64, error) {
	f, err := os.CreateTemp(dir, "tern-packed-*.safetensors")
	if err != nil {
		return 0, fmt.Errorf("model: packed size: %w", err)
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	return WritePacked(path, lm, "")
}

// PackedFile is an opened packed model file, the one reader of the packed layout: its config,
// tokenizer spec and tensors by name (names.go), each checked against the shape the config needs.
// LoadPacked expands it into a training model; package infer decodes from its bytes in place.
type PackedFile struct {
	File *format.File
	Cfg  Config
	Tok  string // tokenizer spec
	Path string
}

// OpenPacked reads a packed file into memory for a long-lived reader (format.Open: verified once, so
// later changes to the file on disk cannot reach the decoder).
func OpenPacked(path string) (*PackedFile, error) {
	f, err := format.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: load %s: %w", path, err)
	}
	pf, err := packedFile(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return pf, nil
}

// readPacked reads a packed file whole, checksums verified.
func readPacked(path string) (*PackedFile, error) {
	f, err := format.Read(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return packedFile(f, path)
}

func packedFile(f *format.File, path string) (*PackedFile, error) {
	if f.Meta[MetaKind] != "packed" || !strings.HasPrefix(f.Meta[MetaPacking], packingPrefix) {
		return nil, fmt.Errorf("model: %s is a %q file with packing %q, not a packed model (make one with tern pack)", path, f.Meta[MetaKind], f.Meta[MetaPacking])
	}
	cfg, err := ConfigOf(f, path)
	if err != nil {
		return nil, err
	}
	return &PackedFile{File: f, Cfg: cfg, Tok: f.Meta[MetaTokenizer], Path: path}, nil
}

// Close drops the file's tensors.
func (pf *PackedFile) Close() error { return pf.File.Close() }

func (pf *PackedFile) errf(msg string, a ...any) error {
	return fmt.Errorf("model: %s: "+msg, append([]any{pf.Path}, a...)...)
}

// IsTernary reports whether tensor name is stored as packed trits (U8).
func (pf *PackedFile) IsTernary(name string) bool {
	t, ok := pf.File.Tensor(name)
	return ok && t.DType == format.U8 && !pf.File.IsNBit(name)
}

// IsNBit reports whether tensor name is stored as packed n-bit codes (adaptive bit widths).
func (pf *PackedFile) IsNBit(name string) bool { return pf.File.IsNBit(name) }

// NBit returns the packed n-bit matrix name, in place, checked to be (n, k).
func (pf *PackedFile) NBit(name string, n, k int) (*quant.PackedNBit, error) {
	p, err := pf.File.NBit(name)
	if err != nil {
		return nil, pf.errf("%v", err)
	}
	if p.N != n || p.K != k {
		return nil, pf.errf("packed tensor %q is (%d, %d), the model needs (%d, %d)", name, p.N, p.K, n, k)
	}
	return p, nil
}

// Ternary returns the packed ternary matrix name, in place, checked to be (n, k).
func (pf *PackedFile) Ternary(name string, n, k int) (*quant.PackedTernary, error) {
	pt, err := pf.File.Ternary(name)
	if err != nil {
		return nil, pf.errf("%v", err)
	}
	if pt.N != n || pt.K != k {
		return nil, pf.errf("packed tensor %q is (%d, %d), the model needs (%d, %d)", name, pt.N, pt.K, n, k)
	}
	return pt, nil
}

// Floats returns the non-ternary tensor name as float32 (FloatTable), checked to have shape.
func (pf *PackedFile) Floats(name string, shape ...int) ([]float32, error) {
	t, err := pf.File.Get(name)
	if err != nil {
		return nil, pf.errf("%v", err)
	}
	if !tensor.SameShape(t.Shape, shape) {
		return nil, pf.errf("tensor %q has shape %v, the model needs %v", name, t.Shape, shape)
	}
	w, err := FloatTable(pf.File, name)
	if err != nil {
		return nil, pf.errf("tensor %q: %v", name, err)
	}
	return w, nil
}

// Table is a (rows, cols) float matrix of a packed file (the token table, the LM head) in the form a
// product reads fastest; exactly one of F16, F32 and I8 is set.
type Table struct {
	F16  []uint16  // the file's F16 bytes in place
	F32  []float32 // widened
	I8   []int8    // in place, row i is I8[i]·Step[i] (PackFormat.Table I8)
	Step []float32 // (rows)
}

// Table returns tensor name checked to be (rows, cols): I8 rows in place, F16 in place when f16 is
// true and the bytes are aligned, else widened to fp32.
func (pf *PackedFile) Table(name string, rows, cols int, f16 bool) (Table, error) {
	t, err := pf.File.Get(name)
	if err != nil {
		return Table{}, pf.errf("%v", err)
	}
	if !tensor.SameShape(t.Shape, []int{rows, cols}) {
		return Table{}, pf.errf("tensor %q has shape %v, the model needs %v", name, t.Shape, []int{rows, cols})
	}
	switch {
	case t.DType == format.I8:
		q, step, err := Int8Table(pf.File, name)
		if err != nil {
			return Table{}, pf.errf("%v", err)
		}
		return Table{I8: q, Step: step}, nil
	case t.DType == format.F16 && f16:
		if err := t.CheckFinite(); err != nil { // used as stored, never through Float32
			return Table{}, pf.errf("%v", err)
		}
		if h, ok := half.View(t.Data); ok {
			return Table{F16: h}, nil
		}
	}
	v, err := pf.Floats(name, rows, cols)
	return Table{F32: v}, err
}

// Sizes are a model's storage costs in bytes: FP32 and FP16 are the unique parameters at 4 and 2
// bytes; Packed is the size of a real packed file (WritePacked) written to a temporary file.
type Sizes struct {
	FP32, FP16, Packed int64
}

// MeasureSizes computes FP32/FP16 and measures Packed by writing a packed file in dir ("" = temp dir).
func MeasureSizes(lm LM, dir string) (Sizes, error) {
	st := Stats(lm)
	s := Sizes{FP32: 4 * int64(st.Unique), FP16: 2 * int64(st.Unique)}
	var err error
	s.Packed, err = PackedSize(dir, lm)
	return s, err
}

// LoadPacked reads a packed file back into a model (see the file comment) and its tokenizer spec.
func LoadPacked(path string) (LM, string, error) {
	pf, err := readPacked(path)
	if err != nil {
		return nil, "", err
	}
	lm, err := New(pf.Cfg, tensor.NewRNG(0))
	if err != nil {
		return nil, "", err
	}
	if err := CheckSharing(pf.File, lm, path); err != nil {
		return nil, "", err
	}
	tern, nbit := ternaryWeights(lm), nbitWeights(lm)
	_, rnn := lm.(*RNN)
	for _, p := range nn.Unique(lm.Params()) {
		if rnn && (tern[p] || nbit[p].W != nil) && !pf.IsTernary(p.Name) && !pf.IsNBit(p.Name) {
			// an LSTM/GRU packed before its gate matrices were stored at their width: F16/F32
			// latents, re-quantized by the forward as then
			delete(tern, p)
			delete(nbit, p)
		}
		if nbit[p].W != nil {
			if err := pf.unpackNBit(lm, p); err != nil {
				return nil, "", err
			}
			continue
		}
		if !tern[p] {
			w, err := pf.Floats(p.Name, p.Shape...)
			if err != nil {
				return nil, "", err
			}
			copy(p.W, w)
			continue
		}
		if err := pf.unpackInto(p); err != nil {
			return nil, "", err
		}
	}
	if err := CheckUsed(pf.File, path); err != nil {
		return nil, "", err
	}
	return lm, pf.Tok, nil
}

// FloatTable reads a non-ternary tensor of a packed file as float32: F32, F16 or BF16 widened, or an
// I8 tensor times its per-row "<name>.scale".
func FloatTable(f *format.File, name string) ([]float32, error) {
	t, err := f.Get(name)
	if err != nil {
		return nil, err
	}
	if t.DType != format.I8 {
		return t.Float32()
	}
	q, step, err := Int8Table(f, name)
	if err != nil {
		return nil, err
	}
	w := make([]float32, len(q))
	cols := len(q) / len(step)
	for i, v := range q {
		w[i] = float32(v) * step[i/cols]
	}
	return w, nil
}

// Int8Table returns the I8 tensor name of a packed file, in place, and its per-row scales, checked
// against each other: (rows, cols) values and (rows) finite scales.
func Int8Table(f *format.File, name string) ([]int8, []float32, error) {
	t, err := f.Get(name)
	if err != nil {
		return nil, nil, err
	}
	if t.DType != format.I8 || len(t.Shape) != 2 || t.Shape[0] < 1 {
		return nil, nil, fmt.Errorf("tensor %q is %s %v, not an I8 matrix", name, t.DType, t.Shape)
	}
	st, err := f.Get(name + ".scale")
	if err != nil {
		return nil, nil, fmt.Errorf("int8 tensor %q: %w", name, err)
	}
	step, err := st.Float32()
	if err != nil || len(st.Shape) != 1 || st.Shape[0] != t.Shape[0] {
		return nil, nil, fmt.Errorf("int8 tensor %q: scale %q is %s %v, want F32 [%d]", name, name+".scale", st.DType, st.Shape, t.Shape[0])
	}
	for i, v := range step {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, nil, fmt.Errorf("int8 tensor %q: row %d scale is %v", name, i, v)
		}
	}
	if len(t.Data) == 0 {
		return nil, step, nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(&t.Data[0])), len(t.Data)), step, nil
}

// unpackNBit sets p's latent weights to its packed n-bit matrix's values and pins the steps of every
// layer using p (nn.BitLinear.FixedSteps), so the model's forward reproduces the stored codes.
func (pf *PackedFile) unpackNBit(lm LM, p *nn.Param) error {
	pk, err := pf.NBit(p.Name, p.Shape[0], p.Shape[1])
	if err != nil {
		return err
	}
	for _, m := range QuantMatrices(lm) {
		if m.Param != p {
			continue
		}
		if m.Width() != pk.Width() {
			return pf.errf("tensor %q is stored at %v bits, the config says %v", p.Name, pk.Width(), m.Width())
		}
		for _, s := range m.Slots {
			if s.FixedSteps != nil {
				*s.FixedSteps = append([]float32(nil), pk.Steps...)
			}
		}
	}
	pk.Dequantize(p.W)
	return nil
}

// unpackInto sets p's latent weights from its packed trits.
func (pf *PackedFile) unpackInto(p *nn.Param) error {
	n, k := p.Shape[0], p.Shape[1]
	pk, err := pf.Ternary(p.Name, n, k)
	if err != nil {
		return err
	}
	trits := make([]int8, n*k)
	if err := pk.Unpack(trits); err != nil {
		return pf.errf("tensor %q: %v", p.Name, err)
	}
	setLatent(p, trits, pk.Scale)
	return nil
}

// setLatent sets a BitLinear weight's latent values so that its absmean quantization gives back
// exactly trits and (to float rounding) the scale s.
func setLatent(p *nn.Param, trits []int8, s float32) {
	nz := 0
	for _, v := range trits {
		if v != 0 {
			nz++
		}
	}
	if nz == 0 {
		clear(p.W)
		return
	}
	// latent = t·s/p gives mean|latent| = s and round(latent/s) = round(t/p) clamped = t (p <= 1).
	w := float32(float64(s) * float64(len(trits)) / float64(nz))
	for i, v := range trits {
		p.W[i] = float32(v) * w
	}
}
