package model

// The Transformer as an encoder for task heads and for memory-lean LM scoring: ForwardHidden stops at
// the final norm and returns the hidden states (B, T, C), BackwardHidden takes their gradient, and
// Logits applies the LM head to a chosen set of rows only. Scoring a sliding window that predicts
// only its last Stride tokens then computes Stride·V logits instead of T·V (the head is the largest
// GEMM of a small model: V = 50257 against C = 128 is 10x the cost of the blocks).
//
// It reuses the blocks' forward/backward of transformer.go and the same saved state, so ForwardHidden
// and Forward must not be interleaved with one Backward.

import (
	"fmt"

	"tern/kernels"
	"tern/tensor"
)

// ForwardHidden runs ids (B, T) (token types (B, T) or nil, key padding mask (B, T) true = padding,
// or nil) through the embeddings, the blocks and the final norm, and returns the hidden states
// (B, T, C), owned by the model until the next forward.
func (m *Transformer) ForwardHidden(ids, types []int32, pad []bool, b, t int) ([]float32, error) {
	cfg := m.Cfg
	C, n := cfg.Hidden, b*t
	if b <= 0 || t <= 0 {
		return nil, fmt.Errorf("model: ForwardHidden: batch %d x length %d", b, t)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("model: ForwardHidden: ids has %d tokens, want B*T = %d*%d", len(ids), b, t)
	}
	if pad != nil && len(pad) != n {
		return nil, fmt.Errorf("model: ForwardHidden: padding mask has %d entries, want %d", len(pad), n)
	}
	if t > cfg.MaxPos {
		return nil, fmt.Errorf("model: sequence length %d exceeds max_pos %d", t, cfg.MaxPos)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= cfg.InputVocab() {
			return nil, fmt.Errorf("model: token id %d at position %d outside vocabulary [0, %d)", id, i, cfg.InputVocab())
		}
	}
	if types != nil {
		if len(types) != n {
			return nil, fmt.Errorf("model: token types have %d entries, want %d", len(types), n)
		}
		if m.Type == nil {
			types = nil // a model without segment embeddings ignores token types
		}
		for i, ty := range types {
			if ty < 0 || int(ty) >= cfg.TypeVocab {
				return nil, fmt.Errorf("model: token type %d at position %d outside [0, %d)", ty, i, cfg.TypeVocab)
			}
		}
	}
	m.b, m.t = b, t
	// positions are refilled every call: the same B*T with another T must not reuse stale ids
	m.posIDs = tensor.Grow(m.posIDs, n)
	for i := range m.posIDs {
		m.posIDs[i] = int32(i % t)
	}
	m.x = tensor.Grow(m.x, n*C)
	copy(m.x, m.Tok.Forward(ids, n))
	kernels.AddInPlace(m.x, m.Pos.Forward(m.posIDs, n)[:n*C])
	if m.Type != nil {
		if types == nil {
			types = make([]int32, n) // segment 0 (allocates, as Forward does, only when types are omitted)
		}
		kernels.AddInPlace(m.x, m.Type.Forward(types, n)[:n*C])
	}
	x := m.DropE.Forward(m.x, n*C, m.training, m.dropRNG)
	if m.KeepHidden {
		m.Hidden = append(m.Hidden[:0], x)
	}
	for _, blk := range m.Blocks {
		x = blk.forward(x, pad, b, t, C, m.training, m.dropRNG)
		if m.KeepHidden {
			m.Hidden = append(m.Hidden, x)
		}
	}
	m.h = m.LnF.Forward(x, n)
	return m.h, nil
}

// BackwardHidden takes dh (B, T, C), the gradient of the hidden states the last ForwardHidden
// returned, and accumulates every parameter's gradient (the LM head gets none).
func (m *Transformer) BackwardHidden(dh []float32) {
	C, n := m.Cfg.Hidden, m.b*m.t
	if len(dh) < n*C {
		panic(fmt.Sprintf("model: BackwardHidden: dh has %d elements, want %d", len(dh), n*C))
	}
	dx := m.LnF.Backward(dh[:n*C])
	for l := len(m.Blocks) - 1; l >= 0; l-- {
		dx = m.Blocks[l].backward(dx, n, C)
	}
	dx = m.DropE.Backward(dx)
	m.Tok.Backward(dx)
	m.Pos.Backward(dx)
	if m.Type != nil {
		m.Type.Backward(dx)
	}
}

// Logits applies the LM head to n rows of hidden states h (n, C) and writes dst (n, V), allocating it
// when too small; it returns dst. For inference only (nothing is saved for a backward).
func (m *Transformer) Logits(dst, h []float32, n int) []float32 {
	C, V := m.Cfg.Hidden, m.Cfg.Vocab
	if len(h) < n*C {
		panic(fmt.Sprintf("model: Logits: h has %d elements, want %d", len(h), n*C))
	}
	if cap(dst) < n*V {
		dst = make([]float32, n*V)
	}
	dst = dst[:n*V]
	if m.Head != nil {
		kernels.Sgemm(false, true, n, V, C, 1, h, C, m.Head.W.W, C, 0, dst, V)
		if m.Head.B != nil {
			for i := 0; i < n; i++ {
				row := dst[i*V : i*V+V]
				for j, b := range m.Head.B.W {
					row[j] += b
				}
			}
		}
		return dst
	}
	// the [MASK] row of an MLM table is not an output class: only the first V rows are used
	kernels.Sgemm(false, true, n, V, C, 1, h, C, m.Tok.W.W, C, 0, dst, V)
	return dst
}

// LoadTransformer reads a transformer model (or checkpoint) file, lets edit change the configuration
// before the model is built (e.g. switch Linear to "bitnet" for quantization-aware fine-tuning: the
// latent weights have the same names and shapes), and returns the model and its tokenizer spec.
func LoadTransformer(path string, edit func(*Config)) (*Transformer, string, error) {
	f, cfg, err := readFile(path)
	if err != nil {
		return nil, "", err
	}
	if cfg.Type != TypeTransformer {
		return nil, "", fmt.Errorf("model: %s is a %s model; task heads need a transformer", path, cfg.Type)
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := NewTransformer(cfg, tensor.NewRNG(0))
	if err != nil {
		return nil, "", fmt.Errorf("model: %s: %w", path, err)
	}
	if err := LoadParams(transformerLM{m}, f, path); err != nil {
		return nil, "", err
	}
	return m, f.Meta[MetaTokenizer], nil
}
