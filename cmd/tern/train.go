package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"tern/dist"
	"tern/internal/strictjson"
	"tern/internal/sysmem"
	"tern/model"
	"tern/quant"
	"tern/share"
	"tern/train"
)

func init() {
	register("train", "train a language model (1.58-bit BitLinear or fp32) on a text corpus", runTrain)
}

// trainFlags maps flags one-to-one onto train.Config and model.Config fields. Model flags override the
// preset or config file only when given.
type trainFlags struct {
	fs     *flag.FlagSet
	tc     train.Config
	mc     model.Config
	preset string
	config string
	resume bool
	force  bool
	asJSON bool
	dist   string
}

func newTrainFlags(name, synopsis string) *trainFlags {
	f := &trainFlags{tc: train.Defaults(), fs: newFlags(name, synopsis)}
	fs, tc := f.fs, &f.tc
	fs.StringVar(&f.preset, "preset", "tiny", "model preset: "+fmt.Sprint(model.PresetNames()))
	fs.StringVar(&f.config, "config", "", `JSON config file: {"model": {...}, "train": {...}} (either part optional)`)
	fs.BoolVar(&f.resume, "resume", false, "continue the run in --out from its checkpoint (bit-identical)")
	fs.BoolVar(&f.force, "force", false, "start a new run in an --out that holds an earlier run's model or metrics, replacing them")
	fs.BoolVar(&f.asJSON, "json", false, "print the final result as one JSON object")
	fs.StringVar(&f.dist, "dist", "none", "data parallelism: none, or mpi (a tern built with -tags mpi, started by mpirun/srun; each rank takes --accum micro-batches per step)")
	fs.StringVar(&tc.Data, "data", tc.Data, "corpus: tinyshakespeare (embedded), a .txt file, a folder of .txt, or a Gutenberg folder with split.tsv")
	fs.StringVar(&tc.Tokenizer, "tokenizer", tc.Tokenizer, "char, gpt2, or a tokenizer.json path")
	fs.StringVar(&tc.Init, "init", tc.Init, "start from this model file's weights, architecture and tokenizer (tern import hf, or a run's model.safetensors); fresh optimizer")
	fs.StringVar(&tc.Out, "out", tc.Out, "run directory (checkpoint, model, metrics.jsonl, loss.png)")
	fs.IntVar(&tc.Steps, "steps", tc.Steps, "optimizer steps")
	fs.IntVar(&tc.Batch, "batch", tc.Batch, "micro-batch size")
	fs.IntVar(&tc.Seq, "seq", tc.Seq, "sequence length")
	fs.IntVar(&tc.Accum, "accum", tc.Accum, "gradient accumulation steps (effective batch = batch x accum)")
	fs.Float64Var(&tc.LR, "lr", tc.LR, "peak learning rate")
	fs.Float64Var(&tc.MinLR, "min-lr", tc.MinLR, "final learning rate")
	fs.IntVar(&tc.Warmup, "warmup", tc.Warmup, "warmup steps")
	fs.StringVar(&tc.Schedule, "schedule", tc.Schedule, "cosine, bitnet (two-stage LR, weight decay off in stage two) or constant")
	fs.Float64Var(&tc.WD, "wd", tc.WD, "weight decay")
	fs.Float64Var(&tc.Clip, "clip", tc.Clip, "gradient-norm clip (0 = off)")
	fs.Float64Var(&tc.MaskProb, "mask-prob", tc.MaskProb, "masked-LM masking probability")
	fs.IntVar(&tc.EvalEvery, "eval-every", tc.EvalEvery, "validate every N steps")
	fs.IntVar(&tc.EvalBatches, "eval-batches", tc.EvalBatches, "validation batches per evaluation (0 = whole split)")
	fs.IntVar(&tc.CkptEvery, "ckpt-every", tc.CkptEvery, "checkpoint every N steps (0 = only at the end)")
	fs.Uint64Var(&tc.Seed, "seed", tc.Seed, "random seed (weights, batches, masks)")
	fs.IntVar(&tc.Threads, "threads", tc.Threads, "kernel threads (0 = all cores)")
	fs.Float64Var(&tc.Jitter, "jitter", tc.Jitter, "multiply each initial weight by 1 + jitter·u, u uniform in [-1, 1): the same seed's run, perturbed far below rounding (e.g. 1e-6), to measure run-to-run noise (0 = off)")
	fs.Uint64Var(&tc.JitterSeed, "jitter-seed", tc.JitterSeed, "seed of --jitter's perturbation")
	fs.StringVar(&tc.Precision, "precision", tc.Precision, "products of the layers: fp32 (default) or bf16 (bf16 operands, fp32 sums, fp32 master weights and AdamW state)")
	fs.StringVar(&tc.Controller, "controller", tc.Controller, "learned step-size controller: none, aux (an MLP that learns an LR multiplier and trust radius online from the hypergradient), or fixed (aux frozen at multiplier 1)")
	fs.Float64Var(&tc.ControllerLR, "controller-lr", tc.ControllerLR, "the controller's own learning rate (0 = 3e-3)")
	fs.IntVar(&tc.ControllerHorizon, "controller-horizon", tc.ControllerHorizon, "the controller's hypergradient horizon in steps: updates summed with decay 1-1/H (1 = the next loss only; 0 = default)")
	fs.StringVar(&tc.TrustRegion, "trust-region", tc.TrustRegion, "bound updates: none, layer (each matrix's update norm <= R x its weight norm, LAMB-style) or global (the whole step)")
	fs.Float64Var(&tc.TrustRatio, "trust-ratio", tc.TrustRatio, "R of --trust-region")
	fs.StringVar(&tc.Clusters, "clusters", tc.Clusters, "cluster file from tern cluster (same data, tokenizer and --seq): batches come from its windows")
	fs.StringVar(&tc.Batching, "batching", tc.Batching, "with --clusters: balanced (every batch covers the clusters in proportion; default), curriculum (easy clusters first) or random")
	fs.StringVar(&tc.EvalTasks, "eval-tasks", tc.EvalTasks, "evaluate tasks during training, comma-separated: sst2 (zero-shot accuracy on 200 dev sentences), wikitext2 (LM loss on 20k valid tokens)")
	fs.IntVar(&tc.EvalTaskEvery, "eval-task-every", tc.EvalTaskEvery, "evaluate --eval-tasks every N steps (0 = at the end only)")
	fs.StringVar(&tc.EvalTaskData, "eval-task-data", tc.EvalTaskData, "dataset directory for --eval-tasks (default: $TERN_DATA, else shared/data above the working directory)")
	fs.IntVar(&tc.Keep, "keep", tc.Keep, "keep the last K checkpoints (ckpts/step-N.safetensors) plus the best by validation loss (best.json); 0 = only the latest")
	fs.Float64Var(&tc.Dedup, "dedup", tc.Dedup, "with --clusters: drop windows whose cosine similarity to a kept window of their cluster is >= this (SemDeDup; 0 = off)")
	// model overrides
	fs.String("type", "", "model type: transformer, encdec, rnn, llama or bitnet")
	fs.String("arch", "", "llama or bitnet: the Llama-family decoder (RoPE, RMSNorm, grouped-query attention, gated FFN, no biases) with that architecture's defaults: bitnet = BitLinear, sub-norms, ReLU² (BitNet b1.58 2B4T); llama = fp32 linears, SwiGLU")
	fs.Int("kv-heads", 0, "llama/bitnet: key/value heads of grouped-query attention (dividing --heads; 0 = --heads)")
	fs.Float64("rope-theta", 0, "llama/bitnet: RoPE base (0 = 10000)")
	fs.String("ffn-act", "", "llama/bitnet: gated FFN activation, swiglu or relu2")
	fs.Bool("sub-norm", false, "llama/bitnet: RMSNorms before the attention output and FFN down projections (default on for bitnet)")
	fs.Float64("norm-eps", 0, "llama/bitnet: RMSNorm epsilon (0 = 1e-5)")
	fs.String("objective", "", "causal (GPT-style) or mlm (BERT-style masked LM)")
	fs.String("linear", "", "bitnet (ternary BitLinear) or fp32")
	fs.Bool("tie-embeddings", false, "LM head shares the token embedding")
	fs.Int("layers", 0, "layers")
	fs.Int("hidden", 0, "hidden size")
	fs.Int("heads", 0, "attention heads")
	fs.Int("ffn", 0, "FFN hidden size")
	fs.Int("max-pos", 0, "positions")
	fs.Int("type-vocab", 0, "token types (0 = none)")
	fs.String("norm", "", "layernorm or rmsnorm")
	fs.Bool("bias", false, "biases in projections")
	fs.Float64("dropout", 0, "dropout probability")
	fs.String("cell", "", "rnn cell: lstm or gru")
	fs.String("sharing", "", "cross-layer sharing, parts joined by +: none, all, attention, ffn, sequential=K, alternate=K, groups=0,2;1,3, scope=..., norms, decoder=all|0,1 (package share)")
	fs.Int("decoder-layers", 0, "encdec decoder layers (0 = same as --layers)")
	// adaptive bit widths (linear bitnet)
	fs.String("bits", "", "weight width of every quantized matrix: 1, 1.58 (ternary, the default), 2, 3, 4, 8; or auto (needs --bits-budget)")
	fs.String("bits-map", "", `JSON file {"matrix name": width, ...}: per-matrix widths (others: --bits, or 1.58)`)
	fs.Float64Var(&tc.BitsBudget, "bits-budget", tc.BitsBudget, "--bits auto: stored bits per weight of the quantized matrices, e.g. 2.0")
	fs.IntVar(&tc.BitsWarmup, "bits-warmup", tc.BitsWarmup, "--bits auto: steps before the first allocation (0 = steps/10)")
	fs.IntVar(&tc.BitsEvery, "bits-every", tc.BitsEvery, "--bits auto: re-allocate every N steps after the first (0 = never)")
	fs.StringVar(&tc.BitsMethod, "bits-method", "knapsack", "--bits auto: knapsack (exact, per matrix) or cluster (k-means precision groups)")
	fs.StringVar(&tc.BitsSensitivity, "bits-sensitivity", "fisher", "--bits auto: fisher (½ Σ F·(w - Q(w))², F from AdamW's second moment) or loss (held-out loss increase, one matrix at a time)")
	return f
}

