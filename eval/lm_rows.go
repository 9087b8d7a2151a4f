package eval

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"tern/kernels"
	"tern/metrics"
)

// RowScorer is a model scored through its logits alone (a GGUF model decoding with its own cache):
// Rows returns the (n, Vocab) logits that predict the last n tokens of window, i.e. the rows after
// window[len(window)-1-n : len(window)-1].
type RowScorer interface {
	Vocab() int
	Rows(window []int, n int) ([]float32, error)
}

// EvaluateRows is EvaluateLM for a RowScorer: the same text stream, windows, metrics and result, each
// window scored on its own.
func EvaluateRows(ctx context.Context, lm RowScorer, tok TextTokenizer, r io.Reader, ctxLen, stride int, maxTokens int64) (*LMResult, error) {
	src := &textTokens{r: bufio.NewReaderSize(r, 1<<16), tok: tok, ctx: ctx, limit: maxTokens}
	w := metrics.SlidingWindow{Context: ctxLen, Stride: stride}
	V := lm.Vocab()
	score := func(window []int, n int) (float64, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		rows, err := lm.Rows(window, n)
		if err != nil {
			return 0, err
		}
		if len(rows) != n*V {
			return 0, fmt.Errorf("eval: %d logits for %d rows of %d", len(rows), n, V)
		}
		return rowNats(rows, window[len(window)-n:], V), nil
	}
	start := time.Now()
	tot, err := w.Evaluate(src, score)
	if err != nil {
		return nil, err
	}
	return src.result(tot, start, ctxLen, stride, maxTokens)
}

// rowNats is Σ -log softmax(row i)[targets[i]] over the rows (overwritten), computed as windowGroup
// does: log Σ_j exp(x_j - max) from the softmax's probability of the argmax.
func rowNats(rows []float32, targets []int, V int) float64 {
	n := len(targets)
	gap, arg := make([]float64, n), make([]int, n)
	for i := range n {
		row := rows[i*V : (i+1)*V]
		am := 0
		for j, x := range row {
			if x > row[am] {
				am = j
			}
		}
		arg[i], gap[i] = am, float64(row[targets[i]])-float64(row[am])
	}
	kernels.SoftmaxRows(rows[:n*V], rows[:n*V], n, V)
	nats := 0.0
	for i := range n {
		nats += -math.Log(float64(rows[i*V+arg[i]])) - gap[i]
	}
	return nats
}
