package model

// EncDec: an encoder-decoder transformer (type "encdec", objective "seq2seq"), pre-LN throughout.
//
//   row of ids (T): source (Ts, PadID-padded) | BOSID | decoder input (Tt-1)   (Tt = T - Ts)
//   encoder: x = tok[src] + enc_pos[t]; L blocks of bidirectional self-attn + FFN (padding masked);
//            mem = ln_enc(x)                                                   (B, Ts, C)
//   decoder: y = tok[dec] + dec_pos[t]; per block y += causal_self(ln1(y)); y += cross(ln2(y), mem);
//            y += ffn(ln3(y));  logits = ln_f(y) · Wᵀ, W = tok (tied) or a head   (B, Tt, V)
//
// Source and target travel in one (B, T) row so that the model is an LM to the trainer and the file
// code: Forward returns (B, T, V) logits whose source rows are zero (the trainer gives them target -1)
// and whose row Ts+j predicts target token j. The split Ts is where BOSID stands, the same in every row.
// Encoder and decoder read one token table through two Embedding objects that hold the same *nn.Param
// (a shared tensor, separate forward caches), as T5 and BART share their input embeddings.
//
// References: Vaswani et al. 2017 (https://arxiv.org/abs/1706.03762), BART
// (https://arxiv.org/abs/1910.13461), T5 (https://arxiv.org/abs/1910.10683).

import (
	"fmt"

	"tern/kernels"
	"tern/nn"
	"tern/tensor"
)

// DecBlock is one pre-LN decoder block.
type DecBlock struct {
	Ln1, Ln2, Ln3 layer
	Self          *nn.Attention // causal self-attention
	Cross         *nn.Attention // attends to the encoder memory; never shared across stacks
	FFN           *nn.FFN

	res1, res2, res3 []float32 // (B, Tt, C)
	dres1, dres2, dx []float32 // (B, Tt, C)
}

// EncDec is the encoder-decoder model.
type EncDec struct {
	Cfg    Config
	TokEnc *nn.Embedding // (V+3, C)
	TokDec *nn.Embedding // same weight as TokEnc, own caches
	EncPos *nn.Embedding // (MaxPos, C)
	DecPos *nn.Embedding // (MaxPos, C)
	Enc    []*Block
	LnE    layer
	Dec    []*DecBlock
	LnF    layer
	Head   *nn.Linear // (V, C), nil when tied

	slots []string

	training bool        // dropout on (encoder blocks; decoder blocks have none yet)
	dropRNG  *tensor.RNG // dropout masks, owned by the trainer

	b, t, ts, tt int
	src, dec     []int32   // (B*Ts), (B*Tt)
	pad          []bool    // (B, Ts) true = padding
	posE, posD   []int32   // (B*Ts), (B*Tt)
	xe, xd       []float32 // (B, Ts, C), (B, Tt, C) embedding sums
	mem          []float32 // (B, Ts, C) owned by LnE
	dmem         []float32 // (B, Ts, C)
	h            []float32 // (B, Tt, C) owned by LnF
	dlog         []float32 // (B, Tt, V) decoder rows of dlogits (tied head)
	logitsD      []float32 // (B, Tt, V) tied head output
	logits       []float32 // (B, T, V)
	dh           []float32 // (B, Tt, C)
}

