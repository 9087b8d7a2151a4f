package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tern/dist"
	"tern/format"
	"tern/kernels"
	"tern/model"
	"tern/nn"
	"tern/optim"
	"tern/tensor"
	"tern/tokenizer"
)

// ErrNonFinite reports NaN or Inf in the loss or the gradients.
var ErrNonFinite = errors.New("non-finite loss or gradient")

// Run is one training run: model, optimizer, data and where they are.
type Run struct {
	Cfg   Config
	Model model.LM
	Opt   *optim.AdamW
	Tok   tokenizer.Adapter
	Step  int // optimizer steps done

	train, valid []int32
	sampler      *Sampler
	dropRNG      *tensor.RNG       // one draw per step seeds its micro-batches' dropout; saved in checkpoints
	microRNG     *tensor.RNG       // the dropout stream of the micro-batch in progress
	params       []*nn.Param       // unique, optimizer order
	carry        map[string]string // model-file metadata handed on from --init (tern.hf.*: the source folder's config, dtypes, chat files)

	// Data parallelism (package dist): every rank draws the same micro-batches and computes its share
	// of them; gradients are summed over ranks, so all ranks take the same optimizer step.
	comm    dist.Comm
	gradBuf []float32 // all gradients, packed for one allreduce
	sums    [2]float64

	ids, targets []int32
	rowLoss      []float32
	log          *Logger

	// The hybrid optimizer (nil when off): the learned step-size controller and the update tracker
	// that trust regions and the controller's hypergradient need.
	ctrl  *optim.Controller
	delta *optim.Delta
	last  stepInfo                    // the last step's effective learning rate, multiplier and trust-region counts
	bound struct{ hits, covered int } // trust-region counts since the last report
	// Clustered batches (--clusters; nil when off) and the log line describing them.
	clusters    *clusterSampler
	clusterNote string

	tasks   *taskEval // --eval-tasks (nil when off)
	lastVal struct {
		step int
		loss float64
	} // the last validation, for --keep's best checkpoint
	best bestCheckpoint // --keep: the best checkpoint so far by validation loss

	stopAt int // tests: return errStopped after this step, without saving (a simulated crash)
}

var errStopped = errors.New("stopped for test")

// stepInfo is what one step decided besides its loss.
type stepInfo struct {
	lr, mult, cos  float64
	norm           float64 // the global gradient norm before clipping
	bound, covered int
}

// Result summarizes a finished run.
type Result struct {
	Steps        int     `json:"steps"`
	TrainLoss    float64 `json:"train_loss"`
	ValLoss      float64 `json:"val_loss"`
	ValPPL       float64 `json:"val_ppl"`
	TokensPerSec float64 `json:"tokens_per_s"`
	Checkpoint   string  `json:"checkpoint"`
	Params       int     `json:"params"`
	UniqueParams int     `json:"unique_params"`
	ElapsedSec   float64 `json:"elapsed_s"`
	// StoredBits is the quantized matrices' average bits per weight as stored (codes, padding, steps)
	// at their final widths; 0 for fp32 models.
	StoredBits float64 `json:"stored_bits_per_weight,omitempty"`
}

// NewRun prepares a run: tokenizes the corpus, and either builds a fresh model (seeded) or, with resume
// and an existing checkpoint in cfg.Out, restores everything from it.
func NewRun(cfg Config, mc model.Config, resume bool, stdout io.Writer) (*Run, error) {
	return NewDataParallelRun(cfg, mc, resume, stdout, dist.Single())
}

// NewDataParallelRun is NewRun for one rank of a data-parallel group. Each of the group's optimizer
// steps takes Accum micro-batches on every rank (Size·Accum in all, the batches a single process with
// --accum Size·Accum would take, in the same order), sums the gradients over ranks, and applies the
// same update everywhere. Only rank 0 writes logs, metrics and checkpoints; every rank reads the
// checkpoint when resuming.
func NewDataParallelRun(cfg Config, mc model.Config, resume bool, stdout io.Writer, comm dist.Comm) (*Run, error) {
	return NewRunContext(context.Background(), cfg, mc, resume, stdout, comm)
}

