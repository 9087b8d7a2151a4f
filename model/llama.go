package model

// Llama: the decoder of the Llama family (type "llama") and of BitNet b1.58 2B4T (type "bitnet"),
// as Hugging Face's LlamaForCausalLM and BitNetForCausalLM compute it:
//
//   x = tok[ids]                                                        (B, T, C)
//   per block: x = x + O·[subnorm](attn(rope(Q·h), rope(K·h), V·h)),   h = rmsnorm1(x)
//              x = x + Down·[subnorm](act(Gate·h) ⊙ Up·h),             h = rmsnorm2(x)
//   logits = rmsnorm_f(x) · Wᵀ, W = tok (tied) or the head              (B, T, V)
//
// No learned positions (RoPE in the attention, nn.RoPE), grouped-query attention (nn.GQAttention), a
// gated FFN with SwiGLU or ReLU² (nn.GatedFFN), no biases anywhere. Under linear bitnet every
// projection is a BitLinear; BitNet's sub-norms then make each BitLinear's input normalized, as in
// the BitNet reference code. Tensor names: LlamaTensors (names.go), with their GGUF and HF names.
//
// Reference: LLaMA (https://arxiv.org/abs/2302.13971), BitNet b1.58 2B4T technical report
// (https://arxiv.org/abs/2504.12285).

import (
	"fmt"

	"tern/nn"
	"tern/tensor"
)

// LlamaLayer is one pre-norm block of a Llama-family model.
type LlamaLayer struct {
	Ln1, Ln2 *nn.RMSNorm
	Attn     *nn.GQAttention
	FFN      *nn.GatedFFN

	res1, res2, dres1, dx []float32 // (B, T, C)
}

// Llama is a Llama-family language model (built by New for types llama and bitnet).
type Llama struct {
	Cfg    Config
	Tok    *nn.Embedding // (V, C)
	Blocks []*LlamaLayer
	LnF    *nn.RMSNorm
	Head   *nn.Linear // (V, C), nil when tied

	b, t          int
	h, logits, dh []float32
}

// NewLlama builds the model with weights drawn from rng (normal(0, 0.02); norms start at 1).
func NewLlama(cfg Config, rng *tensor.RNG) (*Llama, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.IsLlama() {
		return nil, fmt.Errorf("model: NewLlama got type %q", cfg.Type)
	}
	C, eps := cfg.Hidden, cfg.Eps()
	proj := nn.LinearProj(rng, false)
	if cfg.Linear == LinearBitNet {
		proj = nn.BitLinearProj(rng, false)
	}
	norm := func(name string, c int) *nn.RMSNorm {
		n := nn.NewRMSNorm(name, c)
		n.Eps = eps
		return n
	}
	m := &Llama{Cfg: cfg, Tok: nn.NewEmbedding(NameTokEmb, cfg.Vocab, C, rng)}
	for l := range cfg.Layers {
		bn := TransformerBlock(l)
		attn, err := nn.NewGQAttention(bn.Attn, C, cfg.Heads, cfg.KV(), cfg.Theta(), cfg.SubNorm, eps, proj)
		if err != nil {
			return nil, err
		}
		ffn, err := nn.NewGatedFFN(bn.FFN, C, cfg.FFN, string(cfg.FFNAct), cfg.SubNorm, eps, proj)
		if err != nil {
			return nil, err
		}
		m.Blocks = append(m.Blocks, &LlamaLayer{Ln1: norm(bn.Ln1, C), Ln2: norm(bn.Ln2, C), Attn: attn, FFN: ffn})
	}
	m.LnF = norm(NameLnF, C)
	if !cfg.TieEmbeddings {
		m.Head = nn.NewLinear(NameLMHead, C, cfg.Vocab, false, rng)
	}
	return m, nil
}

// Params returns every parameter in the order of LlamaTensors.
func (m *Llama) Params() []*nn.Param {
	ps := append([]*nn.Param{}, m.Tok.Params()...)
	for _, b := range m.Blocks {
		ps = append(ps, b.Ln1.Params()...)
		ps = append(ps, b.Attn.Params()...)
		ps = append(ps, b.Ln2.Params()...)
		ps = append(ps, b.FFN.Params()...)
	}
	ps = append(ps, m.LnF.Params()...)
	if m.Head != nil {
		ps = append(ps, m.Head.Params()...)
	}
	return ps
}

