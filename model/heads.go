package model

// Task heads on a Transformer's final hidden states (B, T, C), and TaskModel = encoder + one head:
//
//	sequence: pool (first token, mean of real tokens, or last real token) -> Linear -> (B, K) classes
//	token:    every position -> Linear -> (B, T, K) tags
//	span:     every position -> Linear -> (B, T, 2) start and end logits (extractive QA)
//
// The projection is nn.Linear (fp32) or nn.BitLinear (1.58-bit), with a bias: class priors matter on
// unbalanced tasks (CoLA is 70% acceptable). Backward returns dh (B, T, C) for
// (*Transformer).BackwardHidden. Pooling choice: a causal (GPT-style) encoder's first token sees
// nothing, so "last" or "mean" are the useful pools there; "first" is BERT's [CLS] convention.
//
// Fine-tuned models are model files with two more metadata keys: the head config and the task name.

import (
	"encoding/json"
	"fmt"

	"tern/format"
	"tern/nn"
	"tern/tensor"
)

// Metadata keys of fine-tuned model files.
const (
	MetaHead = "tern.head" // HeadConfig as JSON
	MetaTask = "tern.task" // task name, e.g. "sst2"
)

// HeadConfig describes a task head.
type HeadConfig struct {
	Kind   string   `json:"kind"`           // "sequence", "token" or "span"
	Labels []string `json:"labels"`         // class or tag names, e.g. ["negative", "positive"]; span: ["start", "end"]
	Pool   string   `json:"pool,omitempty"` // sequence: "first", "mean" or "last"
	Linear Linear   `json:"linear"`         // "fp32" or "bitnet"
}

// Validate reports the first problem with the config.
func (c HeadConfig) Validate() error {
	switch c.Kind {
	case "sequence":
		switch c.Pool {
		case "first", "mean", "last":
		default:
			return fmt.Errorf("model: head: unknown pooling %q (want first, mean or last)", c.Pool)
		}
	case "token":
	case "span":
		if len(c.Labels) != 2 {
			return fmt.Errorf("model: span head needs 2 labels (start, end), got %d", len(c.Labels))
		}
	default:
		return fmt.Errorf("model: unknown head kind %q (want sequence, token or span)", c.Kind)
	}
	if len(c.Labels) < 2 {
		return fmt.Errorf("model: %s head needs at least 2 labels, got %d", c.Kind, len(c.Labels))
	}
	if c.Linear != LinearFP32 && c.Linear != LinearBitNet {
		return fmt.Errorf("model: head: unknown linear %q (want fp32 or bitnet)", c.Linear)
	}
	return nil
}

// Head maps hidden states to task logits.
type Head struct {
	Cfg  HeadConfig
	Proj nn.Projection // (K, C)

	b, t, c int
	pad     []bool    // (B, T) referenced, or nil
	pooled  []float32 // (B, C) sequence heads
	dh      []float32 // (B, T, C)
}

// NewHead builds a head for hidden size c, weights from rng.
func NewHead(cfg HeadConfig, c int, rng *tensor.RNG) (*Head, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k := len(cfg.Labels)
	var p nn.Projection
	if cfg.Linear == LinearBitNet {
		p = nn.NewBitLinear("head", c, k, true, rng)
	} else {
		p = nn.NewLinear("head", c, k, true, rng)
	}
	return &Head{Cfg: cfg, Proj: p, c: c}, nil
}

// Params returns the projection's weight and bias.
func (h *Head) Params() []*nn.Param { return h.Proj.Params() }

// Outputs is K, the logits per row.
func (h *Head) Outputs() int { return len(h.Cfg.Labels) }

// Forward maps hidden (B, T, C) to logits: (B, K) for sequence heads, (B, T, K) otherwise. pad (B, T),
// true = padding, may be nil; it decides which tokens mean and last pooling see. The result is owned
// by the head until the next Forward.
func (h *Head) Forward(hidden []float32, pad []bool, b, t int) []float32 {
	C := h.c
	if len(hidden) < b*t*C {
		panic(fmt.Sprintf("model: head: hidden has %d elements, want %d", len(hidden), b*t*C))
	}
	if pad != nil && len(pad) < b*t {
		panic(fmt.Sprintf("model: head: pad has %d entries, want %d", len(pad), b*t))
	}
	h.b, h.t, h.pad = b, t, pad
	if h.Cfg.Kind != "sequence" {
		return h.Proj.Forward(hidden[:b*t*C], b*t)
	}
	h.pooled = tensor.Grow(h.pooled, b*C)
	for i := 0; i < b; i++ {
		dst := h.pooled[i*C : i*C+C]
		switch h.Cfg.Pool {
		case "first":
			copy(dst, hidden[i*t*C:i*t*C+C])
		case "last":
			j := h.lastReal(i)
			copy(dst, hidden[(i*t+j)*C:(i*t+j+1)*C])
		case "mean":
			clear(dst)
			cnt := 0
			for j := 0; j < t; j++ {
				if pad != nil && pad[i*t+j] {
					continue
				}
				cnt++
				for k, v := range hidden[(i*t+j)*C : (i*t+j+1)*C] {
					dst[k] += v
				}
			}
			inv := 1 / float32(max(cnt, 1))
			for k := range dst {
				dst[k] *= inv
			}
		}
	}
	return h.Proj.Forward(h.pooled, b)
}

// lastReal is the position of sequence i's last non-padding token (0 if all are padding).
func (h *Head) lastReal(i int) int {
	for j := h.t - 1; j > 0; j-- {
		if h.pad == nil || !h.pad[i*h.t+j] {
			return j
		}
	}
	return 0
}