// NewEncDec builds the model (normal(0, 0.02) init as NewTransformer) and applies cfg.Sharing.
func NewEncDec(cfg Config, rng *tensor.RNG) (*EncDec, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Type != TypeEncDec {
		return nil, fmt.Errorf("model: NewEncDec got type %q", cfg.Type)
	}
	C := cfg.Hidden
	m := &EncDec{Cfg: cfg}
	m.TokEnc = nn.NewEmbedding(NameTokEmb, cfg.InputVocab(), C, rng)
	m.TokDec = nn.NewEmbedding(NameDecTokEmb, cfg.InputVocab(), C, nil)
	m.EncPos = nn.NewEmbedding(NameEncPosEmb, cfg.MaxPos, C, rng)
	m.DecPos = nn.NewEmbedding(NameDecPosEmb, cfg.MaxPos, C, rng)
	proj := nn.LinearProj(rng, cfg.Bias)
	if cfg.Linear == LinearBitNet {
		proj = nn.BitLinearProj(rng, cfg.Bias)
	}
	for l := 0; l < cfg.Layers; l++ {
		bn := EncoderBlock(l)
		attn, err := nn.NewSelfAttention(bn.Attn, C, cfg.Heads, false, cfg.Bias, proj)
		if err != nil {
			return nil, err
		}
		m.Enc = append(m.Enc, &Block{Ln1: newNorm(cfg, bn.Ln1), Ln2: newNorm(cfg, bn.Ln2), Attn: attn,
			FFN: nn.NewFFN(bn.FFN, C, cfg.FFN, proj)})
	}
	m.LnE = newNorm(cfg, NameLnEnc)
	for l := 0; l < cfg.Decoders(); l++ {
		bn := DecoderBlock(l)
		self, err := nn.NewSelfAttention(bn.Attn, C, cfg.Heads, true, cfg.Bias, proj)
		if err != nil {
			return nil, err
		}
		cross, err := nn.NewCrossAttention(bn.Cross, C, cfg.Heads, false, cfg.Bias, proj)
		if err != nil {
			return nil, err
		}
		m.Dec = append(m.Dec, &DecBlock{Ln1: newNorm(cfg, bn.Ln1), Ln2: newNorm(cfg, bn.LnCross),
			Ln3: newNorm(cfg, bn.Ln2), Self: self, Cross: cross, FFN: nn.NewFFN(bn.FFN, C, cfg.FFN, proj)})
	}
	m.LnF = newNorm(cfg, NameLnF)
	if !cfg.TieEmbeddings {
		m.Head = nn.NewLinear(NameLMHead, C, cfg.Vocab, false, rng)
	}
	m.slots = paramNames(m.Params())
	m.TokDec.W = m.TokEnc.W
	if err := m.applySharing(); err != nil {
		return nil, err
	}
	return m, nil
}

// applySharing re-points encoder slots by the plan, then decoder slots: a decoder layer named in
// Sharing.Decoder takes the matching encoder layer's self-attention and FFN (and norms with Norms),
// otherwise its owner within the decoder stack; cross-attention stays unique.
func (m *EncDec) applySharing() error {
	sp := m.Cfg.Sharing
	pe, err := sp.Plan(len(m.Enc))
	if err != nil {
		return err
	}
	if err := applyPlan(m.Enc, pe); err != nil {
		return err
	}
	pd, err := sp.Plan(len(m.Dec))
	if err != nil {
		return err
	}
	cross, err := sp.DecoderShared(len(m.Enc), len(m.Dec))
	if err != nil {
		return err
	}
	for i, d := range m.Dec {
		var e *Block
		if cross[i] {
			e = m.Enc[i]
			if err := ShareAttention(d.Self, e.Attn); err != nil {
				return err
			}
			if err := ShareFFN(d.FFN, e.FFN); err != nil {
				return err
			}
			if sp.Norms {
				if err := shareNorm(d.Ln1, e.Ln1); err != nil {
					return err
				}
				if err := shareNorm(d.Ln3, e.Ln2); err != nil {
					return err
				}
			}
			continue
		}
		if o := pd.Attn[i]; o != i {
			if err := ShareAttention(d.Self, m.Dec[o].Self); err != nil {
				return err
			}
		}
		if o := pd.FFN[i]; o != i {
			if err := ShareFFN(d.FFN, m.Dec[o].FFN); err != nil {
				return err
			}
		}
		if o := pd.Ln1[i]; o != i {
			if err := shareNorm(d.Ln1, m.Dec[o].Ln1); err != nil {
				return err
			}
		}
		if o := pd.Ln2[i]; o != i {
			if err := shareNorm(d.Ln3, m.Dec[o].Ln3); err != nil {
				return err
			}
		}
	}
	return nil
}

