package model

// Layer and tensor names of tern's architectures, defined once. The builders name their layers from
// this table, and every reader that finds tensors by name (packed decoding, GGUF and Hugging Face
// conversion) looks them up here, so a builder and a loader cannot spell a name differently.
// Package nn appends the tensor part: ".weight"/".bias" to every layer, ".qkv"/".o" (".q"/".kv" for
// cross-attention) to attention, ".fc"/".fc2" to an FFN; TestNamesMatchParams checks that the full
// names below are exactly what the built models hold.

import (
	"fmt"

	"tern/gguf"
)

// Names of the model-level layers (prefixes; tensors are Weight(name) and Bias(name)).
const (
	NameTokEmb  = "tok_emb"  // token embeddings (V', C)
	NamePosEmb  = "pos_emb"  // learned positions (MaxPos, C)
	NameTypeEmb = "type_emb" // token types (TypeVocab, C)
	NameLnF     = "ln_f"     // the final norm
	NameLMHead  = "lm_head"  // the untied LM head (V, C)

	// Encoder-decoder models.
	NameDecTokEmb = "dec_tok_emb"
	NameEncPosEmb = "enc_pos_emb"
	NameDecPosEmb = "dec_pos_emb"
	NameLnEnc     = "ln_enc"
)

// BlockNames are the layers of one block: the prefixes a builder passes to nn (Ln1, Ln2, Attn, FFN,
// and for decoder blocks LnCross and Cross) and the full projection names a loader reads.
type BlockNames struct {
	Ln1, Ln2, Attn, FFN string
	QKV, O, Fc, Fc2     string

	LnCross, Cross          string // decoder blocks of encdec models only
	CrossQ, CrossKV, CrossO string
}

func blockNames(p string) BlockNames {
	return BlockNames{Ln1: p + "ln1", Ln2: p + "ln2", Attn: p + "attn", FFN: p + "ffn",
		QKV: p + "attn.qkv", O: p + "attn.o", Fc: p + "ffn.fc", Fc2: p + "ffn.fc2"}
}

// TransformerBlock names block l of a transformer ("blocks.l.").
func TransformerBlock(l int) BlockNames { return blockNames(fmt.Sprintf("blocks.%d.", l)) }

// EncoderBlock names encoder block l of an encdec model ("enc.l.").
func EncoderBlock(l int) BlockNames { return blockNames(fmt.Sprintf("enc.%d.", l)) }

// DecoderBlock names decoder block l of an encdec model ("dec.l."): self-attention as Attn, then
// cross-attention with its own norm.
func DecoderBlock(l int) BlockNames {
	p := fmt.Sprintf("dec.%d.", l)
	b := blockNames(p)
	b.LnCross, b.Cross = p+"ln_cross", p+"cross"
	b.CrossQ, b.CrossKV, b.CrossO = p+"cross.q", p+"cross.kv", p+"cross.o"
	return b
}

// Weight is the weight tensor of a layer, Bias its bias.
func Weight(layer string) string { return layer + ".weight" }

// Bias is the bias tensor of a layer.
func Bias(layer string) string { return layer + ".bias" }

// TensorName is one tensor's name in tern's files, in GGUF files (llama.cpp's llama and bitnet
// architectures, package gguf) and in Hugging Face checkpoints (transformers' LlamaForCausalLM and
// BitNetForCausalLM): the one table converters between the three formats read.
type TensorName struct{ Tern, GGUF, HF string }

// Model-level tensors of the Llama family. The head is absent when tied (GGUF: no output.weight).
var (
	LlamaTokEmb = TensorName{Weight(NameTokEmb), gguf.NameTokenEmbd, "model.embed_tokens.weight"}
	LlamaNorm   = TensorName{Weight(NameLnF), gguf.NameOutputNorm, "model.norm.weight"}
	LlamaHead   = TensorName{Weight(NameLMHead), gguf.NameOutput, "lm_head.weight"}
)

