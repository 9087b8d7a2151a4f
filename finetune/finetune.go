package finetune

// The fine-tuning loop: shuffled mini-batches padded to their longest sequence, forward through the
// TaskModel, task loss, backward, clip, AdamW with warmup + cosine decay. One function reads top to
// bottom, as train.Run does for LMs.

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"tern/kernels"
	"tern/model"
	"tern/nn"
	"tern/optim"
	"tern/tensor"
)

// Config holds the fine-tuning hyperparameters.
type Config struct {
	Epochs   float64 `json:"epochs"`    // passes over the training features (Steps wins when > 0)
	Steps    int     `json:"steps"`     // optimizer steps; 0 = from Epochs
	Batch    int     `json:"batch"`     // sequences per step, e.g. 16
	LR       float64 `json:"lr"`        // peak learning rate, e.g. 1e-3 for small models
	WD       float64 `json:"wd"`        // weight decay, e.g. 0.01
	Warmup   float64 `json:"warmup"`    // fraction of steps warming up, e.g. 0.1
	Clip     float64 `json:"clip"`      // global gradient-norm clip
	MaxLen   int     `json:"max_len"`   // T cap, e.g. 128
	MaxTrain int     `json:"max_train"` // use only the first N training items (0 = all)
	Seed     uint64  `json:"seed"`
	LogEvery int     `json:"log_every"` // progress line every N steps (0 = none)
}

// Defaults suit the small models tern trains on two cores.
func Defaults() Config {
	return Config{Epochs: 1, Batch: 16, LR: 1e-3, WD: 0.01, Warmup: 0.1, Clip: 1, MaxLen: 128, Seed: 1, LogEvery: 50}
}

// Stats summarizes a fine-tuning run.
type Stats struct {
	Steps        int     `json:"steps"`
	Features     int     `json:"train_features"`
	FinalLoss    float64 `json:"final_loss"` // mean over the last LogEvery steps (or all)
	TokensPerSec float64 `json:"tokens_per_s"`
	Seconds      float64 `json:"seconds"`
}

// Batch is a padded mini-batch.
type Batch struct {
	B, T   int
	IDs    []int32 // (B, T), 0 at padding
	Types  []int32 // (B, T)
	Pad    []bool  // (B, T) true = padding
	Labels []int32 // sequence (B); token (B, T) with -1 at padding and ignored subtokens
	Start  []int32 // span (B)
	End    []int32 // span (B)
	Tokens int     // real tokens
}

// MakeBatch pads fs into one batch.
func MakeBatch(kind string, fs []*Feature) *Batch {
	b := new(Batch)
	b.Set(kind, fs)
	return b
}

// Set pads fs into b, reusing b's storage: a training loop refills one Batch without allocating
// once it has seen its longest batch.
func (b *Batch) Set(kind string, fs []*Feature) {
	b.B, b.T, b.Tokens = len(fs), 0, 0
	for _, f := range fs {
		b.T = max(b.T, len(f.IDs))
	}
	n := b.B * b.T
	b.IDs, b.Types, b.Pad = tensor.Grow(b.IDs, n), tensor.Grow(b.Types, n), tensor.Grow(b.Pad, n)
	clear(b.IDs)
	clear(b.Types)
	clear(b.Pad)
	b.Labels, b.Start, b.End = b.Labels[:0], b.Start[:0], b.End[:0]
	switch kind {
	case "sequence":
		b.Labels = tensor.Grow(b.Labels, b.B)
	case "token":
		b.Labels = tensor.Grow(b.Labels, n)
		for i := range b.Labels {
			b.Labels[i] = -1
		}
	case "span":
		b.Start, b.End = tensor.Grow(b.Start, b.B), tensor.Grow(b.End, b.B)
	}
	for i, f := range fs {
		copy(b.IDs[i*b.T:], f.IDs)
		copy(b.Types[i*b.T:], f.Types)
		for j := len(f.IDs); j < b.T; j++ {
			b.Pad[i*b.T+j] = true
		}
		b.Tokens += len(f.IDs)
		switch kind {
		case "sequence":
			b.Labels[i] = f.Label
		case "token":
			copy(b.Labels[i*b.T:], f.Tags)
		case "span":
			b.Start[i], b.End[i] = f.Start, f.End
		}
	}
}

// Loss computes the task loss of logits for batch b and overwrites dlogits with its gradient.
// Sequence and token tasks: mean cross-entropy over labelled rows. Span tasks: (CE(start) + CE(end))/2
// over each sequence's context positions (question, separator and padding are masked out).
type Loss struct {
	ce     nn.CrossEntropy
	dspan  []float32
	logits []float32
}

