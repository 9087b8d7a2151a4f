package infer

// Packed tern models of the Llama family (model types llama and bitnet) decode through the same
// Llama decoder as GGUF files: LlamaFromPacked fills its weights from the packed file's tensors, found
// by the one name table (model.LlamaTensors), so there is one Llama decoder, not one per file format.
// Ternary matrices run in place from the file's trit5 bytes; n-bit ones through the n-bit GEMV.

import (
	"fmt"

	"tern/format"
	"tern/kernels"
	"tern/model"
)

// LoadPackedLlama opens a packed llama or bitnet model (model.OpenPacked); maxCtx > 0 caps the KV
// cache below the model's max_pos.
func LoadPackedLlama(path string, maxCtx int) (*Llama, error) {
	pf, err := model.OpenPacked(path)
	if err != nil {
		return nil, err
	}
	m, err := LlamaFromPacked(pf, maxCtx)
	if err != nil {
		pf.Close()
		return nil, err
	}
	return m, nil
}

// LlamaFromPacked builds the decoder over an opened packed file; closing the decoder closes pf.
func LlamaFromPacked(pf *model.PackedFile, maxCtx int) (*Llama, error) {
	cfg := pf.Cfg
	if !cfg.IsLlama() {
		return nil, fmt.Errorf("load %s: a %s model is not of the llama family", pf.Path, cfg.Type)
	}
	C := cfg.Hidden
	kvDim := cfg.KV() * (C / cfg.Heads)
	lc := LlamaConfig{Arch: string(cfg.Type), Vocab: cfg.Vocab, Hidden: C, Layers: cfg.Layers, Heads: cfg.Heads,
		KVHeads: cfg.KV(), FFN: cfg.FFN, Ctx: cfg.MaxPos, RopeBase: cfg.Theta(), RopeNeox: true, Eps: cfg.Eps(),
		SubNorms: cfg.SubNorm, Act: string(cfg.FFNAct)}
	if maxCtx > 0 && lc.Ctx > maxCtx {
		lc.Ctx = maxCtx
	}
	if err := lc.checkMemory(pf.Path); err != nil {
		return nil, err
	}
	m := &Llama{Cfg: lc, Packed: pf, TokSpec: pf.Tok, vec: map[int]*kernels.GemvVec{}}
	tableOf := func(name string) (table, error) {
		t, err := pf.Table(name, cfg.Vocab, C, kernels.SgemvF16Fast())
		return table{f16: t.F16, f32: t.F32, i8: t.I8, step: t.Step, cols: C}, err
	}
	var err error
	if m.tok, err = tableOf(model.LlamaTokEmb.Tern); err != nil {
		return nil, err
	}
	m.head = m.tok
	if !cfg.TieEmbeddings {
		if m.head, err = tableOf(model.LlamaHead.Tern); err != nil {
			return nil, err
		}
	}
	if m.norm, err = pf.Floats(model.LlamaNorm.Tern, C); err != nil {
		return nil, err
	}
	for l := range cfg.Layers {
		n := model.LlamaBlockNames(l)
		var ly llamaLayer
		vec := func(dst *[]float32, name model.TensorName, k int) func() error {
			return func() (err error) { *dst, err = pf.Floats(name.Tern, k); return }
		}
		mat := func(dst *linear, name model.TensorName, rows, cols int) func() error {
			return func() (err error) { *dst, err = packedLinear(pf, name.Tern, rows, cols); return }
		}
		steps := []func() error{
			vec(&ly.attnNorm, n.AttnNorm, C), vec(&ly.ffnNorm, n.FFNNorm, C),
			mat(&ly.q, n.Q, C, C), mat(&ly.k, n.K, kvDim, C), mat(&ly.v, n.V, kvDim, C), mat(&ly.o, n.O, C, C),
			mat(&ly.gate, n.Gate, cfg.FFN, C), mat(&ly.up, n.Up, cfg.FFN, C), mat(&ly.down, n.Down, C, cfg.FFN),
		}
		if cfg.SubNorm {
			steps = append(steps, vec(&ly.attnSub, n.AttnSubNorm, C), vec(&ly.ffnSub, n.FFNSubNorm, cfg.FFN))
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return nil, err
			}
		}
		ly.kc, ly.vc = make([]float32, lc.Ctx*kvDim), make([]float32, lc.Ctx*kvDim)
		m.layers = append(m.layers, ly)
	}
	if err := model.CheckUsed(pf.File, pf.Path); err != nil {
		return nil, err
	}
	m.alloc()
	return m, nil
}

// LlamaFromModel builds the decoder over a training model of the Llama family (an unpacked checkpoint,
// model.Load): its ternary matrices packed in memory as tern pack packs them (the training forward's
// ternary weights and scale), every float tensor kept in fp32, so it computes the training forward's
// logits up to float summation order (and the int8 activation roundings that order can move), with a
// KV cache instead of rerunning the sequence per token (Recompute). name stands for the file in errors.
func LlamaFromModel(lm model.LM, name string, maxCtx int) (*Llama, error) {
	pf, err := model.PackedInMemory(lm, "", name, model.PackFormat{Float: format.F32})
	if err != nil {
		return nil, err
	}
	m, err := LlamaFromPacked(pf, maxCtx)
	if err != nil {
		pf.Close()
		return nil, err
	}
	return m, nil
}
