// Token-classification metrics: token accuracy, sentence accuracy, and entity-level precision,
// recall and F1 as conlleval (CoNLL-2000/2003 shared tasks) and seqeval (default mode) compute them.
//
// This is not seqeval's strict mode (which rejects ill-formed IOB2 sequences): like conlleval, an
// I- tag after O or after a tag of another type starts a new entity, so IOB1 input scores the same.

package metrics

import (
	"fmt"
	"sort"
	"strings"
)

// Entity is a labelled span of tokens [Start, End) in sentence Sent.
type Entity struct {
	Type       string
	Sent       int // index of the sentence
	Start, End int // token offsets in the sentence, End exclusive
}

// splitTag splits a tag into its prefix letter and its type as seqeval does:
// tag = chunk[0], type = chunk[1:].split('-', 1)[-1] or '_'. So "B-PER" -> (B, PER),
// "O" -> (O, _), "B" -> (B, _), "I-ORG-X" -> (I, ORG-X). conlleval (2004 version) agrees on
// well-formed tags, with type "" where seqeval has "_".
func splitTag(chunk string) (tag byte, typ string) {
	if chunk == "" {
		return 'O', "_"
	}
	rest := chunk[1:]
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		rest = rest[i+1:]
	}
	if rest == "" {
		rest = "_"
	}
	return chunk[0], rest
}

// endOfChunk reports whether a chunk ended between the previous tag and this one
// (conlleval's endOfChunk, with seqeval's E/S additions for IOBES).
func endOfChunk(prevTag, tag byte, prevType, typ string) bool {
	switch {
	case prevTag == 'E' || prevTag == 'S':
		return true
	case (prevTag == 'B' || prevTag == 'I') && (tag == 'B' || tag == 'S' || tag == 'O'):
		return true
	}
	return prevTag != 'O' && prevTag != '.' && prevType != typ
}

// startOfChunk reports whether a chunk starts at this tag (conlleval's startOfChunk, with
// seqeval's E/S additions). Note "I after O" and "I after another type" start a chunk.
func startOfChunk(prevTag, tag byte, prevType, typ string) bool {
	switch {
	case tag == 'B' || tag == 'S':
		return true
	case (prevTag == 'E' || prevTag == 'S' || prevTag == 'O') && (tag == 'E' || tag == 'I'):
		return true
	}
	return tag != 'O' && tag != '.' && prevType != typ
}

// Entities extracts the entity chunks of one sentence's tags with conlleval's rules; sent is
// stored in each Entity. Sentence boundaries act as O, so no entity crosses sentences.
func Entities(tags []string, sent int) []Entity {
	var out []Entity
	prevTag, prevType := byte('O'), "_"
	begin := 0
	for i := 0; i <= len(tags); i++ {
		tag, typ := byte('O'), "_" // the O appended at the end closes an open chunk
		if i < len(tags) {
			tag, typ = splitTag(tags[i])
		}
		if endOfChunk(prevTag, tag, prevType, typ) {
			out = append(out, Entity{Type: prevType, Sent: sent, Start: begin, End: i})
		}
		if startOfChunk(prevTag, tag, prevType, typ) {
			begin = i
		}
		prevTag, prevType = tag, typ
	}
	return out
}

// EntityScores is the entity-level evaluation: micro totals over all types, per-type scores, and
// the unweighted mean of per-type F1 (seqeval's average='macro' over types seen on either side).
type EntityScores struct {
	Micro   PRF            `json:"micro"`
	MacroF1 float64        `json:"macro_f1"`
	PerType map[string]PRF `json:"per_type"`
}

// Types returns the entity types of PerType in sorted order.
func (s EntityScores) Types() []string {
	ts := make([]string, 0, len(s.PerType))
	for t := range s.PerType {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

func checkSentences(fn string, pred, gold [][]string) {
	if len(pred) != len(gold) {
		panic(fmt.Sprintf("metrics: %s: %d predicted sentences for %d gold", fn, len(pred), len(gold)))
	}
	for i := range pred {
		if len(pred[i]) != len(gold[i]) {
			panic(fmt.Sprintf("metrics: %s: sentence %d has %d predicted tags for %d gold", fn, i, len(pred[i]), len(gold[i])))
		}
	}
}

// EntityPRF scores predicted against gold tag sequences (one []string per sentence, tags like
// "B-PER", "I-PER", "O"). An entity counts as correct only when a predicted entity has the same
// type, sentence, start and end as a gold one; partial overlaps count as wrong on both sides.
// conlleval prints these numbers x100.
func EntityPRF(pred, gold [][]string) EntityScores {
	checkSentences("EntityPRF", pred, gold)
	type counts struct{ tp, np, ng int }
	byType := map[string]*counts{}
	get := func(t string) *counts {
		if byType[t] == nil {
			byType[t] = &counts{}
		}
		return byType[t]
	}
	var tp, np, ng int
	for s := range gold {
		goldSet := map[Entity]bool{}
		for _, e := range Entities(gold[s], s) {
			goldSet[e] = true
			get(e.Type).ng++
			ng++
		}
		for _, e := range Entities(pred[s], s) {
			get(e.Type).np++
			np++
			if goldSet[e] {
				get(e.Type).tp++
				tp++
			}
		}
	}
	out := EntityScores{Micro: prfFromCounts(tp, np, ng), PerType: map[string]PRF{}}
	for t, k := range byType {
		out.PerType[t] = prfFromCounts(k.tp, k.np, k.ng)
	}
	sum := 0.0
	for _, t := range out.Types() { // sorted: fixed summation order
		sum += out.PerType[t].F1
	}
	out.MacroF1 = Ratio(sum, float64(len(byType)))
	return out
}

// TokenAccuracy is the fraction of tokens whose predicted tag equals the gold tag (the
// "accuracy" line of conlleval); 0 when there are no tokens.
func TokenAccuracy(pred, gold [][]string) float64 {
	checkSentences("TokenAccuracy", pred, gold)
	n, ok := 0, 0
	for s := range gold {
		for i := range gold[s] {
			n++
			if pred[s][i] == gold[s][i] {
				ok++
			}
		}
	}
	return Ratio(float64(ok), float64(n))
}

// SentenceAccuracy is the fraction of sentences whose tags are all correct (an empty sentence is
// trivially correct); 0 when there are no sentences.
func SentenceAccuracy(pred, gold [][]string) float64 {
	checkSentences("SentenceAccuracy", pred, gold)
	ok := 0
	for s := range gold {
		same := true
		for i := range gold[s] {
			if pred[s][i] != gold[s][i] {
				same = false
				break
			}
		}
		if same {
			ok++
		}
	}
	return Ratio(float64(ok), float64(len(gold)))
}
