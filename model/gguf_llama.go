package model

// GGUF files of tern's Llama family, as llama.cpp's "bitnet" (sub-norms) or "llama" architecture, or
// bitnet.cpp's "bitnet-b1.58" (BitNet b1.58 2B4T's own layout), tensors named by LlamaTensors
// (names.go). The graphs that run these files fix what can be written:
//   - llama.cpp's llama and bitnet compute SiLU-gated FFNs; a ReLU² model (2B4T's activation) with
//     sub-norms and a tied head is written as bitnet-b1.58, the architecture bitnet.cpp's converter
//     (utils/convert-hf-to-gguf-bitnet.py) writes for BitNetForCausalLM; ReLU² without sub-norms has
//     no GGUF architecture and is refused;
//   - bitnet and bitnet-b1.58 always use token_embd as the head (an untied model is refused) and
//     rotate half-offset pairs (NEOX), as tern's RoPE and Hugging Face's rotate_half do;
//   - bitnet multiplies each projection by an optional "<proj>.scale": ternary matrices are written as
//     their trits (TQ d = 1, or F16 values ±1) and the absmean scale as that F32 tensor, so tern →
//     GGUF → tern gives back trits and scales exactly (I2_S keeps its own float32 scale);
//   - bitnet-b1.58 has no scale tensors: as bitnet.cpp's converter, each matrix holds t·s itself (I2_S:
//     the trits and one float32 s after them, exact; TQ: s as every block's F16 d; F16: the values);
//     the metadata adds "<arch>.vocab_size" and general.file_type as the converter does;
//   - llama rotates adjacent pairs (NORM) and has no scale tensors: Q and K rows are permuted within
//     each head (row 2i+j ← row i + j·hs/2, as llama.cpp's converter does for Hugging Face weights), and
//     a ternary matrix's scale is the TQ blocks' F16 d (rounded) or the F16 values t·s.
// Norms are F32, the token table and an untied head F16.

import (
	"fmt"
	"math"
	"strconv"

	"tern/gguf"
	"tern/kernels"
	"tern/nn"
	"tern/tensor"
)

// llamaGGUFArch is the GGUF architecture of cfg, or why there is none.
func llamaGGUFArch(cfg Config) (string, error) {
	switch {
	case cfg.FFNAct == ActReLU2 && !cfg.SubNorm:
		return "", fmt.Errorf("model: a ReLU² model without sub-norms has no GGUF architecture (bitnet.cpp's bitnet-b1.58 has sub-norms; llama.cpp's llama and bitnet compute SiLU-gated FFNs)")
	case cfg.FFNAct == ActReLU2 && !cfg.TieEmbeddings:
		return "", fmt.Errorf("model: bitnet.cpp's bitnet-b1.58 architecture uses token_embd as the head; this model's head is untied")
	case cfg.FFNAct == ActReLU2:
		return gguf.ArchBitnetB158, nil
	case cfg.FFNAct != ActSwiGLU:
		return "", fmt.Errorf("model: ffn_act %s has no GGUF architecture (swiglu: llama or bitnet; relu2: bitnet-b1.58)", cfg.FFNAct)
	case cfg.SubNorm && !cfg.TieEmbeddings:
		return "", fmt.Errorf("model: llama.cpp's bitnet architecture always uses token_embd as the head; this model's head is untied")
	case cfg.SubNorm:
		return gguf.ArchBitnet, nil
	}
	return gguf.ArchLlama, nil
}

// GGUFArch is the GGUF architecture ExportGGUF writes lm as: gpt2 (tern's transformer), llama,
// bitnet or bitnet-b1.58 (the Llama family), or why it has none.
func GGUFArch(lm LM) (string, error) {
	if m, ok := lm.(*Llama); ok {
		return llamaGGUFArch(m.Cfg)
	}
	if AsTransformer(lm) == nil {
		return "", fmt.Errorf("model: GGUF export writes transformers, not %s models", lm.Config().Type)
	}
	return gguf.ArchGPT2, nil
}