// NewRunContext is NewDataParallelRun that stops preparing (tokenizing the corpus) within about a
// second of ctx's cancellation, with ctx's error.
func NewRunContext(ctx context.Context, cfg Config, mc model.Config, resume bool, stdout io.Writer, comm dist.Comm) (*Run, error) {
	if cfg.Threads > 0 {
		kernels.SetThreads(cfg.Threads)
	}
	ckpt := filepath.Join(cfg.Out, CheckpointName)
	var st *checkpointState
	if resume {
		var err error
		st, err = readCheckpoint(ckpt)
		if err != nil {
			return nil, err
		}
		if err := compatible(st, cfg, mc); err != nil {
			return nil, err
		}
		mc = st.Model
	}
	var initLM model.LM // --init: the run starts from this model's weights, config and tokenizer
	var initTok string
	carry := map[string]string{}
	if cfg.Init != "" && st == nil {
		var err error
		if initLM, initTok, err = model.Load(cfg.Init); err != nil {
			return nil, fmt.Errorf("train: --init: %w", err)
		}
		mc = initLM.Config()
		h, err := format.ReadFileHeader(cfg.Init, true)
		if err != nil {
			return nil, fmt.Errorf("train: --init: %w", err)
		}
		carry = carried(h.Meta)
	} else if st != nil {
		carry = carried(st.file.Meta)
	}
	if err := mc.Validate(); err != nil {
		return nil, err
	}
	corpus, tok, err := loadData(cfg, st, initTok)
	if err != nil {
		return nil, err
	}
	if initLM != nil {
		if tok.VocabSize() > mc.Vocab {
			return nil, fmt.Errorf("train: --init %s: its tokenizer has %d ids, the model %d", cfg.Init, tok.VocabSize(), mc.Vocab)
		}
	} else if mc.Vocab != tok.VocabSize() {
		if st != nil {
			return nil, fmt.Errorf("checkpoint %s: vocab %d does not match its tokenizer (%d)", ckpt, mc.Vocab, tok.VocabSize())
		}
		mc.Vocab = tok.VocabSize()            // the tokenizer decides the vocabulary
		if err := mc.Validate(); err != nil { // its limits and memory, at the tokenizer's vocabulary
			return nil, fmt.Errorf("tokenizer %s: %w", cfg.Tokenizer, err)
		}
	}
	if err := cfg.Validate(mc); err != nil {
		return nil, err
	}
	if err := nn.SetPrecision(cfg.precision()); err != nil {
		return nil, err
	}
	if cfg.BitsBudget > 0 && comm.Size() > 1 {
		return nil, fmt.Errorf("train: --bits auto is not supported with data parallelism yet (%d ranks): allocate on one process, then train with --bits-map", comm.Size())
	}
	r := &Run{Cfg: cfg, Tok: tok, carry: carry}
	if r.train, err = tokenizer.EncodeContext(ctx, tok, corpus.Train, 1<<20); err != nil {
		return nil, err
	}
	if r.valid, err = tokenizer.EncodeContext(ctx, tok, corpus.Valid, 1<<20); err != nil {
		return nil, err
	}
	if len(r.train) < cfg.Seq+2 {
		return nil, fmt.Errorf("corpus %s: training split has %d tokens, need more than seq+1 = %d", cfg.Data, len(r.train), cfg.Seq+1)
	}
	if len(r.valid) < cfg.Seq+2 {
		return nil, fmt.Errorf("corpus %s: validation split has %d tokens, need more than seq+1 = %d", cfg.Data, len(r.valid), cfg.Seq+1)
	}
	if initLM != nil {
		r.Model = initLM
	} else if r.Model, err = model.New(mc, tensor.NewRNG(cfg.Seed)); err != nil {
		return nil, err
	}
	r.params = nn.Unique(r.Model.Params())
	if initLM == nil && cfg.Jitter > 0 {
		jitter(r.params, cfg.Jitter, cfg.JitterSeed)
	}
	r.Opt = optim.NewAdamW(r.params, noDecay(r.params))
	r.sampler = &Sampler{Tokens: r.train, RNG: tensor.NewRNG(cfg.Seed ^ 0x5eed)}
	r.dropRNG = tensor.NewRNG(cfg.Seed ^ 0xd209)
	if cfg.Clusters != "" {
		if r.clusters, r.clusterNote, err = loadClusters(cfg, tok.Spec(), r.train); err != nil {
			return nil, err
		}
	}
	if comm.Rank() == 0 {
		if r.tasks, err = newTaskEval(cfg, mc); err != nil {
			return nil, err
		}
	}
	r.microRNG = tensor.NewRNG(0)
	r.comm = comm
	if cfg.controllerOn() {
		lr := cfg.controllerLR()
		if cfg.Controller == "fixed" {
			lr = 0
		}
		r.ctrl = optim.NewController(cfg.Seed^0xc7a1, lr)
	}
	if cfg.controllerOn() || cfg.trustOn() {
		r.delta = optim.NewDelta(r.params)
		if h := cfg.controllerHorizon(); cfg.controllerOn() && h > 1 {
			r.delta.EnableTrace(1 - 1/float64(h))
		}
	}
	if st != nil {
		if err := st.restore(r); err != nil {
			return nil, err
		}
	}
	n := cfg.Batch * cfg.Seq
	r.ids, r.targets, r.rowLoss = make([]int32, n), make([]int32, n), make([]float32, n)
	if comm.Rank() != 0 {
		r.log = &Logger{out: io.Discard} // rank 0 reports for the group
		return r, nil
	}
	// Saves killed mid-write (SIGKILL, power loss) leave their temporary files; this run owns the
	// directory now, so remove them before they pile up (26 kills left ~150 MB).
	if stale, err := format.RemoveStaleTemps(cfg.Out, ""); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	} else if len(stale) > 0 {
		fmt.Fprintf(stdout, "removed %d temporary files of an interrupted save from %s\n", len(stale), cfg.Out)
	}
	r.log, err = NewLogger(cfg.Out, stdout, st != nil)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// carried picks the metadata a run hands on from the model it started from to the files it writes:
