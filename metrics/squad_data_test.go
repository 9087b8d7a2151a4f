// SQuAD metrics on the real XQuAD English questions (skipped without the shared data).

package metrics

import (
	"testing"

	"tern/data"
	"tern/internal/testenv"
)

func TestSquadEvaluateXQuAD(t *testing.T) {
	d, err := data.ReadSquad(testenv.SharedData(t, "xquad-en", "xquad.en.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs []SquadReference
	gold, decorated, empty := map[string]string{}, map[string]string{}, map[string]string{}
	for _, a := range d.Articles {
		for _, p := range a.Paragraphs {
			for _, q := range p.QAs {
				r := SquadReference{ID: q.ID}
				for _, an := range q.Answers {
					r.Answers = append(r.Answers, an.Text)
				}
				refs = append(refs, r)
				gold[q.ID] = q.Answers[0].Text
				// Case, a leading article and final punctuation are normalized away.
				decorated[q.ID] = "The " + q.Answers[0].Text + "."
				empty[q.ID] = ""
			}
		}
	}
	for name, c := range map[string]struct {
		preds  map[string]string
		em, f1 float64
	}{
		"gold":      {gold, 100, 100},
		"decorated": {decorated, 100, 100},
		"empty":     {empty, 0, 0},
		"none":      {map[string]string{}, 0, 0},
	} {
		got := SquadEvaluate(refs, c.preds)
		if got.Total != 1190 || !near(got.ExactMatch, c.em) || !near(got.F1, c.f1) {
			t.Errorf("%s: %+v, want EM %v F1 %v over 1190", name, got, c.em, c.f1)
		}
	}
}
