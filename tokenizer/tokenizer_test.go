package tokenizer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestByNameAndMarshal(t *testing.T) {
	dir := t.TempDir()
	g, err := ByName("gpt2", "")
	if err != nil || g.VocabSize() != 50257 || g.Name() != "gpt2" {
		t.Fatalf("gpt2: %v %v", g, err)
	}
	if _, err := ByName("char", ""); err == nil {
		t.Error("char without corpus accepted")
	}
	c, err := ByName("char", "abc")
	if err != nil || c.VocabSize() != 3 {
		t.Fatalf("char: %v", err)
	}
	trained := trainSmallCorpus(t)
	for _, tok := range []Tokenizer{g, c, trained} {
		data, err := Marshal(tok)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Unmarshal(data)
		if err != nil {
			t.Fatalf("%s: %v", tok.Name(), err)
		}
		s := "the cat ab then"
		if !slices.Equal(back.Encode(s), tok.Encode(s)) || back.VocabSize() != tok.VocabSize() {
			t.Errorf("%s: restored tokenizer differs", tok.Name())
		}
		p := filepath.Join(dir, tok.Name()+".json")
		os.WriteFile(p, data, 0o644)
		fromFile, err := ByName(p, "")
		if err != nil || !slices.Equal(fromFile.Encode(s), tok.Encode(s)) {
			t.Errorf("%s via ByName(path): %v", tok.Name(), err)
		}
	}
	if len(mustMarshal(t, g)) > 100 {
		t.Error("the built-in GPT-2 should serialize as a reference, not a copy")
	}
	for _, bad := range []string{"", filepath.Join(dir, "nope.json")} {
		if _, err := ByName(bad, ""); err == nil {
			t.Errorf("ByName(%q) succeeded", bad)
		}
	}
	if _, err := Unmarshal([]byte(`{"type":"sentencepiece"}`)); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("unknown type: %v", err)
	}
}

func mustMarshal(t *testing.T, tok Tokenizer) []byte {
	data, err := Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