// an imported model's Hugging Face side (model.MetaHFConfig, ...), so export hf of the fine-tuned model
// writes the source folder's config.json, dtypes and chat files.
func carried(meta map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		if strings.HasPrefix(k, "tern.hf.") {
			out[k] = v
		}
	}
	return out
}

// checkpointNote says what a stop leaves on disk: the last checkpoint and its step, or that there is
// none (the message once said "the last checkpoint is intact" when none had been written).
func (r *Run) checkpointNote() string {
	ckpt := filepath.Join(r.Cfg.Out, CheckpointName)
	h, err := format.ReadFileHeader(ckpt, true)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Sprintf("no checkpoint was written: nothing in %s to resume; lower --lr or add --ckpt-every", r.Cfg.Out)
		}
		return fmt.Sprintf("the checkpoint %s cannot be read: %v", ckpt, err)
	}
	return fmt.Sprintf("the last checkpoint, %s at step %s, is intact: --resume continues from it", ckpt, h.Meta[metaStep])
}

// noDecay: norm gains and biases (1-D tensors) get no weight decay, as in GPT-2/nanoGPT.
func noDecay(ps []*nn.Param) []*nn.Param {
	var out []*nn.Param
	for _, p := range ps {
		if len(p.Shape) < 2 {
			out = append(out, p)
		}
	}
	return out
}

