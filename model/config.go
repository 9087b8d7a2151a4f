// Package model builds tern's architectures from one JSON-able Config: a transformer (GPT-style causal
// LM or BERT-style bidirectional encoder with a masked-LM head) and an RNN LM (LSTM or GRU). Each model
// keeps its forward and backward passes in one file that reads top to bottom.
//
// Dimension legend: B = batch, T = sequence length, C = hidden size, V = vocabulary, L = layers,
// NH = heads, HS = C/NH, F = FFN hidden size.
package model

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"tern/internal/strictjson"
	"tern/internal/sysmem"
	"tern/quant"
	"tern/share"
)

// Config describes an architecture. Defaults are the seed's BERT-base sizes.
type Config struct {
	Type      Type      `json:"type"`       // "transformer", "encdec", "rnn", "llama" or "bitnet"
	Objective Objective `json:"objective"`  // "causal" (GPT-style LM), "mlm" (BERT-style masked LM) or "seq2seq"
	Vocab     int       `json:"vocab"`      // e.g. 50257 (GPT-2 BPE); the MLM objective adds one [MASK] id at Vocab
	Hidden    int       `json:"hidden"`     // C, e.g. 768
	Layers    int       `json:"layers"`     // L, e.g. 12
	Heads     int       `json:"heads"`      // NH, e.g. 12; must divide Hidden
	FFN       int       `json:"ffn"`        // F, e.g. 3072 (4x Hidden)
	MaxPos    int       `json:"max_pos"`    // learned positions, e.g. 512
	TypeVocab int       `json:"type_vocab"` // token types (segment ids), e.g. 2; 0 = none (GPT-style)

	Linear        Linear  `json:"linear"`         // "bitnet" (BitLinear b1.58) or "fp32"
	TieEmbeddings bool    `json:"tie_embeddings"` // LM head reuses the token embedding matrix
	Norm          Norm    `json:"norm"`           // "layernorm" or "rmsnorm"
	Bias          bool    `json:"bias"`           // biases in projections
	Dropout       float64 `json:"dropout"`        // on embeddings, attention output and FFN output

	Cell Cell `json:"cell,omitempty"` // rnn: "lstm" or "gru"

	// Llama family (types "llama" and "bitnet", llama.go): rotary positions instead of learned ones
	// (max_pos is then the longest sequence), RMSNorm, grouped-query attention, a gated FFN, no biases.
	KVHeads   int     `json:"kv_heads,omitempty"`   // key/value heads, dividing heads; 0 = heads
	RopeTheta float64 `json:"rope_theta,omitempty"` // RoPE base; 0 = 10000
	FFNAct    FFNAct  `json:"ffn_act,omitempty"`    // "swiglu" or "relu2"
	SubNorm   bool    `json:"sub_norm,omitempty"`   // BitNet's RMSNorms before the attention output and FFN down projections
	NormEps   float64 `json:"norm_eps,omitempty"`   // RMSNorm epsilon; 0 = 1e-5

	// Encoder-decoder (type "encdec", objective "seq2seq"): Layers is the encoder depth.
	DecoderLayers int `json:"decoder_layers,omitempty"` // decoder depth, e.g. 4; 0 = same as layers

	Sharing share.Spec `json:"sharing"` // cross-layer parameter sharing (package share); zero = none

	// Adaptive bit widths (linear bitnet only, widths.go): a quantized matrix's width is Bits[name],
	// else BitsDefault (zero value: 1.58, ternary). E.g. {"blocks.0.ffn.fc.weight": 4}.
	Bits        WidthMap    `json:"bits,omitempty"`
	BitsDefault quant.Width `json:"bits_default,omitempty"` // e.g. 4 for --bits 4
}

// The string fields of Config are typed so that a misspelled value is a compile error in Go code;
// JSON (config files, model metadata) still spells them as plain strings, checked by Validate.
type (
	Type      string // model family
	Objective string // training objective
	Linear    string // the attention and FFN projections
	Norm      string // the normalization layers
	Cell      string // the RNN cell
	FFNAct    string // the gated FFN's activation (Llama family)
)

