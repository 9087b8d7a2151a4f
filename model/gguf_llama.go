package model

// GGUF files of tern's Llama family, as llama.cpp's "bitnet" (sub-norms) or "llama" architecture,
// tensors named by LlamaTensors (names.go). llama.cpp's graphs fix what can be written:
//   - both compute SiLU-gated FFNs, so a ReLU² model (BitNet b1.58 2B4T's activation) has no llama.cpp
//     architecture and is refused;
//   - bitnet always uses token_embd as the head (an untied model is refused) and rotates half-offset
//     pairs (NEOX), as tern's RoPE does; it multiplies each projection by an optional "<proj>.scale":
//     ternary matrices are written as their trits (TQ d = 1, or F16 values ±1) and the absmean scale
//     as that F32 tensor, so tern → GGUF → tern gives back trits and scales exactly (I2_S keeps its own
//     float32 scale);
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

// llamaGGUFArch is the llama.cpp architecture of cfg, or why there is none.
func llamaGGUFArch(cfg Config) (string, error) {
	switch {
	case cfg.FFNAct != ActSwiGLU:
		return "", fmt.Errorf("model: llama.cpp's llama and bitnet architectures compute SiLU-gated FFNs; this model's ffn_act is %s (train with --ffn-act swiglu to export to GGUF)", cfg.FFNAct)
	case cfg.SubNorm && !cfg.TieEmbeddings:
		return "", fmt.Errorf("model: llama.cpp's bitnet architecture always uses token_embd as the head; this model's head is untied")
	case cfg.SubNorm:
		return gguf.ArchBitnet, nil
	}
	return gguf.ArchLlama, nil
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
		// bitnet: trits with d = 1 and the exact scale in "<proj>.scale" (I2_S keeps its own)
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

// loadLlamaGGUF reads a llama or bitnet GGUF into a tern model of the Llama family: type bitnet for
// bitnet files (sub-norms, SiLU as llama.cpp), llama otherwise; BitLinear projections when the
// matrices are ternary (a ternary type, or F16/F32 values in {-s, 0, s}), fp32 otherwise.
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
	if arch == gguf.ArchBitnet {
		typ = TypeBitNet
	}
	cfg := ArchDefaults(Config{MaxPos: geti(gguf.KeyContextLength, -1), Hidden: geti(gguf.KeyEmbedding, -1),
		FFN: geti(gguf.KeyFFNLength, -1), Layers: geti(gguf.KeyBlockCount, -1), Heads: geti(gguf.KeyHeadCount, -1)}, typ)
	if kv := geti(gguf.KeyHeadCountKV, cfg.Heads); kv != cfg.Heads {
		cfg.KVHeads = kv // 0 (= heads) otherwise, as tern writes configs
	}
	cfg.FFNAct, cfg.SubNorm, cfg.Linear = ActSwiGLU, typ == TypeBitNet, LinearFP32
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
	_, untied := f.Tensor(gguf.NameOutput)
	cfg.TieEmbeddings = !untied || arch == gguf.ArchBitnet // llama.cpp's bitnet never reads output.weight
	q0, ok := f.Tensor(LlamaBlockNames(0).Q.GGUF)
	if !ok {
		return nil, bad("no tensor %s", LlamaBlockNames(0).Q.GGUF)
	}
	if q0.Type.Ternary() {
		cfg.Linear = LinearBitNet
	} else if v, e := q0.Float32(); e == nil {
		if _, _, ok := ternaryValues(v); ok {
			cfg.Linear = LinearBitNet
		}
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
	return lm, nil
}
