// Tests for the comparison report on a hand-made example; the expected table is written out by
// hand from the numbers below.

package metrics

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func sampleReport() *Report {
	return &Report{
		Title:     "SST-2 and WikiText-2",
		Machine:   "Zen 4, 2 threads",
		Baseline:  ModelInfo{Name: "fp", Params: 1_000_000, FileBytes: 4_000_000, TokensPerSec: 1000},
		Quantized: ModelInfo{Name: "t", Params: 1_000_000, FileBytes: 200_000, TokensPerSec: 2500},
		Metrics: []MetricRow{
			{Task: "SST-2 dev", Metric: "accuracy", Baseline: 0.9, Quantized: 0.81},
			{Task: "WikiText-2 test", Metric: "perplexity", Baseline: 20, Quantized: 25, LowerIsBetter: true},
			{Task: "toy|pipe", Metric: "mcc", Baseline: 0, Quantized: 0.1},
		},
		Notes: []string{"ternary weights packed 5 per byte"},
	}
}

func TestReportMarkdown(t *testing.T) {
	// accuracy: 0.81 - 0.9 = -0.09, relative -0.09/0.9 = -10%; the quantized model is worse.
	// perplexity: +5, +25%, worse since lower is better. mcc: baseline 0, relative change undefined.
	// Sizes: 4,000,000 B = 3.81 MiB, 200,000 B = 195.31 KiB, ratio 0.05; bits per weight
	// 8*4e6/1e6 = 32 and 8*2e5/1e6 = 1.6; speed ratio 2500/1000 = 2.5.
	want := "## SST-2 and WikiText-2\n\n" +
		"Baseline: `fp`; 1.58-bit: `t`. Speeds measured on Zen 4, 2 threads.\n\n" +
		"| task | metric | baseline | 1.58-bit | abs. change | rel. change |\n" +
		"|---|---|---:|---:|---:|---:|\n" +
		"| SST-2 dev | accuracy | 0.9000 | 0.8100 | -0.0900 (worse) | -10.00% |\n" +
		"| WikiText-2 test | perplexity (lower is better) | 20.0000 | 25.0000 | +5.0000 (worse) | +25.00% |\n" +
		"| toy\\|pipe | mcc | 0.0000 | 0.1000 | +0.1000 | n/a |\n\n" +
		"| model | baseline | 1.58-bit | 1.58-bit / baseline |\n" +
		"|---|---:|---:|---:|\n" +
		"| parameters | 1000000 | 1000000 | |\n" +
		"| file size | 3.81 MiB | 195.31 KiB | 0.050x |\n" +
		"| bits per weight | 32.00 | 1.60 | |\n" +
		"| eval tokens/s | 1000.0 | 2500.0 | 2.500x |\n\n" +
		"- ternary weights packed 5 per byte\n"
	if got := sampleReport().Markdown(); got != want {
		t.Errorf("Markdown:\n%s\nwant:\n%s", got, want)
	}
}

func TestReportJSON(t *testing.T) {
	r := sampleReport()
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["size_ratio"] != 0.05 || m["speed_ratio"] != 2.5 || m["baseline_bits_per_weight"] != 32.0 || m["quantized_bits_per_weight"] != 1.6 {
		t.Errorf("derived model fields: %v", m)
	}
	rows := m["metrics"].([]any)
	r0, r2 := rows[0].(map[string]any), rows[2].(map[string]any)
	if !near(r0["abs_change"].(float64), -0.09) || !near(r0["rel_change"].(float64), -0.1) || r0["task"] != "SST-2 dev" {
		t.Errorf("row 0: %v", r0)
	}
	if v, ok := r2["rel_change"]; !ok || v != nil {
		t.Errorf("row 2 rel_change = %v, want null (baseline 0)", v)
	}
	// Round trip: the stored fields come back unchanged.
	back, err := ParseReport(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, r)
	}
	// NaN cannot be written as JSON: an error naming the report, not a panic.
	r.Metrics[0].Quantized = math.NaN()
	if _, err := r.JSON(); err == nil || !strings.Contains(err.Error(), "SST-2 and WikiText-2") {
		t.Errorf("NaN metric: err %v", err)
	}
	// Empty report: ratios are null, nothing divides by zero.
	b, err = (&Report{}).JSON()
	if err != nil || !strings.Contains(string(b), `"size_ratio": null`) {
		t.Errorf("empty report: %s, %v", b, err)
	}
	if md := (&Report{}).Markdown(); !strings.Contains(md, "| file size | 0 B | 0 B | n/a |") {
		t.Errorf("empty report Markdown:\n%s", md)
	}
}

func TestMetricRowWorse(t *testing.T) {
	if (MetricRow{Baseline: 1, Quantized: 1}).Worse() || !(MetricRow{Baseline: 1, Quantized: 2, LowerIsBetter: true}).Worse() ||
		(MetricRow{Baseline: 1, Quantized: 2}).Worse() {
		t.Error("Worse")
	}
}
