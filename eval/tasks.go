// Task runners: evaluate a fine-tuned TaskModel on its task's evaluation split, score the predictions
// with this package's metrics (GLUE accuracy/P/R/F1/MCC, token and sentence accuracy, conlleval
// entity P/R/F1, SQuAD v1.1 EM/F1), and write predictions in the official scorers' formats.
// The model side (tokenization, batching, decoding) is package finetune.

package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"tern/finetune"
	"tern/format"
	"tern/metrics"
	"tern/model"
)

// Metric is one named number.
type Metric struct {
	Name          string  `json:"name"`
	Value         float64 `json:"value"`
	LowerIsBetter bool    `json:"lower_is_better,omitempty"`
}

// TaskResult is the evaluation of one task.
type TaskResult struct {
	Task         string   `json:"task"`
	Split        string   `json:"split"`
	Items        int      `json:"items"`
	Metrics      []Metric `json:"metrics"`
	Majority     float64  `json:"majority_baseline,omitempty"` // accuracy of always predicting the most frequent gold label (sequence) or tag (token)
	TokensPerSec float64  `json:"tokens_per_s"`
	Seconds      float64  `json:"seconds"`
}

// Get returns the named metric's value (0, false if absent).
func (r *TaskResult) Get(name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// TaskOutput is what the predictions files are written from.
type TaskOutput struct {
	Task  *finetune.Task
	Items []finetune.Item
	Pred  *finetune.Predictions
}

// RunTask evaluates m on t's evaluation split read from dir.
func RunTask(ctx context.Context, m *model.TaskModel, tok finetune.Tokenizer, t *finetune.Task, dir string, maxLen, batch int) (*TaskResult, *TaskOutput, error) {
	if m.Head.Cfg.Kind != t.Kind || len(m.Head.Cfg.Labels) != len(t.Labels) {
		return nil, nil, fmt.Errorf("eval: model was fine-tuned for %q (%s head, %d labels), not for %s (%s, %d labels)",
			m.Task, m.Head.Cfg.Kind, len(m.Head.Cfg.Labels), t.Name, t.Kind, len(t.Labels))
	}
	items, err := t.Load(dir, true)
	if err != nil {
		return nil, nil, err
	}
	return RunItems(ctx, m, tok, t, items, maxLen, batch)
}

// RunItems evaluates m on given items of task t.
func RunItems(ctx context.Context, m *model.TaskModel, tok finetune.Tokenizer, t *finetune.Task, items []finetune.Item, maxLen, batch int) (*TaskResult, *TaskOutput, error) {
	opts := finetune.OptionsFor(m, tok, maxLen)
	feats, err := finetune.Featurize(t, tok, items, opts)
	if err != nil {
		return nil, nil, err
	}
	pred, err := finetune.Predict(ctx, m, t.Kind, items, feats, batch, 30)
	if err != nil {
		return nil, nil, err
	}
	res := Score(t, items, pred)
	res.Split = t.EvalSplit
	res.Seconds = pred.Seconds
	res.TokensPerSec = metrics.Ratio(float64(pred.Tokens), pred.Seconds)
	return res, &TaskOutput{Task: t, Items: items, Pred: pred}, nil
}

// Score computes t's metrics for predictions on items.
func Score(t *finetune.Task, items []finetune.Item, p *finetune.Predictions) *TaskResult {
	res := &TaskResult{Task: t.Name, Items: len(items)}
	add := func(name string, v float64) { res.Metrics = append(res.Metrics, Metric{Name: name, Value: v}) }
	switch t.Kind {
	case "sequence":
		gold := make([]int, len(items))
		for i, it := range items {
			gold[i] = it.Label
		}
		res.Majority = majority(gold)
		add("accuracy", metrics.Accuracy(p.Labels, gold))
		switch t.Name {
		case "cola":
			add("mcc", metrics.MCC(p.Labels, gold))
		case "mrpc":
			add("f1", metrics.BinaryPRF(p.Labels, gold, 1).F1)
		default:
			prf := metrics.BinaryPRF(p.Labels, gold, 1)
			add("precision", prf.Precision)
			add("recall", prf.Recall)
			add("f1", prf.F1)
		}
	case "token":
		gold, pred := tagStrings(t, items, p)
		var flat []int
		for _, it := range items {
			flat = append(flat, it.Tags...)
		}
		res.Majority = majority(flat)
		add("token_accuracy", metrics.TokenAccuracy(pred, gold))
		add("sentence_accuracy", metrics.SentenceAccuracy(pred, gold))
		if t.Name == "conll2003-ner" {
			e := metrics.EntityPRF(pred, gold)
			add("entity_precision", e.Micro.Precision)
			add("entity_recall", e.Micro.Recall)
			add("entity_f1", e.Micro.F1)
		}
	case "span":
		refs := make([]metrics.SquadReference, len(items))
		preds := make(map[string]string, len(items))
		for i, it := range items {
			refs[i].ID = it.ID
			for _, a := range it.Answers {
				refs[i].Answers = append(refs[i].Answers, a.Text)
			}
			preds[it.ID] = p.Answers[i]
		}
		r := metrics.SquadEvaluate(refs, preds)
		add("exact_match", r.ExactMatch)
		add("f1", r.F1)
	}
	return res
}

func tagStrings(t *finetune.Task, items []finetune.Item, p *finetune.Predictions) (gold, pred [][]string) {
	gold, pred = make([][]string, len(items)), make([][]string, len(items))
	for i, it := range items {
		for w := range it.Words {
			gold[i] = append(gold[i], t.Labels[it.Tags[w]])
			pred[i] = append(pred[i], t.Labels[p.Tags[i][w]])
		}
	}
	return gold, pred
}

// majority is the accuracy of predicting the most frequent label.
func majority(gold []int) float64 {
	cnt := map[int]int{}
	best := 0
	for _, g := range gold {
		cnt[g]++
		best = max(best, cnt[g])
	}
	return metrics.Ratio(float64(best), float64(len(gold)))
}

// WritePredictions writes o's predictions atomically in the official scorer's format:
//   - span tasks: SQuAD predictions JSON {"question id": "answer text"} (evaluate-v1.1.py)
//   - token tasks: CoNLL columns "token gold predicted", a blank line after each sentence (conlleval)
//   - sequence tasks: one label per line (the label's index: GLUE's 0/1)
func (o *TaskOutput) WritePredictions(path string) error {
	return writeAtomic(path, func(w *bufio.Writer) error {
		switch o.Task.Kind {
		case "span":
			m := make(map[string]string, len(o.Items))
			for i, it := range o.Items {
				m[it.ID] = o.Pred.Answers[i]
			}
			b, err := json.MarshalIndent(m, "", " ")
			if err != nil {
				return err
			}
			w.Write(b)
			w.WriteByte('\n')
		case "token":
			for i, it := range o.Items {
				for j, word := range it.Words {
					fmt.Fprintf(w, "%s %s %s\n", word, o.Task.Labels[it.Tags[j]], o.Task.Labels[o.Pred.Tags[i][j]])
				}
				w.WriteByte('\n')
			}
		default:
			for _, l := range o.Pred.Labels {
				fmt.Fprintf(w, "%d\n", l)
			}
		}
		return nil
	})
}

// writeAtomic writes through format.WriteAtomic with a buffered writer.
func writeAtomic(path string, fill func(*bufio.Writer) error) error {
	err := format.WriteAtomic(path, func(f io.Writer) error {
		w := bufio.NewWriter(f)
		if err := fill(w); err != nil {
			return err
		}
		return w.Flush()
	})
	if err != nil {
		return fmt.Errorf("eval: write %s: %w", path, err)
	}
	return nil
}
