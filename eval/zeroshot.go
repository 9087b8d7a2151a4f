// Zero-shot classification with a language model: the class whose verbalizer continuation the
// model finds likeliest after the text. It needs no task head, so a causal LM can be scored on a
// real task (SST-2) while it trains.

package eval

import (
	"context"
	"fmt"
	"math"

	"tern/metrics"
	"tern/model"
)

// ZeroShotResult is a zero-shot classification.
type ZeroShotResult struct {
	Accuracy float64 `json:"accuracy"`
	Majority float64 `json:"majority"` // accuracy of always answering the most frequent gold label
	Items    int     `json:"items"`
}

// SST2Verbalizers are the continuations for SST-2's labels 0 (negative) and 1 (positive).
var SST2Verbalizers = []string{" It was terrible.", " It was great."}

// ZeroShot predicts, for each text, the label c maximising Σ log p(verbalizers[c] | text) under lm
// (the verbalizer's tokens scored after the text's; the input is cut from the left to maxLen
// tokens), and scores the predictions against labels.
func ZeroShot(ctx context.Context, lm model.LM, tok TextTokenizer, texts []string, labels []int, verbalizers []string, maxLen int) (*ZeroShotResult, error) {
	if len(texts) != len(labels) || len(texts) == 0 {
		return nil, fmt.Errorf("eval: zero-shot needs texts with one label each (got %d texts, %d labels)", len(texts), len(labels))
	}
	V := lm.Config().Vocab
	verb := make([][]int32, len(verbalizers))
	for c, v := range verbalizers {
		if verb[c] = tok.Encode32(v); len(verb[c]) == 0 || len(verb[c]) >= maxLen {
			return nil, fmt.Errorf("eval: verbalizer %q encodes to %d tokens (need 1..%d)", v, len(verb[c]), maxLen-1)
		}
	}
	pred := make([]int, len(texts))
	for i, text := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		best, bestLP := 0, math.Inf(-1)
		for c, v := range verb {
			ids := append(tok.Encode32(text), v...)
			if len(ids) > maxLen+1 {
				ids = ids[len(ids)-maxLen-1:]
			}
			n := len(ids) - 1
			logits, err := lm.Forward(ids[:n], 1, n)
			if err != nil {
				return nil, err
			}
			var lp float64
			for t := n - len(v); t < n; t++ {
				lp += logSoftmaxAt(logits[t*V:(t+1)*V], ids[t+1])
			}
			if lp > bestLP {
				best, bestLP = c, lp
			}
		}
		pred[i] = best
	}
	return &ZeroShotResult{Accuracy: metrics.Accuracy(pred, labels), Majority: majority(labels), Items: len(texts)}, nil
}

// logSoftmaxAt is log softmax(row)[id], in float64.
func logSoftmaxAt(row []float32, id int32) float64 {
	m := math.Inf(-1)
	for _, x := range row {
		m = math.Max(m, float64(x))
	}
	var s float64
	for _, x := range row {
		s += math.Exp(float64(x) - m)
	}
	return float64(row[id]) - m - math.Log(s)
}