// Values of the typed config fields.
const (
	TypeTransformer Type = "transformer"
	TypeEncDec      Type = "encdec"
	TypeRNN         Type = "rnn"
	TypeLlama       Type = "llama"  // Llama-style decoder (llama.go)
	TypeBitNet      Type = "bitnet" // the same decoder as BitNet b1.58 2B4T defines it: BitLinear, sub-norms, ReLU²

	ObjCausal  Objective = "causal"
	ObjMLM     Objective = "mlm"
	ObjSeq2Seq Objective = "seq2seq"

	LinearBitNet Linear = "bitnet"
	LinearFP32   Linear = "fp32"

	NormLayer Norm = "layernorm"
	NormRMS   Norm = "rmsnorm"

	CellLSTM Cell = "lstm"
	CellGRU  Cell = "gru"

	ActSwiGLU FFNAct = "swiglu" // silu(gate)·up
	ActReLU2  FFNAct = "relu2"  // relu(gate)²·up
)

// Default returns BERT-base sizes as a bidirectional transformer with BitLinear projections.
func Default() Config {
	return Config{Type: TypeTransformer, Objective: ObjMLM, Vocab: 50257, Hidden: 768, Layers: 12, Heads: 12,
		FFN: 3072, MaxPos: 512, TypeVocab: 2, Linear: LinearBitNet, TieEmbeddings: true, Norm: NormLayer}
}

// presets, from tiny to base. "small" is the configuration of ../shared/peers/torch_train_bench.py
// (GPT-2 style, pre-LN, learned positions, tied embeddings, no biases) so benchmarks compare like for like.
var presets = map[string]Config{
	"tiny":   {Type: TypeTransformer, Objective: ObjCausal, Vocab: 256, Hidden: 128, Layers: 4, Heads: 4, FFN: 512, MaxPos: 128, Linear: LinearBitNet, TieEmbeddings: true, Norm: NormLayer},
	"small":  {Type: TypeTransformer, Objective: ObjCausal, Vocab: 8192, Hidden: 256, Layers: 4, Heads: 4, FFN: 1024, MaxPos: 128, Linear: LinearBitNet, TieEmbeddings: true, Norm: NormLayer},
	"medium": {Type: TypeTransformer, Objective: ObjCausal, Vocab: 8192, Hidden: 384, Layers: 6, Heads: 6, FFN: 1536, MaxPos: 256, Linear: LinearBitNet, TieEmbeddings: true, Norm: NormLayer},
	"base":   {Type: TypeTransformer, Objective: ObjCausal, Vocab: 50257, Hidden: 768, Layers: 12, Heads: 12, FFN: 3072, MaxPos: 512, Linear: LinearBitNet, TieEmbeddings: true, Norm: NormLayer},
	"bert":   Default(),
	"lstm":   {Type: TypeRNN, Cell: CellLSTM, Objective: ObjCausal, Vocab: 256, Hidden: 256, Layers: 2, MaxPos: 256, Linear: LinearFP32},
	"gru":    {Type: TypeRNN, Cell: CellGRU, Objective: ObjCausal, Vocab: 256, Hidden: 256, Layers: 2, MaxPos: 256, Linear: LinearFP32},
	// BitNet b1.58 2B4T's shapes (microsoft/bitnet-b1.58-2B-4T config.json): 2.41e9 weights.
	"bitnet-2b": {Type: TypeBitNet, Objective: ObjCausal, Vocab: 128256, Hidden: 2560, Layers: 30, Heads: 20, KVHeads: 5, FFN: 6912,
		MaxPos: 4096, Linear: LinearBitNet, TieEmbeddings: true, Norm: NormRMS, RopeTheta: 500000, FFNAct: ActReLU2, SubNorm: true, NormEps: 1e-5},
	// A small BitNet-architecture model for CPU training.
	"bitnet-small": {Type: TypeBitNet, Objective: ObjCausal, Vocab: 8192, Hidden: 256, Layers: 4, Heads: 8, KVHeads: 2, FFN: 704,
		MaxPos: 256, Linear: LinearBitNet, TieEmbeddings: true, Norm: NormRMS, RopeTheta: 10000, FFNAct: ActReLU2, SubNorm: true, NormEps: 1e-5},
}

