// hf_ref_test.go: a tokenizer.json trained by tern, loaded by Hugging Face's JavaScript tokenizer
// (@huggingface/tokenizers, from a local file), gives the same ids as tern on held-out text.

package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tern/internal/testenv"
)

// trainSmall trains a 2,000-token vocabulary on one Gutenberg training book (Alice, 170 KB).
func trainSmall(t *testing.T) *BPE {
	t.Helper()
	text, err := os.ReadFile(testenv.SharedData(t, "gutenberg", "pg11_carroll_alices-adventures-in-wonderland.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Train([]string{string(text)}, TrainConfig{VocabSize: 2000, Special: []string{"<|endoftext|>"}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 2000 {
		t.Fatalf("vocab size %d, want 2000", tok.VocabSize())
	}
	return tok
}

func TestTrainedMatchesHuggingFaceJS(t *testing.T) {
	refsDir(t, "@huggingface/tokenizers")
	tok := trainSmall(t)
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	held, err := os.ReadFile(testenv.SharedData(t, "gutenberg", "pg5230_wells_the-invisible-man.txt"))
	if err != nil {
		t.Fatal(err)
	}
	texts := append([]string{string(held[:min(len(held), 150_000)])}, hardCases...)
	for i, s := range texts { // Hugging Face splits added tokens out of the input; compare plain text
		texts[i] = strings.ReplaceAll(s, "<|endoftext|>", "<|endoftext>")
	}
	rep := runRef(t, refRequest{Lib: "hf", Tokenizer: path}, texts)
	for i, s := range texts {
		got := tok.Encode(s)
		label := "held-out"
		if i > 0 {
			label = "hard case " + s
		}
		if compareIDs(t, tok, label, got, rep.IDs[i]) {
			compareIDs(t, tok, label+" (reloaded)", loaded.Encode(s), got)
		}
	}
}

// TestGPT2ThroughTokenizerJSON writes the built-in vocabulary as tokenizer.json (merges derived
// from the ranks), reads it back with Hugging Face's merge rule, and checks both tern and the
// JavaScript tokenizer give tiktoken-identical ids on real text.
func TestGPT2ThroughTokenizerJSON(t *testing.T) {
	gpt, err := GPT2()
	if err != nil {
		t.Fatal(err)
	}
	merges, err := gpt.merges()
	if err != nil {
		t.Fatal(err)
	}
	if len(merges) != 50000 {
		t.Fatalf("%d merges derived, want 50000 (GPT-2's merges.txt)", len(merges))
	}
	path := filepath.Join(t.TempDir(), "gpt2.json")
	if err := gpt.Save(path); err != nil {
		t.Fatal(err)
	}
	hf, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	wiki, err := os.ReadFile(testenv.SharedData(t, "wikitext-2", "test.txt"))
	if err != nil {
		t.Fatal(err)
	}
	texts := append([]string{string(wiki)}, hardCases...)
	for _, s := range texts {
		compareIDs(t, gpt, "reloaded gpt2", hf.EncodeOrdinary(s), gpt.EncodeOrdinary(s))
	}
	if _, err := os.Stat(filepath.Join(testenv.ModuleRoot(t), ".refs", "node_modules", "@huggingface", "tokenizers")); err == nil {
		rep := runRef(t, refRequest{Lib: "hf", Tokenizer: path}, texts[:1])
		compareIDs(t, gpt, "tokenizers.js gpt2", rep.IDs[0], gpt.EncodeOrdinary(texts[0]))
	}
}
