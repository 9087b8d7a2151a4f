// hf.go: Hugging Face checkpoints of the Llama family in and out. config.json (LlamaForCausalLM,
// BitNetForCausalLM as microsoft/bitnet-b1.58-2B-4T-bf16 writes it) maps to a Config; the tensors of
// the safetensors files (one file or shards, format.Checkpoint) map to the model's parameters by the
// Hugging Face column of the name table (LlamaTensors, names.go). Hugging Face's Llama applies RoPE to
// half-offset pairs (rotate_half), as tern's Llama does, so Q and K are copied as they are (GGUF's
// adjacent-pair layout is a permutation that only the GGUF side needs).
//
// What tern does not model is refused by name: rope_scaling, attention or MLP biases, a head_dim
// other than hidden/heads, other activations and architectures. Fields tern does not use (token ids,
// max_position_embeddings beyond the model's use, dtypes) travel in the model file's metadata
// (MetaHFConfig, MetaHFDTypes), so export writes the folder back as it came.

package model

import (
	"encoding/json"
	"fmt"
	"strings"

	"tern/format"
	"tern/nn"
	"tern/tensor"
)

// Metadata keys of an imported model file: the source config.json as it was, and each tensor's
// Hugging Face dtype ({"model.norm.weight": "BF16", ...}), so that export writes the same folder back.
const (
	MetaHFConfig = "tern.hf.config"
	MetaHFDTypes = "tern.hf.dtypes"
)

// HFSideFiles are the folder's other files an imported model file keeps (metadata key -> file name),
// for export and for the chat description (tokenizer.ChatFromFiles(b, HFChatFiles(meta))).
var HFSideFiles = map[string]string{
	"tern.hf.tokenizer_config":  "tokenizer_config.json",
	"tern.hf.generation_config": "generation_config.json",
	"tern.hf.chat_template":     "chat_template.jinja",
}

// HFChatFiles returns the side files a model file's metadata holds, by file name.
func HFChatFiles(meta map[string]string) map[string][]byte {
	files := map[string][]byte{}
	for key, name := range HFSideFiles {
		if v, ok := meta[key]; ok {
			files[name] = []byte(v)
		}
	}
	return files
}

// hfConfig is the part of config.json tern reads. Pointers tell absent from zero.
type hfConfig struct {
	Architectures     []string        `json:"architectures"`
	ModelType         string          `json:"model_type"`
	VocabSize         int             `json:"vocab_size"`
	HiddenSize        int             `json:"hidden_size"`
	IntermediateSize  int             `json:"intermediate_size"`
	NumHiddenLayers   int             `json:"num_hidden_layers"`
	NumAttentionHeads int             `json:"num_attention_heads"`
	NumKeyValueHeads  *int            `json:"num_key_value_heads"`
	HeadDim           *int            `json:"head_dim"`
	HiddenAct         string          `json:"hidden_act"`
	MaxPosition       int             `json:"max_position_embeddings"`
	RMSNormEps        *float64        `json:"rms_norm_eps"`
	RopeTheta         *float64        `json:"rope_theta"`
	RopeScaling       json.RawMessage `json:"rope_scaling"`
	TieWordEmbeddings *bool           `json:"tie_word_embeddings"`
	AttentionBias     bool            `json:"attention_bias"`
	MLPBias           bool            `json:"mlp_bias"`
}

// HF architecture names.
const (
	HFLlama  = "LlamaForCausalLM"
	HFBitNet = "BitNetForCausalLM"
)

