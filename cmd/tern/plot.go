package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
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
	pareto := fs.String("pareto", "", "instead of loss curves: validation perplexity vs bits per weight from a JSON-lines file of {\"name\", \"seed\", \"bits\", \"ppl\"} (scripts/pareto-bits.sh writes it)")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if *pareto != "" {
		if fs.NArg() > 0 {
			return fmt.Errorf("--pareto takes no run directories (got %s)", strings.Join(fs.Args(), ", "))
		}
		if *title == "loss" {
			*title = "validation perplexity vs stored bits per weight"
		}
		if err := plotPareto(*pareto, *out, *title); err != nil {
			return err
		}
		fmt.Printf("wrote %s\n", *out)
		return nil
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

// paretoPoint is one training run of the bit-width Pareto table: its row name ("uniform-2",
// "knapsack-2.0", "fp32", ...), seed, bits per weight measured from its packed file, and validation
// perplexity.
type paretoPoint struct {
	Name string   `json:"name"`
	Seed int      `json:"seed"`
	Bits *float64 `json:"bits"`
	PPL  *float64 `json:"ppl"`
}

// plotPareto draws perplexity against bits per weight: one line per method (the text before the
// row name's last '-': uniform, knapsack, cluster) through each row's mean over seeds, every seed
// as a small point of the same colour, and fp32 (any row named "fp32") as a level line.
func plotPareto(path, out, title string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--pareto: %w", err)
	}
	type row struct{ bits, ppl []float64 }
	rows := map[string]*row{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var p paretoPoint
		d := json.NewDecoder(strings.NewReader(line))
		d.DisallowUnknownFields()
		if err := d.Decode(&p); err != nil {
			return fmt.Errorf("%s:%d: %v", path, ln, err)
		}
		if p.Name == "" || p.PPL == nil || (p.Bits == nil && p.Name != "fp32") {
			return fmt.Errorf("%s:%d: want name, seed, bits (except for fp32) and ppl", path, ln)
		}
		if math.IsNaN(*p.PPL) || *p.PPL <= 0 || (p.Bits != nil && !(*p.Bits > 0)) {
			return fmt.Errorf("%s:%d: bits and ppl must be positive numbers", path, ln)
		}
		r := rows[p.Name]
		if r == nil {
			r = &row{}
			rows[p.Name] = r
			order = append(order, p.Name)
		}
		bits := 32.0
		if p.Bits != nil {
			bits = *p.Bits
		}
		r.bits, r.ppl = append(r.bits, bits), append(r.ppl, *p.PPL)
	}
	if len(rows) == 0 {
		return fmt.Errorf("%s: no points", path)
	}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	methods := map[string][]string{}
	var mOrder []string
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, name := range order {
		if name == "fp32" {
			continue
		}
		m := name
		if i := strings.LastIndex(name, "-"); i > 0 {
			m = name[:i]
		}
		if methods[m] == nil {
			mOrder = append(mOrder, m)
		}
		methods[m] = append(methods[m], name)
		for _, x := range rows[name].bits {
			minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		}
	}
	var series []plot.Series
	for i, m := range mOrder {
		names := methods[m]
		sort.Slice(names, func(a, b int) bool { return mean(rows[names[a]].bits) < mean(rows[names[b]].bits) })
		line := plot.Series{Name: m + " (mean of seeds)", Marker: true, Color: i + 1}
		seeds := plot.Series{NoLine: true, Color: i + 1}
		for _, n := range names {
			r := rows[n]
			line.X, line.Y = append(line.X, mean(r.bits)), append(line.Y, mean(r.ppl))
			seeds.X, seeds.Y = append(seeds.X, r.bits...), append(seeds.Y, r.ppl...)
		}
		series = append(series, line, seeds)
	}
	if r := rows["fp32"]; r != nil {
		if math.IsInf(minX, 0) {
			minX, maxX = 1, 8
		}
		f := mean(r.ppl)
		series = append(series, plot.Series{Name: fmt.Sprintf("fp32 (32 bits/weight), %.3f", f), X: []float64{minX, maxX}, Y: []float64{f, f}, Color: len(mOrder) + 1})
	}
	return plot.Lines(out, title, "stored bits per quantized weight (from the packed file)", "validation perplexity", series, 900, 540)
}