// Forward returns the mean loss and dlogits (owned by l).
func (l *Loss) Forward(kind string, logits []float32, b *Batch, k int) (float32, []float32) {
	switch kind {
	case "sequence":
		loss := l.ce.Forward(logits, b.Labels, b.B, k)
		return loss, l.ce.Backward(1)
	case "token":
		loss := l.ce.Forward(logits, b.Labels, b.B*b.T, k)
		return loss, l.ce.Backward(1)
	}
	// span: logits (B, T, 2)
	T := b.T
	if cap(l.dspan) < len(logits) {
		l.dspan = make([]float32, len(logits))
	}
	d := l.dspan[:len(logits)]
	clear(d)
	var sum float64
	cnt := 0
	for i := 0; i < b.B; i++ {
		for e, gold := range [2]int32{b.Start[i], b.End[i]} {
			if gold < 0 {
				continue
			}
			mx := float32(math.Inf(-1))
			for j := 0; j < T; j++ {
				if !b.Pad[i*T+j] && b.Types[i*T+j] == 1 {
					mx = max(mx, logits[(i*T+j)*2+e])
				}
			}
			var z float64
			for j := 0; j < T; j++ {
				if !b.Pad[i*T+j] && b.Types[i*T+j] == 1 {
					z += math.Exp(float64(logits[(i*T+j)*2+e] - mx))
				}
			}
			lse := float64(mx) + math.Log(z)
			sum += lse - float64(logits[(i*T+int(gold))*2+e])
			cnt++
			for j := 0; j < T; j++ {
				if !b.Pad[i*T+j] && b.Types[i*T+j] == 1 {
					d[(i*T+j)*2+e] = float32(math.Exp(float64(logits[(i*T+j)*2+e]) - lse))
				}
			}
			d[(i*T+int(gold))*2+e] -= 1
		}
	}
	if cnt == 0 {
		return 0, d
	}
	inv := float32(1 / float64(cnt))
	for j := range d {
		d[j] *= inv
	}
	return float32(sum / float64(cnt)), d
}

// Train fine-tunes m on features (span features without the answer in their window are skipped),
// writing progress lines to log (nil = silent). It stops with ctx.
func Train(ctx context.Context, m *model.TaskModel, kind string, feats []Feature, cfg Config, log io.Writer) (*Stats, error) {
	var use []*Feature
	for i := range feats {
		f := &feats[i]
		if kind == "span" && f.Start < 0 {
			continue
		}
		if len(f.IDs) > m.Enc.Cfg.MaxPos {
			return nil, fmt.Errorf("finetune: feature of %d tokens exceeds the model's max_pos %d (lower --max-len)", len(f.IDs), m.Enc.Cfg.MaxPos)
		}
		use = append(use, f)
	}
	if len(use) == 0 {
		return nil, fmt.Errorf("finetune: no training features")
	}
	if cfg.Batch <= 0 {
		return nil, fmt.Errorf("finetune: batch must be > 0 (got %d)", cfg.Batch)
	}
	steps := cfg.Steps
	if steps <= 0 {
		steps = int(math.Ceil(cfg.Epochs * float64(len(use)) / float64(cfg.Batch)))
	}
	if steps <= 0 {
		return nil, fmt.Errorf("finetune: no steps (epochs %g, steps %d)", cfg.Epochs, cfg.Steps)
	}
	params := nn.Unique(m.Params())
	var noDecay []*nn.Param
	for _, p := range params {
		if len(p.Shape) < 2 {
			noDecay = append(noDecay, p)
		}
	}
	opt := optim.NewAdamW(params, noDecay)
	warm := int(cfg.Warmup * float64(steps))
	sched := optim.Schedule{Kind: "cosine", LR: cfg.LR, MinLR: cfg.LR / 10, Warmup: warm, Steps: steps, WD: cfg.WD}
	if err := sched.Validate(); err != nil {
		return nil, fmt.Errorf("finetune: %w", err)
	}
	rng := tensor.NewRNG(cfg.Seed)
	order := make([]int, len(use))
	for i := range order {
		order[i] = i
	}
	pos := len(order) // forces a shuffle on the first step
	var loss Loss
	k := m.Head.Outputs()
	st := &Stats{Steps: steps, Features: len(use)}
	start := time.Now()
	var tokens int
	var recent float64
	nrecent := 0
	batch := make([]*Feature, 0, cfg.Batch)
	var b Batch
	for step := 0; step < steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch = batch[:0]
		for len(batch) < cfg.Batch {
			if pos == len(order) {
				for i := len(order) - 1; i > 0; i-- { // Fisher-Yates
					j := rng.Intn(i + 1)
					order[i], order[j] = order[j], order[i]
				}
				pos = 0
			}
			batch = append(batch, use[order[pos]])
			pos++
		}
		b.Set(kind, batch)
		for _, p := range params {
			p.ZeroGrad()
		}
		logits, err := m.Forward(b.IDs, typesFor(m, &b), b.Pad, b.B, b.T)
		if err != nil {
			return nil, err
		}
		l, dlogits := loss.Forward(kind, logits, &b, k)
		if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
			return nil, fmt.Errorf("finetune: step %d: loss is %v", step+1, l)
		}
		m.Backward(dlogits)
		optim.ClipGradNorm(params, cfg.Clip)
		lr, wd := sched.At(step)
		opt.Update(lr, wd)
		tokens += b.Tokens
		recent += float64(l)
		nrecent++
		if cfg.LogEvery > 0 && ((step+1)%cfg.LogEvery == 0 || step+1 == steps) {
			el := time.Since(start).Seconds()
			st.FinalLoss = recent / float64(nrecent)
			if log != nil {
				fmt.Fprintf(log, "step %d/%d: loss %.4f, lr %.2e (%.0f tok/s)\n", step+1, steps, st.FinalLoss, lr, float64(tokens)/el)
			}
			recent, nrecent = 0, 0
		}
	}
	if nrecent > 0 {
		st.FinalLoss = recent / float64(nrecent)
	}
	st.Seconds = time.Since(start).Seconds()
	st.TokensPerSec = float64(tokens) / st.Seconds
	return st, nil
}

