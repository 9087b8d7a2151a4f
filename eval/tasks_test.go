package eval

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tern/data"
	"tern/finetune"
)

// near compares scores to a relative 1e-12, as the metric tests do.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }

func task(t *testing.T, name string) *finetune.Task {
	tk, err := finetune.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestScoreHandWorked checks Score on small hand-worked cases and the prediction files' formats.
func TestScoreHandWorked(t *testing.T) {
	dir := t.TempDir()
	// SST-2: gold 1 1 0 0 1, pred 1 0 0 1 1: acc 3/5; P(1) = 2/3, R(1) = 2/3
	items := []finetune.Item{{Label: 1}, {Label: 1}, {Label: 0}, {Label: 0}, {Label: 1}}
	p := &finetune.Predictions{Labels: []int{1, 0, 0, 1, 1}}
	r := Score(task(t, "sst2"), items, p)
	for name, want := range map[string]float64{"accuracy": 0.6, "precision": 2.0 / 3, "recall": 2.0 / 3, "f1": 2.0 / 3} {
		if got, _ := r.Get(name); !near(got, want) {
			t.Errorf("sst2 %s = %v, want %v", name, got, want)
		}
	}
	if !near(r.Majority, 0.6) {
		t.Errorf("majority %v", r.Majority)
	}
	o := &TaskOutput{Task: task(t, "sst2"), Items: items, Pred: p}
	path := filepath.Join(dir, "p.txt")
	if err := o.WritePredictions(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "1\n0\n0\n1\n1\n" {
		t.Errorf("label file %q", b)
	}

	// NER: one sentence, gold B-PER I-PER O B-LOC, pred B-PER I-PER O O: token acc 3/4, entity P 1, R 1/2
	ner := task(t, "conll2003-ner")
	ni := []finetune.Item{{Words: []string{"John", "Smith", "in", "Paris"}, Tags: []int{1, 2, 0, 5}}}
	np := &finetune.Predictions{Tags: [][]int{{1, 2, 0, 0}}}
	r = Score(ner, ni, np)
	for name, want := range map[string]float64{"token_accuracy": 0.75, "sentence_accuracy": 0, "entity_precision": 1, "entity_recall": 0.5, "entity_f1": 2.0 / 3} {
		if got, _ := r.Get(name); !near(got, want) {
			t.Errorf("ner %s = %v, want %v", name, got, want)
		}
	}
	o = &TaskOutput{Task: ner, Items: ni, Pred: np}
	if err := o.WritePredictions(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "John B-PER B-PER\nSmith I-PER I-PER\nin O O\nParis B-LOC O\n\n" {
		t.Errorf("CoNLL file %q", b)
	}

	// SQuAD: exact, then partial (F1 of "the Broncos" vs "Denver Broncos" = 2*(1/1)*(1/2)/(1+1/2) = 2/3 after article removal)
	qi := []finetune.Item{{ID: "a", Answers: []data.SquadAnswer{{Text: "Paris"}}}, {ID: "b", Answers: []data.SquadAnswer{{Text: "Denver Broncos"}}}}
	qp := &finetune.Predictions{Answers: []string{"Paris.", "the Broncos"}}
	r = Score(task(t, "xquad"), qi, qp)
	if em, _ := r.Get("exact_match"); !near(em, 50) {
		t.Errorf("EM %v", em)
	}
	if f1, _ := r.Get("f1"); !near(f1, 100*(1+2.0/3)/2) {
		t.Errorf("F1 %v", f1)
	}
	o = &TaskOutput{Task: task(t, "xquad"), Items: qi, Pred: qp}
	if err := o.WritePredictions(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), `"b": "the Broncos"`) {
		t.Errorf("SQuAD file %q", b)
	}

	// CoLA: MCC of a perfect prediction is 1
	ci := []finetune.Item{{Label: 1}, {Label: 0}, {Label: 1}}
	if m, _ := Score(task(t, "cola"), ci, &finetune.Predictions{Labels: []int{1, 0, 1}}).Get("mcc"); !near(m, 1) {
		t.Errorf("metrics.MCC %v", m)
	}
}
