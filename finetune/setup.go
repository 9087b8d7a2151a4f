package finetune

// Building a task model from a pretrained LM file, and the featurization options that go with it.

import (
	"fmt"

	"tern/model"
	"tern/tensor"
	"tern/tokenizer"
)

// Setup is what fine-tuning needs beyond Config.
type Setup struct {
	Linear model.Linear // "" keeps the pretrained model's linear; "fp32" or "bitnet" switches encoder and head
	Pool   string       // sequence pooling; "" = "last" for causal encoders, "first" for bidirectional ones
	Seed   uint64
}

// NewModel loads the pretrained transformer at path and puts a fresh head for task on it.
func NewModel(path string, t *Task, s Setup) (*model.TaskModel, tokenizer.Adapter, error) {
	enc, spec, err := model.LoadTransformer(path, func(c *model.Config) {
		if s.Linear != "" {
			c.Linear = s.Linear
		}
		c.Dropout = 0
	})
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.AdapterFromSpec(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("finetune: %s: %w", path, err)
	}
	pool := s.Pool
	if pool == "" {
		pool = "first"
		if enc.Cfg.Objective == model.ObjCausal {
			pool = "last" // a causal encoder's first token has seen nothing
		}
	}
	hc := model.HeadConfig{Kind: t.Kind, Labels: t.Labels, Linear: enc.Cfg.Linear}
	if t.Kind == "sequence" {
		hc.Pool = pool
	}
	m, err := model.NewTaskModel(enc, t.Name, hc, tensor.NewRNG(s.Seed^0x4ead))
	if err != nil {
		return nil, nil, err
	}
	return m, tok, nil
}

// OptionsFor returns featurization options for model m: MaxLen capped by the model's positions,
// "\n" between segments, questions up to a quarter of MaxLen, window stride MaxLen/2.
func OptionsFor(m *model.TaskModel, tok Tokenizer, maxLen int) Options {
	maxLen = min(maxLen, m.Enc.Cfg.MaxPos)
	return Options{MaxLen: maxLen, Sep: tok.Encode32("\n"), MaxQuestion: maxLen / 4, Stride: maxLen / 2}
}
