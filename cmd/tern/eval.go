package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"tern/data"
	"tern/eval"
	"tern/finetune"
	"tern/model"
	"tern/tensor"
	"tern/tokenizer"
)

func init() {
	register("eval", "evaluate: 'eval lm' (perplexity, bits per char) or 'eval --task T' on a fine-tuned model", runEval)
}

// lmDatasets maps --dataset names to their files under the data directory.
var lmDatasets = []string{"wikitext2-test", "wikitext2-valid", "gutenberg-test", "gutenberg-valid"}

// openLMDataset returns a reader over a named LM evaluation text. WikiText files are streamed;
// Gutenberg splits are assembled from book bodies (split.tsv), ~2 MB, so they are read whole.
func openLMDataset(dir, name string) (io.ReadCloser, error) {
	switch name {
	case "wikitext2-test", "wikitext2-valid":
		p := filepath.Join(dir, "wikitext-2", strings.TrimPrefix(name, "wikitext2-")+".txt")
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", name, err)
		}
		return f, nil
	case "gutenberg-test", "gutenberg-valid":
		c, err := data.LoadCorpus(filepath.Join(dir, "gutenberg"))
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", name, err)
		}
		text := c.Test
		if name == "gutenberg-valid" {
			text = c.Valid
		}
		return io.NopCloser(strings.NewReader(text)), nil
	}
	return nil, fmt.Errorf("unknown dataset %q (have %s)", name, strings.Join(lmDatasets, ", "))
}

// loadLMForEval loads a model for inference only (it has no gradients: nn allocates them only for
// training, which saves a base-size model's 124M fp32 gradients, 0.5 GB).
func loadLMForEval(path string) (model.LM, tokenizer.Adapter, error) {
	load := model.Load
	if isPacked(path) {
		load = model.LoadPacked // expanded into the training-path model the packed weights define
	}
	lm, spec, err := load(path)
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.AdapterFromSpec(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return lm, tok, nil
}

// randomLM builds a preset with random weights and the GPT-2 vocabulary (no gradients).
func randomLM(preset string) (model.LM, tokenizer.Adapter, error) {
	cfg, err := model.Preset(preset)
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.NewAdapter("gpt2", "")
	if err != nil {
		return nil, nil, err
	}
	cfg.Vocab = tok.VocabSize()
	lm, err := model.New(cfg, tensor.NewRNG(1))
	if err != nil {
		return nil, nil, err
	}
	return lm, tok, nil
}

// evalLM runs one LM evaluation; ctxLen 0 means the model's max_pos, stride 0 means ctxLen/2.
func evalLM(ctx context.Context, lm model.LM, tok tokenizer.Adapter, r io.Reader, ctxLen, stride int, maxTokens int64) (*eval.LMResult, error) {
	if ctxLen <= 0 {
		ctxLen = min(lm.Config().MaxPos, 1024)
	}
	if stride <= 0 {
		stride = max(1, ctxLen/2)
	}
	return eval.EvaluateLM(ctx, lm, tok, r, ctxLen, stride, maxTokens)
}

func runEval(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "lm" {
		return runEvalLM(ctx, args[1:])
	}
	fs := newFlags("eval", "eval lm --model M (--data FILE | --dataset NAME) | eval --task T --model FINETUNED [flags]")
	task := fs.String("task", "", "task the model was fine-tuned for: "+strings.Join(finetune.Names(), ", "))
	path := fs.String("model", "", "fine-tuned model file (model.safetensors from tern finetune)")
	out := fs.String("out", "", "predictions file (SQuAD JSON, CoNLL columns or one label per line; default: none)")
	dataDir := fs.String("data-dir", "", "dataset directory (default: $TERN_DATA, else shared/data above the working directory)")
	maxLen := fs.Int("max-len", 128, "maximum sequence length in tokens")
	batch := fs.Int("batch", 32, "evaluation batch size")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *task == "" || *path == "" {
		return fmt.Errorf("--task and --model are required (or use 'tern eval lm')")
	}
	setThreads(*threads)
	t, err := finetune.Lookup(*task)
	if err != nil {
		return err
	}
	dir, err := finetune.DataDir(*dataDir)
	if err != nil {
		return err
	}
	m, spec, err := model.LoadTask(*path)
	if err != nil {
		return err
	}
	tok, err := tokenizer.AdapterFromSpec(spec)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	res, o, err := eval.RunTask(ctx, m, tok, t, dir, *maxLen, *batch)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := o.WritePredictions(*out); err != nil {
			return err
		}
	}
	if *asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	printTaskResult(os.Stdout, res)
	if *out != "" {
		fmt.Printf("predictions in %s\n", *out)
	}
	return nil
}