// ArchDefaults returns base changed into the Llama-family type t (TypeLlama or TypeBitNet) with that
// type's defaults: RMSNorm, no biases, tied embeddings kept as they are; bitnet: BitLinear, sub-norms,
// ReLU²; llama: fp32 linears, SwiGLU. Callers then apply explicit flags over it.
func ArchDefaults(base Config, t Type) Config {
	c := base
	c.Type, c.Objective, c.Norm, c.Bias, c.TypeVocab, c.Dropout = t, ObjCausal, NormRMS, false, 0, 0
	if c.NormEps == 0 {
		c.NormEps = 1e-5
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if t == TypeBitNet {
		c.Linear, c.SubNorm, c.FFNAct = LinearBitNet, true, ActReLU2
	} else {
		c.Linear, c.SubNorm, c.FFNAct = LinearFP32, false, ActSwiGLU
	}
	return c
}

// IsLlama reports whether the config is of the Llama family (types llama and bitnet).
func (c Config) IsLlama() bool { return c.Type == TypeLlama || c.Type == TypeBitNet }

// KV is the number of key/value heads (KVHeads, or Heads when 0).
func (c Config) KV() int {
	if c.KVHeads == 0 {
		return c.Heads
	}
	return c.KVHeads
}

// Theta is the RoPE base (RopeTheta, or 10000 when 0).
func (c Config) Theta() float64 {
	if c.RopeTheta == 0 {
		return 10000
	}
	return c.RopeTheta
}

// Eps is the RMSNorm epsilon of the Llama family (NormEps, or 1e-5 when 0).
func (c Config) Eps() float32 {
	if c.NormEps == 0 {
		return 1e-5
	}
	return float32(c.NormEps)
}

// Preset returns a named configuration.
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown preset %q (have %s)", name, strings.Join(PresetNames(), ", "))
	}
	return c, nil
}

// PresetNames lists the presets.
func PresetNames() []string {
	var s []string
	for n := range presets {
		s = append(s, n)
	}
	sort.Strings(s)
	return s
}

// Validate reports the first reason the config cannot work.
func (c Config) Validate() error {
	pos := func(name string, v int) error {
		if v <= 0 {
			return fmt.Errorf("model config: %s must be > 0 (got %d)", name, v)
		}
		return nil
	}
	for _, f := range []struct {
		n string
		v int
	}{{"vocab", c.Vocab}, {"hidden", c.Hidden}, {"layers", c.Layers}, {"max_pos", c.MaxPos}} {
		if err := pos(f.n, f.v); err != nil {
			return err
		}
	}
	switch c.Linear {
	case LinearBitNet, LinearFP32:
	default:
		return fmt.Errorf("model config: unknown linear %q (want bitnet or fp32)", c.Linear)
	}
	if c.Linear != LinearBitNet && (len(c.Bits) > 0 || c.BitsDefault != quant.WidthTernary) {
		return fmt.Errorf("model config: bit widths (bits, bits_default %v) need linear bitnet (linear %q)", c.BitsDefault, c.Linear)
	}
	switch c.Objective {
	case ObjCausal, ObjMLM:
		if c.Type == TypeEncDec {
			return fmt.Errorf("model config: encdec models train the seq2seq objective (objective %q)", c.Objective)
		}
	case ObjSeq2Seq:
		if c.Type != TypeEncDec {
			return fmt.Errorf("model config: the seq2seq objective needs type encdec (type %q)", c.Type)
		}
	default:
		return fmt.Errorf("model config: unknown objective %q (want causal, mlm or seq2seq)", c.Objective)
	}
	if err := c.checkLimits(); err != nil {
		return err
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) { // NaN fails both comparisons
		return fmt.Errorf("model config: dropout must be in [0, 1) (got %g)", c.Dropout)
	}
	if c.Type != TypeRNN {
		if err := c.Sharing.Validate(c.Layers, c.Decoders()); err != nil {
			return fmt.Errorf("model config: %w", err)
		}
	} else if !c.Sharing.IsZero() {
		return fmt.Errorf("model config: sharing %s is for transformers, not rnn models", c.Sharing)
	}
	if c.DecoderLayers < 0 || (c.DecoderLayers > 0 && c.Type != TypeEncDec) {
		return fmt.Errorf("model config: decoder_layers %d is only for encdec models", c.DecoderLayers)
	}
	switch c.Type {
	case TypeTransformer, TypeEncDec, TypeLlama, TypeBitNet:
		if err := pos("heads", c.Heads); err != nil {
			return err
		}
		if err := pos("ffn", c.FFN); err != nil {
			return err
		}
		if c.Hidden%c.Heads != 0 {
			return fmt.Errorf("model config: heads (%d) must divide hidden (%d)", c.Heads, c.Hidden)
		}
		switch c.Norm {
		case NormLayer, NormRMS:
		default:
			return fmt.Errorf("model config: unknown norm %q (want layernorm or rmsnorm)", c.Norm)
		}
		if c.TypeVocab < 0 {
			return fmt.Errorf("model config: type_vocab must be >= 0 (got %d)", c.TypeVocab)
		}
		if c.IsLlama() {
			if err := c.validateLlama(); err != nil {
				return err
			}
		}
	case TypeRNN:
		if c.Cell != CellLSTM && c.Cell != CellGRU {
			return fmt.Errorf("model config: unknown rnn cell %q (want lstm or gru)", c.Cell)
		}
		if c.Objective != ObjCausal {
			return fmt.Errorf("model config: rnn models are causal LMs (objective %q)", c.Objective)
		}
		if c.Dropout != 0 {
			return fmt.Errorf("model config: rnn models have no dropout (got %g)", c.Dropout)
		}
	default:
		return fmt.Errorf("model config: unknown model type %q (want transformer, encdec, rnn, llama or bitnet)", c.Type)
	}
	if !c.IsLlama() && (c.KVHeads != 0 || c.RopeTheta != 0 || c.FFNAct != "" || c.SubNorm || c.NormEps != 0) {
		return fmt.Errorf("model config: kv_heads, rope_theta, ffn_act, sub_norm and norm_eps are for llama and bitnet models (type %q)", c.Type)
	}
	return nil
}