// LlamaBlock names the tensors of block l of a Llama-family model (types llama and bitnet).
// AttnSubNorm and FFNSubNorm exist only with sub_norm (BitNet b1.58 2B4T).
type LlamaBlock struct {
	AttnNorm, Q, K, V, AttnSubNorm, O   TensorName
	FFNNorm, Gate, Up, FFNSubNorm, Down TensorName
}

// LlamaBlockNames names block l: tern "blocks.l.", GGUF "blk.l.", Hugging Face "model.layers.l.".
func LlamaBlockNames(l int) LlamaBlock {
	b, g := TransformerBlock(l), gguf.LlamaBlockNames(l)
	hf := func(s string) string { return fmt.Sprintf("model.layers.%d.%s.weight", l, s) }
	t := func(layer string) string { return Weight(layer) }
	return LlamaBlock{
		AttnNorm:    TensorName{t(b.Ln1), g.AttnNorm, hf("input_layernorm")},
		Q:           TensorName{t(b.Attn + ".q"), g.Q, hf("self_attn.q_proj")},
		K:           TensorName{t(b.Attn + ".k"), g.K, hf("self_attn.k_proj")},
		V:           TensorName{t(b.Attn + ".v"), g.V, hf("self_attn.v_proj")},
		AttnSubNorm: TensorName{t(b.Attn + ".sub_norm"), g.AttnSubNorm, hf("self_attn.attn_sub_norm")},
		O:           TensorName{t(b.O), g.O, hf("self_attn.o_proj")},
		FFNNorm:     TensorName{t(b.Ln2), g.FFNNorm, hf("post_attention_layernorm")},
		Gate:        TensorName{t(b.FFN + ".gate"), g.Gate, hf("mlp.gate_proj")},
		Up:          TensorName{t(b.FFN + ".up"), g.Up, hf("mlp.up_proj")},
		FFNSubNorm:  TensorName{t(b.FFN + ".sub_norm"), g.FFNSubNorm, hf("mlp.ffn_sub_norm")},
		Down:        TensorName{t(b.FFN + ".down"), g.Down, hf("mlp.down_proj")},
	}
}

// LlamaTensor is one tensor of a Llama-family config: its names, its shape as tern and Hugging Face
// store it ((out, in) for a projection; GGUF lists the dimensions reversed), and whether it is a
// projection (a BitLinear under linear bitnet, ternary when packed).
type LlamaTensor struct {
	TensorName
	Shape      []int
	Projection bool
}

// LlamaTensors lists every tensor of cfg (a llama or bitnet config) in the order the model holds them
// (Llama.Params).
func LlamaTensors(cfg Config) []LlamaTensor {
	C, F, kv := cfg.Hidden, cfg.FFN, cfg.KV()*(cfg.Hidden/max(cfg.Heads, 1))
	vec := func(n TensorName, k int) LlamaTensor { return LlamaTensor{n, []int{k}, false} }
	mat := func(n TensorName, out, in int) LlamaTensor { return LlamaTensor{n, []int{out, in}, true} }
	ts := []LlamaTensor{{LlamaTokEmb, []int{cfg.Vocab, C}, false}}
	for l := range cfg.Layers {
		b := LlamaBlockNames(l)
		ts = append(ts, vec(b.AttnNorm, C), mat(b.Q, C, C), mat(b.K, kv, C), mat(b.V, kv, C))
		if cfg.SubNorm {
			ts = append(ts, vec(b.AttnSubNorm, C))
		}
		ts = append(ts, mat(b.O, C, C), vec(b.FFNNorm, C), mat(b.Gate, F, C), mat(b.Up, F, C))
		if cfg.SubNorm {
			ts = append(ts, vec(b.FFNSubNorm, F))
		}
		ts = append(ts, mat(b.Down, C, F))
	}
	ts = append(ts, vec(LlamaNorm, C))
	if !cfg.TieEmbeddings {
		ts = append(ts, LlamaTensor{LlamaHead, []int{cfg.Vocab, C}, false})
	}
	return ts
}
