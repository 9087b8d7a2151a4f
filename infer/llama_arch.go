package infer

// What each Llama-family GGUF architecture may contain. bitnet.cpp's "bitnet-b1.58" (the architecture
// of Microsoft's BitNet b1.58 2B4T GGUF, ggml-model-i2_s.gguf, as bitnet.cpp's
// utils/convert-hf-to-gguf-bitnet.py writes it and its build_bitnet_158 graph runs it) is bitnet's
// layout with ReLU² instead of SiLU: RMSNorm, NEOX RoPE, GQA, sub-norms before Wo and Wdown, the
// token table as the head, keys "bitnet-b1.58.*" plus "bitnet-b1.58.vocab_size", no scale tensors
// (each I2_S matrix carries its float32 scale after its trits). A tensor the architecture does not
// define is refused by name rather than ignored: ignoring, e.g., llama's rope_freqs (LLaMA 3.1 rope
// scaling) or a TL1/TL2 matrix's "_scale" would decode a different model without saying so.

import (
	"fmt"

	"tern/gguf"
)

// checkLlamaFile checks f's tensors and vocab_size against the architecture c read from its metadata.
func checkLlamaFile(f *gguf.File, c LlamaConfig) error {
	if v, err := f.Int(c.Arch + "." + gguf.KeyVocabSize); err == nil && v != int64(c.Vocab) {
		return fmt.Errorf("metadata %s.%s = %d, but tensor %s has %d rows", c.Arch, gguf.KeyVocabSize, v, gguf.NameTokenEmbd, c.Vocab)
	}
	known := map[string]bool{gguf.NameTokenEmbd: true, gguf.NameOutput: true, gguf.NameOutputNorm: true}
	for l := range c.Layers {
		n := gguf.LlamaBlockNames(l)
		names := []string{n.AttnNorm, n.Q, n.K, n.V, n.O, n.FFNNorm, n.Gate, n.Up, n.Down}
		for _, p := range names {
			known[p] = true
			if c.Arch == gguf.ArchBitnet && p != n.AttnNorm && p != n.FFNNorm {
				known[gguf.ScaleOf(p)] = true // llama.cpp's bitnet: optional per-projection scales
			}
		}
		if c.SubNorms {
			known[n.AttnSubNorm], known[n.FFNSubNorm] = true, true
		}
	}
	for _, t := range f.Tensors {
		if !known[t.Name] {
			return fmt.Errorf("tensor %s is not part of the %s architecture as tern runs it (%d layers%s)", t.Name, c.Arch, c.Layers, map[bool]string{true: ", sub-norms"}[c.SubNorms])
		}
	}
	return nil
}
