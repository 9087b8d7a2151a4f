// The LM evaluation runner: stream text through a tokenizer into SlidingWindow and score each window
// with a model, keeping one window of ids and one window of logits in memory whatever the file size.
// A transformer computes logits only for the rows that predict the window's scored tokens
// (Transformer.Logits on a row subset): with stride = context/2 that halves the LM-head GEMM.

package eval

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"tern/kernels"
	"tern/metrics"
	"tern/model"
	"tern/tokenizer"
)

// TextTokenizer encodes text to ids; tokenizer.Adapter satisfies it.
type TextTokenizer interface {
	Encode32(text string) []int32
}

// LMResult is an LM evaluation.
type LMResult struct {
	metrics.LMMetrics
	Skipped      int64   `json:"skipped_chars"` // characters the tokenizer dropped (not scored, not in Chars)
	Context      int     `json:"context"`
	Stride       int     `json:"stride"`
	TokensPerSec float64 `json:"tokens_per_s"` // scored tokens per second, model time plus tokenization
	Seconds      float64 `json:"seconds"`
}

// textTokens is a TokenReader over a text stream: it reads lines, tokenizes them in chunks of at
// least chunkBytes cut only before a line that starts a new word after a line ending in a non-space
// (tokenizer.CanCut: byte-level BPE then sees the same pre-tokens as on the whole text), and counts
// the characters (code points) it has read.
type textTokens struct {
	r     *bufio.Reader
	tok   TextTokenizer
	buf   strings.Builder
	ids   []int32
	chars int64
	skip  int64 // characters the tokenizer dropped
	eof   bool
	ctx   context.Context
	limit int64 // stop after this many tokens (0 = none)
	read  int64 // tokens handed out
}

// chunkBytes is the least text tokenized at once (a var so tests can make chunks small).
var chunkBytes = 1 << 16

func (s *textTokens) fill() error {
	for len(s.ids) == 0 && !s.eof {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		line, err := readLine(s.r, maxLine)
		if err != nil && err != io.EOF {
			return err
		}
		if !utf8.ValidString(line) {
			return fmt.Errorf("text is not valid UTF-8")
		}
		s.chars += int64(utf8.RuneCountInString(line))
		if s.buf.Len() >= chunkBytes && canCut(&s.buf, line) {
			s.ids = s.encode(s.buf.String())
			s.buf.Reset()
		}
		s.buf.WriteString(line)
		if err == io.EOF {
			s.eof = true
			s.ids = append(s.ids, s.encode(s.buf.String())...)
			s.buf.Reset()
		}
	}
	return nil
}

// encode tokenizes text, counting the characters the tokenizer drops: a char model's unseen
// characters must not be counted as scored (bits per character divided all of WikiText-2's
// characters by the 94.8% a char model had scored).
func (s *textTokens) encode(text string) []int32 {
	if u, ok := s.tok.(interface{ Unknown(string) int }); ok {
		s.skip += int64(u.Unknown(text))
	}
	return s.tok.Encode32(text)
}

// maxLine bounds one line of evaluated text (a var so tests can make it small): lines are read whole,
// and /dev/zero, which has none, must not be read until memory runs out.
var maxLine = 64 << 20

// readLine is bufio.Reader.ReadString('\n') refusing lines longer than max bytes.
func readLine(r *bufio.Reader, max int) (string, error) {
	var b []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(b)+len(frag) > max {
			return "", fmt.Errorf("a line longer than %d MB (is this a text file?)", max>>20)
		}
		b = append(b, frag...)
		if err != bufio.ErrBufferFull {
			return string(b), err
		}
	}
}

// canCut: the text so far may be tokenized apart from line (tokenizer.CanCut; the end of buf is enough
// to decide). "?\n\nGREMIO" must not be cut after "\n\n": whole, its pre-tokens are "\n", "\n".
func canCut(buf *strings.Builder, line string) bool {
	s := buf.String()
	return tokenizer.CanCut(s[max(0, len(s)-8):], line)
}

func (s *textTokens) ReadTokens(dst []int) (int, error) {
	if err := s.fill(); err != nil {
		return 0, err
	}
	n := min(len(dst), len(s.ids))
	if s.limit > 0 && s.read+int64(n) >= s.limit {
		n = int(s.limit - s.read)
		s.ids, s.eof = s.ids[:n], true
	}
	for i := 0; i < n; i++ {
		dst[i] = int(s.ids[i])
	}
	s.ids = s.ids[n:]
	s.read += int64(n)
	if len(s.ids) == 0 && s.eof {
		return n, io.EOF
	}
	return n, nil
}