// typesFor passes token types only to models with segment embeddings.
func typesFor(m *model.TaskModel, b *Batch) []int32 {
	if m.Enc.Type == nil {
		return nil
	}
	return b.Types
}

// Predictions of one evaluation pass, per item.
type Predictions struct {
	Labels  []int    // sequence tasks: class per item
	Tags    [][]int  // token tasks: tag per word (words cut by MaxLen get tag 0)
	Answers []string // span tasks: answer text per item
	Tokens  int      // real tokens run through the model
	Seconds float64  // wall time of the forward passes
}

// Predict runs m over features in batches of batch and decodes per-item predictions for n items.
// Span answers are the best start <= end pair within maxAnswer tokens over all windows of an item.
func Predict(ctx context.Context, m *model.TaskModel, kind string, items []Item, feats []Feature, batch, maxAnswer int) (*Predictions, error) {
	p := &Predictions{}
	n := len(items)
	switch kind {
	case "sequence":
		p.Labels = make([]int, n)
	case "token":
		p.Tags = make([][]int, n)
	case "span":
		p.Answers = make([]string, n)
	}
	best := make([]float32, n)
	for i := range best {
		best[i] = float32(math.Inf(-1))
	}
	k := m.Head.Outputs()
	start := time.Now()
	for lo := 0; lo < len(feats); lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, len(feats))
		fs := make([]*Feature, 0, hi-lo)
		for i := lo; i < hi; i++ {
			fs = append(fs, &feats[i])
		}
		b := MakeBatch(kind, fs)
		p.Tokens += b.Tokens
		logits, err := m.Forward(b.IDs, typesFor(m, b), b.Pad, b.B, b.T)
		if err != nil {
			return nil, err
		}
		for i, f := range fs {
			switch kind {
			case "sequence":
				p.Labels[f.Item] = kernels.Argmax(logits[i*k : i*k+k])
			case "token":
				tags := make([]int, len(f.WordPos))
				for w, pos := range f.WordPos {
					if pos >= 0 {
						r := (i*b.T + pos) * k
						tags[w] = kernels.Argmax(logits[r : r+k])
					}
				}
				p.Tags[f.Item] = tags
			case "span":
				T := b.T
				for s := 0; s < len(f.IDs); s++ {
					if f.Off[s][0] < 0 {
						continue
					}
					ls := logits[(i*T+s)*2]
					for e := s; e < len(f.IDs) && e < s+maxAnswer; e++ {
						if sc := ls + logits[(i*T+e)*2+1]; sc > best[f.Item] {
							best[f.Item] = sc
							p.Answers[f.Item] = AnswerText(items[f.Item].Context, f, s, e)
						}
					}
				}
			}
		}
	}
	p.Seconds = time.Since(start).Seconds()
	return p, nil
}
