// Package train is tern's training loop: deterministic batches, gradient accumulation, AdamW with
// schedules and clipping, periodic validation, NaN detection, atomic checkpoints that resume
// bit-identically, a progress bar, metrics.jsonl and a loss-curve PNG.
package train

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"tern/internal/sysmem"
	"tern/model"
	"tern/nn"
	"tern/optim"
)

// Config holds the flat training hyperparameters (the model's architecture is model.Config).
type Config struct {
	Data      string `json:"data"`      // corpus: "tinyshakespeare", a file, a folder, or a Gutenberg folder with split.tsv
	Tokenizer string `json:"tokenizer"` // "char", "gpt2", or a tokenizer.json path
	Out       string `json:"out"`       // run directory: checkpoints, metrics.jsonl, loss.png
	// Init is a model file whose weights, architecture and tokenizer start the run (tern import hf's
	// output, or an earlier run's model.safetensors): fine-tuning, with a fresh optimizer at step 0.
	Init string `json:"init,omitempty"`

	Steps    int     `json:"steps"`     // optimizer steps
	Batch    int     `json:"batch"`     // micro-batch size B
	Seq      int     `json:"seq"`       // sequence length T
	Accum    int     `json:"accum"`     // micro-batches per step (effective batch = Batch*Accum)
	LR       float64 `json:"lr"`        // peak learning rate
	MinLR    float64 `json:"min_lr"`    // final learning rate
	Warmup   int     `json:"warmup"`    // warmup steps
	Schedule string  `json:"schedule"`  // cosine | bitnet | constant
	WD       float64 `json:"wd"`        // weight decay
	Clip     float64 `json:"clip"`      // global gradient-norm clip (0 = off)
	MaskProb float64 `json:"mask_prob"` // MLM: fraction of tokens masked (BERT: 0.15)

	EvalEvery   int `json:"eval_every"`   // validate every N steps (and at the end)
	EvalBatches int `json:"eval_batches"` // validation micro-batches per evaluation
	CkptEvery   int `json:"ckpt_every"`   // checkpoint every N steps (and at the end); 0 = end only

	Seed    uint64 `json:"seed"`
	Threads int    `json:"threads"`

	// Jitter multiplies every initial weight of a fresh model by 1 + Jitter·u, u uniform in [-1, 1)
	// from a stream of its own (JitterSeed), so a run keeps its seed's initialization and data order
	// up to a perturbation far below any product's rounding: how much a run's outcome depends on such
	// details is the noise any comparison of two runs must beat (README "Quality: bf16 vs fp32").
	// 0 = off; not applied to --init models.
	Jitter     float64 `json:"jitter,omitempty"`
	JitterSeed uint64  `json:"jitter_seed,omitempty"`

	// Precision of the layers' floating-point products (nn.SetPrecision): "fp32" (the default; ""
	// reads as fp32) or "bf16" (bf16 operands, fp32 sums; master weights, gradients and AdamW state
	// stay fp32). Part of a run's identity: a resumed run keeps it.
	Precision string `json:"precision,omitempty"`

	// Adaptive bit widths (--bits auto, bits.go): after BitsWarmup steps, and every BitsEvery steps
	// after that (0 = once), measure each quantized matrix's sensitivity at each width and choose
	// widths so the stored average bits per weight stays within BitsBudget (0 = off).
	BitsBudget float64 `json:"bits_budget,omitempty"` // e.g. 2.0
	BitsWarmup int     `json:"bits_warmup,omitempty"` // steps before the first allocation (0: Steps/5)
	BitsEvery  int     `json:"bits_every,omitempty"`  // re-allocate every N steps after that (0 = never)
	BitsMethod string  `json:"bits_method,omitempty"` // knapsack (default) or cluster
	// bits_sensitivity: fisher (default: ½ Σ F·(w - Q(w))², F from AdamW's v) or loss (held-out loss increase)
	BitsSensitivity string `json:"bits_sensitivity,omitempty"`

	// The hybrid optimizer (README "Hybrid optimizer"); every part is off by default.
	Controller   string  `json:"controller,omitempty"`    // "" (none), aux (learned LR multiplier and trust radius), fixed (aux that never learns: multiplier 1)
	ControllerLR float64 `json:"controller_lr,omitempty"` // the controller's own AdamW learning rate (0 = 3e-3)
	// controller_horizon: the hypergradient's horizon H in steps (updates summed with decay 1-1/H);
	// 1 = the next loss only (one step), 0 = the default (see controllerHorizon)
	ControllerHorizon int     `json:"controller_horizon,omitempty"`
	TrustRegion       string  `json:"trust_region,omitempty"` // "" (none), layer (‖u‖ <= R·‖W‖ per matrix) or global
	TrustRatio        float64 `json:"trust_ratio,omitempty"`  // R
	Clusters          string  `json:"clusters,omitempty"`     // a cluster file from tern cluster: batches come from its windows
	Batching          string  `json:"batching,omitempty"`     // with clusters: balanced (default), curriculum or random
	Dedup             float64 `json:"dedup,omitempty"`        // with clusters: drop windows with cosine >= this to a kept one of their cluster (0 = keep all)

	// Task evaluation and checkpoint retention (the seed's training flow).
	EvalTasks     string `json:"eval_tasks,omitempty"`      // comma-separated: sst2 (zero-shot), wikitext2 (LM loss); causal models
	EvalTaskEvery int    `json:"eval_task_every,omitempty"` // evaluate the tasks every N steps (and at the end); 0 = at the end only
	EvalTaskData  string `json:"eval_task_data,omitempty"`  // dataset directory (default: $TERN_DATA, else shared/data above the working directory)
	Keep          int    `json:"keep,omitempty"`            // keep the last K checkpoints (ckpts/step-N.safetensors) plus the best by validation loss; 0 = only the latest
}

