package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"tern/format"
	"tern/internal/strictjson"
	"tern/model"
	"tern/optim"
	"tern/tensor"
)

// CheckpointName is the checkpoint's file name in the run directory; ModelName is the weights-only
// model file written beside it (what `tern generate` and `tern eval` read).
const (
	CheckpointName = "checkpoint.safetensors"
	ModelName      = "model.safetensors"
)

// Checkpoint metadata keys (besides model.Meta*).
const (
	metaTrainConfig = "tern.train_config"
	metaStep        = "tern.step"
	metaAdamStep    = "tern.adam_step"
	metaSamplerRNG  = "tern.sampler_rng"
	metaDropoutRNG  = "tern.dropout_rng"
	metaController  = "tern.controller"      // --controller: its state, AdamW step and the last update's trust-region flags
	metaClusterPos  = "tern.cluster_sampler" // --clusters: {"epoch":e,"pos":p} of the epoch order
)

// controllerMeta is the controller's part of a checkpoint besides its tensors.
type controllerMeta struct {
	State    optim.ControllerState `json:"state"`
	AdamStep int                   `json:"adam_step"`
	Bound    []bool                `json:"bound"`
}

// Save writes the checkpoint (weights, AdamW moments, step, sampler RNG: everything a bit-identical
// resume needs) and the weights-only model file, each atomically (temp file, fsync, rename), so a crash
// or a full disk mid-save leaves the previous files whole.
func (r *Run) Save() error {
	if r.comm.Rank() != 0 {
		return nil // rank 0 saves for a data-parallel group: every rank holds the same state
	}
	ts, err := model.ParamTensors(r.Model)
	if err != nil {
		return err
	}
	meta := model.FileMeta(r.Model, "checkpoint", r.Tok.Spec())
	modelMeta := model.FileMeta(r.Model, "model", r.Tok.Spec())
	for k, v := range r.carry {
		meta[k], modelMeta[k] = v, v
	}
	if err := format.Write(r.path(ModelName), modelMeta, ts); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	tc, _ := json.Marshal(r.Cfg)
	rs, _ := json.Marshal(r.sampler.RNG.State())
	meta[metaTrainConfig] = string(tc)
	meta[metaStep] = strconv.Itoa(r.Step)
	meta[metaAdamStep] = strconv.Itoa(r.Opt.Step)
	meta[metaSamplerRNG] = string(rs)
	ds, _ := json.Marshal(r.dropRNG.State())
	meta[metaDropoutRNG] = string(ds)
	ts = append(ts,
		format.F32Tensor("optim.adamw.m", []int{len(r.Opt.M)}, r.Opt.M),
		format.F32Tensor("optim.adamw.v", []int{len(r.Opt.V)}, r.Opt.V))
	if r.Cfg.Keep > 0 {
		r.noteBest()
		b, _ := json.Marshal(r.best)
		meta[metaBest] = string(b)
	}
	if r.clusters != nil {
		meta[metaClusterPos] = fmt.Sprintf(`{"epoch":%d,"pos":%d}`, r.clusters.epoch, r.clusters.pos)
	}
	if c := r.ctrl; c != nil {
		for _, p := range c.Params() {
			ts = append(ts, format.F32Tensor(p.Name, p.Shape, p.W))
		}
		ts = append(ts,
			format.F32Tensor("controller.adamw.m", []int{len(c.Opt.M)}, c.Opt.M),
			format.F32Tensor("controller.adamw.v", []int{len(c.Opt.V)}, c.Opt.V),
			format.F32Tensor("optim.delta.u", []int{len(r.delta.U)}, r.delta.U))
		if r.delta.Trace != nil {
			ts = append(ts, format.F32Tensor("optim.delta.trace", []int{len(r.delta.Trace)}, r.delta.Trace))
		}
		cm, _ := json.Marshal(controllerMeta{State: c.State, AdamStep: c.Opt.Step, Bound: r.delta.Bound})
		meta[metaController] = string(cm)
	}
	if err := format.Write(r.path(CheckpointName), meta, ts); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := r.retain(); err != nil {
		return err
	}
	return nil
}

func (r *Run) path(name string) string { return r.Cfg.Out + "/" + name }

// checkpointState is a checkpoint read back, before a model exists to receive it.
type checkpointState struct {
	path      string
	file      *format.File
	Model     model.Config
	Train     Config
	Step      int
	AdamStep  int
	Sampler   tensor.RNGState
	Dropout   tensor.RNGState
	Tokenizer string
}

