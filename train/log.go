package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"tern/plot"
)

// Metric is one line of metrics.jsonl.
type Metric struct {
	Step         int     `json:"step"`
	Split        string  `json:"split"` // train | valid
	Loss         float64 `json:"loss"`
	PPL          float64 `json:"ppl,omitempty"`
	LR           float64 `json:"lr,omitempty"`
	GradNorm     float64 `json:"grad_norm,omitempty"` // split "train": the global gradient norm before --clip (loss spikes show here first)
	TokensPerSec float64 `json:"tokens_per_s,omitempty"`
	StepMS       float64 `json:"step_ms,omitempty"`
	LRMult       float64 `json:"lr_mult,omitempty"`     // --controller: the learning-rate multiplier of the step
	HyperCos     float64 `json:"hyper_cos,omitempty"`   // --controller: cosine of this gradient with the last update (or the update trace): the hypergradient's sign and size
	TrustBound   float64 `json:"trust_bound,omitempty"` // --trust-region: fraction of the covered tensors whose update was scaled
	Task         string  `json:"task,omitempty"`        // split "task": sst2 or wikitext2
	Score        float64 `json:"score,omitempty"`       // split "task": sst2 accuracy, wikitext2 loss (nats/token)
}

// Logger writes human progress to a terminal (a redrawn bar) or plain lines (not a terminal), and every
// metric to metrics.jsonl in the run directory.
type Logger struct {
	out      io.Writer
	tty      bool
	jsonl    *os.File
	metrics  []Metric
	start    time.Time
	from, to int
	lastLine time.Time
	barShown bool
	err      error // the first failed write of metrics.jsonl (Err)
}

