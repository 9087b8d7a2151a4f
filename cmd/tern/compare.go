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

	"tern/eval"
	"tern/finetune"
	"tern/kernels"
	"tern/metrics"
	"tern/model"
	"tern/nn"
)

func init() {
	register("compare", "compare an fp32 baseline and a 1.58-bit model on the same tasks (Markdown + JSON report)", runCompare)
}

func runCompare(ctx context.Context, args []string) error {
	fs := newFlags("compare", "compare --baseline A --quantized B --tasks lm,sst2,... --out DIR [flags]")
	base := fs.String("baseline", "", "full-precision model file (from tern train --linear fp32)")
	quant := fs.String("quantized", "", "1.58-bit model file (from tern train --linear bitnet)")
	taskList := fs.String("tasks", "lm", "comma-separated: lm (WikiText-2 test and Gutenberg test perplexity) and any of "+strings.Join(finetune.Names(), ", "))
	out := fs.String("out", "", "output directory: compare.md, compare.json, per-task fine-tuned models and predictions")
	ctxLen := fs.Int("context", 0, "LM window length (default: the model's max_pos, at most 1024)")
	stride := fs.Int("stride", 0, "LM window stride (default: context/2)")
	maxTokens := fs.Int64("max-tokens", 0, "score only the first N tokens of each LM dataset (0 = all; bits/char is then not reported)")
	asJSON := fs.Bool("json", false, "print the JSON report instead of the Markdown")
	f := addFinetuneFlags(fs)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *base == "" || *quant == "" || *out == "" {
		return fmt.Errorf("--baseline, --quantized and --out are required")
	}
	tasks := strings.Split(*taskList, ",")
	for _, t := range tasks {
		if t == "lm" {
			continue
		}
		if _, err := finetune.Lookup(t); err != nil {
			return err
		}
	}
	setThreads(f.threads)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	log := io.Writer(os.Stdout)
	if *asJSON {
		log = os.Stderr
	}
	rep := &metrics.Report{Title: fmt.Sprintf("%s vs %s", filepath.Base(filepath.Dir(*base)), filepath.Base(filepath.Dir(*quant))),
		Machine: fmt.Sprintf("%s/%s, %d threads (%s)", runtime.GOOS, runtime.GOARCH, kernels.Threads(), kernels.Features())}
	for i, p := range []string{*base, *quant} {
		info, err := modelInfo(p)
		if err != nil {
			return err
		}
		if i == 0 {
			rep.Baseline = info
		} else {
			rep.Quantized = info
		}
	}
	var lmTokens [2]float64
	var lmSeconds [2]float64
	var taskTokens, taskSeconds [2]float64 // fallback speed when no lm task runs
	for _, task := range tasks {
		if task == "lm" {
			dir, err := finetune.DataDir(f.dataDir)
			if err != nil {
				return err
			}
			for _, ds := range []string{"wikitext2-test", "gutenberg-test"} {
				var res [2]*eval.LMResult
				for i, p := range []string{*base, *quant} {
					lm, tok, err := loadLMForEval(p)
					if err != nil {
						return err
					}
					r, err := openLMDataset(dir, ds)
					if err != nil {
						return err
					}
					res[i], err = evalLM(ctx, lm, tok, r, *ctxLen, *stride, *maxTokens)
					r.Close()
					if err != nil {
						return fmt.Errorf("%s on %s: %w", p, ds, err)
					}
					lmTokens[i] += float64(res[i].Tokens)
					lmSeconds[i] += res[i].Seconds
					fmt.Fprintf(log, "lm %s %s: ppl %.2f, %.4f bits/char, %.0f tok/s\n", ds, p, res[i].Perplexity, res[i].BitsPerChar, res[i].TokensPerSec)
				}
				name := fmt.Sprintf("%s (context %d, stride %d)", ds, res[0].Context, res[0].Stride)
				if *maxTokens > 0 {
					name = fmt.Sprintf("%s (first %d tokens, context %d, stride %d)", ds, res[0].Tokens+1, res[0].Context, res[0].Stride)
				}
				rep.Metrics = append(rep.Metrics,
					metrics.MetricRow{Task: name, Metric: "perplexity", Baseline: res[0].Perplexity, Quantized: res[1].Perplexity, LowerIsBetter: true},
					metrics.MetricRow{Task: name, Metric: "loss (nats/token)", Baseline: res[0].Loss, Quantized: res[1].Loss, LowerIsBetter: true})
				if res[0].Chars > 0 && res[1].Chars > 0 { // whole streams only (see --max-tokens)
					rep.Metrics = append(rep.Metrics, metrics.MetricRow{Task: name, Metric: "bits/char", Baseline: res[0].BitsPerChar, Quantized: res[1].BitsPerChar, LowerIsBetter: true})
				}
			}
			continue
		}
		var rs [2]*finetuned
		for i, p := range []string{*base, *quant} {
			r, err := f.runTask(ctx, p, task, "", log)
			if err != nil {
				return err
			}
			printTaskResult(log, r.Result)
			side := []string{"baseline", "quantized"}[i]
			d := filepath.Join(*out, task+"-"+side)
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			if err := r.Out.WritePredictions(filepath.Join(d, predictionsName(r.Out.Task.Kind))); err != nil {
				return err
			}
			b, _ := json.MarshalIndent(r, "", "  ")
			if err := os.WriteFile(filepath.Join(d, "result.json"), append(b, '\n'), 0o644); err != nil {
				return err
			}
			rs[i] = r
			taskTokens[i] += r.Result.TokensPerSec * r.Result.Seconds
			taskSeconds[i] += r.Result.Seconds
		}
		name := fmt.Sprintf("%s, %s", task, rs[0].Result.Split)
		for k, m := range rs[0].Result.Metrics {
			rep.Metrics = append(rep.Metrics, metrics.MetricRow{Task: name, Metric: m.Name, Baseline: m.Value, Quantized: rs[1].Result.Metrics[k].Value})
		}
		if rs[0].Result.Majority > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: majority-class accuracy on the evaluation split is %.4f.", task, rs[0].Result.Majority))
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: fine-tuned %d steps (batch %d, lr %g, max length %d%s), %s head; baseline %.0f / quantized %.0f eval tok/s.",
			task, rs[0].Stats.Steps, f.cfg.Batch, f.cfg.LR, f.cfg.MaxLen, maxTrainNote(f.cfg.MaxTrain), headDesc(rs[0].Head), rs[0].Result.TokensPerSec, rs[1].Result.TokensPerSec))
	}
	speedNote := "Evaluation speed is LM scoring throughput (tokens scored per second, sliding window, batch 1)"
	if lmSeconds[0] == 0 {
		lmTokens, lmSeconds = taskTokens, taskSeconds
		speedNote = "Evaluation speed is task evaluation throughput (tokens per second through encoder and head, batched)"
	}
	for i := range lmTokens {
		if lmSeconds[i] > 0 {
			tps := lmTokens[i] / lmSeconds[i]
			if i == 0 {
				rep.Baseline.TokensPerSec = tps
			} else {
				rep.Quantized.TokensPerSec = tps
			}
		}
	}
	rep.Notes = append(rep.Notes, speedNote+" on the machine above; model sizes are the files as given (files from tern train keep latent fp32 weights for both models: pack the 1.58-bit one for its ~1.6-bit size).")
	js, err := rep.JSON()
	if err != nil {
		return err
	}
	md := rep.Markdown()
	if err := os.WriteFile(filepath.Join(*out, "compare.json"), js, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "compare.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if *asJSON {
		os.Stdout.Write(js)
	} else {
		fmt.Print(md)
	}
	return nil
}

func maxTrainNote(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(", first %d training examples", n)
}

// modelInfo reads a model's parameter count and file size.
func modelInfo(path string) (metrics.ModelInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return metrics.ModelInfo{}, err
	}
	lm, _, err := model.Load(path)
	if err != nil {
		return metrics.ModelInfo{}, err
	}
	_, unique := model.CountParams(nn.Unique(lm.Params()))
	return metrics.ModelInfo{Name: filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path), Params: int64(unique), FileBytes: st.Size()}, nil
}