// parse resolves preset < config file < flags into the final configs.
func (f *trainFlags) parse(args []string) error {
	if err := parseFlags(f.fs, args, false); err != nil {
		return err
	}
	mc, err := model.Preset(f.preset)
	if err != nil {
		return err
	}
	if f.config != "" {
		b, err := sysmem.ReadFile(f.config, sysmem.ConfigLimit)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		var raw struct {
			Model json.RawMessage `json:"model"`
			Train json.RawMessage `json:"train"`
		}
		if err := strictJSON(b, &raw); err != nil {
			return fmt.Errorf("config %s: %w", f.config, err)
		}
		if raw.Model != nil {
			if mc, err = model.ParseConfig(raw.Model, mc, f.config); err != nil {
				return err
			}
			if err := mc.Validate(); err != nil { // name the file that holds the bad sizes
				return fmt.Errorf("config %s: %w", f.config, err)
			}
		}
		if raw.Train != nil {
			tc := f.tc
			if err := strictJSON(raw.Train, &tc); err != nil {
				return fmt.Errorf("config %s: train: %w", f.config, err)
			}
			// flags given on the command line still win over the file
			set := map[string]bool{}
			f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
			cmdline := f.tc
			f.tc = tc
			f.overlayTrain(set, cmdline)
		}
	}
	// --arch (or --type llama|bitnet) first: it sets the family's defaults, which the other flags refine.
	var archErr error
	f.fs.Visit(func(fl *flag.Flag) {
		if fl.Name != "type" && fl.Name != "arch" {
			return
		}
		t := model.Type(fl.Value.String())
		switch {
		case fl.Name == "arch" && t != model.TypeLlama && t != model.TypeBitNet:
			archErr = fmt.Errorf("--arch %q: want llama or bitnet", t)
		case (t == model.TypeLlama || t == model.TypeBitNet) && mc.Type != t:
			mc = model.ArchDefaults(mc, t)
		default:
			mc.Type = t
		}
	})
	if archErr != nil {
		return archErr
	}
	var shareErr error
	f.fs.Visit(func(fl *flag.Flag) {
		g := fl.Value.(flag.Getter).Get()
		switch fl.Name {
		case "kv-heads":
			mc.KVHeads = g.(int)
		case "rope-theta":
			mc.RopeTheta = g.(float64)
		case "ffn-act":
			mc.FFNAct = model.FFNAct(g.(string))
		case "sub-norm":
			mc.SubNorm = g.(bool)
		case "norm-eps":
			mc.NormEps = g.(float64)
		case "objective":
			mc.Objective = model.Objective(g.(string))
		case "linear":
			mc.Linear = model.Linear(g.(string))
		case "tie-embeddings":
			mc.TieEmbeddings = g.(bool)
		case "layers":
			mc.Layers = g.(int)
		case "hidden":
			mc.Hidden = g.(int)
		case "heads":
			mc.Heads = g.(int)
		case "ffn":
			mc.FFN = g.(int)
		case "max-pos":
			mc.MaxPos = g.(int)
		case "type-vocab":
			mc.TypeVocab = g.(int)
		case "norm":
			mc.Norm = model.Norm(g.(string))
		case "bias":
			mc.Bias = g.(bool)
		case "dropout":
			mc.Dropout = g.(float64)
		case "cell":
			mc.Cell = model.Cell(g.(string))
		case "sharing":
			sp, err := share.Parse(g.(string))
			if err != nil {
				shareErr = err
			}
			mc.Sharing = sp
		case "decoder-layers":
			mc.DecoderLayers = g.(int)
		}
	})
	if shareErr != nil {
		return shareErr
	}
	if err := f.parseBits(&mc); err != nil {
		return err
	}
	if mc.Type == model.TypeRNN && mc.Cell == "" {
		mc.Cell = "lstm"
	}
	if mc.Type == model.TypeEncDec && !anySet(visited(f.fs), "objective") {
		mc.Objective = "seq2seq" // the encoder-decoder's only objective
	}
	f.mc = mc
	return nil
}