// ggufFileType is llama.cpp's general.file_type for ternary matrices of type typ (LLAMA_FTYPE_*;
// 40 is bitnet.cpp's MOSTLY_I2_S, which its converter writes).
func ggufFileType(typ gguf.Type) uint32 {
	switch typ {
	case gguf.TQ1_0:
		return 36
	case gguf.TQ2_0:
		return 37
	case gguf.I2_S:
		return 40
	}
	return 1 // MOSTLY_F16
}

// ropePermute reorders the rows of a (heads·hs, k) matrix from half-offset pairs (tern, Hugging Face)
// to adjacent pairs (llama.cpp's llama): new row h·hs + 2i + j is old row h·hs + j·hs/2 + i. inverse
// undoes it.
func ropePermute[T any](w []T, rows, k, hs int, inverse bool) []T {
	out := make([]T, len(w))
	for r := 0; r < rows; r++ {
		h, q := r/hs, r%hs
		o := h*hs + q%2*(hs/2) + q/2 // the row of w that new row r takes
		src, dst := o, r
		if inverse {
			src, dst = r, o
		}
		copy(out[dst*k:(dst+1)*k], w[src*k:(src+1)*k])
	}
	return out
}

// llamaGGUFTensors returns m as a GGUF's metadata (without a tokenizer) and tensors.
func llamaGGUFTensors(m *Llama, typ gguf.Type) ([]gguf.KV, []gguf.Tensor, error) {
	cfg := m.Cfg
	a, err := llamaGGUFArch(cfg)
	if err != nil {
		return nil, nil, err
	}
	hs := cfg.Hidden / cfg.Heads
	kv := []gguf.KV{gguf.String(gguf.KeyArchitecture, a), gguf.String(gguf.KeyName, "tern"),
		gguf.Uint32(a+"."+gguf.KeyContextLength, uint32(cfg.MaxPos)), gguf.Uint32(a+"."+gguf.KeyEmbedding, uint32(cfg.Hidden)),
		gguf.Uint32(a+"."+gguf.KeyFFNLength, uint32(cfg.FFN)), gguf.Uint32(a+"."+gguf.KeyBlockCount, uint32(cfg.Layers)),
		gguf.Uint32(a+"."+gguf.KeyHeadCount, uint32(cfg.Heads)), gguf.Uint32(a+"."+gguf.KeyHeadCountKV, uint32(cfg.KV())),
		gguf.Float32(a+"."+gguf.KeyRMSEps, cfg.Eps()), gguf.Float32(a+"."+gguf.KeyRopeBase, float32(cfg.Theta())),
		gguf.Uint32(a+"."+gguf.KeyRopeDims, uint32(hs)), gguf.Uint32(gguf.KeyQuantVersion, 2)}
	if a == gguf.ArchBitnetB158 {
		kv = append(kv, gguf.Uint32(a+"."+gguf.KeyVocabSize, uint32(cfg.Vocab)), gguf.Uint32(gguf.KeyFileType, ggufFileType(typ)))
	}
	if float64(float32(cfg.Theta())) != cfg.Theta() {
		return nil, nil, fmt.Errorf("model: rope_theta %g is not a float32, the type GGUF stores it in", cfg.Theta())
	}
	projOf := map[*nn.Param]nn.Projection{}
	for _, p := range m.Projections() {
		w, _ := projParams(p)
		projOf[w] = p
	}
	var ts []gguf.Tensor
	add := func(name string, dims []uint64, dt gguf.Type, v []float32) error {
		b, err := gguf.EncodeFloat(dt, v)
		if err == nil {
			ts = append(ts, gguf.Tensor{Name: name, Dims: dims, Type: dt, Data: b})
		}
		return err
	}
	params := m.Params()
	for i, lt := range LlamaTensors(cfg) {
		p := params[i]
		if !lt.Projection {
			dt := gguf.F32
			if len(lt.Shape) == 2 {
				dt = gguf.F16
			}
			if err := add(lt.GGUF, reversed(lt.Shape), dt, p.W); err != nil {
				return nil, nil, err
			}
			continue
		}
		n, k := lt.Shape[0], lt.Shape[1]
		permute := a == gguf.ArchLlama && isQK(lt.Tern, cfg.Layers)
		if _, ok := projOf[p].(*nn.BitLinear); !ok { // an fp32 projection: its values as F16
			w := p.W
			if permute {
				w = ropePermute(w, n, k, hs, false)
			}
			if err := add(lt.GGUF, gguf.Matrix(n, k), gguf.F16, w); err != nil {
				return nil, nil, err
			}
			continue
		}
		trits := make([]int8, n*k)
		s := kernels.QuantizeTernary(trits, p.W)
		if permute {
			trits = ropePermute(trits, n, k, hs, false)
		}
		// bitnet: trits with d = 1 and the exact scale in "<proj>.scale" (I2_S keeps its own);
		// bitnet-b1.58 and llama: the scale in the matrix
		d, scaleTensor := s, a == gguf.ArchBitnet && typ != gguf.I2_S
		if scaleTensor {
			d = 1
		}
		switch {
		case typ == gguf.F16:
			v := make([]float32, len(trits))
			for j, t := range trits {
				v[j] = float32(t) * d
			}
			err = add(lt.GGUF, gguf.Matrix(n, k), gguf.F16, v)
		case k%typ.BlockSize() != 0:
			err = fmt.Errorf("model: %s (%d x %d): %s stores rows of whole %d-value blocks", lt.Tern, n, k, typ, typ.BlockSize())
		default:
			var b []byte
			if b, err = gguf.EncodeTernary(typ, trits, d); err == nil {
				ts = append(ts, gguf.Tensor{Name: lt.GGUF, Dims: gguf.Matrix(n, k), Type: typ, Data: b})
			}
		}
		if err == nil && scaleTensor {
			err = add(gguf.ScaleOf(lt.GGUF), []uint64{1}, gguf.F32, []float32{s})
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return kv, ts, nil
}

// isQK reports whether a tern tensor name is some block's Q or K weight.
func isQK(name string, layers int) bool {
	for l := range layers {
		b := LlamaBlockNames(l)
		if name == b.Q.Tern || name == b.K.Tern {
			return true
		}
	}
	return false
}

func reversed(shape []int) []uint64 {
	d := make([]uint64, len(shape))
	for i, v := range shape {
		d[len(shape)-1-i] = uint64(v)
	}
	return d
}

// loadLlamaGGUF reads a llama, bitnet or bitnet-b1.58 GGUF into a tern model of the Llama family:
// type bitnet for bitnet files (sub-norms, SiLU as llama.cpp) and bitnet-b1.58 files (sub-norms,
// ReLU² as bitnet.cpp), llama otherwise; BitLinear projections when the matrices are ternary (a
// ternary type, or F16/F32 values in {-s, 0, s}), fp32 otherwise.
func loadLlamaGGUF(f *gguf.File, path, arch string) (LM, error) {
	bad := func(msg string, a ...any) error { return fmt.Errorf("model: %s: "+msg, append([]any{path}, a...)...) }
	var err error
	geti := func(k string, def int) int {
		v, e := f.Int(arch + "." + k)
		if e != nil {
			if def < 0 && err == nil {
				err = e
			}
			return def
		}
		return int(v)
	}
	typ := TypeLlama
	if arch == gguf.ArchBitnet || arch == gguf.ArchBitnetB158 {
		typ = TypeBitNet
	}
	cfg := ArchDefaults(Config{MaxPos: geti(gguf.KeyContextLength, -1), Hidden: geti(gguf.KeyEmbedding, -1),
		FFN: geti(gguf.KeyFFNLength, -1), Layers: geti(gguf.KeyBlockCount, -1), Heads: geti(gguf.KeyHeadCount, -1)}, typ)
	if kv := geti(gguf.KeyHeadCountKV, cfg.Heads); kv != cfg.Heads {
		cfg.KVHeads = kv // 0 (= heads) otherwise, as tern writes configs
	}
	cfg.FFNAct, cfg.SubNorm, cfg.Linear = ActSwiGLU, typ == TypeBitNet, LinearFP32
	if arch == gguf.ArchBitnetB158 {
		cfg.FFNAct = ActReLU2
	}
	if err != nil {
		return nil, bad("%v", err)
	}
	// float32 values read back as the shortest decimal that rounds to them (1e-5, not 9.99999974e-06)
	short := func(v float64) float64 {
		d, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', -1, 32), 64)
		return d
	}
	if v, e := f.Float(arch + "." + gguf.KeyRopeBase); e == nil {
		cfg.RopeTheta = short(v)
	}
	if v, e := f.Float(arch + "." + gguf.KeyRMSEps); e == nil {
		cfg.NormEps = short(v)
	}
	tok, ok := f.Tensor(gguf.NameTokenEmbd)
	if !ok || len(tok.Dims) != 2 {
		return nil, bad("no 2-D tensor %s", gguf.NameTokenEmbd)
	}
	cfg.Vocab = int(tok.Dims[1])
	if v, e := f.Int(arch + "." + gguf.KeyVocabSize); e == nil && v != int64(cfg.Vocab) {
		return nil, bad("metadata %s.%s = %d, but tensor %s has %d rows", arch, gguf.KeyVocabSize, v, gguf.NameTokenEmbd, cfg.Vocab)
	}
	_, untied := f.Tensor(gguf.NameOutput)
	cfg.TieEmbeddings = !untied || arch == gguf.ArchBitnet // llama.cpp's bitnet never reads output.weight
	q0, ok := f.Tensor(LlamaBlockNames(0).Q.GGUF)
	if !ok {
		return nil, bad("no tensor %s", LlamaBlockNames(0).Q.GGUF)
	}
	if isTernaryMatrix(q0) {
		cfg.Linear = LinearBitNet
	}
	if err := cfg.Validate(); err != nil {
		return nil, bad("%v", err)
	}
	lm, err := New(cfg, tensor.NewRNG(0))
	if err != nil {
		return nil, err
	}
	m := lm.(*Llama)
	bitlinear := map[*nn.Param]bool{}
	for _, p := range m.Projections() {
		if b, ok := p.(*nn.BitLinear); ok {
			bitlinear[b.W] = true
		}
	}
	hs := cfg.Hidden / cfg.Heads
	params := m.Params()
	for i, lt := range LlamaTensors(cfg) {
		p := params[i]
		t, ok := f.Tensor(lt.GGUF)
		if !ok {
			return nil, bad("no tensor %s", lt.GGUF)
		}
		if !tensor.SameShape(t.Shape(), lt.Shape) {
			return nil, bad("tensor %s has dims %v, the config needs %v", lt.GGUF, t.Dims, reversed(lt.Shape))
		}
		permute := arch == gguf.ArchLlama && isQK(lt.Tern, cfg.Layers)
		extra := float32(1)
		if st, ok := f.Tensor(gguf.ScaleOf(lt.GGUF)); ok && lt.Projection {
			v, err := st.Float32()
			if err != nil || len(v) != 1 || math.IsNaN(float64(v[0])) || math.IsInf(float64(v[0]), 0) {
				return nil, bad("tensor %s: want one finite float scale (%v)", gguf.ScaleOf(lt.GGUF), err)
			}
			extra = v[0]
		}
		if !bitlinear[p] {
			v, err := t.Float32()
			if err != nil {
				return nil, bad("%v", err)
			}
			if permute {
				v = ropePermute(v, lt.Shape[0], lt.Shape[1], hs, true)
			}
			for j := range v {
				v[j] *= extra
			}
			copy(p.W, v)
			continue
		}
		trits, s, err := ggufTrits(t, lt.GGUF)
		if err != nil {
			return nil, bad("%v", err)
		}
		if permute {
			trits = ropePermute(trits, lt.Shape[0], lt.Shape[1], hs, true)
		}
		setLatent(p, trits, s*extra)
	}
	// a tensor the architecture does not define would be ignored: refuse it (as infer does)
	known := map[string]bool{}
	for _, lt := range LlamaTensors(cfg) {
		known[lt.GGUF] = true
		if lt.Projection && arch == gguf.ArchBitnet {
			known[gguf.ScaleOf(lt.GGUF)] = true
		}
	}
	if arch == gguf.ArchBitnet {
		known[gguf.NameOutput] = true // llama.cpp's bitnet never reads it
	}
	for _, t := range f.Tensors {
		if !known[t.Name] {
			return nil, bad("tensor %s is not part of the %s architecture as tern reads it", t.Name, arch)
		}
	}
	return lm, nil
}
