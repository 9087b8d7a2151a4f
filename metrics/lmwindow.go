// Sliding-window language-model evaluation over a token stream, as in Hugging Face's "Perplexity
// of fixed-length models" guide (https://huggingface.co/docs/transformers/perplexity): windows of
// Context tokens start every Stride tokens, and each window scores only the tokens that no earlier
// window scored, so every token is scored exactly once with at least Context-Stride tokens of left
// context (except near the start). Memory is one window: Context ints, whatever the stream length.
//
// Unlike the guide's code, the count is exact: token 0 is never scored (nothing predicts it; prepend
// a BOS/EOS token to score it), and the later windows do not drop a token from the count.
// This file has no model: the caller passes a WindowScorer.

package metrics

import (
	"errors"
	"fmt"
	"io"
)

// WindowScorer returns the summed negative log-likelihood in nats of the last nTarget tokens of
// window, each predicted from all the tokens before it in the window (a causal LM run over the
// window with the loss masked to the last nTarget positions). 1 <= nTarget <= len(window)-1.
// window is only valid during the call.
type WindowScorer func(window []int, nTarget int) (nats float64, err error)

// TokenReader streams token ids like io.Reader streams bytes: ReadTokens fills up to len(dst) ids
// and returns how many, with io.EOF once the stream is exhausted (with or after the last ids).
type TokenReader interface {
	ReadTokens(dst []int) (n int, err error)
}

// SliceTokens is a TokenReader over an in-memory slice.
type SliceTokens struct {
	ids []int
}

// NewSliceTokens returns a TokenReader that yields ids.
func NewSliceTokens(ids []int) *SliceTokens { return &SliceTokens{ids: ids} }

// ReadTokens implements TokenReader; it returns io.EOF together with the last ids.
func (s *SliceTokens) ReadTokens(dst []int) (int, error) {
	n := copy(dst, s.ids)
	s.ids = s.ids[n:]
	if len(s.ids) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// SlidingWindow configures the evaluation: Context is the model's window (e.g. 1024 for GPT-2,
// the sequence length a tern model was trained with), Stride how far the window moves.
// Stride = Context-1 gives the cheapest evaluation (disjoint windows sharing one token of context);
// smaller strides give more context per token and a lower, more faithful perplexity, at
// Context/Stride times the compute.
type SlidingWindow struct {
	Context int
	Stride  int
}

// ErrWindow is the cause of errors for an invalid SlidingWindow.
var ErrWindow = errors.New("invalid sliding window")

// Validate checks 2 <= Context and 1 <= Stride <= Context-1. Stride = Context would leave the
// first token of every window without context, so it could not be scored.
func (w SlidingWindow) Validate() error {
	if w.Context < 2 || w.Stride < 1 || w.Stride >= w.Context {
		return fmt.Errorf("metrics: %w: context %d, stride %d (need context >= 2 and 1 <= stride <= context-1)", ErrWindow, w.Context, w.Stride)
	}
	return nil
}

// Evaluate streams src through score and returns the summed nats and the number of scored tokens
// (all tokens but the first; Chars is left 0 for the caller to fill). Windows are scored in order
// and summed in order, so the result is deterministic. Errors from src or score are returned
// wrapped, with the totals so far.
func (w SlidingWindow) Evaluate(src TokenReader, score WindowScorer) (LMTotals, error) {
	var tot LMTotals
	if err := w.Validate(); err != nil {
		return tot, err
	}
	buf := make([]int, 0, w.Context) // window [begin, begin+len(buf)) of the stream
	begin, prevEnd := 0, 0
	eof := false
	for {
		for empty := 0; len(buf) < w.Context && !eof; {
			n, err := src.ReadTokens(buf[len(buf):w.Context])
			buf = buf[:len(buf)+n]
			if n > 0 {
				empty = 0
			} else if empty++; empty >= 100 && err == nil {
				err = io.ErrNoProgress // as bufio does after 100 empty reads
			}
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return tot, fmt.Errorf("metrics: read tokens after %d: %w", begin+len(buf), err)
			}
		}
		end := begin + len(buf)
		from := max(prevEnd, begin+1) // position 0 of a window has no context
		if nTarget := end - from; nTarget > 0 {
			nats, err := score(buf, nTarget)
			if err != nil {
				return tot, fmt.Errorf("metrics: score window [%d, %d): %w", begin, end, err)
			}
			tot.Nats += nats
			tot.Tokens += int64(nTarget)
		}
		if eof {
			return tot, nil // this window reached the end of the stream
		}
		prevEnd = end
		n := copy(buf, buf[w.Stride:])
		buf = buf[:n]
		begin += w.Stride
	}
}