// Train runs the loop to cfg.Steps, validating and checkpointing on schedule. It stops cleanly on
// ctx cancellation (checkpointing first) and on a non-finite loss or gradient (without checkpointing,
// so the last good checkpoint stays intact).
func (r *Run) Train(ctx context.Context) (_ *Result, err error) {
	defer func() {
		if err != nil {
			r.log.Close() // release metrics.jsonl on every failure path
		}
	}()
	cfg, mc := r.Cfg, r.Model.Config()
	sched := cfg.schedule()
	total, unique := model.CountParams(r.Model.Params())
	r.log.Printf("model: %s, %d params (%d unique), linear=%s, precision=%s, %d threads (%s)\n", describe(mc), total, unique, mc.Linear, cfg.precision(), kernels.Threads(), kernels.Features())
	if w := PrecisionWarning(cfg.precision()); w != "" {
		r.log.Printf("%s\n", w)
	}
	r.log.Printf("%s\n", model.SharingReport(r.Model, cfg.Out)) // sharing map, counts, sizes (packed measured)
	if r.clusterNote != "" {
		r.log.Printf("clusters: %s\n", r.clusterNote)
	}
	W := r.comm.Size()
	r.log.Printf("data: %s, %d train / %d valid tokens; batch %d x seq %d x accum %d x ranks %d = %d tokens per step\n",
		cfg.Data, len(r.train), len(r.valid), cfg.Batch, cfg.Seq, cfg.Accum, W, cfg.Batch*cfg.Seq*cfg.Accum*W)
	res := &Result{Params: total, UniqueParams: unique}
	start := time.Now()
	startStep := r.Step
	var trainLoss float64
	r.log.StartProgress(r.Step, cfg.Steps)
	for r.Step < cfg.Steps {
		stop, err := r.agree(ctx.Err() != nil) // ranks stop together, at the same step
		if err != nil {
			r.log.EndProgress()
			return nil, err
		}
		if stop {
			r.log.EndProgress()
			r.log.Printf("interrupted at step %d; saving checkpoint\n", r.Step)
			if err := r.Save(); err != nil {
				return nil, err
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, context.Canceled // another rank was interrupted
		}
		if r.bitsDue() {
			if err := r.allocateWidths(); err != nil { // bits.go
				r.log.EndProgress()
				return nil, err
			}
		}
		t0 := time.Now()
		lr, wd := sched.At(r.Step)
		loss, err := r.step(lr, wd)
		lr = r.last.lr
		if err != nil {
			r.log.EndProgress()
			return nil, err
		}
		trainLoss = loss
		r.Step++
		dt := time.Since(t0).Seconds()
		tps := float64(cfg.Batch*cfg.Seq*cfg.Accum*W) / dt
		m := Metric{Step: r.Step, Split: "train", Loss: loss, LR: lr, GradNorm: r.last.norm, TokensPerSec: tps, StepMS: dt * 1000}
		if r.ctrl != nil {
			m.LRMult, m.HyperCos = r.last.mult, r.last.cos
		}
		if r.last.covered > 0 {
			m.TrustBound = float64(r.last.bound) / float64(r.last.covered)
			r.bound.hits += r.last.bound
			r.bound.covered += r.last.covered
		}
		r.log.Metric(m)
		r.log.Progress(r.Step, loss, tps)
		if r.comm.Rank() != 0 {
			// the others' copies are identical: rank 0 validates and saves for the group
		} else if (cfg.EvalEvery > 0 && r.Step%cfg.EvalEvery == 0) || r.Step == cfg.Steps {
			vl := r.Evaluate(cfg.EvalBatches)
			r.log.Metric(Metric{Step: r.Step, Split: "valid", Loss: vl, PPL: math.Exp(vl)})
			r.log.Printf("step %d: train loss %.4f, val loss %.4f, val ppl %.2f%s\n", r.Step, loss, vl, math.Exp(vl), r.hybridReport())
			res.ValLoss, res.ValPPL = vl, math.Exp(vl)
			r.lastVal.step, r.lastVal.loss = r.Step, vl
		}
		if r.tasks != nil && ((cfg.EvalTaskEvery > 0 && r.Step%cfg.EvalTaskEvery == 0) || r.Step == cfg.Steps) {
			ms, err := r.evaluateTasks(ctx)
			if err != nil {
				r.log.EndProgress()
				return nil, err
			}
			line := fmt.Sprintf("step %d:", r.Step)
			for _, m := range ms {
				r.log.Metric(m)
				if m.Task == "sst2" {
					line += fmt.Sprintf(" sst2 zero-shot accuracy %.3f", m.Score)
				} else {
					line += fmt.Sprintf(" %s loss %.4f (ppl %.2f)", m.Task, m.Loss, m.PPL)
				}
			}
			r.log.Printf("%s\n", line)
		}
		if err := r.log.Err(); err != nil {
			r.log.EndProgress()
			return nil, err
		}
		if (cfg.CkptEvery > 0 && r.Step%cfg.CkptEvery == 0) || r.Step == cfg.Steps {
			if err := r.Save(); err != nil {
				r.log.EndProgress()
				return nil, err
			}
		}
		if r.stopAt > 0 && r.Step == r.stopAt {
			return nil, errStopped
		}
	}
	r.log.EndProgress()
	el := time.Since(start).Seconds()
	res.Steps, res.TrainLoss, res.ElapsedSec = r.Step, trainLoss, el
	res.StoredBits = model.StoredBitsPerWeight(r.Model)
	if r.Step > startStep {
		res.TokensPerSec = float64((r.Step-startStep)*cfg.Batch*cfg.Seq*cfg.Accum*W) / el
	}
	res.Checkpoint = filepath.Join(cfg.Out, CheckpointName)
	if r.comm.Rank() == 0 {
		if err := r.log.Plot(filepath.Join(cfg.Out, "loss.png")); err != nil {
			r.log.Printf("warning: loss plot: %v\n", err)
		}
		if err := r.log.PlotTasks(filepath.Join(cfg.Out, "tasks.png")); err != nil {
			r.log.Printf("warning: task plot: %v\n", err)
		}
	}
	return res, r.log.Close()
}

// step runs one optimizer step (Accum micro-batches per rank) and returns the mean training loss.
// Micro-batch m of the step (m < Size·Accum, in sampler order) runs on rank m/Accum, with dropout
// masks from a stream of its own (seeded by one draw per step and m), so the step does not depend on
// how micro-batches are spread over ranks.
func (r *Run) step(lr, wd float64) (float64, error) {
	cfg, mc := r.Cfg, r.Model.Config()
	B, T, V := cfg.Batch, cfg.Seq, mc.Vocab
	W, rank := r.comm.Size(), r.comm.Rank()
	micro := cfg.Accum * W
	for _, p := range r.params {
		clear(p.G)
	}
	var sum float64
	stepSeed := r.dropRNG.Uint64()
	defer r.Model.SetTraining(false, nil)
	for m := 0; m < micro; m++ {
		if r.clusters != nil { // every rank draws every batch
			r.clusters.frac = float64(r.Step) / float64(cfg.Steps)
			r.clusters.Next(r.ids, r.targets, B, T, r.sampler.RNG, mc, cfg.MaskProb)
		} else {
			r.sampler.Next(r.ids, r.targets, B, T, mc, cfg.MaskProb)
		}
		if m/cfg.Accum != rank {
			continue
		}
		r.microRNG.Seed(stepSeed ^ uint64(m)*0x9e3779b97f4a7c15)
		r.Model.SetTraining(true, r.microRNG)
		logits, err := r.Model.Forward(r.ids, B, T)
		if err != nil {
			return 0, err
		}
		nats, cnt := crossEntropy(logits, r.targets, r.rowLoss, B*T, V, 1/float32(micro))
		if cnt > 0 {
			sum += nats / float64(cnt)
		}
		r.Model.Backward(logits)
	}
	if W > 1 {
		var err error
		if sum, err = r.allreduce(sum); err != nil {
			return 0, err
		}
	}
	loss := sum / float64(micro)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, fmt.Errorf("step %d: loss is %v: %w; stopping (%s)", r.Step+1, loss, ErrNonFinite, r.checkpointNote())
	}
	norm := optim.ClipGradNorm(r.params, cfg.Clip)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return 0, fmt.Errorf("step %d: gradient norm is %v: %w; stopping (%s)", r.Step+1, norm, ErrNonFinite, r.checkpointNote())
	}
	r.last = stepInfo{lr: lr, mult: 1, norm: norm}
	ratio := cfg.TrustRatio
	if r.ctrl != nil {
		// The controller first learns from its last decision (this gradient against the last
		// update), then decides this step. A non-finite decision stops the run before any weight moves.
		free, bound, gn, un := r.delta.Dots()
		if gn > 0 && un > 0 {
			r.last.cos = (free + bound) / (gn * un)
		}
		r.ctrl.Learn(free, bound, gn, un)
		peak := cfg.LR
		mult, radius, err := r.ctrl.Decide(optim.Signals{Loss: loss, GradNorm: norm, Cluster: r.batchCluster(),
			StepFrac: float64(r.Step) / float64(cfg.Steps), LRFrac: lr / peak, TrustOn: cfg.trustOn()})
		if err != nil {
			return 0, fmt.Errorf("step %d: %w; stopping before the update (%s)", r.Step+1, err, r.checkpointNote())
		}
		r.last.lr, r.last.mult = lr*mult, mult
		ratio *= radius
	}
	if r.delta != nil {
		r.delta.Before()
	}
	r.Opt.Update(r.last.lr, wd)
	if r.delta != nil {
		st := r.delta.After(cfg.TrustRegion, ratio)
		r.last.bound, r.last.covered = st.Bound, st.Covered
		if r.ctrl != nil {
			r.ctrl.State.UpdateRatio = st.UpdateRatio
		}
	}
	return loss, nil
}

