package model

// RNN LM: x = emb[ids]; h = LSTM/GRU stack(x); logits = h · Wᵀ (W = emb when tied, else a head).
// Each Forward starts from a zero state: the trainer samples independent windows, so backpropagation
// through time is truncated at the window length T. With linear "bitnet" the gate projections (W_ih,
// W_hh of every layer) are quantized as BitLinear's (nn.LSTM.SetQuantized); the embedding and head stay
// fp32, as in the transformer.

import (
	"fmt"

	"tern/nn"
	"tern/tensor"
)

// RNN is a recurrent language model.
type RNN struct {
	Cfg  Config
	Emb  *nn.Embedding // (V, C)
	LSTM *nn.LSTM      // one of LSTM, GRU is set
	GRU  *nn.GRU
	Head *nn.Linear // (V, C), nil when tied

	b, t   int
	h      []float32 // (B, T, C) top-layer outputs
	logits []float32
	dh     []float32
}

// NewRNN builds an LSTM or GRU LM.
func NewRNN(cfg Config, rng *tensor.RNG) (*RNN, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &RNN{Cfg: cfg}
	m.Emb = nn.NewEmbedding(NameTokEmb, cfg.Vocab, cfg.Hidden, rng)
	q := cfg.Linear == LinearBitNet
	if cfg.Cell == CellLSTM {
		m.LSTM = nn.NewLSTM("lstm", cfg.Hidden, cfg.Hidden, cfg.Layers, rng)
		m.LSTM.SetQuantized(q)
	} else {
		m.GRU = nn.NewGRU("gru", cfg.Hidden, cfg.Hidden, cfg.Layers, rng)
		m.GRU.SetQuantized(q)
	}
	if !cfg.TieEmbeddings {
		m.Head = nn.NewLinear(NameLMHead, cfg.Hidden, cfg.Vocab, true, rng)
	}
	return m, nil
}

// SetTraining is a no-op: the RNN LM has no dropout (config dropout must be 0).
func (m *RNN) SetTraining(bool, *tensor.RNG) {}

// Config returns the architecture.
func (m *RNN) Config() Config { return m.Cfg }

// Params lists the parameters.
func (m *RNN) Params() []*nn.Param {
	ps := append([]*nn.Param{}, m.Emb.Params()...)
	if m.LSTM != nil {
		ps = append(ps, m.LSTM.Params()...)
	} else {
		ps = append(ps, m.GRU.Params()...)
	}
	if m.Head != nil {
		ps = append(ps, m.Head.Params()...)
	}
	return ps
}

// Forward maps ids (B, T) to logits (B, T, V).
func (m *RNN) Forward(ids []int32, b, t int) ([]float32, error) {
	C, V, n := m.Cfg.Hidden, m.Cfg.Vocab, b*t
	if len(ids) != n {
		return nil, fmt.Errorf("model: Forward: ids has %d tokens, want B*T = %d*%d", len(ids), b, t)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= V {
			return nil, fmt.Errorf("model: token id %d at position %d outside vocabulary [0, %d)", id, i, V)
		}
	}
	m.b, m.t = b, t
	x := m.Emb.Forward(ids, n)
	if m.LSTM != nil {
		m.h, _, _ = m.LSTM.Forward(x, b, t, nil, nil)
	} else {
		m.h, _ = m.GRU.Forward(x, b, t, nil)
	}
	if m.Head != nil {
		m.logits = m.Head.Forward(m.h, n)
		return m.logits, nil
	}
	m.logits = tensor.Grow(m.logits, n*V)
	nn.Matmul(false, true, n, V, C, 1, m.h, C, m.Emb.W.W, C, 0, m.logits, V)
	return m.logits, nil
}

// Backward accumulates gradients for dlogits (B, T, V).
func (m *RNN) Backward(dlogits []float32) {
	C, V, n := m.Cfg.Hidden, m.Cfg.Vocab, m.b*m.t
	var dh []float32
	if m.Head != nil {
		dh = m.Head.Backward(dlogits)
	} else {
		m.dh = tensor.Grow(m.dh, n*C)
		nn.Matmul(false, false, n, C, V, 1, dlogits, V, m.Emb.W.W, C, 0, m.dh, C)
		nn.Matmul(true, false, V, C, n, 1, dlogits, V, m.h, C, 1, m.Emb.W.Grad(), C)
		dh = m.dh
	}
	var dx []float32
	if m.LSTM != nil {
		dx = m.LSTM.Backward(dh)
	} else {
		dx = m.GRU.Backward(dh)
	}
	m.Emb.Backward(dx)
}
