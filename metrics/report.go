// The comparison report of `tern compare`: a full-precision baseline against its 1.58-bit version,
// metric by metric (absolute and relative change), with model sizes and evaluation speed, rendered
// as Markdown for people and JSON for tools. It only formats numbers it is given; running the
// models is the command's job.

package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// ModelInfo describes one side of the comparison.
type ModelInfo struct {
	Name      string `json:"name"`       // e.g. "gpt-5m-fp32" or a file name
	Params    int64  `json:"params"`     // unique parameters (shared parameters counted once)
	FileBytes int64  `json:"file_bytes"` // size of the model file on disk
	// TokensPerSec is the evaluation throughput (tokens scored per second) on Report.Machine.
	TokensPerSec float64 `json:"tokens_per_sec"`
}

// BitsPerWeight is the model file's size in bits per parameter, all overhead included
// (8 * FileBytes / Params); 0 when Params is 0.
func (m ModelInfo) BitsPerWeight() float64 {
	return Ratio(8*float64(m.FileBytes), float64(m.Params))
}

// MetricRow is one metric measured on both models.
type MetricRow struct {
	Task      string  `json:"task"`   // e.g. "SST-2 dev"
	Metric    string  `json:"metric"` // e.g. "accuracy", "perplexity"
	Baseline  float64 `json:"baseline"`
	Quantized float64 `json:"quantized"`
	// LowerIsBetter marks metrics such as perplexity, loss or bits per character, so that the
	// report can say whether a change is a loss or a gain.
	LowerIsBetter bool `json:"lower_is_better,omitempty"`
}

// AbsChange is Quantized - Baseline.
func (r MetricRow) AbsChange() float64 { return r.Quantized - r.Baseline }

// RelChange is (Quantized - Baseline) / |Baseline|; ok is false when Baseline is 0 (undefined).
func (r MetricRow) RelChange() (rel float64, ok bool) {
	if r.Baseline == 0 {
		return 0, false
	}
	return r.AbsChange() / math.Abs(r.Baseline), true
}

// Worse reports whether the quantized model is worse on this metric (a strict change in the
// wrong direction).
func (r MetricRow) Worse() bool {
	if r.LowerIsBetter {
		return r.Quantized > r.Baseline
	}
	return r.Quantized < r.Baseline
}

// MarshalJSON adds the derived abs_change and rel_change (null when undefined) to the row.
func (r MetricRow) MarshalJSON() ([]byte, error) {
	type plain MetricRow // no methods: avoids recursion
	out := struct {
		plain
		AbsChange float64  `json:"abs_change"`
		RelChange *float64 `json:"rel_change"`
	}{plain: plain(r), AbsChange: r.AbsChange()}
	if rel, ok := r.RelChange(); ok {
		out.RelChange = &rel
	}
	return json.Marshal(out)
}

// Report is the full-precision vs 1.58-bit comparison.
type Report struct {
	Title     string      `json:"title"`
	Machine   string      `json:"machine,omitempty"` // where speeds were measured, e.g. "Zen 4, 2 threads"
	Baseline  ModelInfo   `json:"baseline"`
	Quantized ModelInfo   `json:"quantized"`
	Metrics   []MetricRow `json:"metrics"`
	Notes     []string    `json:"notes,omitempty"`
}

// JSON renders the report as indented JSON with the derived fields (changes per metric, bits per
// weight, size and speed ratios). It fails on NaN or infinite values, which JSON cannot hold.
func (r *Report) JSON() ([]byte, error) {
	type plain Report
	out := struct {
		*plain
		BaselineBitsPerWeight  float64  `json:"baseline_bits_per_weight"`
		QuantizedBitsPerWeight float64  `json:"quantized_bits_per_weight"`
		SizeRatio              *float64 `json:"size_ratio"`  // quantized bytes / baseline bytes
		SpeedRatio             *float64 `json:"speed_ratio"` // quantized tokens/s / baseline tokens/s
	}{plain: (*plain)(r),
		BaselineBitsPerWeight:  r.Baseline.BitsPerWeight(),
		QuantizedBitsPerWeight: r.Quantized.BitsPerWeight(),
		SizeRatio:              optRatio(float64(r.Quantized.FileBytes), float64(r.Baseline.FileBytes)),
		SpeedRatio:             optRatio(r.Quantized.TokensPerSec, r.Baseline.TokensPerSec),
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("metrics: report %q: %w", r.Title, err)
	}
	return append(b, '\n'), nil
}

