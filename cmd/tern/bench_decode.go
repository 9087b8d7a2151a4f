package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"tern/infer"
	"tern/kernels"
	"tern/model"
	"tern/quant"
)

func init() {
	registerBench("decode", "end-to-end packed decoding tokens/s and memory for a BitNet-shaped model", benchDecode)
}

// decodeShapes are BitNet-shaped sizes (hidden, layers, heads, FFN, vocab): ~100M and ~700M parameters.
var decodeShapes = map[string]model.Config{
	"100m": {Type: "transformer", Objective: "causal", Vocab: 32000, Hidden: 768, Layers: 12, Heads: 12, FFN: 2048, Linear: "bitnet", TieEmbeddings: true, Norm: "rmsnorm"},
	"700m": {Type: "transformer", Objective: "causal", Vocab: 32000, Hidden: 1536, Layers: 24, Heads: 16, FFN: 4096, Linear: "bitnet", TieEmbeddings: true, Norm: "rmsnorm"},
}

func benchDecode(ctx context.Context, args []string) error {
	fs := newFlags("bench decode", "bench decode --preset 100m|700m|<model preset> [flags]")
	preset := fs.String("preset", "100m", "100m, 700m (BitNet-shaped), or a model preset (small, base, ...)")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	tokens := fs.Int("tokens", 64, "tokens to decode (after 8 warm-up tokens)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	head := fs.String("table", "f16", "token table / LM head storage: f16, f32 or int8 (tern pack --table)")
	prompt := fs.Int("prompt", 0, "also time processing a prompt of this many tokens: one Prefill pass against one Step per token")
	kv := fs.String("kv", "", kvUsage)
	prof := fs.String("cpuprofile", "", "write a CPU profile of the timed tokens (go tool pprof) to this file")
	bits := fs.String("bits", "1.58", "width of every BitLinear matrix: 1.58 (ternary) or 1, 2, 3, 4, 8")
	bitsMap := fs.String("bits-map", "", `JSON file {"blocks.0.ffn.fc.weight": 4, ...}: per-matrix widths (others: --bits)`)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	defWidth, err := quant.ParseWidth(*bits)
	if err != nil {
		return fmt.Errorf("--bits: %w", err)
	}
	var widths model.WidthMap
	if *bitsMap != "" {
		b, err := os.ReadFile(*bitsMap)
		if err != nil {
			return fmt.Errorf("--bits-map: %w", err)
		}
		if widths, err = model.ParseWidthMap(b, *bitsMap); err != nil {
			return err
		}
	}
	tableDT, ok := tableTypes[*head]
	if !ok {
		return fmt.Errorf("--table must be f16, f32 or int8, not %q", *head)
	}
	setThreads(*threads)
	cfg, ok := decodeShapes[*preset]
	if !ok {
		var err error
		if cfg, err = model.Preset(*preset); err != nil {
			return fmt.Errorf("unknown preset %q (100m, 700m, or a model preset)", *preset)
		}
		cfg.Objective, cfg.TypeVocab = "causal", 0
	}
	if *prompt < 0 || *tokens < 1 {
		return fmt.Errorf("--prompt %d --tokens %d: want --prompt >= 0 and --tokens >= 1", *prompt, *tokens)
	}
	cfg.MaxPos = max(*tokens+8, *prompt)
	cfg.Bits, cfg.BitsDefault = widths, defWidth
	// Memory bandwidth on a buffer far larger than L3, as the floor's denominator. It is measured
	// first and handed back to the OS, and the peak-RSS mark reset, so that peak_rss_mb is the model's.
	buf := make([]byte, 512<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	bw, _ := kernels.MemReadBandwidth(buf, 5)
	buf = nil
	debug.FreeOSMemory()
	resetPeakRSS()
	m, err := infer.RandomPacked(cfg, 1, tableDT)
	if err != nil {
		return err
	}
	if err := setKV(m, *kv); err != nil {
		return err
	}
	stop, err := startCPUProfile(*prof)
	if err != nil {
		return err
	}
	var times []float64
	for i := 0; i < *tokens+8; i++ {
		t0 := time.Now()
		if _, err := m.Step(i % cfg.Vocab); err != nil {
			return err
		}
		if i >= 8 {
			times = append(times, time.Since(t0).Seconds())
		}
	}
	stop()
	// prompt processing: best of three, each from an empty cache
	var prefillTPS, stepTPS float64
	if *prompt > 0 {
		ids := make([]int, *prompt)
		for i := range ids {
			ids[i] = (7 * i) % cfg.Vocab
		}
		best := func(f func() error) (float64, error) {
			b := math.Inf(1)
			for range 3 {
				m.Reset()
				t0 := time.Now()
				if err := f(); err != nil {
					return 0, err
				}
				b = min(b, time.Since(t0).Seconds())
			}
			return float64(*prompt) / b, nil
		}
		if prefillTPS, err = best(func() error { _, err := m.Prefill(ids); return err }); err != nil {
			return err
		}
		if stepTPS, err = best(func() error {
			for _, id := range ids {
				if _, err := m.Step(id); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	peak := peakRSSMB()
	debug.FreeOSMemory()
	sort.Float64s(times)
	med := times[len(times)/2]
	wb := m.WeightBytes()
	res := struct {
		Preset        string  `json:"preset"`
		Table         string  `json:"table"`
		KV            string  `json:"kv"`
		Context       int     `json:"context"` // tokens in the cache at the last timed step
		Prompt        int     `json:"prompt,omitempty"`
		PrefillTPS    float64 `json:"prefill_tokens_per_s,omitempty"`     // the prompt in one Prefill pass
		PromptStepTPS float64 `json:"prompt_step_tokens_per_s,omitempty"` // the prompt one Step per token
		Params        int64   `json:"params"`
		Threads       int     `json:"threads"`
		TokensPerSec  float64 `json:"tokens_per_s"`
		MsPerToken    float64 `json:"ms_per_token"`
		WeightBytes   int64   `json:"weight_bytes_per_token"`
		BandwidthGBps float64 `json:"bandwidth_gbps"`
		BoundMs       float64 `json:"bandwidth_bound_ms"`
		BoundFraction float64 `json:"bandwidth_fraction"`
		PeakRSSMB     int64   `json:"peak_rss_mb"` // building the model and decoding
		RSSMB         int64   `json:"rss_mb"`      // resident after decoding, garbage returned to the OS
		Features      string  `json:"features"`
	}{*preset, *head, strings.ToLower(string(m.KV())), *tokens + 8, *prompt, prefillTPS, stepTPS, paramCount(cfg), kernels.Threads(), 1 / med, med * 1000, wb, bw, float64(wb) / bw / 1e6,
		float64(wb) / bw / 1e9 / med, peak, rssMB("VmRSS:"), kernels.Features()}
	human := ""
	if *prompt > 0 {
		human = fmt.Sprintf("; prompt of %d tokens: %.1f tokens/s prefilled, %.1f stepped", *prompt, prefillTPS, stepTPS)
	}
	return printResult(*asJSON, res, fmt.Sprintf("decode %s (%dM params, %s table, %s KV to %d tokens): %.1f tokens/s (%.2f ms/token), reads %.1f MB/token; bandwidth %.1f GB/s -> bound %.2f ms (%.0f%% reached); RSS %d MB (peak %d); %d threads (%s)%s",
		*preset, res.Params/1e6, res.Table, res.KV, res.Context, res.TokensPerSec, res.MsPerToken, float64(wb)/1e6, bw, res.BoundMs, 100*res.BoundFraction, res.RSSMB, res.PeakRSSMB, res.Threads, res.Features, human))
}

// paramCount is the parameter count of a transformer config (embeddings + blocks + tied head).
func paramCount(c model.Config) int64 {
	C, F := int64(c.Hidden), int64(c.FFN)
	per := 4*C*C + 2*C*F + 4*C
	return int64(c.InputVocab())*C + int64(c.MaxPos)*C + int64(c.Layers)*per + 2*C
}