// Params lists every slot: token table (encoder use, decoder use), positions, encoder blocks, encoder
// norm, decoder blocks, final norm, head.
func (m *EncDec) Params() []*nn.Param {
	ps := []*nn.Param{m.TokEnc.W, m.TokDec.W, m.EncPos.W, m.DecPos.W}
	for _, b := range m.Enc {
		ps = append(ps, b.Ln1.Params()...)
		ps = append(ps, b.Attn.Params()...)
		ps = append(ps, b.Ln2.Params()...)
		ps = append(ps, b.FFN.Params()...)
	}
	ps = append(ps, m.LnE.Params()...)
	for _, b := range m.Dec {
		ps = append(ps, b.Ln1.Params()...)
		ps = append(ps, b.Self.Params()...)
		ps = append(ps, b.Ln2.Params()...)
		ps = append(ps, b.Cross.Params()...)
		ps = append(ps, b.Ln3.Params()...)
		ps = append(ps, b.FFN.Params()...)
	}
	ps = append(ps, m.LnF.Params()...)
	if m.Head != nil {
		ps = append(ps, m.Head.Params()...)
	}
	return ps
}

// SlotNames lists the names of Params() before sharing.
func (m *EncDec) SlotNames() []string { return m.slots }

// Config returns the architecture.
func (m *EncDec) Config() Config { return m.Cfg }

// Split returns Ts, the position of BOSID in each row of ids (B, T), or an error when rows disagree
// or have none.
func (m *EncDec) Split(ids []int32, b, t int) (int, error) {
	bos := int32(m.Cfg.BOSID())
	ts := -1
	for j := 0; j < t; j++ {
		if ids[j] == bos {
			ts = j
			break
		}
	}
	if ts < 1 {
		return 0, fmt.Errorf("model: encdec row 0 has no source followed by BOS (id %d): want source | BOS | target", bos)
	}
	for r := 1; r < b; r++ {
		if ids[r*t+ts] != bos {
			return 0, fmt.Errorf("model: encdec row %d has no BOS at position %d (every row must split at the same place)", r, ts)
		}
	}
	return ts, nil
}

// Forward runs ids (B, T) = source | BOS | target-so-far and returns logits (B, T, V): zeros over the
// source, then one row per decoder position. Owned by the model until the next Forward.
func (m *EncDec) Forward(ids []int32, b, t int) ([]float32, error) {
	cfg := m.Cfg
	C, V := cfg.Hidden, cfg.Vocab
	if len(ids) != b*t {
		return nil, fmt.Errorf("model: Forward: ids has %d tokens, want B*T = %d*%d", len(ids), b, t)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= cfg.InputVocab() {
			return nil, fmt.Errorf("model: token id %d at position %d outside vocabulary [0, %d)", id, i, cfg.InputVocab())
		}
	}
	ts, err := m.Split(ids, b, t)
	if err != nil {
		return nil, err
	}
	tt := t - ts
	if ts > cfg.MaxPos || tt > cfg.MaxPos {
		return nil, fmt.Errorf("model: source %d / target %d tokens exceed max_pos %d", ts, tt, cfg.MaxPos)
	}
	m.b, m.t, m.ts, m.tt = b, t, ts, tt
	ne, nd := b*ts, b*tt
	m.src, m.dec = tensor.Grow(m.src, ne), tensor.Grow(m.dec, nd)
	if cap(m.pad) < ne {
		m.pad = make([]bool, ne)
	}
	m.pad = m.pad[:ne]
	pad := int32(cfg.PadID())
	anyPad := false
	for r := 0; r < b; r++ {
		copy(m.src[r*ts:(r+1)*ts], ids[r*t:r*t+ts])
		copy(m.dec[r*tt:(r+1)*tt], ids[r*t+ts:(r+1)*t])
		for j := 0; j < ts; j++ {
			m.pad[r*ts+j] = m.src[r*ts+j] == pad
			anyPad = anyPad || m.pad[r*ts+j]
		}
	}
	var padMask []bool
	if anyPad {
		padMask = m.pad
	}
	m.posE, m.posD = positions(m.posE, b, ts), positions(m.posD, b, tt)

	m.encode(padMask, b, ts)

	// decoder
	m.xd = tensor.Grow(m.xd, nd*C)
	copy(m.xd, m.TokDec.Forward(m.dec, nd))
	kernels.AddInPlace(m.xd, m.DecPos.Forward(m.posD, nd)[:nd*C])
	y := m.xd
	for _, blk := range m.Dec {
		y = blk.forward(y, m.mem, padMask, b, tt, ts, C)
	}
	m.h = m.LnF.Forward(y, nd)
	var ld []float32
	if m.Head != nil {
		ld = m.Head.Forward(m.h, nd)
	} else {
		m.logitsD = tensor.Grow(m.logitsD, nd*V)
		nn.Matmul(false, true, nd, V, C, 1, m.h, C, m.TokEnc.W.W, C, 0, m.logitsD, V)
		ld = m.logitsD
	}
	m.logits = tensor.Grow(m.logits, b*t*V)
	for r := 0; r < b; r++ {
		clear(m.logits[r*t*V : (r*t+ts)*V])
		copy(m.logits[(r*t+ts)*V:(r+1)*t*V], ld[r*tt*V:(r+1)*tt*V])
	}
	return m.logits, nil
}