// validateLlama checks what the Llama family needs beyond the transformer's checks.
func (c Config) validateLlama() error {
	t := c.Type
	switch {
	case c.Objective != ObjCausal:
		return fmt.Errorf("model config: %s models are causal LMs (objective %q)", t, c.Objective)
	case c.Norm != NormRMS:
		return fmt.Errorf("model config: %s models use rmsnorm (norm %q)", t, c.Norm)
	case c.Bias:
		return fmt.Errorf("model config: %s models have no biases (bias true)", t)
	case c.TypeVocab != 0:
		return fmt.Errorf("model config: %s models have no token types (type_vocab %d)", t, c.TypeVocab)
	case c.Dropout != 0:
		return fmt.Errorf("model config: %s models have no dropout (got %g)", t, c.Dropout)
	case !c.Sharing.IsZero():
		return fmt.Errorf("model config: cross-layer sharing is not implemented for %s models (sharing %s)", t, c.Sharing)
	case c.KVHeads < 0 || c.KVHeads > MaxDim || c.Heads%c.KV() != 0:
		return fmt.Errorf("model config: kv_heads %d must divide heads %d", c.KVHeads, c.Heads)
	case (c.Hidden/c.Heads)%2 != 0:
		return fmt.Errorf("model config: the head size %d (hidden %d / heads %d) must be even for rotary embeddings", c.Hidden/c.Heads, c.Hidden, c.Heads)
	case c.RopeTheta != 0 && !(c.RopeTheta > 1 && c.RopeTheta < 1e12):
		return fmt.Errorf("model config: rope_theta must be in (1, 1e12) (got %g)", c.RopeTheta)
	case !(c.NormEps >= 0 && c.NormEps < 1):
		return fmt.Errorf("model config: norm_eps must be in [0, 1) (got %g)", c.NormEps)
	}
	switch c.FFNAct {
	case ActSwiGLU, ActReLU2:
	default:
		return fmt.Errorf("model config: unknown ffn_act %q (want swiglu or relu2)", c.FFNAct)
	}
	return nil
}

// InputVocab is the embedding table size: the MLM objective appends a [MASK] token, seq2seq appends
// [MASK], [BOS] and [PAD] (see MaskID, BOSID, PadID).
func (c Config) InputVocab() int {
	switch c.Objective {
	case ObjMLM:
		return c.Vocab + 1
	case ObjSeq2Seq:
		return c.Vocab + 3
	}
	return c.Vocab
}

// BOSID starts the decoder part of a seq2seq row (source ids, then BOSID, then target ids).
func (c Config) BOSID() int { return c.Vocab + 1 }

// PadID pads seq2seq sources; padded positions are masked out of attention.
func (c Config) PadID() int { return c.Vocab + 2 }

// Decoders is the decoder depth of an encdec model (0 for other types).
func (c Config) Decoders() int {
	if c.Type != TypeEncDec {
		return 0
	}
	if c.DecoderLayers == 0 {
		return c.Layers
	}
	return c.DecoderLayers
}

