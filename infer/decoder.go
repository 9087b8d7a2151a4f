package infer

import (
	"context"
	"fmt"
	"slices"

	"tern/model"
)

// Decoder decodes up to Slots() sequences side by side, each in its own slot (a KV cache, or the
// tokens a recomputing model re-reads), for the server's scheduler: a sequence starts in a free slot
// with its prompt, then every Step feeds one token to each of any set of started slots. One goroutine
// drives a Decoder; logits it returns stay valid until its next call.
//
// Implementations: Batch (packed causal transformers: the slots' projections run as one batched
// product), LlamaBatch (the same for Llama-family models: GGUF, packed, or unpacked checkpoints packed
// in memory), KVDecoder and RNNDecoder (unpacked transformers, encoder-decoders and RNNs with
// incremental state) and Recompute (any training-path model, transformer with any sharing, RNN or
// encoder-decoder: each slot's sequence is run through the full forward per token, one slot after
// another, without an incremental cache).
type Decoder interface {
	Slots() int
	Vocab() int
	// PromptLimit is the longest prompt Start accepts. Room(slot) is the positions a started slot has
	// left: at 1 the token just sampled fills the context and the sequence ends there (so prompt and
	// completion together never exceed the context).
	PromptLimit() int
	Room(slot int) int
	// Start feeds prompt into slot (emptying it first) and returns the logits for the next token (V).
	Start(slot int, prompt []int) ([]float32, error)
	// Step feeds ids[i] to slots[i] and returns the next logits of each, row i for slots[i] (len(slots)·V).
	Step(slots []int, ids []int) ([]float32, error)
}

// ManyStarter is a Decoder that can start several slots in one pass (batched prefill): StartMany feeds
// prompts[i] into slots[i] (each emptied first) and returns the logits for each slot's next token,
// row i for slots[i] (len(slots)·V), each equal to what Start would return for it.
type ManyStarter interface {
	StartMany(slots []int, prompts [][]int) ([]float32, error)
}

// Resumer is a Decoder whose slots keep their caches between requests, so a prompt that begins with
// tokens a slot was fed before (a conversation's earlier turns, a shared system prompt) needs only the
// rest prefilled. ResumeMany keeps the first keep[i] positions of slots[i]'s cache (which must hold
// that many: the caller tracks what it fed), drops the rest, and feeds rests[i] (at least one token)
// from there, all in one pass; row i of the result is the logits Start(slots[i], prefix+rests[i])
// would give, where prefix is the kept tokens.
type Resumer interface {
	ResumeMany(slots []int, keep []int, rests [][]int) ([]float32, error)
}

// checkResume is the argument check both batches' ResumeMany make, over n slots whose positions
// held pos gives: matching lengths, each slot once and in range, keep within what it holds, and at
// least one token to feed.
func checkResume(slots, keep []int, rests [][]int, n int, pos func(slot int) int) error {
	if len(keep) != len(slots) || len(rests) != len(slots) {
		return fmt.Errorf("batch: %d slots, %d kept lengths, %d prompts", len(slots), len(keep), len(rests))
	}
	for i, sl := range slots {
		if sl < 0 || sl >= n {
			return fmt.Errorf("slot %d outside [0, %d)", sl, n)
		}
		if slices.Contains(slots[:i], sl) {
			return fmt.Errorf("batch: slot %d given twice", sl)
		}
		switch k := keep[i]; {
		case k < 0 || k > pos(sl):
			return fmt.Errorf("slot %d holds %d positions: cannot keep %d", sl, pos(sl), k)
		case len(rests[i]) == 0:
			return fmt.Errorf("slot %d: nothing to feed after the %d kept positions", sl, k)
		}
	}
	return nil
}

// Recompute is a Decoder over a training-path model: Start and Step rerun the model's forward over
// the slot's whole sequence and keep the last row. Costly per token (no KV cache or recurrent state
// is kept), but it serves every architecture tern trains.
type Recompute struct {
	cfg    model.Config
	seqs   [][]int32 // per slot: the decoder's tokens (causal LM: prompt + generated; seq2seq: generated)
	srcs   [][]int32 // seq2seq: per slot the encoder's source (the prompt)
	fwd    func(src, seq []int32) ([]float32, error)
	logits []float32
}