func runEvalLM(ctx context.Context, args []string) error {
	fs := newFlags("eval lm", "eval lm --model M (--data FILE | --dataset NAME) [flags]")
	path := fs.String("model", "", "model file (model.safetensors from tern train, a checkpoint, or a GGUF: llama, bitnet, gpt2)")
	preset := fs.String("preset", "", "instead of --model: a randomly initialized preset with the GPT-2 tokenizer (for speed and memory measurements): "+strings.Join(model.PresetNames(), ", "))
	maxTokens := fs.Int64("max-tokens", 0, "stop after this many tokens (0 = the whole text)")
	file := fs.String("data", "", "UTF-8 text file to score (streamed)")
	dataset := fs.String("dataset", "", "named dataset: "+strings.Join(lmDatasets, ", "))
	dataDir := fs.String("data-dir", "", "dataset directory (default: $TERN_DATA, else shared/data above the working directory)")
	ctxLen := fs.Int("context", 0, "window length in tokens (default: the model's max_pos, at most 1024)")
	stride := fs.Int("stride", 0, "tokens the window moves; each window scores only its last stride tokens (default: context/2)")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if (*path == "") == (*preset == "") || (*file == "") == (*dataset == "") {
		return fmt.Errorf("exactly one of --model or --preset, and exactly one of --data or --dataset, are required")
	}
	setThreads(*threads)
	var lm model.LM
	var tok tokenizer.Adapter
	var err error
	var run func(r io.Reader) (*eval.LMResult, error)
	switch {
	case *preset != "":
		lm, tok, err = randomLM(*preset)
	case isGGUF(*path):
		var done func()
		run, done, err = ggufEvaluator(ctx, *path, *ctxLen, *stride, *maxTokens)
		if err == nil {
			defer done()
		}
	default:
		lm, tok, err = loadLMForEval(*path)
	}
	if err != nil {
		return err
	}
	if run == nil {
		run = func(r io.Reader) (*eval.LMResult, error) {
			return evalLM(ctx, lm, tok, r, *ctxLen, *stride, *maxTokens)
		}
	}
	var r io.ReadCloser
	name := *file
	if *file != "" {
		if r, err = os.Open(*file); err != nil {
			return err
		}
	} else {
		dir, err := finetune.DataDir(*dataDir)
		if err != nil {
			return err
		}
		if r, err = openLMDataset(dir, *dataset); err != nil {
			return err
		}
		name = *dataset
	}
	defer r.Close()
	res, err := run(r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Data string `json:"data"`
			*eval.LMResult
		}{name, res}, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%s: %d tokens, %d characters (context %d, stride %d); Go heap obtained from the OS %.0f MiB\n", name, res.Tokens, res.Chars, res.Context, res.Stride, float64(ms.Sys)/(1<<20))
	bpc := fmt.Sprintf("%.4f bits/char", res.BitsPerChar)
	if res.Chars == 0 { // --max-tokens cut the stream mid-text: the characters scored are not known
		bpc = "bits/char n/a (stream truncated by --max-tokens)"
	}
	fmt.Printf("loss %.4f nats/token, perplexity %.2f, %.4f bits/token, %s; %.0f tok/s (%.1f s)\n",
		res.Loss, res.Perplexity, res.BitsPerToken, bpc, res.TokensPerSec, res.Seconds)
	if res.Skipped > 0 {
		fmt.Printf("warning: %d characters (%.1f%% of the text) are not in the model's char vocabulary: they were dropped, not scored, and are not counted in bits/char\n",
			res.Skipped, 100*float64(res.Skipped)/float64(res.Skipped+res.Chars))
	}
	return nil
}