// DefaultControllerHorizon is the hypergradient horizon of --controller aux when none is given.
const DefaultControllerHorizon = 1

// controllerHorizon is the controller's hypergradient horizon with its default applied.
func (c Config) controllerHorizon() int {
	if c.ControllerHorizon == 0 {
		return DefaultControllerHorizon
	}
	return c.ControllerHorizon
}

// controllerLR is the controller's learning rate with its default applied.
func (c Config) controllerLR() float64 {
	if c.ControllerLR == 0 {
		return 3e-3
	}
	return c.ControllerLR
}

// Defaults are small and safe; presets and flags override them.
func Defaults() Config {
	return Config{Data: "tinyshakespeare", Tokenizer: "char", Out: "runs/tern", Steps: 1000, Batch: 8, Seq: 128,
		Accum: 1, LR: 1.5e-3, MinLR: 1.5e-4, Warmup: 50, Schedule: "cosine", WD: 0.1, Clip: 1.0, MaskProb: 0.15,
		EvalEvery: 100, EvalBatches: 8, CkptEvery: 0, Seed: 1337, Threads: 0}
}

// Validate checks the config against the model and returns the first problem.
func (c Config) Validate(mc model.Config) error {
	if c.Steps <= 0 || c.Batch <= 0 || c.Seq <= 0 || c.Accum <= 0 {
		return fmt.Errorf("train config: steps, batch, seq and accum must be > 0 (got %d, %d, %d, %d)", c.Steps, c.Batch, c.Seq, c.Accum)
	}
	if c.Seq > mc.MaxPos {
		return fmt.Errorf("train config: seq %d is longer than the model's max_pos %d", c.Seq, mc.MaxPos)
	}
	if err := c.checkFloats(); err != nil {
		return err
	}
	if err := c.checkMemory(mc); err != nil {
		return err
	}
	if c.EvalEvery < 0 || c.CkptEvery < 0 || c.EvalBatches < 0 {
		return fmt.Errorf("train config: eval_every, ckpt_every and eval_batches must be >= 0")
	}
	if mc.Objective == model.ObjMLM && (c.MaskProb <= 0 || c.MaskProb >= 1) {
		return fmt.Errorf("train config: mask_prob must be in (0, 1) for the mlm objective (got %g)", c.MaskProb)
	}
	if c.BitsBudget < 0 || c.BitsWarmup < 0 || c.BitsEvery < 0 {
		return fmt.Errorf("train config: bits_budget, bits_warmup and bits_every must be >= 0")
	}
	if c.BitsBudget > 0 && mc.Linear != model.LinearBitNet {
		return fmt.Errorf("train config: --bits auto (bits_budget %g) needs linear bitnet (linear %q)", c.BitsBudget, mc.Linear)
	}
	switch c.BitsMethod {
	case "", "knapsack", "cluster":
	default:
		return fmt.Errorf("train config: unknown bits_method %q (want knapsack or cluster)", c.BitsMethod)
	}
	switch c.BitsSensitivity {
	case "", "fisher", "loss":
	default:
		return fmt.Errorf("train config: unknown bits_sensitivity %q (want fisher or loss)", c.BitsSensitivity)
	}
	if err := nn.CheckPrecision(c.precision()); err != nil {
		return fmt.Errorf("train config: precision (--precision): %w", err)
	}
	if strings.TrimSpace(c.Out) == "" {
		return fmt.Errorf("train config: out directory is empty")
	}
	switch c.Controller {
	case "", "none", "aux", "fixed":
	default:
		return fmt.Errorf("train config: unknown controller %q (want none, aux or fixed)", c.Controller)
	}
	if c.ControllerHorizon < 0 {
		return fmt.Errorf("train config: controller_horizon must be >= 0 (got %d)", c.ControllerHorizon)
	}
	if c.ControllerLR < 0 || math.IsNaN(c.ControllerLR) || math.IsInf(c.ControllerLR, 0) {
		return fmt.Errorf("train config: controller_lr must be >= 0 (got %g)", c.ControllerLR)
	}
	if c.Clusters == "" && (c.Batching != "" || c.Dedup != 0) {
		return fmt.Errorf("train config: batching and dedup need a cluster file (--clusters, from tern cluster)")
	}
	switch c.Batching {
	case "", "balanced", "curriculum", "random":
	default:
		return fmt.Errorf("train config: unknown batching %q (want balanced, curriculum or random)", c.Batching)
	}
	if !(c.Dedup >= 0 && c.Dedup <= 1) {
		return fmt.Errorf("train config: dedup must be a cosine similarity in (0, 1], or 0 for none (got %g)", c.Dedup)
	}
	if c.EvalTaskEvery < 0 || c.Keep < 0 {
		return fmt.Errorf("train config: eval_task_every and keep must be >= 0")
	}
	if _, err := c.evalTasks(mc); err != nil {
		return err
	}
	if err := optim.ValidateTrust(c.TrustRegion, c.TrustRatio); err != nil {
		return fmt.Errorf("train config: %w", err)
	}
	return c.schedule().Validate()
}