// NewLogger opens dir/metrics.jsonl (appending when resuming, so the curve stays whole).
func NewLogger(dir string, out io.Writer, resume bool) (*Logger, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: create run directory: %w", err)
	}
	path := filepath.Join(dir, "metrics.jsonl")
	l := &Logger{out: out, tty: isTerminal(out)}
	if resume {
		// A kill or a full disk can leave a torn last line; appending after it would glue the next
		// record onto it (and `tern plot` then fails). Cut the file back to its last whole line.
		if err := repairTail(path); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		l.metrics, _ = ReadMetrics(path) // a missing log only loses the old part of the curve
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if resume {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	l.jsonl = f
	return l, nil
}

// repairTail truncates path after its last newline when what follows is not a whole metric (a torn
// record). A missing file is fine.
func repairTail(path string) error {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	end := strings.LastIndexByte(string(b), '\n') + 1
	if end == len(b) {
		return nil
	}
	var m Metric
	if json.Unmarshal(b[end:], &m) == nil { // a whole record that only lacks its newline
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		_, err = f.Write([]byte("\n"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return os.Truncate(path, int64(end))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ReadMetrics reads a metrics.jsonl file; a malformed line is an error naming file and line.
func ReadMetrics(path string) ([]Metric, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ms []Metric
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m Metric
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// Metric records m (dropping entries of a resumed run that lie beyond its checkpoint is the caller's
// concern: a resumed run truncates nothing, and the plot keeps the last value per step).
func (l *Logger) Metric(m Metric) {
	l.metrics = append(l.metrics, m)
	b, err := json.Marshal(m)
	if err == nil && l.jsonl != nil {
		_, err = l.jsonl.Write(append(b, '\n'))
	}
	if err != nil && l.err == nil && l.jsonl != nil {
		l.err = fmt.Errorf("train: write %s: %w", l.jsonl.Name(), err)
	}
}

// Err is the first error writing metrics.jsonl: a run whose log cannot be written stops (a full disk
// left a torn line and the run went on as if nothing had happened).
func (l *Logger) Err() error { return l.err }

// Printf prints a line, clearing the progress bar first on a terminal.
func (l *Logger) Printf(format string, args ...any) {
	if l.tty && l.barShown {
		fmt.Fprint(l.out, "\r\033[K")
	}
	fmt.Fprintf(l.out, format, args...)
}

// StartProgress begins timing steps from..to.
func (l *Logger) StartProgress(from, to int) { l.start, l.from, l.to = time.Now(), from, to }

// Progress shows step, loss, tokens/s and ETA: a bar redrawn in place on a terminal, a plain line at
// most every 10 s otherwise (and for the first step).
func (l *Logger) Progress(step int, loss, tps float64) {
	done := step - l.from
	el := time.Since(l.start)
	eta := time.Duration(0)
	if done > 0 {
		eta = time.Duration(float64(el) / float64(done) * float64(l.to-step))
	}
	if l.tty {
		const w = 30
		frac := float64(step) / float64(max(l.to, 1))
		fill := int(frac * w)
		bar := strings.Repeat("█", fill) + strings.Repeat("░", w-fill)
		fmt.Fprintf(l.out, "\r\033[K%s %d/%d loss %.4f | %.0f tok/s | ETA %s", bar, step, l.to, loss, tps, eta.Round(time.Second))
		l.barShown = true
		return
	}
	if time.Since(l.lastLine) >= 10*time.Second || done == 1 || step == l.to {
		l.lastLine = time.Now()
		fmt.Fprintf(l.out, "step %d/%d: loss %.4f (%.0f tok/s, ETA %s)\n", step, l.to, loss, tps, eta.Round(time.Second))
	}
}

// EndProgress ends the bar's line.
func (l *Logger) EndProgress() {
	if l.tty && l.barShown {
		fmt.Fprintln(l.out)
		l.barShown = false
	}
}

// Close flushes and closes the metrics file; closing twice is harmless.
func (l *Logger) Close() error {
	if l.jsonl == nil {
		return nil
	}
	f := l.jsonl
	l.jsonl = nil
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return l.err
}

// Plot draws train and validation loss against step into path.
func (l *Logger) Plot(path string) error {
	series := LossSeries(l.metrics, "", "train", "valid")
	if len(series) == 0 {
		return nil
	}
	return plot.Lines(path, "loss", "step", "nats/token", series, 800, 450)
}

// PlotTasks draws the task evaluations against step into dir: tasks.png with each task's score
// (sst2 accuracy, wikitext2 loss in nats/token); nothing without task metrics.
func (l *Logger) PlotTasks(path string) error {
	pts := map[string]map[int]float64{}
	for _, m := range l.metrics {
		if m.Split == "task" {
			if pts[m.Task] == nil {
				pts[m.Task] = map[int]float64{}
			}
			pts[m.Task][m.Step] = m.Score
		}
	}
	if len(pts) == 0 {
		return nil
	}
	names := make([]string, 0, len(pts))
	for n := range pts {
		names = append(names, n)
	}
	sort.Strings(names)
	var series []plot.Series
	for _, n := range names {
		steps := make([]int, 0, len(pts[n]))
		for s := range pts[n] {
			steps = append(steps, s)
		}
		sort.Ints(steps)
		label := n + " accuracy"
		if n == "wikitext2" {
			label = n + " loss (nats/token)"
		}
		ser := plot.Series{Name: label}
		for _, s := range steps {
			ser.X = append(ser.X, float64(s))
			ser.Y = append(ser.Y, pts[n][s])
		}
		series = append(series, ser)
	}
	return plot.Lines(path, "task evaluation", "step", "score", series, 800, 450)
}

// LossSeries turns metrics into one loss-vs-step series per split (named prefix+split), keeping the
// last value logged for each step (a resumed run logs its steps after the checkpoint again).
func LossSeries(ms []Metric, prefix string, splits ...string) []plot.Series {
	var series []plot.Series
	for _, name := range splits {
		pts := map[int]float64{}
		for _, m := range ms {
			if m.Split == name {
				pts[m.Step] = m.Loss
			}
		}
		if len(pts) == 0 {
			continue
		}
		steps := make([]int, 0, len(pts))
		for s := range pts {
			steps = append(steps, s)
		}
		sort.Ints(steps)
		ser := plot.Series{Name: prefix + name}
		for _, s := range steps {
			ser.X = append(ser.X, float64(s))
			ser.Y = append(ser.Y, pts[s])
		}
		series = append(series, ser)
	}
	return series
}
