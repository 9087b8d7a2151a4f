package model

// Model files: a tern safetensors file (package format) holding each unique parameter once, by name,
// as F32, with the architecture ("tern.model_config", JSON) and the tokenizer ("tern.tokenizer") in
// the metadata. Checkpoints are model files with optimizer and training state added (package train).

import (
	"encoding/json"
	"fmt"

	"tern/format"
	"tern/nn"
	"tern/tensor"
)

// Metadata keys of model files.
const (
	MetaKind      = "tern.kind"         // "model" or "checkpoint"
	MetaConfig    = "tern.model_config" // Config as JSON
	MetaTokenizer = "tern.tokenizer"    // tokenizer spec (see package tokenizer)
)

// ParamTensors returns each unique parameter once as an F32 tensor named by the parameter.
func ParamTensors(lm LM) ([]format.Tensor, error) {
	var ts []format.Tensor
	seen := map[string]*nn.Param{}
	for _, p := range nn.Unique(lm.Params()) {
		if q, dup := seen[p.Name]; dup && q != p {
			return nil, fmt.Errorf("model: two different parameters are both named %q", p.Name)
		}
		seen[p.Name] = p
		ts = append(ts, format.F32Tensor(p.Name, p.Shape, p.W))
	}
	return ts, nil
}

// FileMeta returns the metadata every model file carries.
func FileMeta(lm LM, kind, tok string) map[string]string {
	cfg, _ := json.Marshal(lm.Config())
	return map[string]string{MetaKind: kind, MetaConfig: string(cfg), MetaTokenizer: tok, MetaSharing: sharingMapJSON(lm)}
}

// Save writes lm's weights, config and tokenizer spec to path atomically.
func Save(path string, lm LM, tok string) error {
	ts, err := ParamTensors(lm)
	if err != nil {
		return err
	}
	if err := format.Write(path, FileMeta(lm, "model", tok), ts); err != nil {
		return fmt.Errorf("model: save %s: %w", path, err)
	}
	return nil
}

// ConfigOf reads the architecture from a model file's metadata.
func ConfigOf(f *format.File, path string) (Config, error) {
	raw, ok := f.Meta[MetaConfig]
	if !ok {
		return Config{}, fmt.Errorf("model: %s has no %s metadata: not a tern model or checkpoint", path, MetaConfig)
	}
	cfg, err := ParseConfig([]byte(raw), Config{}, path)
	if err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("model: %s: %w", path, err)
	}
	// Bound the config by the file before anything is built from it.
	if have := 5 * float64(f.Header.DataSize); cfg.MinStored() > have {
		return Config{}, fmt.Errorf("model: %s: its config describes at least %.3g weights, but its tensors hold %d bytes (at most %.3g weights): the config does not match the file",
			path, cfg.MinStored(), f.Header.DataSize, have)
	}
	return cfg, nil
}

// readFile reads a tern file whole (checksums verified) and the architecture it describes.
func readFile(path string) (*format.File, Config, error) {
	f, err := format.Read(path)
	if err != nil {
		return nil, Config{}, fmt.Errorf("model: %w", err)
	}
	cfg, err := ConfigOf(f, path)
	return f, cfg, err
}

// Load reads a model (or checkpoint) file and returns the model and its tokenizer spec.
func Load(path string) (LM, string, error) {
	f, cfg, err := readFile(path)
	if err != nil {
		return nil, "", err
	}
	lm, err := New(cfg, tensor.NewRNG(0))
	if err != nil {
		return nil, "", err
	}
	if err := LoadParams(lm, f, path); err != nil {
		return nil, "", err
	}
	// A checkpoint's training state (optimizer, controller) is train's to read and check on resume.
	if f.Meta[MetaKind] != "checkpoint" {
		if err := CheckUsed(f, path); err != nil {
			return nil, "", err
		}
	}
	return lm, f.Meta[MetaTokenizer], nil
}

// LoadParams copies every parameter of lm from f, checking names and shapes.
func LoadParams(lm LM, f *format.File, path string) error {
	if err := CheckSharing(f, lm, path); err != nil {
		return err
	}
	for _, p := range nn.Unique(lm.Params()) {
		t, err := f.Get(p.Name)
		if err != nil {
			return fmt.Errorf("model: %s: %w", path, err)
		}
		if !tensor.SameShape(t.Shape, p.Shape) {
			return fmt.Errorf("model: %s: tensor %q has shape %v, the model needs %v", path, p.Name, t.Shape, p.Shape)
		}
		w, err := t.Float32()
		if err != nil {
			return fmt.Errorf("model: %s: tensor %q: %w", path, p.Name, err)
		}
		copy(p.W, w)
	}
	return nil
}

// CheckUsed refuses a file holding tensors its loader did not take (format.File.Unused): they belong
// to some other model, and ignoring them would load a model other than the one the file holds.
func CheckUsed(f *format.File, path string) error {
	if err := f.CheckUsed(); err != nil {
		return fmt.Errorf("model: %s: %w", path, err)
	}
	return nil
}
