// Language-model metrics from summed negative log-likelihood: loss, perplexity, bits per token and
// bits per character. Accumulate nats in float64 (a float32 sum of 245k per-token losses on
// WikiText-2 test would lose ~3 significant digits).

package metrics

import "math"

// LMTotals accumulates an LM evaluation: the summed negative log-likelihood in nats of the scored
// tokens, how many tokens were scored, and how many characters of text they cover (for bits per
// character; 0 when unknown).
type LMTotals struct {
	Nats   float64 `json:"nats"`
	Tokens int64   `json:"tokens"`
	Chars  int64   `json:"chars"`
}

// Add merges another total into t (e.g. per-document or per-rank results).
func (t *LMTotals) Add(o LMTotals) {
	t.Nats += o.Nats
	t.Tokens += o.Tokens
	t.Chars += o.Chars
}

// Loss is the mean negative log-likelihood in nats per token; 0 when no tokens were scored.
func (t LMTotals) Loss() float64 {
	return Ratio(t.Nats, float64(t.Tokens))
}

// Perplexity is exp(Loss). It is 0 (impossible for a real perplexity, which is >= 1) when no tokens
// were scored, so that an empty evaluation is not mistaken for a perfect one.
func (t LMTotals) Perplexity() float64 {
	if t.Tokens == 0 {
		return 0
	}
	return math.Exp(t.Loss())
}

// BitsPerToken is Loss / ln 2; 0 when no tokens were scored.
func (t LMTotals) BitsPerToken() float64 {
	return t.Loss() / math.Ln2
}

// BitsPerChar is Nats / (Chars * ln 2): the tokenizer-independent measure; 0 when Chars is 0.
// Chars should count the characters (code points, or bytes for byte-level reporting, stated
// alongside) of the text whose tokens were scored.
func (t LMTotals) BitsPerChar() float64 {
	return Ratio(t.Nats, float64(t.Chars)*math.Ln2)
}

// LMMetrics is the JSON-friendly summary of an LMTotals.
type LMMetrics struct {
	LMTotals
	Loss         float64 `json:"loss"`
	Perplexity   float64 `json:"perplexity"`
	BitsPerToken float64 `json:"bits_per_token"`
	BitsPerChar  float64 `json:"bits_per_char"`
}

// Metrics returns all derived metrics of t.
func (t LMTotals) Metrics() LMMetrics {
	return LMMetrics{LMTotals: t, Loss: t.Loss(), Perplexity: t.Perplexity(),
		BitsPerToken: t.BitsPerToken(), BitsPerChar: t.BitsPerChar()}
}
