package model

// Transformer: GPT-style causal LM or BERT-style bidirectional encoder, pre-LN blocks.
//
//   x = tok[ids] + pos[t] (+ type[seg])                       (B, T, C)
//   for each block: x = x + attn(ln1(x)); x = x + ffn(ln2(x))
//   logits = lnf(x) · Wᵀ, W = tok (tied) or a separate head   (B, T, V)
//
// Pre-LN (GPT-2 / nanoGPT) rather than BERT's post-LN: it trains stably without warmup tricks at every
// depth, and it is the layout of ../shared/peers/torch_train_bench.py, our speed baseline. BitLinear
// replaces the attention and FFN projections; embeddings and the head stay fp32 (BitNet b1.58 recipe).
//
// References: GPT-2 (Radford et al. 2019), BERT (https://arxiv.org/abs/1810.04805),
// BitNet b1.58 (https://arxiv.org/abs/2402.17764), nanoGPT model.py.

import (
	"fmt"

	"tern/nn"
	"tern/tensor"
)

// layer is what norms, FFNs and other row-wise layers share.
type layer interface {
	Forward(inp []float32, n int) []float32
	Backward(dout []float32) []float32
	Params() []*nn.Param
}

// Block is one pre-LN transformer block.
type Block struct {
	Ln1, Ln2 layer
	Attn     *nn.Attention
	FFN      *nn.FFN
	Drop1    nn.Dropout // on the attention output
	Drop2    nn.Dropout // on the FFN output

	res1, res2 []float32 // (B, T, C) residual stream after attention and after the FFN
	dres1, dx  []float32 // (B, T, C) gradients
}

// Transformer is the model. Params are reachable through Params(); sharing is pointer identity.
type Transformer struct {
	Cfg    Config
	Tok    *nn.Embedding // (V', C) token embeddings (V' = V, or V+1 with [MASK])
	Pos    *nn.Embedding // (MaxPos, C)
	Type   *nn.Embedding // (TypeVocab, C) or nil
	Blocks []*Block
	LnF    layer
	Head   *nn.Linear // (V, C), nil when tied
	DropE  nn.Dropout // on the embedding sum

	// training enables dropout, drawing masks from dropRNG (owned by the trainer, saved in checkpoints).
	training bool
	dropRNG  *tensor.RNG

	slots []string // names of Params() before sharing (SlotNames)

	// KeepHidden makes Forward keep each block's output in Hidden (for probing and task heads).
	KeepHidden bool
	Hidden     [][]float32 // L+1 slices (B, T, C): embeddings, then each block

	b, t   int
	x      []float32 // (B, T, C) embedding sum
	posIDs []int32   // (B*T)
	h      []float32 // (B, T, C) final normed hidden (owned by LnF)
	logits []float32 // (B, T, V)
	dh     []float32 // (B, T, C)
}

// NewTransformer builds the model with weights drawn from rng (normal(0, 0.02), GPT-2's init).
func NewTransformer(cfg Config, rng *tensor.RNG) (*Transformer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Type != TypeTransformer {
		return nil, fmt.Errorf("model: NewTransformer got type %q", cfg.Type)
	}
	C := cfg.Hidden
	m := &Transformer{Cfg: cfg}
	m.Tok = nn.NewEmbedding(NameTokEmb, cfg.InputVocab(), C, rng)
	m.Pos = nn.NewEmbedding(NamePosEmb, cfg.MaxPos, C, rng)
	if cfg.TypeVocab > 0 {
		m.Type = nn.NewEmbedding(NameTypeEmb, cfg.TypeVocab, C, rng)
	}
	proj := nn.LinearProj(rng, cfg.Bias)
	if cfg.Linear == LinearBitNet {
		proj = nn.BitLinearProj(rng, cfg.Bias)
	}
	for l := 0; l < cfg.Layers; l++ {
		bn := TransformerBlock(l)
		attn, err := nn.NewSelfAttention(bn.Attn, C, cfg.Heads, cfg.Objective == ObjCausal, cfg.Bias, proj)
		if err != nil {
			return nil, err
		}
		m.Blocks = append(m.Blocks, &Block{
			Ln1:   newNorm(cfg, bn.Ln1),
			Ln2:   newNorm(cfg, bn.Ln2),
			Attn:  attn,
			FFN:   nn.NewFFN(bn.FFN, C, cfg.FFN, proj),
			Drop1: nn.Dropout{P: float32(cfg.Dropout)},
			Drop2: nn.Dropout{P: float32(cfg.Dropout)},
		})
	}
	m.LnF = newNorm(cfg, NameLnF)
	m.DropE = nn.Dropout{P: float32(cfg.Dropout)}
	if !cfg.TieEmbeddings {
		m.Head = nn.NewLinear(NameLMHead, C, cfg.Vocab, false, rng)
	}
	// Sharing: every layer was built (and its RNG draws made) as if unique, so a shared model starts
	// from the owners' unshared initialization; then slots are re-pointed (sharing.go).
	m.slots = paramNames(m.Params())
	plan, err := cfg.Sharing.Plan(cfg.Layers)
	if err != nil {
		return nil, err
	}
	if err := applyPlan(m.Blocks, plan); err != nil {
		return nil, err
	}
	return m, nil
}