// parseBits applies --bits and --bits-map to mc and checks them against the --bits-* train flags.
func (f *trainFlags) parseBits(mc *model.Config) error {
	set := visited(f.fs)
	bits := f.fs.Lookup("bits").Value.String()
	auto := bits == "auto"
	if set["bits"] && !auto {
		w, err := quant.ParseWidth(bits)
		if err != nil {
			return fmt.Errorf("--bits: %w (or auto)", err)
		}
		mc.Bits, mc.BitsDefault = nil, w
	}
	if path := f.fs.Lookup("bits-map").Value.String(); path != "" {
		if auto {
			return fmt.Errorf("--bits-map and --bits auto exclude each other: the allocator chooses every width")
		}
		b, err := sysmem.ReadFile(path, sysmem.ConfigLimit)
		if err != nil {
			return fmt.Errorf("--bits-map: %w", err)
		}
		m, err := model.ParseWidthMap(b, path)
		if err != nil {
			return err
		}
		mc.Bits = m
	}
	if auto && f.tc.BitsBudget <= 0 {
		return fmt.Errorf("--bits auto needs --bits-budget (stored bits per weight, e.g. 2.0)")
	}
	if !auto && f.tc.BitsBudget > 0 && set["bits-budget"] {
		return fmt.Errorf("--bits-budget %g is for --bits auto (got --bits %q)", f.tc.BitsBudget, bits)
	}
	if !auto && anySet(set, "bits-every", "bits-warmup", "bits-method", "bits-sensitivity") {
		return fmt.Errorf("--bits-every, --bits-warmup, --bits-method and --bits-sensitivity are for --bits auto")
	}
	if f.tc.BitsBudget <= 0 { // the flags' defaults, not choices: keep configs of runs without widths unchanged
		if f.tc.BitsMethod == "knapsack" {
			f.tc.BitsMethod = ""
		}
		if f.tc.BitsSensitivity == "fisher" {
			f.tc.BitsSensitivity = ""
		}
	}
	return nil
}