// Backward takes dlogits shaped like the last Forward's result, adds into the head's gradients and
// returns dh (B, T, C) (owned by the head; padding positions get zeros).
func (h *Head) Backward(dlogits []float32) []float32 {
	b, t, C := h.b, h.t, h.c
	din := h.Proj.Backward(dlogits)
	h.dh = tensor.Grow(h.dh, b*t*C)
	if h.Cfg.Kind != "sequence" {
		copy(h.dh, din[:b*t*C])
		return h.dh
	}
	clear(h.dh)
	for i := 0; i < b; i++ {
		src := din[i*C : i*C+C]
		switch h.Cfg.Pool {
		case "first":
			copy(h.dh[i*t*C:i*t*C+C], src)
		case "last":
			j := h.lastReal(i)
			copy(h.dh[(i*t+j)*C:(i*t+j+1)*C], src)
		case "mean":
			cnt := 0
			for j := 0; j < t; j++ {
				if h.pad == nil || !h.pad[i*t+j] {
					cnt++
				}
			}
			inv := 1 / float32(max(cnt, 1))
			for j := 0; j < t; j++ {
				if h.pad != nil && h.pad[i*t+j] {
					continue
				}
				dst := h.dh[(i*t+j)*C : (i*t+j+1)*C]
				for k, v := range src {
					dst[k] = v * inv
				}
			}
		}
	}
	return h.dh
}

// TaskModel is a transformer encoder with one task head.
type TaskModel struct {
	Enc  *Transformer
	Head *Head
	Task string // e.g. "sst2"
}

// NewTaskModel puts a fresh head (weights from rng) on enc.
func NewTaskModel(enc *Transformer, task string, hc HeadConfig, rng *tensor.RNG) (*TaskModel, error) {
	h, err := NewHead(hc, enc.Cfg.Hidden, rng)
	if err != nil {
		return nil, err
	}
	return &TaskModel{Enc: enc, Head: h, Task: task}, nil
}

// Forward returns the head's logits for ids (B, T) (types and pad as in ForwardHidden).
func (m *TaskModel) Forward(ids, types []int32, pad []bool, b, t int) ([]float32, error) {
	hid, err := m.Enc.ForwardHidden(ids, types, pad, b, t)
	if err != nil {
		return nil, err
	}
	return m.Head.Forward(hid, pad, b, t), nil
}

// Backward takes dlogits of the last Forward and accumulates every gradient (head and encoder).
func (m *TaskModel) Backward(dlogits []float32) {
	m.Enc.BackwardHidden(m.Head.Backward(dlogits))
}

// Params lists the encoder's parameter slots, then the head's. The encoder's LM head (untied) is
// left out: it gets no gradient and a fine-tuned file does not need it.
func (m *TaskModel) Params() []*nn.Param {
	ps := m.Enc.Params()
	if m.Enc.Head != nil {
		ps = ps[:len(ps)-len(m.Enc.Head.Params())]
	}
	return append(ps, m.Head.Params()...)
}

// SaveTask writes the fine-tuned model (encoder + head, config, head config, task, tokenizer spec)
// to path atomically.
func SaveTask(path string, m *TaskModel, tok string) error {
	var ts []format.Tensor
	for _, p := range nn.Unique(m.Params()) {
		ts = append(ts, format.F32Tensor(p.Name, p.Shape, p.W))
	}
	meta := FileMeta(transformerLM{m.Enc}, "model", tok)
	hc, _ := json.Marshal(m.Head.Cfg)
	meta[MetaHead] = string(hc)
	meta[MetaTask] = m.Task
	if err := format.Write(path, meta, ts); err != nil {
		return fmt.Errorf("model: save %s: %w", path, err)
	}
	return nil
}

// LoadTask reads a fine-tuned model file. A plain LM file (no head) is an error that says how to
// make one.
func LoadTask(path string) (*TaskModel, string, error) {
	f, err := format.Read(path)
	if err != nil {
		return nil, "", fmt.Errorf("model: %w", err)
	}
	raw, ok := f.Meta[MetaHead]
	if !ok {
		return nil, "", fmt.Errorf("model: %s has no task head (no %s metadata): it is a language model; fine-tune it first with tern finetune --task ... --model %s", path, MetaHead, path)
	}
	var hc HeadConfig
	if err := json.Unmarshal([]byte(raw), &hc); err != nil {
		return nil, "", fmt.Errorf("model: %s: head config: %w", path, err)
	}
	cfg, err := ConfigOf(f, path)
	if err != nil {
		return nil, "", err
	}
	if cfg.Type != TypeTransformer {
		return nil, "", fmt.Errorf("model: %s: task heads need a transformer, file has %s", path, cfg.Type)
	}
	enc, err := NewTransformer(cfg, tensor.NewRNG(0))
	if err != nil {
		return nil, "", fmt.Errorf("model: %s: %w", path, err)
	}
	m, err := NewTaskModel(enc, f.Meta[MetaTask], hc, tensor.NewRNG(0))
	if err != nil {
		return nil, "", fmt.Errorf("model: %s: %w", path, err)
	}
	for _, p := range nn.Unique(m.Params()) {
		t, err := f.Get(p.Name)
		if err != nil {
			return nil, "", fmt.Errorf("model: %s: %w", path, err)
		}
		if !tensor.SameShape(t.Shape, p.Shape) {
			return nil, "", fmt.Errorf("model: %s: tensor %q has shape %v, the model needs %v", path, p.Name, t.Shape, p.Shape)
		}
		w, err := t.Float32()
		if err != nil {
			return nil, "", fmt.Errorf("model: %s: tensor %q: %w", path, p.Name, err)
		}
		copy(p.W, w)
	}
	if err := CheckUsed(f, path); err != nil {
		return nil, "", err
	}
	return m, f.Meta[MetaTokenizer], nil
}