func newNorm(cfg Config, name string) layer {
	if cfg.Norm == NormRMS {
		return nn.NewRMSNorm(name, cfg.Hidden)
	}
	return nn.NewLayerNorm(name, cfg.Hidden)
}

// Params returns every parameter slot in a fixed order (shared params appear once per use;
// nn.Unique removes repeats).
func (m *Transformer) Params() []*nn.Param {
	ps := append([]*nn.Param{}, m.Tok.Params()...)
	ps = append(ps, m.Pos.Params()...)
	if m.Type != nil {
		ps = append(ps, m.Type.Params()...)
	}
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

// Forward runs ids (B, T) (and optional token types, (B, T) or nil, and key padding mask, (B, T) true =
// padding, or nil) and returns logits (B, T, V), owned by the model until the next Forward. It is
// ForwardHidden (transformer_hidden.go: embeddings, blocks, final norm) followed by the LM head.
func (m *Transformer) Forward(ids, types []int32, pad []bool, b, t int) ([]float32, error) {
	C, V, n := m.Cfg.Hidden, m.Cfg.Vocab, b*t
	if _, err := m.ForwardHidden(ids, types, pad, b, t); err != nil {
		return nil, err
	}
	if m.Head != nil {
		m.logits = m.Head.Forward(m.h, n)
		return m.logits, nil
	}
	m.logits = tensor.Grow(m.logits, n*V)
	// logits (N, V) = h (N, C) · tokᵀ (V, C); the [MASK] row of an MLM table is not an output class.
	nn.Matmul(false, true, n, V, C, 1, m.h, C, m.Tok.W.W, C, 0, m.logits, V)
	return m.logits, nil
}

func (blk *Block) forward(x []float32, pad []bool, b, t, C int, training bool, rng *tensor.RNG) []float32 {
	n := b * t
	a := blk.Ln1.Forward(x, n)
	att := blk.Drop1.Forward(blk.Attn.Forward(a, b, t, pad), n*C, training, rng)
	blk.res1 = tensor.Grow(blk.res1, n*C)
	add(blk.res1, x, att)
	f := blk.Drop2.Forward(blk.FFN.Forward(blk.Ln2.Forward(blk.res1, n), n), n*C, training, rng)
	blk.res2 = tensor.Grow(blk.res2, n*C)
	add(blk.res2, blk.res1, f)
	return blk.res2
}

// Backward takes dlogits (B, T, V) for the last Forward and accumulates every parameter's gradient.
func (m *Transformer) Backward(dlogits []float32) {
	C, V, n := m.Cfg.Hidden, m.Cfg.Vocab, m.b*m.t
	if m.Head != nil {
		m.BackwardHidden(m.Head.Backward(dlogits))
		return
	}
	m.dh = tensor.Grow(m.dh, n*C)
	// dh (N, C) = dlogits (N, V) · tok (V, C);  dtok (V, C) += dlogitsᵀ (V, N) · h (N, C)
	nn.Matmul(false, false, n, C, V, 1, dlogits, V, m.Tok.W.W, C, 0, m.dh, C)
	nn.Matmul(true, false, V, C, n, 1, dlogits, V, m.h, C, 1, m.Tok.W.Grad(), C)
	m.BackwardHidden(m.dh)
}

func (blk *Block) backward(dout []float32, n, C int) []float32 {
	// res2 = res1 + ffn(ln2(res1))
	blk.dres1 = tensor.Grow(blk.dres1, n*C)
	add(blk.dres1, dout, blk.Ln2.Backward(blk.FFN.Backward(blk.Drop2.Backward(dout))))
	// res1 = x + attn(ln1(x))
	blk.dx = tensor.Grow(blk.dx, n*C)
	add(blk.dx, blk.dres1, blk.Ln1.Backward(blk.Attn.Backward(blk.Drop1.Backward(blk.dres1))))
	return blk.dx
}

func add(dst, a, b []float32) {
	_ = a[len(dst)-1]
	_ = b[len(dst)-1]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// SetTraining turns dropout on (masks drawn from rng) or off.
func (m *Transformer) SetTraining(on bool, rng *tensor.RNG) { m.training, m.dropRNG = on, rng }