// modelFlags are the flags that set the architecture (a checkpoint's or --init's otherwise).
var modelFlags = []string{"preset", "config", "type", "arch", "kv-heads", "rope-theta", "ffn-act", "sub-norm", "norm-eps", "objective", "linear", "tie-embeddings", "layers", "hidden", "heads", "ffn", "max-pos", "type-vocab", "norm", "bias", "dropout", "cell", "sharing", "decoder-layers", "bits", "bits-map"}

// overlayTrain copies command-line train flags (set) from cmdline over the file's values.
func (f *trainFlags) overlayTrain(set map[string]bool, cmdline train.Config) {
	t, c := &f.tc, cmdline
	for name := range set {
		switch name {
		case "data":
			t.Data = c.Data
		case "tokenizer":
			t.Tokenizer = c.Tokenizer
		case "init":
			t.Init = c.Init
		case "out":
			t.Out = c.Out
		case "steps":
			t.Steps = c.Steps
		case "batch":
			t.Batch = c.Batch
		case "seq":
			t.Seq = c.Seq
		case "accum":
			t.Accum = c.Accum
		case "lr":
			t.LR = c.LR
		case "min-lr":
			t.MinLR = c.MinLR
		case "warmup":
			t.Warmup = c.Warmup
		case "schedule":
			t.Schedule = c.Schedule
		case "wd":
			t.WD = c.WD
		case "clip":
			t.Clip = c.Clip
		case "mask-prob":
			t.MaskProb = c.MaskProb
		case "eval-every":
			t.EvalEvery = c.EvalEvery
		case "eval-batches":
			t.EvalBatches = c.EvalBatches
		case "ckpt-every":
			t.CkptEvery = c.CkptEvery
		case "seed":
			t.Seed = c.Seed
		case "precision":
			t.Precision = c.Precision
		case "jitter":
			t.Jitter = c.Jitter
		case "jitter-seed":
			t.JitterSeed = c.JitterSeed
		case "threads":
			t.Threads = c.Threads
		case "bits-budget":
			t.BitsBudget = c.BitsBudget
		case "bits-warmup":
			t.BitsWarmup = c.BitsWarmup
		case "bits-every":
			t.BitsEvery = c.BitsEvery
		case "bits-method":
			t.BitsMethod = c.BitsMethod
		case "bits-sensitivity":
			t.BitsSensitivity = c.BitsSensitivity
		case "controller":
			t.Controller = c.Controller
		case "controller-lr":
			t.ControllerLR = c.ControllerLR
		case "controller-horizon":
			t.ControllerHorizon = c.ControllerHorizon
		case "trust-region":
			t.TrustRegion = c.TrustRegion
		case "trust-ratio":
			t.TrustRatio = c.TrustRatio
		case "clusters":
			t.Clusters = c.Clusters
		case "batching":
			t.Batching = c.Batching
		case "dedup":
			t.Dedup = c.Dedup
		case "eval-tasks":
			t.EvalTasks = c.EvalTasks
		case "eval-task-every":
			t.EvalTaskEvery = c.EvalTaskEvery
		case "eval-task-data":
			t.EvalTaskData = c.EvalTaskData
		case "keep":
			t.Keep = c.Keep
		}
	}
}