func readCheckpoint(path string) (*checkpointState, error) {
	f, err := format.Read(path)
	if err != nil {
		return nil, fmt.Errorf("resume: %w (start without --resume, or point --out at the run to resume)", err)
	}
	return checkpointOf(f, path)
}

// checkpointOf reads a checkpoint's metadata (everything but the tensors, which restore takes).
func checkpointOf(f *format.File, path string) (*checkpointState, error) {
	var err error
	st := &checkpointState{path: path, file: f, Tokenizer: f.Meta[model.MetaTokenizer]}
	if f.Meta[model.MetaKind] != "checkpoint" {
		return nil, fmt.Errorf("resume: %s is a %q file, not a training checkpoint", path, f.Meta[model.MetaKind])
	}
	if st.Model, err = model.ConfigOf(f, path); err != nil {
		return nil, err
	}
	bad := func(key string, err error) error {
		return fmt.Errorf("resume: %s: metadata %s: %v", path, key, err)
	}
	if err := strictjson.Unmarshal([]byte(f.Meta[metaTrainConfig]), &st.Train); err != nil {
		return nil, bad(metaTrainConfig, err)
	}
	if st.Step, err = strconv.Atoi(f.Meta[metaStep]); err != nil || st.Step < 0 {
		return nil, bad(metaStep, fmt.Errorf("want a step >= 0, got %q", f.Meta[metaStep]))
	}
	if st.AdamStep, err = strconv.Atoi(f.Meta[metaAdamStep]); err != nil || st.AdamStep < 0 {
		return nil, bad(metaAdamStep, fmt.Errorf("want a step >= 0, got %q", f.Meta[metaAdamStep]))
	}
	// An all-zero sampler state made --resume spin forever, deaf to signals: refuse it here.
	for _, rs := range []struct {
		key string
		st  *tensor.RNGState
	}{{metaSamplerRNG, &st.Sampler}, {metaDropoutRNG, &st.Dropout}} {
		if err := strictjson.Unmarshal([]byte(f.Meta[rs.key]), rs.st); err != nil {
			return nil, bad(rs.key, err)
		}
		if err := rs.st.Check(); err != nil {
			return nil, bad(rs.key, err)
		}
	}
	return st, nil
}

// compatible rejects resuming with settings that would change the run: the architecture, data,
// tokenizer, batch geometry, schedule or seed (the step count may grow).
func compatible(st *checkpointState, cfg Config, mc model.Config) error {
	a, b := st.Train, cfg
	// The run directory is where the checkpoint was found, however it is spelled now (runs/rr/,
	// ./runs/rr, an absolute path, or a folder moved since); data and tokenizer paths may be spelled
	// differently too, as long as they name the same files.
	a.Out, b.Out = "", ""
	if samePath(a.Data, b.Data) {
		a.Data = b.Data
	}
	if samePath(a.Tokenizer, b.Tokenizer) {
		a.Tokenizer = b.Tokenizer
	}
	if samePath(a.Init, b.Init) {
		a.Init = b.Init
	}
	a.Steps, b.Steps = 0, 0
	a.Threads, b.Threads = 0, 0
	a.EvalEvery, b.EvalEvery, a.CkptEvery, b.CkptEvery, a.EvalBatches, b.EvalBatches = 0, 0, 0, 0, 0, 0
	a.EvalTasks, b.EvalTasks, a.EvalTaskEvery, b.EvalTaskEvery, a.EvalTaskData, b.EvalTaskData = "", "", 0, 0, "", ""
	a.Keep, b.Keep = 0, 0
	a.Precision, b.Precision = a.precision(), b.precision() // "" (older checkpoints) is fp32
	if a != b {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return fmt.Errorf("resume: %s was trained with a different configuration:\n  checkpoint: %s\n  now:        %s", st.path, ja, jb)
	}
	want := st.Model
	if mc.Vocab != want.Vocab { // vocab comes from the tokenizer, not the flags
		mc.Vocab = want.Vocab
	}
	if mc.Sharing != want.Sharing {
		return fmt.Errorf("resume: %s was trained with sharing %s, not %s: its tensors follow that sharing map (resume with the same --sharing, or start a new run)", st.path, want.Sharing, mc.Sharing)
	}
	if cfg.BitsBudget > 0 { // --bits auto: the checkpoint holds the allocation of the moment
		mc.Bits, mc.BitsDefault = want.Bits, want.BitsDefault
	}
	if mustJSON(mc) != mustJSON(want) {
		return fmt.Errorf("resume: %s holds a different model:\n  checkpoint: %s\n  now:        %s", st.path, mustJSON(want), mustJSON(mc))
	}
	if cfg.Steps < st.Step {
		return fmt.Errorf("resume: %s is at step %d, beyond --steps %d", st.path, st.Step, cfg.Steps)
	}
	return nil
}

