package main

import (
	"context"
	"fmt"
	"path/filepath"

	"tern/infer"
	"tern/model"
	"tern/train"
)

func init() {
	register("quickstart", "train a small 1.58-bit model on embedded Tiny Shakespeare (~3 min), then sample", runQuickstart)
}

func runQuickstart(ctx context.Context, args []string) error {
	fs := newFlags("quickstart", "quickstart [flags]")
	out := fs.String("out", "runs/quickstart", "run directory")
	steps := fs.Int("steps", 1200, "training steps")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	linear := fs.String("linear", "bitnet", "bitnet or fp32")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	mc, _ := model.Preset("tiny")
	mc.Linear = model.Linear(*linear)
	tc := train.Defaults()
	tc.Data, tc.Tokenizer, tc.Out = "tinyshakespeare", "char", *out
	tc.Steps, tc.Batch, tc.Seq, tc.Threads = *steps, 16, 128, *threads
	tc.LR, tc.MinLR, tc.Warmup, tc.EvalEvery, tc.EvalBatches, tc.WD = 3e-3, 3e-4, 30, 100, 16, 0.05
	fmt.Printf("tern quickstart: a %s char-level transformer on Tiny Shakespeare (embedded, public domain)\n", *linear)
	r, err := train.NewRun(tc, mc, false, stdout())
	if err != nil {
		return err
	}
	res, err := r.Train(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("\nval loss %.4f (ppl %.2f) after %d steps at %.0f tok/s; model saved to %s\n\n--- sample ---\n",
		res.ValLoss, res.ValPPL, res.Steps, res.TokensPerSec, filepath.Join(*out, train.ModelName))
	return streamSample(ctx, r.Model, r.Tok, "ROMEO:\n", 300, infer.Sampling{Temperature: 0.8}, 1)
}