func optRatio(num, den float64) *float64 {
	if den == 0 {
		return nil
	}
	v := num / den
	return &v
}

// ParseReport reads a report written by JSON (derived fields are recomputed, not read).
func ParseReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("metrics: parse report: %w", err)
	}
	return &r, nil
}

// fmtNum prints a metric value with 4 decimals (accuracy 0.9106, perplexity 23.4512).
func fmtNum(v float64) string { return fmt.Sprintf("%.4f", v) }

// fmtSigned prints a change with an explicit sign.
func fmtSigned(v float64) string { return fmt.Sprintf("%+.4f", v) }

// fmtBytes prints a size in binary units.
func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n), 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.2f %ciB", v, "KMGT"[u-1])
}

// mdEscape keeps a cell from breaking the table.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// Markdown renders the report as a Markdown section: a metric table (baseline, 1.58-bit,
// absolute and relative change, whether the change is a loss), then sizes and speed.
func (r *Report) Markdown() string {
	var b strings.Builder
	title := r.Title
	if title == "" {
		title = "Full precision vs 1.58-bit"
	}
	fmt.Fprintf(&b, "## %s\n\n", mdEscape(title))
	fmt.Fprintf(&b, "Baseline: `%s`; 1.58-bit: `%s`.", mdEscape(r.Baseline.Name), mdEscape(r.Quantized.Name))
	if r.Machine != "" {
		fmt.Fprintf(&b, " Speeds measured on %s.", mdEscape(r.Machine))
	}
	b.WriteString("\n\n")

	if len(r.Metrics) > 0 {
		b.WriteString("| task | metric | baseline | 1.58-bit | abs. change | rel. change |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|\n")
		for _, m := range r.Metrics {
			rel := "n/a"
			if v, ok := m.RelChange(); ok {
				rel = fmt.Sprintf("%+.2f%%", 100*v)
			}
			name := mdEscape(m.Metric)
			if m.LowerIsBetter {
				name += " (lower is better)"
			}
			abs := fmtSigned(m.AbsChange())
			if m.Worse() {
				abs += " (worse)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdEscape(m.Task), name,
				fmtNum(m.Baseline), fmtNum(m.Quantized), abs, rel)
		}
		b.WriteString("\n")
	}

	b.WriteString("| model | baseline | 1.58-bit | 1.58-bit / baseline |\n|---|---:|---:|---:|\n")
	ratioCell := func(p *float64) string {
		if p == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.3fx", *p)
	}
	fmt.Fprintf(&b, "| parameters | %d | %d | |\n", r.Baseline.Params, r.Quantized.Params)
	fmt.Fprintf(&b, "| file size | %s | %s | %s |\n", fmtBytes(r.Baseline.FileBytes), fmtBytes(r.Quantized.FileBytes),
		ratioCell(optRatio(float64(r.Quantized.FileBytes), float64(r.Baseline.FileBytes))))
	fmt.Fprintf(&b, "| bits per weight | %.2f | %.2f | |\n", r.Baseline.BitsPerWeight(), r.Quantized.BitsPerWeight())
	fmt.Fprintf(&b, "| eval tokens/s | %.1f | %.1f | %s |\n", r.Baseline.TokensPerSec, r.Quantized.TokensPerSec,
		ratioCell(optRatio(r.Quantized.TokensPerSec, r.Baseline.TokensPerSec)))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n- %s", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}
