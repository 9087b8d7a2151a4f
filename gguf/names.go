package gguf

import "fmt"

// Tensor names of the Llama family in GGUF files (llama.cpp's llama-arch.cpp), defined once for the
// readers and writers of these architectures.
const (
	NameTokenEmbd  = "token_embd.weight"
	NameOutputNorm = "output_norm.weight"
	NameOutput     = "output.weight" // absent when the head is tied to token_embd
)

// LlamaBlock names the tensors of block l. AttnSubNorm and FFNSubNorm are BitNet's extra RMSNorms
// before the attention output and FFN down projections; ScaleOf names a projection's optional
// per-tensor scale (bitnet's "<proj>.scale", shape [1]).
type LlamaBlock struct {
	AttnNorm, Q, K, V, O, AttnSubNorm   string
	FFNNorm, Gate, Up, Down, FFNSubNorm string
}

// LlamaBlockNames returns the names of block l ("blk.l.").
func LlamaBlockNames(l int) LlamaBlock {
	p := fmt.Sprintf("blk.%d.", l)
	return LlamaBlock{
		AttnNorm: p + "attn_norm.weight", Q: p + "attn_q.weight", K: p + "attn_k.weight", V: p + "attn_v.weight",
		O: p + "attn_output.weight", AttnSubNorm: p + "attn_sub_norm.weight",
		FFNNorm: p + "ffn_norm.weight", Gate: p + "ffn_gate.weight", Up: p + "ffn_up.weight", Down: p + "ffn_down.weight",
		FFNSubNorm: p + "ffn_sub_norm.weight",
	}
}

// ScaleOf is the optional scale tensor of a projection weight ("blk.0.attn_q.weight" ->
// "blk.0.attn_q.scale").
func ScaleOf(weight string) string {
	const suf = ".weight"
	if len(weight) > len(suf) && weight[len(weight)-len(suf):] == suf {
		return weight[:len(weight)-len(suf)] + ".scale"
	}
	return weight + ".scale"
}

// Architecture metadata keys: "<arch>.<name>".
const (
	KeyContextLength = "context_length"
	KeyEmbedding     = "embedding_length"
	KeyBlockCount    = "block_count"
	KeyFFNLength     = "feed_forward_length"
	KeyHeadCount     = "attention.head_count"
	KeyHeadCountKV   = "attention.head_count_kv"
	KeyRMSEps        = "attention.layer_norm_rms_epsilon"
	KeyRopeBase      = "rope.freq_base"
	KeyRopeDims      = "rope.dimension_count"
)

// GPT-2 architecture ("gpt2"): learned positions, LayerNorm with biases, one fused QKV projection,
// biases everywhere (llama.cpp requires them).
const (
	NamePositionEmbd                = "position_embd.weight"
	NameOutputNormB                 = "output_norm.bias"
	KeyLayerNormEps                 = "attention.layer_norm_epsilon"
	ArchGPT2, ArchLlama, ArchBitnet = "gpt2", "llama", "bitnet"
)

// ArchBitnetB158 is bitnet.cpp's architecture of BitNet b1.58 2B4T (its official
// ggml-model-i2_s.gguf, written by bitnet.cpp's utils/convert-hf-to-gguf-bitnet.py): the Llama
// layout with RMSNorm, half-offset (NEOX) RoPE, GQA, BitNet's sub-norms before the attention output
// and FFN down projections and a ReLU²-gated FFN (relu(gate)²·up); the head is token_embd (no
// output.weight); each ternary matrix carries its one scale itself (I2_S: the float32 after the
// trits) and there are no "<proj>.scale" tensors. Its metadata keys are the Llama ones under the
// "bitnet-b1.58." prefix plus KeyVocabSize.
const ArchBitnetB158 = "bitnet-b1.58"

// KeyVocabSize is "<arch>.vocab_size", which bitnet.cpp's converter writes for bitnet-b1.58.
const KeyVocabSize = "vocab_size"

// GPT2Block names block l's layers; each has ".weight" and ".bias" tensors.
type GPT2Block struct{ AttnNorm, QKV, O, FFNNorm, Up, Down string }

// GPT2BlockNames returns the layer names of block l ("blk.l.").
func GPT2BlockNames(l int) GPT2Block {
	p := fmt.Sprintf("blk.%d.", l)
	return GPT2Block{AttnNorm: p + "attn_norm", QKV: p + "attn_qkv", O: p + "attn_output", FFNNorm: p + "ffn_norm", Up: p + "ffn_up", Down: p + "ffn_down"}
}
