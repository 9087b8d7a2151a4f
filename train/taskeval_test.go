package train

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tern/internal/testenv"
	"tern/model"
)

// TestEvalTasksDuringTraining: sst2 and wikitext2 are evaluated every 2 steps and at the end, land
// in metrics.jsonl with sane values, and tasks.png is drawn.
func TestEvalTasksDuringTraining(t *testing.T) {
	dir := filepath.Dir(filepath.Dir(testenv.SharedData(t, "glue-sst2", "dev.tsv")))
	testenv.SharedData(t, "wikitext-2", "valid.txt")
	out := t.TempDir()
	cfg, mc := tinyRun(t, out, 5, 0, func(c *Config, m *model.Config) {
		c.EvalTasks, c.EvalTaskEvery, c.EvalTaskData, c.Seq = "sst2,wikitext2", 2, dir, 32 // the verbalizers need 17 chars
	})
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{}
	for _, m := range r.log.metrics {
		if m.Split != "task" {
			continue
		}
		got[m.Task] = append(got[m.Task], m.Step)
		switch m.Task {
		case "sst2":
			if m.Score < 0 || m.Score > 1 {
				t.Errorf("step %d: sst2 accuracy %v", m.Step, m.Score)
			}
		case "wikitext2":
			if !(m.Loss > 0) || math.IsInf(m.Loss, 0) || math.Abs(m.PPL-math.Exp(m.Loss)) > 1e-9*m.PPL {
				t.Errorf("step %d: wikitext2 loss %v ppl %v", m.Step, m.Loss, m.PPL)
			}
		}
	}
	for _, task := range []string{"sst2", "wikitext2"} {
		if !slices.Equal(got[task], []int{2, 4, 5}) {
			t.Errorf("%s evaluated at steps %v, want [2 4 5]", task, got[task])
		}
	}
	if _, err := os.Stat(filepath.Join(out, "tasks.png")); err != nil {
		t.Error(err)
	}
	cfg.EvalTasks = "sst2,glue"
	if _, err := NewRun(cfg, mc, false, io.Discard); err == nil || !strings.Contains(err.Error(), `unknown eval task "glue"`) {
		t.Errorf("unknown task: %v", err)
	}
}

// TestKeepLastAndBest: checkpoints every 2 of 10 steps with --keep 2 leave the last two and the one
// with the lowest validation loss (best.json says which), computed here from metrics.jsonl.
func TestKeepLastAndBest(t *testing.T) {
	out := t.TempDir()
	cfg, mc := tinyRun(t, out, 10, 2, func(c *Config, m *model.Config) { c.Keep, c.LR = 2, 0.05 }) // a high LR: the loss need not fall monotonically
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	best, bl := 0, math.Inf(1)
	for _, m := range r.log.metrics {
		if m.Split == "valid" && m.Loss < bl {
			best, bl = m.Step, m.Loss
		}
	}
	want := map[string]bool{stepFile(8): true, stepFile(10): true, stepFile(best): true}
	ents, _ := os.ReadDir(filepath.Join(out, "ckpts"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		if !want[e.Name()] {
			t.Errorf("ckpts holds %s; want only %v", e.Name(), want)
		}
	}
	if len(names) != len(want) {
		t.Errorf("ckpts holds %v, want %v", names, want)
	}
	var b bestCheckpoint
	raw, err := os.ReadFile(filepath.Join(out, "best.json"))
	if err != nil || json.Unmarshal(raw, &b) != nil || b.Step != best || b.Loss != bl {
		t.Errorf("best.json %s (%v), want step %d loss %v", raw, err, best, bl)
	}
	if _, _, err := CheckpointConfig(filepath.Join(out, b.File)); err != nil {
		t.Errorf("the best checkpoint does not load: %v", err)
	}
}
