package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tern/internal/testenv"
)

func TestTinyShakespeareSplit(t *testing.T) {
	c, err := LoadCorpus("tinyshakespeare")
	if err != nil {
		t.Fatal(err)
	}
	// SOURCE.md: 1,115,394 characters; nanoGPT's split puts the first 90% (1,003,854) in train.
	if len(c.Train)+len(c.Valid) != 1115394 || len(c.Train) != 1003854 {
		t.Fatalf("split %d + %d, want 1003854 + 111540", len(c.Train), len(c.Valid))
	}
	if !strings.HasPrefix(c.Train, "First Citizen:") {
		t.Fatalf("train starts %q", c.Train[:20])
	}
}

func TestGutenbergSplit(t *testing.T) {
	dir := testenv.SharedData(t, "gutenberg")
	c, err := LoadCorpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"train": c.Train, "valid": c.Valid, "test": c.Test} {
		if len(s) < 100000 {
			t.Errorf("%s split has only %d bytes", name, len(s))
		}
		// bodies lie strictly between the markers: no Project Gutenberg header or licence inside
		if strings.Contains(s, "*** START OF") || strings.Contains(s, "START: FULL LICENSE") {
			t.Errorf("%s split contains Project Gutenberg header/licence text", name)
		}
		if strings.Contains(s, "\r") {
			t.Errorf("%s split still has CR line endings", name)
		}
	}
	// 41 train / 4 valid / 3 test books (~3.8M words in all): train is by far the largest.
	if len(c.Train) < 5*len(c.Valid) {
		t.Errorf("train %d bytes vs valid %d: split looks wrong", len(c.Train), len(c.Valid))
	}
}

func TestBadCorpora(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadCorpus(filepath.Join(dir, "missing.txt")); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missing file: err = %v, want one naming the file", err)
	}
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, []byte("  \n"), 0o644)
	if _, err := LoadCorpus(empty); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty file: err = %v, want ErrEmpty", err)
	}
	if _, err := LoadCorpus(t.TempDir()); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty folder: err = %v, want ErrEmpty", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "split.tsv"), []byte("file\tsplit\ta\tb\tc\td\te\nx.txt\tdev\t1\t1\t1\t1\t2\n"), 0o644)
	if _, err := LoadCorpus(bad); err == nil || !strings.Contains(err.Error(), "split.tsv:2") {
		t.Errorf("bad split name: err = %v, want file:line", err)
	}
}
