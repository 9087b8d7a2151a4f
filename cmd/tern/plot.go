package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"tern/plot"
	"tern/train"
)

func init() {
	register("plot", "draw loss curves of one or more runs (their metrics.jsonl) into a PNG", runPlot)
}

func runPlot(ctx context.Context, args []string) error {
	fs := newFlags("plot", "plot [flags] RUN_DIR...")
	out := fs.String("out", "loss.png", "output PNG")
	split := fs.String("split", "valid", "which curves: valid, train or both")
	title := fs.String("title", "loss", "chart title")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("name at least one run directory")
	}
	splits := []string{*split}
	if *split == "both" {
		splits = []string{"train", "valid"}
	}
	var series []plot.Series
	for _, dir := range fs.Args() {
		ms, err := train.ReadMetrics(filepath.Join(dir, "metrics.jsonl"))
		if err != nil {
			return err
		}
		series = append(series, train.LossSeries(ms, filepath.Base(filepath.Clean(dir))+" ", splits...)...)
	}
	if len(series) == 0 {
		return fmt.Errorf("no %s metrics in %s", *split, strings.Join(fs.Args(), ", "))
	}
	if err := plot.Lines(*out, *title, "step", "nats/token", series, 900, 500); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", *out)
	return nil
}
