package train

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tern/format"
	"tern/kernels"
	"tern/model"
	"tern/quant"
)

func tinyRun(t testing.TB, out string, steps, ckptEvery int, mutate func(*Config, *model.Config)) (Config, model.Config) {
	t.Helper()
	mc, _ := model.Preset("tiny")
	mc.Hidden, mc.Layers, mc.Heads, mc.FFN, mc.MaxPos = 32, 2, 2, 64, 32
	tc := Defaults()
	tc.Out, tc.Steps, tc.Batch, tc.Seq, tc.Warmup = out, steps, 4, 16, 2
	tc.EvalEvery, tc.EvalBatches, tc.CkptEvery = 2, 2, ckptEvery
	if mutate != nil {
		mutate(&tc, &mc)
	}
	return tc, mc
}

func trainLosses(t *testing.T, r *Run) map[int]float64 {
	t.Helper()
	out := map[int]float64{}
	for _, m := range r.log.metrics {
		if m.Split == "train" {
			out[m.Step] = m.Loss
		}
	}
	return out
}

// TestResumeBitIdentical: a run that dies after step 5 (checkpoint at 4) and is resumed must produce
// exactly the losses of an uninterrupted run, for both model families and with accumulation.
func TestResumeBitIdentical(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config, *model.Config)
	}{
		{"transformer-bitnet-accum", func(c *Config, m *model.Config) { c.Accum = 2 }},
		{"controller-trust-layer", func(c *Config, m *model.Config) {
			c.Controller, c.ControllerLR, c.TrustRegion, c.TrustRatio = "aux", 0.05, "layer", 0.01
		}},
		{"controller-trust-global", func(c *Config, m *model.Config) {
			c.Controller, c.TrustRegion, c.TrustRatio = "aux", "global", 0.02
		}},
		{"controller-horizon", func(c *Config, m *model.Config) { // the update trace is in the checkpoint
			c.Controller, c.ControllerLR, c.ControllerHorizon = "aux", 0.05, 4
		}},
		{"transformer-mlm-fp32", func(c *Config, m *model.Config) {
			m.Objective, m.Linear, m.TypeVocab, m.Dropout = "mlm", "fp32", 2, 0.1
		}},
		{"lstm", func(c *Config, m *model.Config) {
			*m, _ = model.Preset("lstm")
			m.Hidden, m.Layers, m.MaxPos = 32, 2, 32
		}},
		// mixed widths: an explicit map over a 4-bit default, a bitnet GRU at 2 bits, and --bits auto
		// re-allocating at steps 3 and 6 (before and after the checkpoint at 4)
		{"transformer-bits-map", func(c *Config, m *model.Config) {
			m.BitsDefault = quant.Width4
			m.Bits = model.WidthMap{"blocks.0.attn.qkv.weight": quant.Width1, "blocks.1.ffn.fc.weight": quant.Width8, "blocks.1.ffn.fc2.weight": quant.Width3}
		}},
		{"gru-bitnet-2bit", func(c *Config, m *model.Config) {
			*m, _ = model.Preset("gru")
			m.Hidden, m.Layers, m.MaxPos, m.Linear, m.BitsDefault = 32, 2, 32, "bitnet", quant.Width2
		}},
		{"transformer-bits-auto", func(c *Config, m *model.Config) {
			c.BitsBudget, c.BitsWarmup, c.BitsEvery = 2.5, 3, 3
		}},
		// mixed precision: every family with bf16 products
		{"transformer-bitnet-bf16", func(c *Config, m *model.Config) { c.Precision, c.Accum = "bf16", 2 }},
		{"transformer-fp32-linear-bf16", func(c *Config, m *model.Config) { c.Precision, m.Linear = "bf16", "fp32" }},
		{"encdec-bf16", func(c *Config, m *model.Config) {
			c.Precision = "bf16"
			*m = model.Config{Type: "encdec", Objective: "seq2seq", Hidden: 32, Layers: 1, DecoderLayers: 1, Heads: 2, FFN: 64,
				MaxPos: 32, Linear: "bitnet", TieEmbeddings: true, Norm: "layernorm", Vocab: 1}
			c.MaskProb = 0.3
		}},
		// the Llama family: BitNet b1.58 2B4T's layout with grouped-query attention, and an untied fp32
		// Llama with SwiGLU in bf16
		{"bitnet-gqa", func(c *Config, m *model.Config) {
			*m = model.ArchDefaults(*m, model.TypeBitNet)
			m.Heads, m.KVHeads, m.Layers = 4, 2, 2
		}},
		{"llama-untied-bf16", func(c *Config, m *model.Config) {
			c.Precision = "bf16"
			*m = model.ArchDefaults(*m, model.TypeLlama)
			m.TieEmbeddings, m.KVHeads, m.RopeTheta = false, 1, 500000
		}},
		{"lstm-bf16", func(c *Config, m *model.Config) {
			c.Precision = "bf16"
			*m, _ = model.Preset("lstm")
			m.Hidden, m.Layers, m.MaxPos = 32, 2, 32
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dirA, dirB := t.TempDir(), t.TempDir()
			cfgA, mc := tinyRun(t, dirA, 8, 0, tc.mutate)
			ra, err := NewRun(cfgA, mc, false, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ra.Train(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := trainLosses(t, ra)

			cfgB, _ := tinyRun(t, dirB, 8, 4, tc.mutate)
			rb, err := NewRun(cfgB, mc, false, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			rb.stopAt = 5 // dies after step 5; the checkpoint holds step 4
			if _, err := rb.Train(context.Background()); !errors.Is(err, errStopped) {
				t.Fatalf("simulated crash: err = %v", err)
			}
			rc, err := NewRun(cfgB, mc, true, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Step != 4 {
				t.Fatalf("resumed at step %d, want 4", rc.Step)
			}
			if _, err := rc.Train(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := trainLosses(t, rc)
			for s := 1; s <= 8; s++ {
				if math.Float64bits(got[s]) != math.Float64bits(want[s]) {
					t.Errorf("step %d: resumed loss %v, uninterrupted %v", s, got[s], want[s])
				}
			}
			if !(want[8] < want[1]) {
				t.Errorf("loss did not go down: %v -> %v", want[1], want[8])
			}
		})
	}
}

// TestBF16Deterministic: bf16 runs with the same seed give bit-identical losses, on 1 thread and on 2
// (the kernels never split a sum across threads), and differ from the fp32 run (the products did
// change precision).
func TestBF16Deterministic(t *testing.T) {
	defer kernels.SetThreads(kernels.Threads())
	run := func(precision string, threads int) map[int]float64 {
		kernels.SetThreads(threads)
		cfg, mc := tinyRun(t, t.TempDir(), 4, 0, func(c *Config, m *model.Config) { c.Precision = precision })
		r, err := NewRun(cfg, mc, false, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Train(context.Background()); err != nil {
			t.Fatal(err)
		}
		return trainLosses(t, r)
	}
	want := run("bf16", 1)
	for _, th := range []int{1, 2} {
		got := run("bf16", th)
		for s := 1; s <= 4; s++ {
			if math.Float64bits(got[s]) != math.Float64bits(want[s]) {
				t.Errorf("threads %d step %d: bf16 loss %v, first run %v", th, s, got[s], want[s])
			}
		}
	}
	fp := run("fp32", 2)
	if fp[4] == want[4] {
		t.Errorf("bf16 and fp32 runs give the same loss %v at step 4: bf16 did not take effect", fp[4])
	}
	if d := math.Abs(fp[4] - want[4]); d > 0.05*fp[4] {
		t.Errorf("step 4: bf16 loss %v, fp32 %v: more apart than 5%%", want[4], fp[4])
	}
}

func TestNaNStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	cfg, mc := tinyRun(t, dir, 6, 2, nil)
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r.stopAt = 2
	if _, err := r.Train(context.Background()); !errors.Is(err, errStopped) {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, CheckpointName)
	before, _ := os.ReadFile(ckpt)
	r2, err := NewRun(cfg, mc, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r2.Model.Params()[0].W[0] = float32(math.NaN()) // poison the embedding
	_, err = r2.Train(context.Background())
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "step 3") {
		t.Fatalf("err = %v, want ErrNonFinite at step 3", err)
	}
	after, _ := os.ReadFile(ckpt)
	if string(before) != string(after) {
		t.Fatal("the last good checkpoint changed after a NaN")
	}
}

func TestBadCheckpointAndConfig(t *testing.T) {
	dir := t.TempDir()
	cfg, mc := tinyRun(t, dir, 2, 0, nil)
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	// a different architecture cannot resume this run
	mc2 := mc
	mc2.Layers = 3
	cfg.Steps = 4
	if _, err := NewRun(cfg, mc2, true, io.Discard); err == nil || !strings.Contains(err.Error(), "different model") {
		t.Errorf("incompatible model: err = %v", err)
	}
	// a flipped byte is caught by the per-tensor checksum and names the file
	ckpt := filepath.Join(dir, CheckpointName)
	b, _ := os.ReadFile(ckpt)
	b[len(b)-10] ^= 0x40
	os.WriteFile(ckpt, b, 0o644)
	if _, err := NewRun(cfg, mc, true, io.Discard); !errors.Is(err, format.ErrChecksum) || !strings.Contains(err.Error(), ckpt) {
		t.Errorf("corrupt checkpoint: err = %v", err)
	}
	// truncated
	os.WriteFile(ckpt, b[:len(b)/2], 0o644)
	if _, err := NewRun(cfg, mc, true, io.Discard); err == nil {
		t.Error("truncated checkpoint accepted")
	}
	// configs that cannot work
	bad := []func(*Config, *model.Config){
		func(c *Config, m *model.Config) { m.Heads = 3 },
		func(c *Config, m *model.Config) { c.Seq = 64 },
		func(c *Config, m *model.Config) { m.Type = "mamba" },
		func(c *Config, m *model.Config) { c.Data = filepath.Join(dir, "nope.txt") },
	}
	for i, f := range bad {
		c, m := tinyRun(t, t.TempDir(), 2, 0, f)
		if _, err := NewRun(c, m, false, io.Discard); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
}

// --bits auto: every budget's allocation stays within it (stored bits per weight, scales included),
// budgets differ in what they buy, both methods work, and a budget below 1 bit is a clear error.
func TestBitsAutoBudget(t *testing.T) {
	for _, sens := range []string{"fisher", "loss"} {
		dir := t.TempDir()
		cfg, mc := tinyRun(t, dir, 3, 0, nil)
		cfg.BitsSensitivity = sens
		r, err := NewRun(cfg, mc, false, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Train(context.Background()); err != nil { // AdamW's moments (fisher) need steps
			t.Fatal(err)
		}
		items, ms := r.BitsItems()
		if len(ms) != 8 || len(items) != 8 {
			t.Fatalf("%d matrices, want 8", len(ms))
		}
		if w := model.Widths(r.Model); w["blocks.0.attn.qkv.weight"] != quant.WidthTernary {
			t.Fatalf("%s: measuring changed the widths: %v", sens, w)
		}
		for i, it := range items {
			c := map[quant.Width]float64{}
			for _, o := range it.Options {
				c[o.Width] = o.Cost
				if o.Cost < 0 || math.IsNaN(o.Cost) {
					t.Fatalf("%s %s: cost %g at %v", sens, ms[i].Name, o.Cost, o.Width)
				}
			}
			if sens == "loss" && c[quant.Width8] != 0 || sens == "fisher" && !(c[quant.Width8] < c[quant.Width1] && c[quant.Width1] > 0) {
				t.Fatalf("%s %s: costs %v", sens, ms[i].Name, c)
			}
		}
		prev := -1.0
		for _, budget := range []float64{1.8, 2.0, 2.5, 3.0, 8.1} {
			for _, method := range []string{"knapsack", "cluster"} {
				b, err := BitsBudget(budget, items, ms)
				if err != nil {
					t.Fatal(err)
				}
				choice, err := Allocate(items, b, method)
				if err != nil {
					t.Fatal(err)
				}
				bits := model.WidthMap{}
				var cost float64
				for i, m := range ms {
					bits[m.Name] = items[i].Options[choice[i]].Width
					cost += items[i].Options[choice[i]].Cost
				}
				if err := model.SetWidths(r.Model, bits); err != nil {
					t.Fatal(err)
				}
				if got := model.StoredBitsPerWeight(r.Model); got > budget {
					t.Fatalf("%s %s budget %g: %g bits/weight stored", sens, method, budget, got)
				}
				if method == "knapsack" {
					if prev >= 0 && cost > prev+1e-12 {
						t.Fatalf("%s budget %g: cost %g above the smaller budget's %g", sens, budget, cost, prev)
					}
					prev = cost
					if sens == "fisher" && budget == 8.1 && bits["blocks.0.ffn.fc.weight"] != quant.Width8 {
						t.Fatalf("%s budget 8.1 affords 8 bits everywhere: %v", sens, bits)
					}
				}
			}
		}
		if _, err := BitsBudget(0.9, items, ms); err == nil || !strings.Contains(err.Error(), "below the smallest width") {
			t.Fatalf("budget 0.9: err = %v", err)
		}
	}
}

// TestPrecisionWarning: bf16 without a native bf16 GEMM warns once, naming the emulated path; fp32
// and native bf16 do not.
func TestPrecisionWarning(t *testing.T) {
	if w := PrecisionWarning("fp32"); w != "" {
		t.Errorf("fp32 warns: %q", w)
	}
	for _, impl := range kernels.Impls() {
		restore, err := kernels.Use(impl)
		if err != nil {
			t.Fatal(err)
		}
		w := PrecisionWarning("bf16")
		if kernels.HasBF16() != (w == "") || (w != "" && (!strings.Contains(w, kernels.BgemmPath()) || strings.Contains(w, "\n"))) {
			t.Errorf("%s: warning %q (native bf16: %v)", impl, w, kernels.HasBF16())
		}
		restore()
	}
}

// TestGradNormLogged: each train line of metrics.jsonl carries the step's global gradient norm before
// clipping, checked against the gradients the last step left behind (float64 sum of squares): equal
// without --clip; with a tiny clip the gradients are scaled down to it and the logged norm is the
// larger, unclipped one.
func TestGradNormLogged(t *testing.T) {
	for _, clip := range []float64{0, 1e-3} {
		dir := t.TempDir()
		cfg, mc := tinyRun(t, dir, 2, 0, func(c *Config, m *model.Config) { c.Clip = clip })
		r, err := NewRun(cfg, mc, false, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Train(context.Background()); err != nil {
			t.Fatal(err)
		}
		var ss float64
		for _, p := range r.params {
			for _, g := range p.G {
				ss += float64(g) * float64(g)
			}
		}
		left := math.Sqrt(ss)
		ms, err := ReadMetrics(filepath.Join(dir, "metrics.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var logged float64
		for _, m := range ms {
			if m.Split == "train" && m.Step == 2 {
				logged = m.GradNorm
			}
		}
		switch {
		case clip == 0 && math.Abs(logged-left) > 1e-5*left:
			t.Errorf("no clip: logged grad_norm %v, gradients' norm %v", logged, left)
		case clip > 0 && (math.Abs(left-clip) > 1e-4*clip || !(logged > 10*clip)):
			t.Errorf("clip %v: logged grad_norm %v, gradients' norm after clipping %v: want the unclipped norm logged and the gradients clipped", clip, logged, left)
		}
	}
}

// TestJitter: --jitter scales each initial weight by a factor within [1-eps, 1+eps], changes most of
// them, gives the same weights for the same jitter seed and others for another; 0 changes nothing.
func TestJitter(t *testing.T) {
	const eps = 1e-3
	weights := func(jit float64, seed uint64) [][]float32 {
		cfg, mc := tinyRun(t, t.TempDir(), 2, 0, func(c *Config, m *model.Config) { c.Jitter, c.JitterSeed = jit, seed })
		r, err := NewRun(cfg, mc, false, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		var w [][]float32
		for _, p := range r.params {
			w = append(w, append([]float32(nil), p.W...))
		}
		return w
	}
	base, a, a2, b := weights(0, 0), weights(eps, 1), weights(eps, 1), weights(eps, 2)
	changed, total, sameB := 0, 0, 0
	for i := range base {
		for j, w0 := range base[i] {
			total++
			if w0 == 0 {
				continue
			}
			if r := float64(a[i][j]) / float64(w0); r < 1-eps-1e-6 || r > 1+eps+1e-6 {
				t.Fatalf("param %d[%d]: jittered %v, original %v: factor %v outside [1-%g, 1+%g]", i, j, a[i][j], w0, r, eps, eps)
			}
			if a[i][j] != w0 {
				changed++
			}
			if math.Float32bits(a[i][j]) != math.Float32bits(a2[i][j]) {
				t.Fatalf("param %d[%d]: the same jitter seed gave %v and %v", i, j, a[i][j], a2[i][j])
			}
			if b[i][j] == a[i][j] {
				sameB++
			}
		}
	}
	if changed < total/2 {
		t.Errorf("jitter changed %d of %d weights", changed, total)
	}
	if sameB > total/10 {
		t.Errorf("jitter seeds 1 and 2 agree on %d of %d weights", sameB, total)
	}
}