// encode runs the encoder over m.src (B, Ts) at positions m.posE into m.mem (B, Ts, C).
func (m *EncDec) encode(padMask []bool, b, ts int) {
	C, ne := m.Cfg.Hidden, b*ts
	m.xe = tensor.Grow(m.xe, ne*C)
	copy(m.xe, m.TokEnc.Forward(m.src, ne))
	kernels.AddInPlace(m.xe, m.EncPos.Forward(m.posE, ne)[:ne*C])
	x := m.xe
	for _, blk := range m.Enc {
		x = blk.forward(x, padMask, b, ts, C, m.training, m.dropRNG)
	}
	m.mem = m.LnE.Forward(x, ne)
}

// Encode runs the encoder alone over one source (Ts ids, no BOS) and returns its memory (Ts, C), owned
// by the model until its next Forward or Encode, and the source's padding mask (Ts; nil when no
// position is PadID): what every decoder position attends to, the same as Forward computes for a row
// with this source. Incremental decoders (package infer) encode a source once and keep the result.
func (m *EncDec) Encode(src []int32) (mem []float32, pad []bool, err error) {
	cfg, ts := m.Cfg, len(src)
	if ts < 1 || ts > cfg.MaxPos {
		return nil, nil, fmt.Errorf("model: encode: source of %d tokens, want 1 to max_pos %d", ts, cfg.MaxPos)
	}
	m.src, m.pad = tensor.Grow(m.src, ts), make([]bool, ts)
	anyPad := false
	for j, id := range src {
		if id < 0 || int(id) >= cfg.InputVocab() || int(id) == cfg.BOSID() {
			return nil, nil, fmt.Errorf("model: encode: source token %d at position %d is BOS or outside vocabulary [0, %d)", id, j, cfg.InputVocab())
		}
		m.src[j], m.pad[j] = id, int(id) == cfg.PadID()
		anyPad = anyPad || m.pad[j]
	}
	if !anyPad {
		m.pad = nil
	}
	m.posE = positions(m.posE, 1, ts)
	m.encode(m.pad, 1, ts)
	return m.mem, m.pad, nil
}