// batchCluster is the controller's cluster input: the step's most frequent cluster over k (the
// last micro-batch's), 0 without clusters.
func (r *Run) batchCluster() float64 {
	if r.clusters == nil {
		return 0
	}
	return float64(r.clusters.majority) / float64(r.clusters.k)
}

// hybridReport is the validation line's tail: the controller's multiplier and how often the trust
// region bound since the last report.
func (r *Run) hybridReport() string {
	s := ""
	if r.ctrl != nil {
		s += fmt.Sprintf(", lr x%.3f", r.last.mult)
	}
	if r.bound.covered > 0 {
		s += fmt.Sprintf(", trust region bound %.1f%% of tensor updates", 100*float64(r.bound.hits)/float64(r.bound.covered))
		r.bound.hits, r.bound.covered = 0, 0
	}
	return s
}

// allreduce sums the gradients and the loss over the ranks.
func (r *Run) allreduce(loss float64) (float64, error) {
	n := 0
	for _, p := range r.params {
		n += len(p.G)
	}
	if len(r.gradBuf) != n {
		r.gradBuf = make([]float32, n)
	}
	o := 0
	for _, p := range r.params {
		o += copy(r.gradBuf[o:], p.G)
	}
	if err := r.comm.AllreduceSum(r.gradBuf); err != nil {
		return 0, err
	}
	o = 0
	for _, p := range r.params {
		o += copy(p.G, r.gradBuf[o:])
	}
	r.sums = [2]float64{loss, 0}
	if err := r.comm.AllreduceSum64(r.sums[:1]); err != nil {
		return 0, err
	}
	return r.sums[0], nil
}

