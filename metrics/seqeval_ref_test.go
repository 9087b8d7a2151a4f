// Cross-check of EntityPRF against a second, structurally different implementation: conlleval's
// streaming state machine (one pass over the tokens, a sentence boundary read as an O token, a
// chunk counted correct when gold and guess start together with the same type and end together),
// on random tag sequences that include ill-formed IOB2 (I- after O, type switches inside I- runs).

package metrics

import (
	"math/rand"
	"reflect"
	"testing"
)

type conllCounts struct {
	correct, found, guessed map[string]int
	tokens, correctTags     int
}

// conllevalStream is the reference: conlleval's counting loop, restated.
func conllevalStream(pred, gold [][]string) conllCounts {
	c := conllCounts{correct: map[string]int{}, found: map[string]int{}, guessed: map[string]int{}}
	split := func(s string) (byte, string) {
		// conlleval (2004): tag = text before the first '-', type = the rest ("" without '-').
		for i := 0; i < len(s); i++ {
			if s[i] == '-' {
				return s[0], s[i+1:]
			}
		}
		return s[0], ""
	}
	end := func(pt, t byte, ptyp, typ string) bool {
		e := (pt == 'B' || pt == 'I') && (t == 'B' || t == 'O')
		return e || (pt != 'O' && ptyp != typ)
	}
	start := func(pt, t byte, ptyp, typ string) bool {
		s := t == 'B' && (pt == 'B' || pt == 'I' || pt == 'O') || pt == 'O' && t == 'I'
		return s || (t != 'O' && ptyp != typ)
	}
	lastG, lastP := byte('O'), byte('O')
	lastGT, lastPT := "", ""
	inCorrect := false
	step := func(g, p byte, gt, pt string, boundary bool) {
		if inCorrect {
			eg, ep := end(lastG, g, lastGT, gt), end(lastP, p, lastPT, pt)
			if eg && ep && lastPT == lastGT {
				inCorrect = false
				c.correct[lastGT]++
			} else if eg != ep || pt != gt {
				inCorrect = false
			}
		}
		sg, sp := start(lastG, g, lastGT, gt), start(lastP, p, lastPT, pt)
		if sg && sp && pt == gt {
			inCorrect = true
		}
		if sg {
			c.found[gt]++
		}
		if sp {
			c.guessed[pt]++
		}
		if !boundary {
			c.tokens++
			if g == p && gt == pt {
				c.correctTags++
			}
		}
		lastG, lastP, lastGT, lastPT = g, p, gt, pt
	}
	for s := range gold {
		for i := range gold[s] {
			g, gt := split(gold[s][i])
			p, pt := split(pred[s][i])
			step(g, p, gt, pt, false)
		}
		step('O', 'O', "", "", true)
	}
	if inCorrect {
		c.correct[lastGT]++
	}
	return c
}

func TestEntityPRFMatchesConlleval(t *testing.T) {
	rng := rand.New(rand.NewSource(0)) // fixed seed: reproducible
	tags := []string{"O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG", "B-ORG-X", "I-ORG-X"}
	randSents := func(lens []int) [][]string {
		out := make([][]string, len(lens))
		for s, n := range lens {
			out[s] = make([]string, n)
			for i := range out[s] {
				out[s][i] = tags[rng.Intn(len(tags))]
			}
		}
		return out
	}
	for trial := 0; trial < 2000; trial++ {
		lens := make([]int, 1+rng.Intn(4))
		for i := range lens {
			lens[i] = rng.Intn(8)
		}
		gold := randSents(lens)
		pred := randSents(lens)
		if trial%3 == 0 { // mostly-right predictions exercise the correct-chunk path
			for s := range pred {
				copy(pred[s], gold[s])
				if len(pred[s]) > 0 {
					pred[s][rng.Intn(len(pred[s]))] = tags[rng.Intn(len(tags))]
				}
			}
		}
		ref := conllevalStream(pred, gold)
		got := EntityPRF(pred, gold)
		gotCorrect, gotFound, gotGuessed := map[string]int{}, map[string]int{}, map[string]int{}
		for typ, p := range got.PerType {
			if p.TP > 0 {
				gotCorrect[typ] = p.TP
			}
			if p.Gold > 0 {
				gotFound[typ] = p.Gold
			}
			if p.Predicted > 0 {
				gotGuessed[typ] = p.Predicted
			}
		}
		if !reflect.DeepEqual(gotCorrect, ref.correct) || !reflect.DeepEqual(gotFound, ref.found) || !reflect.DeepEqual(gotGuessed, ref.guessed) {
			t.Fatalf("trial %d\ngold %q\npred %q\nEntityPRF correct %v gold %v pred %v\nconlleval correct %v gold %v pred %v",
				trial, gold, pred, gotCorrect, gotFound, gotGuessed, ref.correct, ref.found, ref.guessed)
		}
		if ref.tokens > 0 && !near(TokenAccuracy(pred, gold), float64(ref.correctTags)/float64(ref.tokens)) {
			t.Fatalf("trial %d: token accuracy %v, conlleval %d/%d", trial, TokenAccuracy(pred, gold), ref.correctTags, ref.tokens)
		}
	}
}