// ConfigFromHF maps config.json (data; path names it in errors) to a Config. linear chooses the
// projections ("" = the architecture's own: BitLinear for BitNet, fp32 for Llama; LinearBitNet
// fine-tunes a Llama checkpoint in 1.58 bits).
func ConfigFromHF(data []byte, path string, linear Linear) (Config, error) {
	var h hfConfig
	if err := json.Unmarshal(data, &h); err != nil {
		return Config{}, fmt.Errorf("model: %s: %w", path, err)
	}
	bad := func(format string, a ...any) (Config, error) {
		return Config{}, fmt.Errorf("model: %s: "+format, append([]any{path}, a...)...)
	}
	if len(h.Architectures) != 1 {
		return bad("architectures %q: want exactly one of %s, %s", h.Architectures, HFLlama, HFBitNet)
	}
	var t Type
	switch h.Architectures[0] {
	case HFLlama:
		t = TypeLlama
	case HFBitNet:
		t = TypeBitNet
	default:
		return bad("architecture %q is not supported (%s, %s)", h.Architectures[0], HFLlama, HFBitNet)
	}
	switch {
	case len(h.RopeScaling) > 0 && string(h.RopeScaling) != "null":
		return bad("rope_scaling %s is not supported (tern's RoPE has a base only)", h.RopeScaling)
	case h.AttentionBias || h.MLPBias:
		return bad("attention_bias / mlp_bias are not supported (Llama-family models in tern have no biases)")
	case h.NumAttentionHeads <= 0 || h.HiddenSize%h.NumAttentionHeads != 0:
		return bad("hidden_size %d is not a multiple of num_attention_heads %d", h.HiddenSize, h.NumAttentionHeads)
	case h.HeadDim != nil && *h.HeadDim != h.HiddenSize/h.NumAttentionHeads:
		return bad("head_dim %d differs from hidden_size / num_attention_heads = %d (not supported)", *h.HeadDim, h.HiddenSize/h.NumAttentionHeads)
	}
	cfg := ArchDefaults(Config{}, t)
	cfg.Vocab, cfg.Hidden, cfg.FFN, cfg.Layers, cfg.Heads = h.VocabSize, h.HiddenSize, h.IntermediateSize, h.NumHiddenLayers, h.NumAttentionHeads
	cfg.MaxPos = h.MaxPosition
	if cfg.MaxPos == 0 {
		cfg.MaxPos = 2048 // transformers' default for both classes
	}
	if h.NumKeyValueHeads != nil && *h.NumKeyValueHeads != h.NumAttentionHeads {
		cfg.KVHeads = *h.NumKeyValueHeads
	}
	cfg.RopeTheta = 10000 // LlamaConfig's default; BitNetConfig's is 500000
	if t == TypeBitNet {
		cfg.RopeTheta = 500000
	}
	if h.RopeTheta != nil {
		cfg.RopeTheta = *h.RopeTheta
	}
	cfg.NormEps = 1e-6 // LlamaConfig's default; BitNetConfig's is 1e-5
	if t == TypeBitNet {
		cfg.NormEps = 1e-5
	}
	if h.RMSNormEps != nil {
		cfg.NormEps = *h.RMSNormEps
	}
	// Both classes default to an untied head (PretrainedConfig's own default, true, is overridden).
	cfg.TieEmbeddings = h.TieWordEmbeddings != nil && *h.TieWordEmbeddings
	switch h.HiddenAct {
	case "silu", "swish":
		cfg.FFNAct = ActSwiGLU
	case "relu2":
		cfg.FFNAct = ActReLU2
	case "":
		if t == TypeLlama {
			cfg.FFNAct = ActSwiGLU
		}
	default:
		return bad("hidden_act %q is not supported (silu, relu2)", h.HiddenAct)
	}
	if linear != "" {
		cfg.Linear = linear
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("model: %s: %w", path, err)
	}
	return cfg, nil
}

// ImportHF builds the model a Hugging Face folder's config.json (configJSON) describes and fills it
// from the checkpoint ck. Every tensor of the checkpoint must be one the model takes (rotary
// inv_freq buffers, which older checkpoints store, are the exception); missing ones, other shapes and
// non-floating dtypes are errors naming the file and the tensor. It returns the model and the file
// metadata recording the source config and dtypes (MetaHFConfig, MetaHFDTypes).
func ImportHF(configJSON []byte, configPath string, ck *format.Checkpoint, linear Linear) (LM, map[string]string, error) {
	cfg, err := ConfigFromHF(configJSON, configPath, linear)
	if err != nil {
		return nil, nil, err
	}
	lm, err := New(cfg, tensor.NewRNG(0))
	if err != nil {
		return nil, nil, err
	}
	params := map[string]*nn.Param{}
	for _, p := range nn.Unique(lm.Params()) {
		params[p.Name] = p
	}
	dtypes := map[string]string{}
	used := map[string]bool{}
	for _, lt := range LlamaTensors(cfg) {
		p, ok := params[lt.Tern]
		if !ok {
			return nil, nil, fmt.Errorf("model: the %s model has no parameter %q (name table out of step)", cfg.Type, lt.Tern)
		}
		v, err := ck.Float32(lt.HF, lt.Shape...)
		if err != nil {
			return nil, nil, err
		}
		copy(p.W, v)
		t, _, _ := ck.Tensor(lt.HF)
		dtypes[lt.HF] = string(t.DType)
		used[lt.HF] = true
	}
	for _, name := range ck.Names() {
		if used[name] || strings.HasSuffix(name, ".rotary_emb.inv_freq") {
			continue
		}
		_, file, _ := ck.Tensor(name)
		hint := ""
		if name == LlamaHead.HF && cfg.TieEmbeddings {
			hint = " (config.json ties the head to the embeddings: tie_word_embeddings is true)"
		}
		return nil, nil, fmt.Errorf("model: %s: tensor %q is not part of the %s model config.json describes%s", file, name, cfg.Type, hint)
	}
	dj, _ := json.Marshal(dtypes)
	return lm, map[string]string{MetaHFConfig: string(configJSON), MetaHFDTypes: string(dj)}, nil
}