// agree returns whether any rank wants to stop (a single process: whether it does).
func (r *Run) agree(stop bool) (bool, error) {
	if r.comm.Size() == 1 {
		return stop, nil
	}
	r.sums[1] = 0
	if stop {
		r.sums[1] = 1
	}
	if err := r.comm.AllreduceSum64(r.sums[1:]); err != nil {
		return false, err
	}
	return r.sums[1] > 0, nil
}

// Evaluate returns the mean validation loss over up to nb consecutive validation batches (all of the
// split that fits when nb <= 0). MLM masks come from a fixed seed, so the number is comparable across
// steps and runs.
func (r *Run) Evaluate(nb int) float64 { return r.evalFrom(0, 1, nb) }

// evalFrom is Evaluate over validation batches first, first+dir, ... (dir = ±1), up to nb of them.
func (r *Run) evalFrom(first, dir, nb int) float64 {
	cfg, mc := r.Cfg, r.Model.Config()
	B, T, V := cfg.Batch, cfg.Seq, mc.Vocab
	maskRNG := tensor.NewRNG(12345)
	var nats float64
	var count int
	for i := 0; nb <= 0 || i < nb; i++ {
		if first+dir*i < 0 || !Sequential(r.valid, r.ids, r.targets, B, T, first+dir*i) {
			break
		}
		if mc.Objective == model.ObjMLM {
			maskTokens(r.ids, r.targets, maskRNG, mc, cfg.MaskProb)
		}
		if mc.Objective == model.ObjSeq2Seq {
			Seq2SeqRows(r.ids, r.targets, B, T, maskRNG, mc, cfg.MaskProb) // seq2seq.go
		}
		logits, err := r.Model.Forward(r.ids, B, T)
		if err != nil {
			return math.NaN()
		}
		s, c := crossEntropy(logits, r.targets, r.rowLoss, B*T, V, 1)
		nats += s
		count += c
	}
	if count == 0 {
		return math.NaN()
	}
	return nats / float64(count)
}

func describe(mc model.Config) string {
	switch mc.Type {
	case model.TypeRNN:
		return fmt.Sprintf("%s %s, %d layers, hidden %d, vocab %d", mc.Type, mc.Cell, mc.Layers, mc.Hidden, mc.Vocab)
	case model.TypeLlama, model.TypeBitNet:
		act := string(mc.FFNAct)
		if mc.SubNorm {
			act += ", sub-norms"
		}
		return fmt.Sprintf("%s (%s linears, %s), %d layers, hidden %d, %d/%d heads, ffn %d, rope %g, vocab %d", mc.Type, mc.Linear, act, mc.Layers, mc.Hidden, mc.Heads, mc.KV(), mc.FFN, mc.Theta(), mc.Vocab)
	case model.TypeEncDec:
		return fmt.Sprintf("encdec (%s), %d+%d layers, hidden %d, %d heads, ffn %d, vocab %d", mc.Objective, mc.Layers, mc.Decoders(), mc.Hidden, mc.Heads, mc.FFN, mc.Vocab)
	}
	return fmt.Sprintf("transformer (%s), %d layers, hidden %d, %d heads, ffn %d, vocab %d", mc.Objective, mc.Layers, mc.Hidden, mc.Heads, mc.FFN, mc.Vocab)
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// jitter multiplies every weight by 1 + eps·u, u uniform in [-1, 1) from a stream seeded by seed
// (Config.Jitter).
func jitter(ps []*nn.Param, eps float64, seed uint64) {
	rng := tensor.NewRNG(seed)
	for _, p := range ps {
		for j := range p.W {
			p.W[j] *= float32(1 + eps*(2*rng.Float64()-1))
		}
	}
}
