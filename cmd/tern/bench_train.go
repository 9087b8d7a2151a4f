package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"tern/kernels"
	"tern/model"
	"tern/nn"
	"tern/train"
)

func init() {
	registerBench("train", "training steps/s of a preset (like ../shared/peers/torch_train_bench.py)", benchTrain)
}

// benchShapes are the batch geometries of torch_train_bench.py's configs.
var benchShapes = map[string][2]int{"small": {8, 128}, "base": {4, 128}}

func benchTrain(ctx context.Context, args []string) error {
	fs := newFlags("bench train", "bench train --preset small|base [flags]")
	preset := fs.String("preset", "small", "model preset (small, base, ...)")
	linear := fs.String("linear", "bitnet", "bitnet or fp32")
	precision := fs.String("precision", "fp32", "products of the layers: fp32 or bf16")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	batch := fs.Int("batch", 0, "batch (default: the peer script's, 8 for small, 4 for base)")
	seq := fs.Int("seq", 128, "sequence length")
	warmup := fs.Int("warmup", 3, "untimed steps")
	steps := fs.Int("steps", 10, "timed steps")
	asJSON := fs.Bool("json", false, "print one JSON object")
	prof := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) to this file")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	stop, err := startCPUProfile(*prof)
	if err != nil {
		return err
	}
	defer stop()
	setThreads(*threads)
	mc, err := model.Preset(*preset)
	if err != nil {
		return err
	}
	mc.Linear, mc.MaxPos = model.Linear(*linear), max(mc.MaxPos, *seq)
	b := *batch
	if b == 0 {
		b = 8
		if s, ok := benchShapes[*preset]; ok {
			b = s[0]
		}
	}
	if err := nn.CheckPrecision(*precision); err != nil {
		return fmt.Errorf("bench train: --precision: %w", err)
	}
	if w := train.PrecisionWarning(*precision); w != "" {
		fmt.Fprintln(os.Stderr, w)
	}
	r, err := train.BenchSteps(mc, b, *seq, *warmup, *steps, 0, *precision)
	if err != nil {
		return err
	}
	out := struct {
		Preset    string `json:"preset"`
		Linear    string `json:"linear"`
		Precision string `json:"precision"`
		Bf16Path  string `json:"bf16_path,omitempty"` // the bf16 GEMM path that ran (kernels.BgemmPath)
		Threads   int    `json:"threads"`
		Batch     int    `json:"batch"`
		Seq       int    `json:"seq"`
		Features  string `json:"features"`
		PeakRSS   int64  `json:"peak_rss_mb"`
		*train.BenchResult
	}{*preset, *linear, *precision, bf16Path(*precision), kernels.Threads(), b, *seq, kernels.Features(), peakRSSMB(), r}
	return printResult(*asJSON, out, fmt.Sprintf("train %s/%s/%s: %.0f tokens/s (median step %.3f s, forward %.3f s), %d params, peak RSS %d MB, %d threads (%s)",
		*preset, *linear, *precision, r.TokensPerSec, r.StepMedianS, r.FwdMedianS, r.Params, out.PeakRSS, kernels.Threads(), kernels.Features()))
}

func bf16Path(precision string) string {
	if precision == "bf16" {
		return kernels.BgemmPath()
	}
	return ""
}

// peakRSSMB reads VmHWM (peak resident set) from /proc; 0 where unavailable.
func peakRSSMB() int64 { return rssMB("VmHWM:") }

// rssMB reads a memory field of /proc/self/status (VmHWM: peak resident, VmRSS: resident now) in
// MB; 0 where there is no /proc.
func rssMB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb / 1024
		}
	}
	return 0
}

// resetPeakRSS restarts the kernel's peak-RSS mark (VmHWM) at the current RSS (Linux 4.0+; elsewhere
// it does nothing and the peak includes what came before).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// startCPUProfile starts a CPU profile into path ("" profiles nothing) and returns the function that
// ends it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
