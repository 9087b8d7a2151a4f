package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"tern/plot"
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
	var series []plot.Series
	for _, dir := range fs.Args() {
		ms, err := readMetricsFile(filepath.Join(dir, "metrics.jsonl"))
		if err != nil {
			return err
		}
		for _, sp := range []string{"train", "valid"} {
			if *split != "both" && *split != sp {
				continue
			}
			byStep := map[int]float64{}
			for _, m := range ms {
				if m.Split == sp {
					byStep[m.Step] = m.Loss
				}
			}
			if len(byStep) == 0 {
				continue
			}
			steps := make([]int, 0, len(byStep))
			for s := range byStep {
				steps = append(steps, s)
			}
			sort.Ints(steps)
			s := plot.Series{Name: filepath.Base(filepath.Clean(dir)) + " " + sp}
			for _, st := range steps {
				s.X, s.Y = append(s.X, float64(st)), append(s.Y, byStep[st])
			}
			series = append(series, s)
		}
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

type metricLine struct {
	Step  int     `json:"step"`
	Split string  `json:"split"`
	Loss  float64 `json:"loss"`
}

func readMetricsFile(path string) ([]metricLine, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ms []metricLine
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m metricLine
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}