// EvaluateLM scores text from r with lm using windows of ctxLen tokens moving by stride. maxTokens > 0
// stops after that many tokens of the stream (a quick measurement; Chars then counts the text read so
// far, which may run ahead of the tokens by up to one chunk, so bits per character is only
// reported for whole streams).
//
// Windows are scored in groups (batch B of ForwardHidden, one Logits call over all their scored
// rows): the head GEMM packs its (V, C) matrix once per call, so 64 rows per call spend more time
// packing 25 MB of embeddings than multiplying; ~512 rows per call amortize it. A group also holds at
// most 512 positions, because the encoder keeps every layer's activations (a base-size model at
// B=2, T=512 needs 1.2 GB more than at B=1). Memory: the group's logits, 512·V floats (100 MB for
// V = 50257), plus the activations of 512 positions.
func EvaluateLM(ctx context.Context, lm model.LM, tok TextTokenizer, r io.Reader, ctxLen, stride int, maxTokens int64) (*LMResult, error) {
	cfg := lm.Config()
	if ctxLen > cfg.MaxPos && cfg.Type == model.TypeTransformer {
		return nil, fmt.Errorf("eval: context %d exceeds the model's max_pos %d", ctxLen, cfg.MaxPos)
	}
	src := &textTokens{r: bufio.NewReaderSize(r, 1<<16), tok: tok, ctx: ctx, limit: maxTokens}
	w := metrics.SlidingWindow{Context: ctxLen, Stride: stride}
	g := &windowGroup{lm: lm, tr: model.AsTransformer(lm), maxRows: 512}
	score := func(window []int, nTarget int) (float64, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return 0, g.add(window, nTarget) // nats are summed by the group, in window order
	}
	start := time.Now()
	tot, err := w.Evaluate(src, score)
	if err == nil {
		err = g.flush()
	}
	if err != nil {
		return nil, err
	}
	tot.Nats = g.nats
	return src.result(tot, start, ctxLen, stride, maxTokens)
}

// result is EvaluateLM's and EvaluateRows's LMResult from the totals over src since start: an error
// when nothing was scored, and characters counted only when the whole text was read.
func (src *textTokens) result(tot metrics.LMTotals, start time.Time, ctxLen, stride int, maxTokens int64) (*LMResult, error) {
	if tot.Tokens == 0 {
		return nil, fmt.Errorf("eval: no tokens to score (%d characters read, %d of them unknown to the tokenizer): an empty or too-short text gives no perplexity", src.chars, src.skip)
	}
	if maxTokens <= 0 || src.read < maxTokens {
		tot.Chars = src.chars - src.skip
	}
	el := time.Since(start).Seconds()
	return &LMResult{LMMetrics: tot.Metrics(), Skipped: src.skip, Context: ctxLen, Stride: stride, Seconds: el,
		TokensPerSec: metrics.Ratio(float64(tot.Tokens), el)}, nil
}

// windowGroup collects windows of equal length and scores them together.
type windowGroup struct {
	lm      model.LM
	tr      *model.Transformer // nil for RNN models: scored one window at a time through Forward
	maxRows int                // scored rows and encoder positions per group

	ids     []int32   // (B, T) pending windows
	targets []int     // (B, nTarget) the tokens each scored row predicts
	t, nT   int       // window length and scored tokens of the pending windows
	h       []float32 // (B·nTarget, C) gathered hidden rows
	logits  []float32 // (B·nTarget, V)
	gap     []float64 // per scored row: x_target - row max
	arg     []int     // per scored row: argmax
	nats    float64
}

func (g *windowGroup) add(window []int, nTarget int) error {
	full := len(g.targets)+nTarget > g.maxRows || len(g.ids)+len(window) > g.maxRows
	if len(g.ids) > 0 && (len(window) != g.t || nTarget != g.nT || full) {
		if err := g.flush(); err != nil {
			return err
		}
	}
	g.t, g.nT = len(window), nTarget
	for _, id := range window {
		g.ids = append(g.ids, int32(id))
	}
	g.targets = append(g.targets, window[len(window)-nTarget:]...)
	if g.tr == nil || len(g.targets) >= g.maxRows {
		return g.flush()
	}
	return nil
}

// flush scores the pending windows: row T-1-nT+i of each window predicts its token T-nT+i.
func (g *windowGroup) flush() error {
	if len(g.ids) == 0 {
		return nil
	}
	cfg := g.lm.Config()
	V, T, nT := cfg.Vocab, g.t, g.nT
	b := len(g.ids) / T
	first := T - 1 - nT
	var rows []float32
	if g.tr != nil {
		h, err := g.tr.ForwardHidden(g.ids, nil, nil, b, T)
		if err != nil {
			return err
		}
		C := cfg.Hidden
		g.h = g.h[:0]
		for i := 0; i < b; i++ {
			g.h = append(g.h, h[(i*T+first)*C:(i*T+T-1)*C]...)
		}
		g.logits = g.tr.Logits(g.logits, g.h, b*nT)
		rows = g.logits
	} else {
		all, err := g.lm.Forward(g.ids, b, T) // b == 1
		if err != nil {
			return err
		}
		rows = all[first*V : (T-1)*V]
	}
	n := b * nT
	// NLL = log Σ_j exp(x_j - m) - (x_t - m), m the row max. The vectorized softmax pass gives the
	// sum without a float64 exp per logit (which costs more than the head GEMM of a small model):
	// the max entry's probability is exp(0)/Σ, so log Σ = -log p[argmax], exact even where
	// p[target] underflows.
	g.gap, g.arg = g.gap[:0], g.arg[:0]
	for i := 0; i < n; i++ {
		row := rows[i*V : (i+1)*V]
		am := 0
		for j, x := range row {
			if x > row[am] {
				am = j
			}
		}
		g.arg = append(g.arg, am)
		g.gap = append(g.gap, float64(row[g.targets[i]])-float64(row[am]))
	}
	kernels.SoftmaxRows(rows[:n*V], rows[:n*V], n, V)
	for i := 0; i < n; i++ {
		g.nats += -math.Log(float64(rows[i*V+g.arg[i]])) - g.gap[i]
	}
	g.ids, g.targets = g.ids[:0], g.targets[:0]
	return nil
}
