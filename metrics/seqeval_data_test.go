// Entity scores on the real CoNLL-2003 test set (skipped without the shared data): gold against
// itself, against its IOB1 rewriting (which conlleval and seqeval's default mode must score as
// identical), and against an all-O prediction.

package metrics

import (
	"strings"
	"testing"

	"tern/data"
	"tern/internal/testenv"
)

// toIOB1 rewrites IOB2 tags to IOB1: B- survives only right after a tag of the same type.
func toIOB1(tags []string) []string {
	out := make([]string, len(tags))
	for i, tag := range tags {
		out[i] = tag
		if strings.HasPrefix(tag, "B-") {
			if i == 0 || tags[i-1] == "O" || tags[i-1][2:] != tag[2:] {
				out[i] = "I-" + tag[2:]
			}
		}
	}
	return out
}

func TestEntityPRFCoNLL2003(t *testing.T) {
	ss, err := data.ReadCoNLL2003(testenv.SharedData(t, "conll2003", "test.txt"))
	if err != nil {
		t.Fatal(err)
	}
	gold := make([][]string, len(ss))
	iob1 := make([][]string, len(ss))
	none := make([][]string, len(ss))
	changed := 0
	for i, s := range ss {
		gold[i] = s.NER
		iob1[i] = toIOB1(s.NER)
		none[i] = make([]string, len(s.NER))
		for j := range none[i] {
			none[i][j] = "O"
			if iob1[i][j] != gold[i][j] {
				changed++
			}
		}
	}
	// 1,668 LOC + 702 MISC + 1,661 ORG + 1,617 PER = 5,648 gold entities (shared-task paper).
	self := EntityPRF(gold, gold)
	if self.Micro.Gold != 5648 || self.Micro.TP != 5648 || self.Micro.F1 != 1 || self.PerType["MISC"].Gold != 702 {
		t.Errorf("gold vs gold: %+v", self.Micro)
	}
	if changed == 0 {
		t.Fatal("IOB1 rewrite changed nothing")
	}
	// The IOB1 form has different tags (token accuracy < 1) but the same entities (F1 = 1).
	if s := EntityPRF(iob1, gold); s.Micro.F1 != 1 || s.Micro.Predicted != 5648 {
		t.Errorf("IOB1 vs IOB2: %+v, want identical entities", s.Micro)
	}
	if acc := TokenAccuracy(iob1, gold); acc >= 1 {
		t.Errorf("IOB1 token accuracy %v, want < 1", acc)
	}
	if s := EntityPRF(none, gold); s.Micro.Precision != 0 || s.Micro.Recall != 0 || s.Micro.F1 != 0 || s.Micro.Gold != 5648 {
		t.Errorf("all-O prediction: %+v", s.Micro)
	}
}
