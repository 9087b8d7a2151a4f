package infer

import (
	"path/filepath"
	"slices"
	"testing"

	"tern/gguf"
	"tern/tokenizer"
)

// TestGGUFLlama3Tokenizer gives a tiny bitnet GGUF a byte-level vocabulary with the llama-bpe
// pre-tokenizer and chat metadata: digits split in groups of three (LLaMA-3's \p{N}{1,3}, where
// GPT-2 would merge the whole run), and Chat reads the template and the roles (EOT found by text).
func TestGGUFLlama3Tokenizer(t *testing.T) {
	src, err := gguf.Open(tinyBitnet(t, gguf.TQ2_0, "bitnet"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var tokens []string
	for _, r := range tokenizer.ByteAlphabet() {
		tokens = append(tokens, string(r))
	}
	merges := []string{"3 4", "1 2", "12 3"}
	tokens = append(tokens, "34", "12", "123")
	special := make([]bool, 300)
	for len(tokens) < 297 {
		tokens = append(tokens, "<|reserved_"+string(rune('a'+len(tokens)%26))+string(rune('a'+len(tokens)/26%26))+"|>")
		special[len(tokens)-1] = true
	}
	tokens = append(tokens, "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>")
	special[297], special[298], special[299] = true, true, true
	types := make([]int32, 300)
	for i := range types {
		types[i] = 1
		if special[i] {
			types[i] = 3
		}
	}
	const tmpl = "{% for m in messages %}{{ m.content }}{% endfor %}"
	kv := append(slices.Clone(src.KV), gguf.String("tokenizer.ggml.model", "gpt2"), gguf.String("tokenizer.ggml.pre", "llama-bpe"),
		gguf.Strings("tokenizer.ggml.tokens", tokens), gguf.Int32s("tokenizer.ggml.token_type", types),
		gguf.Strings("tokenizer.ggml.merges", merges), gguf.Uint32("tokenizer.ggml.bos_token_id", 297),
		gguf.Uint32("tokenizer.ggml.eos_token_id", 298), gguf.String("tokenizer.chat_template", tmpl),
		gguf.String("tokenizer.chat_template.tool_use", "tools"))
	var ts []gguf.Tensor
	for _, ti := range src.Tensors {
		ts = append(ts, gguf.Tensor{Name: ti.Name, Dims: ti.Dims, Type: ti.Type, Data: ti.Data})
	}
	path := filepath.Join(t.TempDir(), "llama3-vocab.gguf")
	if err := gguf.Write(path, kv, ts); err != nil {
		t.Fatal(err)
	}
	m, err := LoadGGUF(path, 64)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	if b.PreTokenizer() != tokenizer.PreLlama3 {
		t.Fatalf("pre-tokenizer %q", b.PreTokenizer())
	}
	if got, want := b.Encode("1234"), []int{258, '4'}; !slices.Equal(got, want) {
		t.Errorf("Encode(1234) = %v, want %v (123 | 4)", got, want)
	}
	c, err := m.Chat(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Template != tmpl || c.Templates["tool_use"] != "tools" || c.BOS != 297 || c.EOS != 298 || c.EOT != 299 ||
		!c.AddBOS || !slices.Equal(c.Stop, []int{298, 299}) {
		t.Errorf("chat %+v", c)
	}
}
