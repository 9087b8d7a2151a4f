package tokenizer

import (
	"slices"
	"testing"
)

// TestVocabRoundTrip: GPT-2's vocabulary listed by Vocab and rebuilt by FromVocab encodes text to the
// same ids (the form GGUF files carry a tokenizer in).
func TestVocabRoundTrip(t *testing.T) {
	g, err := GPT2()
	if err != nil {
		t.Fatal(err)
	}
	tokens, special, merges, err := g.Vocab()
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromVocab("gpt2-copy", tokens, special, merges)
	if err != nil {
		t.Fatal(err)
	}
	text := "Hello world, it's 2026!  Ünïcödé <|endoftext|> tabs\tand\nnewlines 12345"
	if a, c := g.Encode(text), b.Encode(text); !slices.Equal(a, c) {
		t.Fatalf("ids differ:\n%v\n%v", a, c)
	}
	if b.VocabSize() != g.VocabSize() {
		t.Fatalf("vocab %d vs %d", b.VocabSize(), g.VocabSize())
	}
}