// Projections returns the attention and FFN projections (packing finds the BitLinears through it).
func (m *Llama) Projections() []nn.Projection {
	var out []nn.Projection
	for _, b := range m.Blocks {
		out = append(out, b.Attn.Q, b.Attn.K, b.Attn.V, b.Attn.O, b.FFN.Gate, b.FFN.Up, b.FFN.Down)
	}
	return out
}

// Config returns the architecture.
func (m *Llama) Config() Config { return m.Cfg }

// SetTraining does nothing: the Llama family has no dropout.
func (m *Llama) SetTraining(bool, *tensor.RNG) {}

// Forward maps ids (B, T) to logits (B, T, V), owned by the model until the next Forward.
func (m *Llama) Forward(ids []int32, b, t int) ([]float32, error) {
	cfg := m.Cfg
	C, V, n := cfg.Hidden, cfg.Vocab, b*t
	if b <= 0 || t <= 0 || len(ids) != n {
		return nil, fmt.Errorf("model: Forward: %d ids for batch %d x length %d", len(ids), b, t)
	}
	if t > cfg.MaxPos {
		return nil, fmt.Errorf("model: sequence length %d exceeds max_pos %d", t, cfg.MaxPos)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= V {
			return nil, fmt.Errorf("model: token id %d at position %d outside vocabulary [0, %d)", id, i, V)
		}
	}
	m.b, m.t = b, t
	x := m.Tok.Forward(ids, n)
	for _, blk := range m.Blocks {
		x = blk.forward(x, b, t, C)
	}
	m.h = m.LnF.Forward(x, n)
	if m.Head != nil {
		m.logits = m.Head.Forward(m.h, n)
		return m.logits, nil
	}
	m.logits = tensor.Grow(m.logits, n*V)
	nn.Matmul(false, true, n, V, C, 1, m.h, C, m.Tok.W.W, C, 0, m.logits, V) // h · tokᵀ
	return m.logits, nil
}

func (blk *LlamaLayer) forward(x []float32, b, t, C int) []float32 {
	n := b * t
	blk.res1 = tensor.Grow(blk.res1, n*C)
	add(blk.res1, x, blk.Attn.Forward(blk.Ln1.Forward(x, n), b, t))
	blk.res2 = tensor.Grow(blk.res2, n*C)
	add(blk.res2, blk.res1, blk.FFN.Forward(blk.Ln2.Forward(blk.res1, n), n))
	return blk.res2
}

// Backward takes dlogits (B, T, V) of the last Forward and accumulates every parameter's gradient.
func (m *Llama) Backward(dlogits []float32) {
	C, V, n := m.Cfg.Hidden, m.Cfg.Vocab, m.b*m.t
	var dh []float32
	if m.Head != nil {
		dh = m.Head.Backward(dlogits)
	} else {
		m.dh = tensor.Grow(m.dh, n*C)
		// dh (N, C) = dlogits (N, V) · tok (V, C);  dtok (V, C) += dlogitsᵀ (V, N) · h (N, C)
		nn.Matmul(false, false, n, C, V, 1, dlogits, V, m.Tok.W.W, C, 0, m.dh, C)
		nn.Matmul(true, false, V, C, n, 1, dlogits, V, m.h, C, 1, m.Tok.W.Grad(), C)
		dh = m.dh
	}
	dx := m.LnF.Backward(dh)
	for i := len(m.Blocks) - 1; i >= 0; i-- {
		dx = m.Blocks[i].backward(dx, n, C)
	}
	m.Tok.Backward(dx)
}

func (blk *LlamaLayer) backward(dout []float32, n, C int) []float32 {
	blk.dres1 = tensor.Grow(blk.dres1, n*C)
	add(blk.dres1, dout, blk.Ln2.Backward(blk.FFN.Backward(dout)))
	blk.dx = tensor.Grow(blk.dx, n*C)
	add(blk.dx, blk.dres1, blk.Ln1.Backward(blk.Attn.Backward(blk.dres1)))
	return blk.dx
}