// strictJSON decodes one JSON value with exact, known keys and nothing after it.
func strictJSON(b []byte, v any) error { return strictjson.Unmarshal(b, v) }

func runTrain(ctx context.Context, args []string) error {
	f := newTrainFlags("train", "train [flags]")
	if err := f.parse(args); err != nil {
		return err
	}
	tc, mc := f.tc, f.mc
	if f.resume {
		// The checkpoint's own configuration is the run's; flags given now may only extend steps or
		// change threads/eval/checkpoint cadence (checked in train.NewRun).
		set := map[string]bool{}
		f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
		stc, smc, err := train.CheckpointConfig(filepath.Join(tc.Out, train.CheckpointName))
		if err != nil {
			return err
		}
		cmdline := tc
		f.tc = stc
		f.overlayTrain(set, cmdline)
		tc = f.tc
		if !anySet(set, modelFlags...) {
			mc = smc
		}
	} else if set := visited(f.fs); tc.Init != "" && (anySet(set, modelFlags...) || set["tokenizer"]) {
		return fmt.Errorf("--init %s: the architecture and tokenizer come from the model file; drop the model flags and --tokenizer", tc.Init)
	} else if _, err := os.Stat(filepath.Join(tc.Out, train.CheckpointName)); err == nil && !f.force {
		return fmt.Errorf("%s already holds a checkpoint: pass --resume to continue it, --force to start over (replacing it), or choose another --out", tc.Out)
	} else if !f.force {
		// A new run would replace these: never without being asked.
		for _, name := range []string{train.ModelName, "metrics.jsonl"} {
			if _, err := os.Stat(filepath.Join(tc.Out, name)); err == nil {
				return fmt.Errorf("%s already holds %s: pass --force to replace it with a new run, or choose another --out", tc.Out, name)
			}
		}
	}
	if n := launcherRanks(); n > 1 && (f.dist == "none" || f.dist == "") {
		return fmt.Errorf("started as one of %d MPI ranks but --dist is none: pass --dist mpi (otherwise every rank would train alone and write the same files)", n)
	}
	comm, err := dist.Open(f.dist)
	if err != nil {
		return err
	}
	defer comm.Close()
	out := io.Writer(os.Stdout)
	if comm.Rank() != 0 {
		out = io.Discard // rank 0 reports for the group
	}
	r, err := train.NewRunContext(ctx, tc, mc, f.resume, out, comm)
	if err != nil {
		return err
	}
	if comm.Size() > 1 {
		fmt.Fprintf(out, "data parallel: %d ranks (%s), %d micro-batches of %d x %d per step\n", comm.Size(), f.dist, comm.Size()*tc.Accum, tc.Batch, tc.Seq)
	}
	if f.resume {
		fmt.Fprintf(out, "resuming %s from step %d\n", tc.Out, r.Step)
	}
	res, err := r.Train(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; checkpoint saved in %s (continue with --resume)", tc.Out)
		}
		return err
	}
	if comm.Rank() != 0 {
		return nil
	}
	if f.asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	fmt.Printf("done: %d steps, train loss %.4f, val loss %.4f (ppl %.2f), %.0f tok/s; model in %s\n",
		res.Steps, res.TrainLoss, res.ValLoss, res.ValPPL, res.TokensPerSec, filepath.Join(tc.Out, train.ModelName))
	return nil
}

// launcherRanks is the world size an MPI launcher announced in the environment (Open MPI's mpirun,
// MPICH's Hydra), or 0.
func launcherRanks() int {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"} {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil {
			return n
		}
	}
	return 0
}

func anySet(set map[string]bool, names ...string) bool {
	for _, n := range names {
		if set[n] {
			return true
		}
	}
	return false
}

// visited returns the names of the flags given on the command line.
func visited(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set
}