// NewRecompute returns a Decoder with slots sequences for lm: a causal LM (transformer or RNN) or an
// encoder-decoder, whose prompt is the encoder's source.
func NewRecompute(lm model.LM, slots int) (*Recompute, error) {
	cfg := lm.Config()
	r := &Recompute{cfg: cfg, seqs: make([][]int32, slots), srcs: make([][]int32, slots)}
	V := cfg.Vocab
	switch {
	case cfg.Type == model.TypeEncDec:
		r.fwd = func(src, seq []int32) ([]float32, error) {
			row := model.Seq2SeqRow(cfg, src, seq)
			l, err := lm.Forward(row, 1, len(row))
			if err != nil {
				return nil, err
			}
			return l[(len(row)-1)*V : len(row)*V], nil
		}
	case cfg.Objective == model.ObjCausal:
		r.fwd = func(_, seq []int32) ([]float32, error) {
			l, err := lm.Forward(seq, 1, len(seq))
			if err != nil {
				return nil, err
			}
			return l[(len(seq)-1)*V : len(seq)*V], nil
		}
	default:
		return nil, fmt.Errorf("a %s %s model does not generate text (want a causal LM or an encoder-decoder)", cfg.Type, cfg.Objective)
	}
	return r, nil
}

func (r *Recompute) Slots() int { return len(r.seqs) }
func (r *Recompute) Vocab() int { return r.cfg.Vocab }

// PromptLimit: a causal LM needs a position left to generate into; a source fills up to MaxPos.
func (r *Recompute) PromptLimit() int {
	if r.cfg.Type == model.TypeEncDec {
		return r.cfg.MaxPos
	}
	return r.cfg.MaxPos - 1
}

// Room: a causal row holds the prompt and the tokens fed; a seq2seq decoder row the start token and
// the tokens fed, so its last sampled token needs no position of its own either.
func (r *Recompute) Room(slot int) int { return r.cfg.MaxPos - len(r.seqs[slot]) }

func (r *Recompute) Start(slot int, prompt []int) ([]float32, error) {
	if len(prompt) == 0 || len(prompt) > r.PromptLimit() {
		return nil, fmt.Errorf("prompt of %d tokens: want 1 to %d", len(prompt), r.PromptLimit())
	}
	ids := make([]int32, len(prompt))
	for i, id := range prompt {
		if id < 0 || id >= r.cfg.InputVocab() {
			return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", id, r.cfg.InputVocab())
		}
		ids[i] = int32(id)
	}
	if r.cfg.Type == model.TypeEncDec {
		r.srcs[slot], r.seqs[slot] = ids, r.seqs[slot][:0]
	} else {
		r.seqs[slot] = ids
	}
	l, err := r.fwd(r.srcs[slot], r.seqs[slot])
	if err != nil {
		return nil, err
	}
	r.logits = append(r.logits[:0], l...)
	return r.logits, nil
}

func (r *Recompute) Step(slots []int, ids []int) ([]float32, error) {
	V := r.cfg.Vocab
	r.logits = r.logits[:0]
	for i, s := range slots {
		if full := len(r.seqs[s]) >= r.cfg.MaxPos || r.cfg.Type == model.TypeEncDec && len(r.seqs[s])+2 > r.cfg.MaxPos; full {
			return nil, fmt.Errorf("slot %d: context full", s)
		}
		if ids[i] < 0 || ids[i] >= V {
			return nil, fmt.Errorf("token id %d outside vocabulary [0, %d)", ids[i], V)
		}
		r.seqs[s] = append(r.seqs[s], int32(ids[i]))
		l, err := r.fwd(r.srcs[s], r.seqs[s])
		if err != nil {
			return nil, err
		}
		r.logits = append(r.logits, l...)
	}
	return r.logits, nil
}

// DecodeOne extends prompt by up to maxTokens tokens in slot 0 of d, calling emit with each new one
// (streaming), until the context is full, ctx is done or emit returns false.
func DecodeOne(ctx context.Context, d Decoder, prompt []int, maxTokens int, s *Sampler, emit func(id int) bool) ([]int, error) {
	ids := append([]int(nil), prompt...)
	logits, err := d.Start(0, prompt)
	if err != nil {
		return nil, err
	}
	for n := 0; n < maxTokens; n++ {
		if err := ctx.Err(); err != nil {
			return ids, err
		}
		next := s.Next(logits)
		ids = append(ids, next)
		if emit != nil && !emit(next) || d.Room(0) <= 1 || n == maxTokens-1 {
			break
		}
		if logits, err = d.Step([]int{0}, []int{next}); err != nil {
			return ids, err
		}
	}
	return ids, nil
}