func (blk *DecBlock) forward(x, mem []float32, memPad []bool, b, tt, ts, C int) []float32 {
	n := b * tt
	s := blk.Self.Forward(blk.Ln1.Forward(x, n), b, tt, nil)
	blk.res1 = tensor.Grow(blk.res1, n*C)
	add(blk.res1, x, s)
	c := blk.Cross.ForwardCross(blk.Ln2.Forward(blk.res1, n), b, tt, mem, ts, memPad)
	blk.res2 = tensor.Grow(blk.res2, n*C)
	add(blk.res2, blk.res1, c)
	f := blk.FFN.Forward(blk.Ln3.Forward(blk.res2, n), n)
	blk.res3 = tensor.Grow(blk.res3, n*C)
	add(blk.res3, blk.res2, f)
	return blk.res3
}

// Backward takes dlogits (B, T, V) of the last Forward (source rows are ignored) and accumulates
// every parameter's gradient, through the decoder, the cross-attention memory and the encoder.
func (m *EncDec) Backward(dlogits []float32) {
	cfg := m.Cfg
	C, V := cfg.Hidden, cfg.Vocab
	b, t, ts, tt := m.b, m.t, m.ts, m.tt
	ne, nd := b*ts, b*tt
	m.dlog = tensor.Grow(m.dlog, nd*V)
	for r := 0; r < b; r++ {
		copy(m.dlog[r*tt*V:(r+1)*tt*V], dlogits[(r*t+ts)*V:(r+1)*t*V])
	}
	var dy []float32
	if m.Head != nil {
		dy = m.LnF.Backward(m.Head.Backward(m.dlog))
	} else {
		m.dh = tensor.Grow(m.dh, nd*C)
		nn.Matmul(false, false, nd, C, V, 1, m.dlog, V, m.TokEnc.W.W, C, 0, m.dh, C)
		nn.Matmul(true, false, V, C, nd, 1, m.dlog, V, m.h, C, 1, m.TokEnc.W.Grad(), C)
		dy = m.LnF.Backward(m.dh)
	}
	m.dmem = tensor.Grow(m.dmem, ne*C)
	clear(m.dmem)
	for l := len(m.Dec) - 1; l >= 0; l-- {
		dy = m.Dec[l].backward(dy, m.dmem, nd, C)
	}
	m.TokDec.Backward(dy)
	m.DecPos.Backward(dy)
	dx := m.LnE.Backward(m.dmem)
	for l := len(m.Enc) - 1; l >= 0; l-- {
		dx = m.Enc[l].backward(dx, ne, C)
	}
	m.TokEnc.Backward(dx)
	m.EncPos.Backward(dx)
}

// backward returns dx (B, Tt, C) for dout and adds this block's memory gradient into dmem.
func (blk *DecBlock) backward(dout, dmem []float32, n, C int) []float32 {
	// res3 = res2 + ffn(ln3(res2))
	blk.dres2 = tensor.Grow(blk.dres2, n*C)
	add(blk.dres2, dout, blk.Ln3.Backward(blk.FFN.Backward(dout)))
	// res2 = res1 + cross(ln2(res1), mem)
	dc, dm := blk.Cross.BackwardCross(blk.dres2)
	kernels.AddInPlace(dmem, dm[:len(dmem)])
	blk.dres1 = tensor.Grow(blk.dres1, n*C)
	add(blk.dres1, blk.dres2, blk.Ln2.Backward(dc))
	// res1 = x + self(ln1(x))
	blk.dx = tensor.Grow(blk.dx, n*C)
	add(blk.dx, blk.dres1, blk.Ln1.Backward(blk.Self.Backward(blk.dres1)))
	return blk.dx
}

// positions returns 0..t-1 repeated b times in buf.
func positions(buf []int32, b, t int) []int32 {
	buf = tensor.Grow(buf, b*t)
	for i := range buf {
		buf[i] = int32(i % t)
	}
	return buf
}

// SetTraining turns dropout on (masks drawn from rng) or off.
func (m *EncDec) SetTraining(on bool, rng *tensor.RNG) { m.training, m.dropRNG = on, rng }