// ExportHF returns lm's tensors under their Hugging Face names and its config.json. Each tensor takes
// its dtype from dtypes (the source checkpoint's, MetaHFDTypes) or else def (F32, F16 or BF16).
// config.json is the source one (sourceConfig, may be empty) with the fields tern models replaced.
func ExportHF(lm LM, sourceConfig string, dtypes map[string]string, def format.DType) ([]format.Tensor, []byte, error) {
	cfg := lm.Config()
	if !cfg.IsLlama() {
		return nil, nil, fmt.Errorf("model: Hugging Face export needs a llama or bitnet model (this one is %q)", cfg.Type)
	}
	params := map[string]*nn.Param{}
	for _, p := range nn.Unique(lm.Params()) {
		params[p.Name] = p
	}
	var ts []format.Tensor
	for _, lt := range LlamaTensors(cfg) {
		p, ok := params[lt.Tern]
		if !ok {
			return nil, nil, fmt.Errorf("model: the %s model has no parameter %q", cfg.Type, lt.Tern)
		}
		dt := def
		if d, ok := dtypes[lt.HF]; ok {
			dt = format.DType(d)
		}
		switch dt {
		case format.F32:
			ts = append(ts, format.F32Tensor(lt.HF, lt.Shape, p.W))
		case format.F16:
			ts = append(ts, format.F16Tensor(lt.HF, lt.Shape, p.W))
		case format.BF16:
			ts = append(ts, format.BF16Tensor(lt.HF, lt.Shape, p.W))
		default:
			return nil, nil, fmt.Errorf("model: dtype %q for %s: want F32, F16 or BF16", dt, lt.HF)
		}
	}
	js, err := hfConfigJSON(cfg, sourceConfig, def)
	return ts, js, err
}

// hfConfigJSON writes config.json: the source's keys kept, the architecture's own overwritten.
func hfConfigJSON(cfg Config, source string, def format.DType) ([]byte, error) {
	m := map[string]any{}
	if source != "" {
		if err := json.Unmarshal([]byte(source), &m); err != nil {
			return nil, fmt.Errorf("model: the stored config.json: %w", err)
		}
	}
	arch, mt, act := HFLlama, "llama", "silu"
	if cfg.Type == TypeBitNet {
		arch, mt = HFBitNet, "bitnet"
	}
	if cfg.FFNAct == ActReLU2 {
		act = "relu2"
	}
	set := map[string]any{
		"architectures": []string{arch}, "model_type": mt, "vocab_size": cfg.Vocab, "hidden_size": cfg.Hidden,
		"intermediate_size": cfg.FFN, "num_hidden_layers": cfg.Layers, "num_attention_heads": cfg.Heads,
		"num_key_value_heads": cfg.KV(), "hidden_act": act, "max_position_embeddings": cfg.MaxPos,
		"rms_norm_eps": float64(cfg.Eps()), "rope_theta": cfg.Theta(), "tie_word_embeddings": cfg.TieEmbeddings,
		"attention_bias": false,
	}
	if cfg.NormEps != 0 {
		set["rms_norm_eps"] = cfg.NormEps // as given, not through float32
	}
	for k, v := range set {
		m[k] = v
	}
	if _, ok := m["torch_dtype"]; !ok {
		m["torch_dtype"] = map[format.DType]string{format.F32: "float32", format.F16: "float16", format.BF16: "bfloat16"}[def]
	}
	return json.MarshalIndent(m, "", "  ") // keys sorted
}