// MaskID is the [MASK] token of the MLM objective.
func (c Config) MaskID() int { return c.Vocab }

// LoadConfig reads a JSON config; unknown keys are errors (a typo must not silently fall back to a default).
func LoadConfig(path string, base Config) (Config, error) {
	b, err := sysmem.ReadFile(path, sysmem.ConfigLimit)
	if err != nil {
		return Config{}, fmt.Errorf("model config: %w", err)
	}
	return ParseConfig(b, base, path)
}

// ParseConfig decodes JSON over base strictly: one object, no unknown keys, keys spelled exactly
// (package strictjson).
func ParseConfig(b []byte, base Config, name string) (Config, error) {
	c := base
	if err := strictjson.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("model config %s: %w", name, err)
	}
	return c, nil
}

// Size limits of a config, far above any model tern can train, so that products of sizes stay
// exact and a corrupt or hostile config fails here, with its key named, instead of in an allocation.
const (
	MaxDim    = 1 << 24 // vocab, hidden, ffn, max_pos, type_vocab, heads
	MaxLayers = 1 << 12 // layers, decoder_layers
)

// checkLimits bounds every size of the config and the memory the built model takes.
func (c Config) checkLimits() error {
	for _, f := range []struct {
		n      string
		v, max int
	}{{"vocab", c.Vocab, MaxDim}, {"hidden", c.Hidden, MaxDim}, {"ffn", c.FFN, MaxDim}, {"max_pos", c.MaxPos, MaxDim},
		{"type_vocab", c.TypeVocab, MaxDim}, {"heads", c.Heads, MaxDim}, {"layers", c.Layers, MaxLayers}, {"decoder_layers", c.DecoderLayers, MaxLayers}} {
		if f.v > f.max {
			return fmt.Errorf("model config: %s %d exceeds the limit %d", f.n, f.v, f.max)
		}
	}
	// nn.Param holds a value and a gradient: 8 bytes per weight as built.
	return sysmem.Check(fmt.Sprintf("model config: the model (%.3g weights as built)", c.BuiltWeights()), 8*c.BuiltWeights())
}

// BuiltWeights is the number of weights New allocates (every layer is built as if unique, then
// shared: see NewTransformer), approximately (biases and norms included as 4 per hidden unit).
func (c Config) BuiltWeights() float64 {
	C, F, L, D := float64(c.Hidden), float64(c.FFN), float64(c.Layers), float64(c.Decoders())
	V, VI, P, T := float64(c.Vocab), float64(c.InputVocab()), float64(c.MaxPos), float64(c.TypeVocab)
	block := 4*C*C + 2*C*F + 8*C + F
	head := 0.0
	if !c.TieEmbeddings {
		head = V*C + V
	}
	switch c.Type {
	case TypeLlama, TypeBitNet: // exact: llama.go's tensors
		KV := float64(c.KV() * (c.Hidden / c.Heads))
		lb := 2*C*C + 2*C*KV + 3*C*F + 2*C
		if c.SubNorm {
			lb += C + F
		}
		if !c.TieEmbeddings {
			head = V * C
		}
		return V*C + L*lb + C + head
	case "transformer":
		return VI*C + P*C + T*C + L*block + 2*C + head
	case "encdec":
		return 2*VI*C + 2*P*C + L*block + D*(block+4*C*C+2*C) + 2*C + head
	case "rnn":
		return V*C + L*8*(C*C+C) + head
	}
	return 0
}

// MinStored is a lower bound on the weights any file of this config stores, however its layers are
// shared and however it is packed: the token table, the positions and one block. A file whose tensors
// cannot hold that many (at 5 weights per byte, the densest packing) is refused before the model is
// built, so a tiny file declaring a huge config costs nothing.
func (c Config) MinStored() float64 {
	C, F, VI, P := float64(c.Hidden), float64(c.FFN), float64(c.InputVocab()), float64(c.MaxPos)
	switch c.Type {
	case TypeLlama, TypeBitNet:
		return VI*C + 2*C*C + 3*C*F
	case "transformer", "encdec":
		return VI*C + P*C + 4*C*C + 2*C*F
	case "rnn":
		return float64(c.Vocab)*C + 6*C*C
	}
	return 0
}

// JSON returns the config as indented JSON.
func (c Config) JSON() string {
	b, _ := json.MarshalIndent(c, "", "  ")
	return string(b)
}
