package main

// tern bench gguf --model x.gguf: decoding speed of a llama/bitnet GGUF model in tern (ternary
// matrices converted to trit5 at load), in the units of llama-bench (-p 0 -n N: tokens/s of N decoded
// tokens; prompt processing of --prompt tokens in one Prefill pass), plus the bandwidth bound and resident memory.

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"time"

	"tern/infer"
	"tern/kernels"
)

func init() {
	registerBench("gguf", "decoding tokens/s, bandwidth fraction and memory of a llama/bitnet GGUF model", benchGGUF)
}

func benchGGUF(ctx context.Context, args []string) error {
	fs := newFlags("bench gguf", "bench gguf --model x.gguf [flags]")
	path := fs.String("model", "", "a llama or bitnet GGUF file")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	tokens := fs.Int("tokens", 64, "tokens to decode (after 8 warm-up tokens), as llama-bench -n")
	prompt := fs.Int("prompt", 0, "also time a prompt of this many tokens (one Prefill pass), as llama-bench -p")
	reps := fs.Int("reps", 3, "repetitions; the median run is reported")
	asJSON := fs.Bool("json", false, "print one JSON object")
	prof := fs.String("cpuprofile", "", "write a CPU profile of the timed prompts (or, without --prompt, tokens) to this file (go tool pprof)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *path == "" || *tokens < 1 || *prompt < 0 || *reps < 1 {
		return fmt.Errorf("want --model, --tokens >= 1, --prompt >= 0, --reps >= 1")
	}
	setThreads(*threads)
	buf := make([]byte, 512<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	bw, _ := kernels.MemReadBandwidth(buf, 5)
	buf = nil
	debug.FreeOSMemory()
	resetPeakRSS()
	loadStart := time.Now()
	m, err := infer.LoadGGUF(*path, max(*tokens+8, *prompt)+1)
	if err != nil {
		return err
	}
	defer m.Close()
	load := time.Since(loadStart).Seconds()
	V := m.Cfg.Vocab
	stop, err := startCPUProfile(*prof)
	if err != nil {
		return err
	}
	defer stop()
	var runs []float64
	var promptRuns []float64
	for range *reps {
		m.Reset()
		var t0 time.Time
		for i := 0; i < *tokens+8; i++ {
			if i == 8 {
				t0 = time.Now()
			}
			if _, err := m.Step((7 * i) % V); err != nil {
				return err
			}
		}
		runs = append(runs, float64(*tokens)/time.Since(t0).Seconds())
		if *prompt > 0 {
			m.Reset()
			ids := make([]int, *prompt)
			for i := range ids {
				ids[i] = (11 * i) % V
			}
			t0 := time.Now()
			if _, err := m.Prefill(ids); err != nil {
				return err
			}
			promptRuns = append(promptRuns, float64(*prompt)/time.Since(t0).Seconds())
		}
	}
	sort.Float64s(runs)
	sort.Float64s(promptRuns)
	tps := runs[len(runs)/2]
	ptps := math.NaN()
	if len(promptRuns) > 0 {
		ptps = promptRuns[len(promptRuns)/2]
	}
	wb := m.WeightBytes()
	res := map[string]any{"model": *path, "arch": m.Cfg.Arch, "threads": kernels.Threads(), "tokens": *tokens,
		"tokens_per_s": tps, "tokens_per_s_runs": runs, "weight_bytes_per_token": wb, "bandwidth_gbps": bw,
		"bandwidth_fraction": float64(wb) / (bw * 1e9) * tps, "ternary_file_bytes": m.TernaryFileBytes,
		"ternary_trit5_bytes": m.TernaryBytes, "load_s": load, "peak_rss_mb": peakRSSMB(), "rss_mb": rssMB("VmRSS:"),
		"features": kernels.Features()}
	human := ""
	if *prompt > 0 {
		res["prompt"], res["prompt_tokens_per_s"] = *prompt, ptps
		human = fmt.Sprintf("; prompt of %d tokens %.1f tokens/s (runs %.1f..%.1f, prefill)", *prompt, ptps, promptRuns[0], promptRuns[len(promptRuns)-1])
		res["prompt_tokens_per_s_runs"] = promptRuns
	}
	return printResult(*asJSON, res, fmt.Sprintf("gguf %s: %.2f tokens/s (runs %.2f..%.2f), reads %.1f MB/token, %.0f%% of the %.1f GB/s bound; ternary %.1f MB in the file -> %.1f MB trit5; RSS %d MB (peak %d); load %.1f s; %d threads%s",
		m.Cfg.Arch, tps, runs[0], runs[len(runs)-1], float64(wb)/1e6, 100*res["bandwidth_fraction"].(float64), bw,
		float64(m.TernaryFileBytes)/1e6, float64(m.TernaryBytes)/1e6, rssMB("VmRSS:"), res["peak_rss_mb"], load, kernels.Threads(), human))
}
