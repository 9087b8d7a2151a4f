package model

// Layer and tensor names of tern's architectures, defined once. The builders name their layers from
// this table, and every reader that finds tensors by name (packed decoding, GGUF and Hugging Face
// conversion) looks them up here, so a builder and a loader cannot spell a name differently.
// Package nn appends the tensor part: ".weight"/".bias" to every layer, ".qkv"/".o" (".q"/".kv" for
// cross-attention) to attention, ".fc"/".fc2" to an FFN; TestNamesMatchParams checks that the full
// names below are exactly what the built models hold.

import "fmt"

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