// samePath reports whether two spellings name the same file or folder (or are equal names).
func samePath(a, b string) bool {
	if a == b || filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, ea := os.Stat(a)
	sb, eb := os.Stat(b)
	return ea == nil && eb == nil && os.SameFile(sa, sb)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// restore fills a freshly built run from the checkpoint.
func (st *checkpointState) restore(r *Run) error {
	if err := model.LoadParams(r.Model, st.file, st.path); err != nil {
		return err
	}
	for _, name := range []string{"optim.adamw.m", "optim.adamw.v"} {
		t, err := st.file.Get(name)
		if err != nil {
			return fmt.Errorf("resume: %s: %w", st.path, err)
		}
		v, err := t.Float32()
		if err != nil {
			return fmt.Errorf("resume: %s: %s: %w", st.path, name, err)
		}
		dst := r.Opt.M
		if name == "optim.adamw.v" {
			dst = r.Opt.V
		}
		if len(v) != len(dst) {
			return fmt.Errorf("resume: %s: %s holds %d values, the model needs %d", st.path, name, len(v), len(dst))
		}
		copy(dst, v)
	}
	if c := r.ctrl; c != nil {
		if err := st.restoreController(r); err != nil {
			return fmt.Errorf("resume: %s: %w", st.path, err)
		}
	}
	if r.clusters != nil {
		var pos struct{ Epoch, Pos int }
		if err := json.Unmarshal([]byte(st.file.Meta[metaClusterPos]), &pos); err != nil {
			return fmt.Errorf("resume: %s: metadata %s: %v", st.path, metaClusterPos, err)
		}
		if err := r.clusters.restore(pos.Epoch, pos.Pos); err != nil {
			return fmt.Errorf("resume: %s: %w", st.path, err)
		}
	}
	if b := st.file.Meta[metaBest]; b != "" {
		if err := json.Unmarshal([]byte(b), &r.best); err != nil {
			return fmt.Errorf("resume: %s: metadata %s: %v", st.path, metaBest, err)
		}
	}
	if err := model.CheckUsed(st.file, st.path); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	r.Step = st.Step
	r.Opt.Step = st.AdamStep
	r.sampler.RNG.SetState(st.Sampler)
	r.dropRNG.SetState(st.Dropout)
	return nil
}

// restoreController reads the controller's weights, moments, state and the last update.
func (st *checkpointState) restoreController(r *Run) error {
	c := r.ctrl
	var cm controllerMeta
	if err := json.Unmarshal([]byte(st.file.Meta[metaController]), &cm); err != nil {
		return fmt.Errorf("metadata %s: %v", metaController, err)
	}
	if len(cm.Bound) != len(r.delta.Bound) {
		return fmt.Errorf("metadata %s: %d trust-region flags, the model has %d tensors", metaController, len(cm.Bound), len(r.delta.Bound))
	}
	slabs := map[string][]float32{"controller.adamw.m": c.Opt.M, "controller.adamw.v": c.Opt.V, "optim.delta.u": r.delta.U}
	if r.delta.Trace != nil {
		slabs["optim.delta.trace"] = r.delta.Trace
	}
	for _, p := range c.Params() {
		slabs[p.Name] = p.W
	}
	for name, dst := range slabs {
		t, err := st.file.Get(name)
		if err != nil {
			return err
		}
		v, err := t.Float32()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(v) != len(dst) {
			return fmt.Errorf("%s holds %d values, need %d", name, len(v), len(dst))
		}
		copy(dst, v)
	}
	c.State, c.Opt.Step = cm.State, cm.AdamStep
	copy(r.delta.Bound, cm.Bound)
	return nil
}

// CheckpointConfig returns the training and model configuration stored in a checkpoint.
func CheckpointConfig(path string) (Config, model.Config, error) {
	st, err := readCheckpoint(path)
	if err != nil {
		return Config{}, model.Config{}, err
	}
	return st.Train, st.Model, nil
}
