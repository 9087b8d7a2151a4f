// Tests for entity extraction and entity-level scores, including conlleval's classic quirks.
// Expected chunks are worked out by hand from conlleval's startOfChunk/endOfChunk rules.

package metrics

import (
	"reflect"
	"strings"
	"testing"
)

func ents(s string) []Entity {
	// "PER 0 2, LOC 3 4" -> entities in sentence 0.
	var out []Entity
	if s == "" {
		return out
	}
	for _, part := range strings.Split(s, ",") {
		var e Entity
		f := strings.Fields(part)
		e.Type = f[0]
		e.Start = atoi(f[1])
		e.End = atoi(f[2])
		out = append(out, e)
	}
	return out
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestEntities(t *testing.T) {
	cases := []struct{ tags, want string }{
		{"O O O", ""},
		{"B-PER I-PER O B-LOC", "PER 0 2, LOC 3 4"},
		// IOB1 / ill-formed IOB2: I- after O starts a chunk (conlleval: O then I -> start).
		{"O I-PER I-PER O", "PER 1 3"},
		// I- at the very start of a sentence also starts one (the boundary acts as O).
		{"I-ORG O", "ORG 0 1"},
		// A type change inside I- tags ends one chunk and starts another.
		{"I-PER I-LOC", "PER 0 1, LOC 1 2"},
		{"B-PER I-LOC I-LOC", "PER 0 1, LOC 1 3"},
		// B after B of the same type: two single-token chunks.
		{"B-PER B-PER", "PER 0 1, PER 1 2"},
		// B after I of the same type starts a new chunk (IOB1's separator between adjacent entities).
		{"I-MISC B-MISC I-MISC", "MISC 0 1, MISC 1 3"},
		// A chunk open at the end of the sentence is closed by the implicit final O.
		{"O B-LOC I-LOC", "LOC 1 3"},
		// IOBES (seqeval's additions): S is a single-token chunk, E ends one.
		{"S-PER B-LOC E-LOC S-LOC", "PER 0 1, LOC 1 3, LOC 3 4"},
		// Tags without a type have type "_" (seqeval); "B I" is one chunk.
		{"B I O", "_ 0 2"},
		// Hyphenated types keep everything after the first hyphen (seqeval, and conlleval since 2004).
		{"B-ORG-X I-ORG-X", "ORG-X 0 2"},
	}
	for _, c := range cases {
		got := Entities(strings.Fields(c.tags), 0)
		if want := ents(c.want); !reflect.DeepEqual(got, want) {
			t.Errorf("Entities(%q) = %v, want %v", c.tags, got, want)
		}
	}
}

func sents(ss ...string) [][]string {
	out := make([][]string, len(ss))
	for i, s := range ss {
		out[i] = strings.Fields(s)
	}
	return out
}

func TestEntityPRF(t *testing.T) {
	gold := sents(
		"B-PER I-PER O B-LOC",      // PER[0,2) LOC[3,4)
		"B-ORG I-ORG I-ORG O O",    // ORG[0,3)
		"O B-MISC O B-PER I-PER O", // MISC[1,2) PER[3,5)
	)
	pred := sents(
		"B-PER I-PER O B-ORG",      // PER[0,2) correct; ORG[3,4) wrong type (LOC missed)
		"B-ORG I-ORG O O O",        // ORG[0,2): partial -> wrong, gold ORG[0,3) missed
		"O B-MISC O I-PER I-PER O", // MISC correct; I-PER after O starts PER[3,5): correct
	)
	// Gold: PER 2, LOC 1, ORG 1, MISC 1 = 5. Pred: PER 2, ORG 2, MISC 1 = 5. Correct: PER 2, MISC 1 = 3.
	// Micro P = 3/5, R = 3/5, F1 = 3/5.
	// PER: P 2/2 R 2/2 F1 1. LOC: P 0/0 -> 0, R 0/1 = 0, F1 0. ORG: P 0/2, R 0/1, F1 0.
	// MISC: P 1/1, R 1/1, F1 1. Macro F1 = (1 + 0 + 0 + 1)/4 = 0.5.
	got := EntityPRF(pred, gold)
	if got.Micro != (PRF{Precision: 0.6, Recall: 0.6, F1: 0.6, TP: 3, Predicted: 5, Gold: 5}) {
		t.Errorf("micro = %+v, want P=R=F1=0.6 (3/5/5)", got.Micro)
	}
	want := map[string]PRF{
		"PER":  {1, 1, 1, 2, 2, 2},
		"LOC":  {0, 0, 0, 0, 0, 1},
		"ORG":  {0, 0, 0, 0, 2, 1},
		"MISC": {1, 1, 1, 1, 1, 1},
	}
	if !reflect.DeepEqual(got.PerType, want) {
		t.Errorf("per type = %+v, want %+v", got.PerType, want)
	}
	if !near(got.MacroF1, 0.5) {
		t.Errorf("macro F1 = %v, want 0.5", got.MacroF1)
	}
	if ts := got.Types(); !reflect.DeepEqual(ts, []string{"LOC", "MISC", "ORG", "PER"}) {
		t.Errorf("Types = %v", ts)
	}

	// Token accuracy: sentence 1: 3/4 (B-ORG vs B-LOC); 2: 4/5; 3: 5/6 (I-PER vs B-PER) -> 12/15.
	if got := TokenAccuracy(pred, gold); !near(got, 0.8) {
		t.Errorf("TokenAccuracy = %v, want 12/15", got)
	}
	// No sentence is entirely correct.
	if got := SentenceAccuracy(pred, gold); got != 0 {
		t.Errorf("SentenceAccuracy = %v, want 0", got)
	}
	if got := SentenceAccuracy(sents("O B-PER", "O", ""), sents("O B-PER", "B-LOC", "")); !near(got, 2.0/3) {
		t.Errorf("SentenceAccuracy = %v, want 2/3 (an empty sentence is correct)", got)
	}
}

func TestEntityPRFEdgeCases(t *testing.T) {
	// No entities anywhere: every ratio is 0/0 -> 0 (conlleval prints 0.00), token accuracy 1.
	s := EntityPRF(sents("O O", "O"), sents("O O", "O"))
	if s.Micro != (PRF{}) || s.MacroF1 != 0 || len(s.PerType) != 0 {
		t.Errorf("no entities: %+v, want zeros", s)
	}
	// Empty predictions (all O) against one gold entity: P 0/0 -> 0, R 0/1, F1 0.
	s = EntityPRF(sents("O O"), sents("B-PER O"))
	if s.Micro != (PRF{Gold: 1}) {
		t.Errorf("empty prediction: %+v", s.Micro)
	}
	// An entity must not cross a sentence boundary: gold "B-PER" | "I-PER" is two entities, so a
	// prediction with the same tags matches both.
	s = EntityPRF(sents("B-PER", "I-PER"), sents("B-PER", "I-PER"))
	if s.Micro.TP != 2 || s.Micro.F1 != 1 {
		t.Errorf("sentence boundary: %+v, want 2 entities, F1 1", s.Micro)
	}
	// Same span, wrong type: both a false positive and a false negative.
	s = EntityPRF(sents("B-LOC I-LOC"), sents("B-ORG I-ORG"))
	if s.Micro != (PRF{Predicted: 1, Gold: 1}) {
		t.Errorf("wrong type: %+v", s.Micro)
	}
	// Over-long prediction is wrong: gold PER[0,1), pred PER[0,2).
	s = EntityPRF(sents("B-PER I-PER"), sents("B-PER O"))
	if s.Micro != (PRF{Predicted: 1, Gold: 1}) {
		t.Errorf("over-long: %+v", s.Micro)
	}
	if TokenAccuracy(nil, nil) != 0 || SentenceAccuracy(nil, nil) != 0 {
		t.Error("empty input should score 0")
	}
}

func TestEntityPRFMismatchPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "sentence 1 has 1 predicted tags for 2 gold") {
			t.Errorf("panic %v", r)
		}
	}()
	EntityPRF(sents("O", "O"), sents("O", "O O"))
}
