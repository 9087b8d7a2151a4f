package model

// GGUF files of tern's causal transformer, as llama.cpp's "gpt2" architecture (learned positions,
// LayerNorm, fused QKV, GELU FFN, tied or untied head; names in gguf/names.go). BitLinear weights are
// written as their ternary values: TQ1_0 or TQ2_0 (every block's d = the matrix's absmean scale,
// rounded to F16), I2_S (the scale kept as float32) or F16 (the values t·s); llama.cpp requires
// biases, so absent ones are written as zeros. Reading a gpt2 GGUF back gives a tern transformer
// whose BitLinear latent weights re-quantize to exactly the stored trits and scale (as LoadPacked).

import (
	"fmt"
	"math"

	"tern/gguf"
	"tern/kernels"
	"tern/nn"
	"tern/tensor"
)

// GGUFTypes are the weight types ExportGGUF writes for ternary matrices.
var GGUFTypes = []gguf.Type{gguf.TQ2_0, gguf.TQ1_0, gguf.I2_S, gguf.F16}

// gpt2LayerNormEps is nn.LayerNorm's ε, which llama.cpp reads from the file.
const gpt2LayerNormEps = 1e-5

// GGUFTensors returns lm as a gpt2 GGUF's metadata (without a tokenizer) and tensors, ternary
// matrices stored as typ.
func GGUFTensors(lm LM, typ gguf.Type) ([]gguf.KV, []gguf.Tensor, error) {
	if m, ok := lm.(*Llama); ok {
		if err := checkGGUFType(typ); err != nil {
			return nil, nil, err
		}
		return llamaGGUFTensors(m, typ) // gguf_llama.go
	}
	t := AsTransformer(lm)
	if t == nil {
		return nil, nil, fmt.Errorf("model: GGUF export writes transformers, not %s models", lm.Config().Type)
	}
	cfg := t.Cfg
	switch {
	case cfg.Objective != ObjCausal || cfg.TypeVocab != 0:
		return nil, nil, fmt.Errorf("model: GGUF export writes causal LMs without token types (objective %s, type_vocab %d)", cfg.Objective, cfg.TypeVocab)
	case cfg.Norm != NormLayer:
		return nil, nil, fmt.Errorf("model: llama.cpp's gpt2 architecture uses LayerNorm, this model %s", cfg.Norm)
	}
	if err := checkGGUFType(typ); err != nil {
		return nil, nil, err
	}
	a := gguf.ArchGPT2
	kv := []gguf.KV{gguf.String(gguf.KeyArchitecture, a), gguf.String(gguf.KeyName, "tern"),
		gguf.Uint32(a+"."+gguf.KeyContextLength, uint32(cfg.MaxPos)), gguf.Uint32(a+"."+gguf.KeyEmbedding, uint32(cfg.Hidden)),
		gguf.Uint32(a+"."+gguf.KeyFFNLength, uint32(cfg.FFN)), gguf.Uint32(a+"."+gguf.KeyBlockCount, uint32(cfg.Layers)),
		gguf.Uint32(a+"."+gguf.KeyHeadCount, uint32(cfg.Heads)), gguf.Float32(a+"."+gguf.KeyLayerNormEps, gpt2LayerNormEps),
		gguf.Uint32(gguf.KeyQuantVersion, 2)}
	var ts []gguf.Tensor
	var err error
	floats := func(name string, dims []uint64, dt gguf.Type, v []float32) {
		if err != nil {
			return
		}
		var b []byte
		if b, err = gguf.EncodeFloat(dt, v); err == nil {
			ts = append(ts, gguf.Tensor{Name: name, Dims: dims, Type: dt, Data: b})
		}
	}
	norm := func(name string, l layer) {
		ln, ok := l.(*nn.LayerNorm)
		if !ok {
			err = fmt.Errorf("model: %s is not a LayerNorm", name)
			return
		}
		floats(name+".weight", []uint64{uint64(cfg.Hidden)}, gguf.F32, ln.G.W)
		floats(name+".bias", []uint64{uint64(cfg.Hidden)}, gguf.F32, ln.B.W)
	}
	proj := func(name string, p nn.Projection) {
		if err != nil {
			return
		}
		w, b := projParams(p)
		n, k := w.Shape[0], w.Shape[1]
		dims := gguf.Matrix(n, k)
		switch p.(type) {
		case *nn.BitLinear:
			trits := make([]int8, len(w.W))
			s := kernels.QuantizeTernary(trits, w.W)
			if typ == gguf.F16 {
				v := make([]float32, len(trits))
				for i, x := range trits {
					v[i] = float32(x) * s
				}
				floats(name+".weight", dims, gguf.F16, v)
			} else {
				var data []byte
				if k%typ.BlockSize() != 0 {
					err = fmt.Errorf("model: %s (%d x %d): %s stores rows of whole %d-value blocks", name, n, k, typ, typ.BlockSize())
					return
				}
				if data, err = gguf.EncodeTernary(typ, trits, s); err != nil {
					err = fmt.Errorf("model: %s (%d x %d) as %s: %w", name, n, k, typ, err)
					return
				}
				ts = append(ts, gguf.Tensor{Name: name + ".weight", Dims: dims, Type: typ, Data: data})
			}
		default:
			floats(name+".weight", dims, gguf.F32, w.W)
		}
		bias := make([]float32, n)
		if b != nil {
			bias = b.W
		}
		floats(name+".bias", []uint64{uint64(n)}, gguf.F32, bias)
	}
	C := cfg.Hidden
	floats(gguf.NameTokenEmbd, gguf.Matrix(cfg.Vocab, C), gguf.F16, t.Tok.W.W)
	floats(gguf.NamePositionEmbd, gguf.Matrix(cfg.MaxPos, C), gguf.F16, t.Pos.W.W)
	for l, b := range t.Blocks {
		n := gguf.GPT2BlockNames(l)
		norm(n.AttnNorm, b.Ln1)
		proj(n.QKV, b.Attn.QKV)
		proj(n.O, b.Attn.O)
		norm(n.FFNNorm, b.Ln2)
		proj(n.Up, b.FFN.Fc)
		proj(n.Down, b.FFN.Fc2)
	}
	norm("output_norm", t.LnF)
	if t.Head != nil {
		floats(gguf.NameOutput, gguf.Matrix(cfg.Vocab, C), gguf.F16, t.Head.W.W)
	}
	return kv, ts, err
}

