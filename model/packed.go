package model

// Packed model files: what a 1.58-bit model costs on disk. Every BitLinear weight is stored as its
// ternary values packed 5 trits per byte (package quant, 1.6 bits/weight) named "<param>" (U8,
// (Out, ceil(In/5))) plus its absmean scale "<param>.scale" (F32, (1)); every other tensor (embeddings,
// norms, biases, an fp32 head) is stored as F16. Shared tensors are stored once, like model files.
// The metadata is a model file's plus tern.kind = "packed" and tern.packing = "trits5-rows/f16".
//
// LoadPacked rebuilds a training-path model from such a file: each latent weight becomes t·s/p, where
// p is the fraction of nonzero trits, so that BitLinear's absmean re-quantization gives back exactly
// the stored trits and (to float rounding) the stored scale s. The cached packed inference path
// (package infer) reads the same bytes without expanding them.

import (
	"fmt"
	"maps"
	"os"
	"strings"

	"tern/format"
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

// ternaryWeights returns the BitLinear weight params of lm.
func ternaryWeights(lm LM) map[*nn.Param]bool {
	out := map[*nn.Param]bool{}
	for _, p := range projections(lm) {
		if b, ok := p.(*nn.BitLinear); ok {
			out[b.W] = true
		}
	}
	return out
}

func ternaryParam(lm LM, p *nn.Param) bool { return ternaryWeights(lm)[p] }

// PackedTensorsAs returns lm's tensors in the packed layout, each unique parameter once, and the
// metadata entries that describe the packed matrices (format.TernaryTensors); non-ternary tensors are
// stored as float (F16 or F32).
func PackedTensorsAs(lm LM, float format.DType) ([]format.Tensor, map[string]string, error) {
	if float != format.F16 && float != format.F32 {
		return nil, nil, fmt.Errorf("model: packed floats must be F16 or F32, not %s", float)
	}
	tern := ternaryWeights(lm)
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
		case float == format.F32:
			ts = append(ts, format.F32Tensor(p.Name, p.Shape, p.W))
		default:
			ts = append(ts, format.F16Tensor(p.Name, p.Shape, p.W))
		}
	}
	return ts, meta, nil
}

// WritePacked writes lm packed to path atomically and returns the file's size in bytes.
func WritePacked(path string, lm LM, tok string) (int64, error) {
	return WritePackedAs(path, lm, tok, format.F16)
}

// WritePackedAs is WritePacked with the non-ternary tensors stored as float (F16 or F32).
func WritePackedAs(path string, lm LM, tok string, float format.DType) (int64, error) {
	ts, tmeta, err := PackedTensorsAs(lm, float)
	if err != nil {
		return 0, err
	}
	meta := FileMeta(lm, "packed", tok)
	maps.Copy(meta, tmeta)
	meta[MetaPacking] = packingPrefix + strings.ToLower(string(float))
	if err := format.Write(path, meta, ts); err != nil {
		return 0, fmt.Errorf("model: write packed %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("model: write packed %s: %w", path, err)
	}
	return st.Size(), nil
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

// LoadPacked reads a packed file back into a model (see the file comment) and its tokenizer spec.
func LoadPacked(path string) (LM, string, error) {
	f, cfg, err := readFile(path)
	if err != nil {
		return nil, "", err
	}
	if f.Meta[MetaKind] != "packed" || !strings.HasPrefix(f.Meta[MetaPacking], packingPrefix) {
		return nil, "", fmt.Errorf("model: %s is not a packed model (kind %q, packing %q; write one with model.WritePacked)", path, f.Meta[MetaKind], f.Meta[MetaPacking])
	}
	lm, err := New(cfg, tensor.NewRNG(0))
	if err != nil {
		return nil, "", err
	}
	if err := CheckSharing(f, lm, path); err != nil {
		return nil, "", err
	}
	tern := ternaryWeights(lm)
	for _, p := range nn.Unique(lm.Params()) {
		t, err := f.Get(p.Name)
		if err != nil {
			return nil, "", fmt.Errorf("model: %s: %w", path, err)
		}
		if !tern[p] {
			if !sameShape(t.Shape, p.Shape) {
				return nil, "", fmt.Errorf("model: %s: tensor %q has shape %v, the model needs %v", path, p.Name, t.Shape, p.Shape)
			}
			w, err := t.Float32()
			if err != nil {
				return nil, "", fmt.Errorf("model: %s: %w", path, err)
			}
			copy(p.W, w)
			continue
		}
		if err := unpackInto(f, t, p, path); err != nil {
			return nil, "", err
		}
	}
	return lm, f.Meta[MetaTokenizer], nil
}

func unpackInto(f *format.File, t format.Tensor, p *nn.Param, path string) error {
	n, k := p.Shape[0], p.Shape[1]
	pk, err := f.Ternary(p.Name)
	if err != nil {
		return fmt.Errorf("model: %s: %w", path, err)
	}
	if pk.N != n || pk.K != k {
		return fmt.Errorf("model: %s: packed tensor %q is (%d, %d), the model needs (%d, %d)", path, p.Name, pk.N, pk.K, n, k)
	}
	trits := make([]int8, n*k)
	if err := pk.Unpack(trits); err != nil {
		return fmt.Errorf("model: %s: tensor %q: %w", path, p.Name, err)
	}
	nz := 0
	for _, v := range trits {
		if v != 0 {
			nz++
		}
	}
	if nz == 0 {
		clear(p.W)
		return nil
	}
	// latent = t·s/p gives mean|latent| = s and round(latent/s) = round(t/p) clamped = t (p <= 1).
	w := float32(float64(pk.Scale) * float64(len(trits)) / float64(nz))
	for i, v := range trits {
		p.W[i] = float32(v) * w
	}
	return nil
}
