package train

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"tern/data"
	"tern/eval"
	"tern/finetune"
	"tern/model"
)

// Task evaluation during training (--eval-tasks): a causal LM is scored on real tasks without a
// task head. sst2: zero-shot on the first sst2Items sentences of GLUE SST-2 dev (eval.ZeroShot, the
// likelier of " It was terrible." / " It was great."). wikitext2: the LM's loss and bits per
// token on the first wikitextTokens tokens of WikiText-2 valid (eval.EvaluateLM, context = --seq,
// stride half of it). Both are small so that evaluating every few hundred steps costs little.
const (
	sst2Items      = 200
	wikitextTokens = 20000
)

// evalTasks parses EvalTasks.
func (c Config) evalTasks(mc model.Config) ([]string, error) {
	if strings.TrimSpace(c.EvalTasks) == "" {
		return nil, nil
	}
	var out []string
	for _, t := range strings.Split(c.EvalTasks, ",") {
		switch t = strings.TrimSpace(t); t {
		case "sst2", "wikitext2":
			out = append(out, t)
		default:
			return nil, fmt.Errorf("train config: unknown eval task %q (want sst2, wikitext2)", t)
		}
	}
	if mc.Objective != model.ObjCausal {
		return nil, fmt.Errorf("train config: eval tasks score a causal LM; this model's objective is %s", mc.Objective)
	}
	return out, nil
}

// taskEval holds what the task evaluations read, loaded once when the run starts (so a missing file
// fails then, not hours later).
type taskEval struct {
	names    []string
	sst2     []data.SentenceExample
	wikitext string // the file
}

func newTaskEval(cfg Config, mc model.Config) (*taskEval, error) {
	names, err := cfg.evalTasks(mc)
	if err != nil || names == nil {
		return nil, err
	}
	dir, err := finetune.DataDir(cfg.EvalTaskData)
	if err != nil {
		return nil, fmt.Errorf("eval tasks: %w", err)
	}
	te := &taskEval{names: names}
	for _, n := range names {
		switch n {
		case "sst2":
			xs, err := data.ReadSST2(filepath.Join(dir, "glue-sst2", "dev.tsv"))
			if err != nil {
				return nil, fmt.Errorf("eval task sst2: %w", err)
			}
			te.sst2 = xs[:min(len(xs), sst2Items)]
		case "wikitext2":
			te.wikitext = filepath.Join(dir, "wikitext-2", "valid.txt")
			if _, err := os.Stat(te.wikitext); err != nil {
				return nil, fmt.Errorf("eval task wikitext2: %w", err)
			}
		}
	}
	return te, nil
}

// evaluateTasks runs every task on the current weights and returns one metric per task.
func (r *Run) evaluateTasks(ctx context.Context) ([]Metric, error) {
	var out []Metric
	for _, n := range r.tasks.names {
		switch n {
		case "sst2":
			texts := make([]string, len(r.tasks.sst2))
			labels := make([]int, len(r.tasks.sst2))
			for i, x := range r.tasks.sst2 {
				texts[i], labels[i] = x.Text, x.Label
			}
			res, err := eval.ZeroShot(ctx, r.Model, r.Tok, texts, labels, eval.SST2Verbalizers, r.Cfg.Seq)
			if err != nil {
				return nil, fmt.Errorf("eval task sst2: %w", err)
			}
			out = append(out, Metric{Step: r.Step, Split: "task", Task: n, Score: res.Accuracy})
		case "wikitext2":
			f, err := os.Open(r.tasks.wikitext)
			if err != nil {
				return nil, fmt.Errorf("eval task wikitext2: %w", err)
			}
			res, err := eval.EvaluateLM(ctx, r.Model, r.Tok, f, r.Cfg.Seq, max(1, r.Cfg.Seq/2), wikitextTokens)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("eval task wikitext2: %w", err)
			}
			out = append(out, Metric{Step: r.Step, Split: "task", Task: n, Loss: res.Loss, PPL: res.Perplexity, Score: res.Loss})
		}
	}
	return out, nil
}