func checkGGUFType(typ gguf.Type) error {
	for _, g := range GGUFTypes {
		if g == typ {
			return nil
		}
	}
	return fmt.Errorf("model: GGUF export writes ternary matrices as tq2_0, tq1_0, i2_s or f16, not %s", typ)
}

// projParams returns a projection's weight and bias (nil when it has none).
func projParams(p nn.Projection) (w, b *nn.Param) {
	switch q := p.(type) {
	case *nn.BitLinear:
		return q.W, q.B
	case *nn.Linear:
		return q.W, q.B
	}
	ps := p.Params()
	return ps[0], nil
}

// ExportGGUF writes lm to path (atomically) as a GGUF with extra metadata (the tokenizer): a
// transformer as gpt2, the Llama family as llama, bitnet or bitnet-b1.58 (gguf_llama.go).
func ExportGGUF(path string, lm LM, typ gguf.Type, extra []gguf.KV) error {
	kv, ts, err := GGUFTensors(lm, typ)
	if err != nil {
		return err
	}
	return gguf.Write(path, append(kv, extra...), ts)
}

// LoadGGUF reads a gpt2 GGUF (as ExportGGUF writes, or llama.cpp's converters) into a tern transformer:
// BitLinear projections when its matrices are ternary (a ternary type, or F16/F32 values in {-s, 0, s}),
// fp32 Linear otherwise; biases only when some are nonzero.
func LoadGGUF(path string) (LM, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bad := func(msg string, a ...any) error { return fmt.Errorf("model: %s: "+msg, append([]any{path}, a...)...) }
	switch a, _ := f.String(gguf.KeyArchitecture); a {
	case gguf.ArchGPT2:
	case gguf.ArchLlama, gguf.ArchBitnet, gguf.ArchBitnetB158:
		return loadLlamaGGUF(f, path, a) // gguf_llama.go
	default:
		return nil, bad("architecture %q: tern reads gpt2, llama, bitnet and bitnet-b1.58 GGUF files", a)
	}
	geti := func(k string) int {
		v, e := f.Int(gguf.ArchGPT2 + "." + k)
		if e != nil && err == nil {
			err = e
		}
		return int(v)
	}
	cfg := Config{Type: TypeTransformer, Objective: ObjCausal, Norm: NormLayer, Linear: LinearFP32,
		MaxPos: geti(gguf.KeyContextLength), Hidden: geti(gguf.KeyEmbedding), FFN: geti(gguf.KeyFFNLength),
		Layers: geti(gguf.KeyBlockCount), Heads: geti(gguf.KeyHeadCount)}
	if err != nil {
		return nil, err
	}
	tok, ok := f.Tensor(gguf.NameTokenEmbd)
	if !ok || len(tok.Dims) != 2 {
		return nil, bad("no 2-D tensor %s", gguf.NameTokenEmbd)
	}
	cfg.Vocab = int(tok.Dims[1])
	_, untied := f.Tensor(gguf.NameOutput)
	cfg.TieEmbeddings = !untied
	values := map[string][]float32{}
	get := func(name string, shape ...int) ([]float32, error) {
		if v, ok := values[name]; ok {
			return v, nil
		}
		t, ok := f.Tensor(name)
		if !ok {
			return nil, bad("no tensor %s", name)
		}
		if !tensor.SameShape(t.Shape(), shape) {
			return nil, bad("tensor %s has shape %v, the config needs %v", name, t.Shape(), shape)
		}
		v, err := t.Float32()
		if err != nil {
			return nil, bad("%v", err)
		}
		values[name] = v
		return v, nil
	}
	// The config's linear and bias follow the file: ternary matrices make BitLinear, nonzero biases Bias.
	n0 := gguf.GPT2BlockNames(0)
	if t, ok := f.Tensor(n0.QKV + ".weight"); ok && isTernaryMatrix(t) {
		cfg.Linear = LinearBitNet
	}
	for l := range cfg.Layers {
		n := gguf.GPT2BlockNames(l)
		for _, p := range []string{n.QKV, n.O, n.Up, n.Down} {
			if t, ok := f.Tensor(p + ".bias"); ok {
				if v, err := t.Float32(); err == nil && !allZero(v) {
					cfg.Bias = true
				}
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, bad("%v", err)
	}
	lm, err := New(cfg, tensor.NewRNG(0))
	if err != nil {
		return nil, err
	}
	t := AsTransformer(lm)
	set := func(p *nn.Param, name string) error {
		v, err := get(name, p.Shape...)
		if err == nil {
			copy(p.W, v)
		}
		return err
	}
	norm := func(name string, l layer) error {
		ln := l.(*nn.LayerNorm)
		if err := set(ln.G, name+".weight"); err != nil {
			return err
		}
		return set(ln.B, name+".bias")
	}
	proj := func(name string, p nn.Projection) error {
		w, b := projParams(p)
		if b != nil {
			if err := set(b, name+".bias"); err != nil {
				return err
			}
		}
		if _, ok := p.(*nn.BitLinear); !ok {
			return set(w, name+".weight")
		}
		ti, ok := f.Tensor(name + ".weight")
		if !ok || !tensor.SameShape(ti.Shape(), w.Shape) {
			return bad("tensor %s.weight missing or not %v", name, w.Shape)
		}
		trits, s, err := ggufTrits(ti, name+".weight")
		if err != nil {
			return bad("%v", err)
		}
		setLatent(w, trits, s)
		return nil
	}
	steps := []error{set(t.Tok.W, gguf.NameTokenEmbd), set(t.Pos.W, gguf.NamePositionEmbd)}
	for l, b := range t.Blocks {
		n := gguf.GPT2BlockNames(l)
		steps = append(steps, norm(n.AttnNorm, b.Ln1), proj(n.QKV, b.Attn.QKV), proj(n.O, b.Attn.O),
			norm(n.FFNNorm, b.Ln2), proj(n.Up, b.FFN.Fc), proj(n.Down, b.FFN.Fc2))
	}
	steps = append(steps, norm("output_norm", t.LnF))
	if t.Head != nil {
		steps = append(steps, set(t.Head.W, gguf.NameOutput))
	}
	for _, e := range steps {
		if e != nil {
			return nil, e
		}
	}
	return lm, nil
}

// UniformScale returns the one scale of a ternary matrix stored in blocks that all carry it (blocks of
// scale 0 hold zeros and have their trits cleared), or false when blocks differ.
func UniformScale(trits []int8, scales []float32) (float32, bool) {
	s := float32(0)
	for _, v := range scales {
		if v != 0 {
			if s != 0 && v != s {
				return 0, false
			}
			s = v
		}
	}
	per := len(trits) / len(scales)
	for b, v := range scales {
		if v == 0 {
			clear(trits[b*per : (b+1)*per])
		}
	}
	return s, s > 0 && !math.IsInf(float64(s), 0)
}

// ggufTrits returns a BitLinear matrix's trits and its one scale, from a ternary type whose blocks all
// carry one scale (or are zero) or from F16/F32 values in {-s, 0, s}; errors name the tensor.
func ggufTrits(t *gguf.TensorInfo, name string) ([]int8, float32, error) {
	if t.Type.Ternary() {
		trits, scales, err := gguf.DecodeTernary(t)
		if err != nil {
			return nil, 0, err
		}
		s, ok := UniformScale(trits, scales)
		if !ok && !allZero(scales) {
			return nil, 0, fmt.Errorf("tensor %s: its blocks carry different scales; tern's BitLinear has one per matrix", name)
		}
		return trits, s, nil
	}
	v, err := t.Float32()
	if err != nil {
		return nil, 0, err
	}
	trits, s, ok := ternaryValues(v)
	if !ok {
		return nil, 0, fmt.Errorf("tensor %s is not ternary ({-s, 0, s}); a BitLinear model needs ternary matrices", name)
	}
	return trits, s, nil
}

// isTernaryMatrix reports whether a GGUF matrix holds a BitLinear layer's weights: a ternary type, or
// F16/F32 values in {-s, 0, s} (how both GGUF loaders choose the config's linear).
func isTernaryMatrix(t *gguf.TensorInfo) bool {
	if t.Type.Ternary() {
		return true
	}
	v, err := t.Float32()
	if err != nil {
		return false
	}
	_, _, ok := ternaryValues(v)
	return ok
}

// ternaryValues reports whether every value is 0 or ±s for one s > 0, and returns the trits and s.
func ternaryValues(v []float32) ([]int8, float32, bool) {
	s := float32(0)
	trits := make([]int8, len(v))
	for i, x := range v {
		a := float32(math.Abs(float64(x)))
		switch {
		case a == 0:
			continue
		case s == 0:
			s = a
		case a != s:
			return nil, 0, false
		}
		trits[i] = 1
		if x < 0 {
			trits[i] = -1
		}
	}
	return trits, s, true
}

func allZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
