// Tests for the LM metrics on hand-computed totals.

package metrics

import (
	"math"
	"testing"
)

func TestLMTotals(t *testing.T) {
	// 4 tokens of a uniform model over 8 symbols: nats = 4 ln 8, loss = ln 8, perplexity 8,
	// 3 bits per token; the 4 tokens cover 6 characters: bpc = 4*3 bits / 6 = 2.
	m := LMTotals{Nats: 4 * math.Log(8), Tokens: 4, Chars: 6}
	if !near(m.Loss(), math.Log(8)) || !near(m.Perplexity(), 8) || !near(m.BitsPerToken(), 3) || !near(m.BitsPerChar(), 2) {
		t.Errorf("got loss %v ppl %v bpt %v bpc %v, want ln8, 8, 3, 2", m.Loss(), m.Perplexity(), m.BitsPerToken(), m.BitsPerChar())
	}
	// Add merges: two halves give the same metrics.
	var sum LMTotals
	sum.Add(LMTotals{Nats: math.Log(8), Tokens: 1, Chars: 2})
	sum.Add(LMTotals{Nats: 3 * math.Log(8), Tokens: 3, Chars: 4})
	if !near(sum.Nats, m.Nats) || sum.Tokens != 4 || sum.Chars != 6 {
		t.Errorf("Add = %+v, want %+v", sum, m)
	}
	mm := m.Metrics()
	if mm.Perplexity != m.Perplexity() || mm.BitsPerChar != m.BitsPerChar() || mm.Tokens != 4 {
		t.Errorf("Metrics = %+v", mm)
	}
	// Division by zero: nothing scored -> every metric 0, perplexity 0 (not exp(0) = 1).
	var z LMTotals
	if z.Loss() != 0 || z.Perplexity() != 0 || z.BitsPerToken() != 0 || z.BitsPerChar() != 0 {
		t.Errorf("empty totals: %+v", z.Metrics())
	}
	// Tokens but no character count: bpc 0, the rest defined.
	if (LMTotals{Nats: 2, Tokens: 1}).BitsPerChar() != 0 {
		t.Error("bpc without chars should be 0")
	}
}