// checkFloats refuses NaN, infinite and out-of-range rates: a NaN cannot even be written to the
// run's JSON config (`--dropout NaN` and `--mask-prob NaN` trained "done" and left files that could
// no longer be loaded), and a min_lr below 0 or above lr drives the learning rate negative.
func (c Config) checkFloats() error {
	for _, f := range []struct {
		key string
		v   float64
	}{{"lr", c.LR}, {"min_lr", c.MinLR}, {"wd", c.WD}, {"clip", c.Clip}, {"mask_prob", c.MaskProb},
		{"bits_budget", c.BitsBudget}, {"controller_lr", c.ControllerLR}, {"trust_ratio", c.TrustRatio}, {"dedup", c.Dedup}, {"jitter", c.Jitter}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("train config: %s must be a finite number >= 0 (got %g)", f.key, f.v)
		}
	}
	if c.LR <= 0 {
		return fmt.Errorf("train config: lr must be > 0 (got %g)", c.LR)
	}
	if c.MinLR > c.LR {
		return fmt.Errorf("train config: min_lr %g is above lr %g (the schedule decays from lr to min_lr)", c.MinLR, c.LR)
	}
	if c.MaskProb >= 1 {
		return fmt.Errorf("train config: mask_prob must be in [0, 1) (got %g)", c.MaskProb)
	}
	if c.Jitter >= 1 {
		return fmt.Errorf("train config: jitter must be in [0, 1): it scales each initial weight by 1 + jitter·u, u in [-1, 1) (got %g)", c.Jitter)
	}
	return nil
}

// checkMemory refuses a run whose model and optimizer state (value, gradient and two AdamW moments:
// 16 bytes per weight as built) plus one micro-batch's logits and activations cannot fit in memory,
// before anything is allocated (`--batch 268435456` died with a fatal out-of-memory error).
func (c Config) checkMemory(mc model.Config) error {
	weights := 16 * mc.BuiltWeights()
	// Per position: the logits and their gradient (2V), and about 16 hidden-sized activations per
	// layer kept for backward (a lower bound of what the layers hold).
	layers := float64(mc.Layers + mc.Decoders())
	act := 4 * float64(c.Batch) * float64(c.Seq) * (2*float64(mc.InputVocab()) + 16*layers*float64(mc.Hidden))
	return sysmem.Check(fmt.Sprintf("train: the model's weights and AdamW state (%s) with a micro-batch of %d x %d (%s of activations)",
		sysmem.Size(weights), c.Batch, c.Seq, sysmem.Size(act)), weights+act)
}

// precision is Precision with its default applied.
func (c Config) precision() string {
	if c.Precision == "" {
		return nn.PrecisionFP32
	}
	return c.Precision
}

// controllerOn and trustOn say which parts of the hybrid optimizer the run uses.
func (c Config) controllerOn() bool { return c.Controller == "aux" || c.Controller == "fixed" }
func (c Config) trustOn() bool      { return c.TrustRegion == "layer" || c.TrustRegion == "global" }

func (c Config) schedule() optim.Schedule {
	return optim.Schedule{Kind: c.Schedule, LR: c.LR, MinLR: c.MinLR, Warmup: c.Warmup, Steps: c.Steps, WD: c.WD}
}

// JSON returns the config as indented JSON.
func (c Config) JSON() string {
	b, _ := json.MarshalIndent(c, "", "  ")
	return string(b)
}
