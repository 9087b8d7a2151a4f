package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"tern/eval"
	"tern/finetune"
	"tern/model"
)

func init() {
	register("finetune", "fine-tune a trained model on a task (sst2, cola, mrpc, ewt-upos, conll2003-ner, xquad)", runFinetune)
}

// ftFlags are the fine-tuning flags shared by finetune and compare; they map onto finetune.Config
// and finetune.Setup.
type ftFlags struct {
	cfg     finetune.Config
	setup   finetune.Setup
	dataDir string
	batch   int // evaluation batch
	threads int
}

func addFinetuneFlags(fs *flag.FlagSet) *ftFlags {
	f := &ftFlags{cfg: finetune.Defaults()}
	c := &f.cfg
	fs.Float64Var(&c.Epochs, "epochs", c.Epochs, "passes over the training set (--steps wins when > 0)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "optimizer steps (0 = from --epochs)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "training batch size")
	fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate (warmup, then cosine to lr/10)")
	fs.Float64Var(&c.WD, "wd", c.WD, "weight decay")
	fs.Float64Var(&c.Warmup, "warmup", c.Warmup, "fraction of steps warming up")
	fs.Float64Var(&c.Clip, "clip", c.Clip, "gradient-norm clip")
	fs.IntVar(&c.MaxLen, "max-len", c.MaxLen, "maximum sequence length in tokens (capped by the model's max_pos)")
	fs.IntVar(&c.MaxTrain, "max-train", c.MaxTrain, "use only the first N training examples (0 = all)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed (head init, shuffling)")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "progress line every N steps")
	fs.StringVar(&f.setup.Pool, "pool", "", "sequence pooling: first, mean or last (default: last for causal models, first otherwise)")
	fs.StringVar(&f.dataDir, "data-dir", "", "dataset directory (default: $TERN_DATA, else shared/data above the working directory)")
	fs.IntVar(&f.batch, "eval-batch", 32, "evaluation batch size")
	fs.IntVar(&f.threads, "threads", 0, "kernel threads (0 = all cores)")
	return f
}

// finetuned is one fine-tuning run and its evaluation.
type finetuned struct {
	Model  *model.TaskModel   `json:"-"`
	Out    *eval.TaskOutput   `json:"-"`
	Stats  *finetune.Stats    `json:"train"`
	Result *eval.TaskResult   `json:"eval"`
	Config finetune.Config    `json:"config"`
	Head   model.HeadConfig   `json:"head"`
	Tok    finetune.Tokenizer `json:"-"`
	Spec   string             `json:"-"`
}

// runTask fine-tunes the pretrained model at path on task and evaluates it on the task's eval split.
func (f *ftFlags) runTask(ctx context.Context, path, task, linear string, log io.Writer) (*finetuned, error) {
	t, err := finetune.Lookup(task)
	if err != nil {
		return nil, err
	}
	dir, err := finetune.DataDir(f.dataDir)
	if err != nil {
		return nil, err
	}
	s := f.setup
	s.Linear, s.Seed = model.Linear(linear), f.cfg.Seed
	m, tok, err := finetune.NewModel(path, t, s)
	if err != nil {
		return nil, err
	}
	items, err := t.Load(dir, false)
	if err != nil {
		return nil, err
	}
	if f.cfg.MaxTrain > 0 && len(items) > f.cfg.MaxTrain {
		items = items[:f.cfg.MaxTrain]
	}
	feats, err := finetune.Featurize(t, tok, items, finetune.OptionsFor(m, tok, f.cfg.MaxLen))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "finetune %s: %s, %d training examples (%d features), linear=%s, head %s\n", t.Name, path, len(items), len(feats), m.Enc.Cfg.Linear, headDesc(m.Head.Cfg))
	st, err := finetune.Train(ctx, m, t.Kind, feats, f.cfg, log)
	if err != nil {
		return nil, err
	}
	res, out, err := eval.RunTask(ctx, m, tok, t, dir, f.cfg.MaxLen, f.batch)
	if err != nil {
		return nil, err
	}
	return &finetuned{Model: m, Out: out, Stats: st, Result: res, Config: f.cfg, Head: m.Head.Cfg, Tok: tok}, nil
}

func headDesc(h model.HeadConfig) string {
	if h.Kind == "sequence" {
		return fmt.Sprintf("%s/%s pool, %d labels", h.Kind, h.Pool, len(h.Labels))
	}
	return fmt.Sprintf("%s, %d labels", h.Kind, len(h.Labels))
}

func printTaskResult(w io.Writer, r *eval.TaskResult) {
	var parts []string
	for _, m := range r.Metrics {
		parts = append(parts, fmt.Sprintf("%s %.4f", m.Name, m.Value))
	}
	maj := ""
	if r.Majority > 0 {
		maj = fmt.Sprintf(" (majority baseline accuracy %.4f)", r.Majority)
	}
	fmt.Fprintf(w, "%s on %s, %d items: %s%s; %.0f tok/s\n", r.Task, r.Split, r.Items, strings.Join(parts, ", "), maj, r.TokensPerSec)
}

// predictionsName is the file predictions are written to, by task kind.
func predictionsName(kind string) string {
	switch kind {
	case "span":
		return "predictions.json"
	case "token":
		return "predictions.conll"
	}
	return "predictions.txt"
}

func runFinetune(ctx context.Context, args []string) error {
	fs := newFlags("finetune", "finetune --task T --model M --out DIR [flags]")
	task := fs.String("task", "", "task: "+strings.Join(finetune.Names(), ", "))
	path := fs.String("model", "", "pretrained model file (model.safetensors from tern train)")
	out := fs.String("out", "", "output directory: model.safetensors, result.json, predictions")
	linear := fs.String("linear", "", "fp32 or bitnet (1.58-bit, quantization-aware) for encoder and head (default: the model's own)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	f := addFinetuneFlags(fs)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *task == "" || *path == "" || *out == "" {
		return fmt.Errorf("--task, --model and --out are required")
	}
	if *linear != "" && *linear != "fp32" && *linear != "bitnet" {
		return fmt.Errorf("--linear %q: want fp32 or bitnet", *linear)
	}
	setThreads(f.threads)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	log := io.Writer(os.Stdout)
	if *asJSON {
		log = os.Stderr
	}
	r, err := f.runTask(ctx, *path, *task, *linear, log)
	if err != nil {
		return err
	}
	mpath := filepath.Join(*out, "model.safetensors")
	if err := model.SaveTask(mpath, r.Model, r.Tok.(interface{ Spec() string }).Spec()); err != nil {
		return err
	}
	ppath := filepath.Join(*out, predictionsName(r.Out.Task.Kind))
	if err := r.Out.WritePredictions(ppath); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "result.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if *asJSON {
		fmt.Println(string(b))
		return nil
	}
	printTaskResult(os.Stdout, r.Result)
	fmt.Printf("model in %s, predictions in %s\n", mpath, ppath)
	return nil
}
