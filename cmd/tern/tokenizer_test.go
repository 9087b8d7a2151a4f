package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseIDs(t *testing.T) {
	for in, want := range map[string][]int{
		"1 2 3\n":                {1, 2, 3},
		"[4, 5]":                 {4, 5},
		`{"file":"-","ids":[6]}`: {6},
		"7,8,\t9":                {7, 8, 9},
		"":                       {},
	} {
		got, err := parseIDs([]byte(in))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseIDs(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"1 x 3", "[1,", "{"} {
		if _, err := parseIDs([]byte(bad)); err == nil {
			t.Errorf("parseIDs(%q) accepted", bad)
		}
	}
}

func TestTrainFilesSplit(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.txt", "b.txt", "c.txt"} {
		os.WriteFile(filepath.Join(dir, f), []byte("text "+f), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "split.tsv"), []byte("file\tsplit\nb.txt\ttrain\na.txt\ttrain\nc.txt\ttest\n"), 0o644)
	got, err := trainFiles([]string{dir}, "train")
	if err != nil || len(got) != 2 || !strings.HasSuffix(got[0], "a.txt") || !strings.HasSuffix(got[1], "b.txt") {
		t.Errorf("train split: %v %v", got, err)
	}
	if all, _ := trainFiles([]string{dir}, ""); len(all) != 3 {
		t.Errorf("all files: %v", all)
	}
	if _, err := trainFiles([]string{dir}, "valid"); err == nil {
		t.Error("empty split accepted")
	}
	if _, err := trainFiles([]string{filepath.Join(dir, "missing")}, ""); err == nil {
		t.Error("missing path accepted")
	}
}

// TestTokenizerCommand trains a tiny vocabulary through the CLI, then inspects it.
func TestTokenizerCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, []byte(strings.Repeat("the cat sat on the mat. ", 50)), 0o644)
	out := filepath.Join(dir, "tok.json")
	if err := runTokenizer(context.Background(), []string{"train", "--quiet", "--vocab-size", "270", "-o", out, in}); err != nil {
		t.Fatal(err)
	}
	if err := runTokenizer(context.Background(), []string{"info", "--tokenizer", out}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"train", "--vocab-size", "10", in},
		{"train", in},
		{"info", "--tokenizer", filepath.Join(dir, "nope.json")},
		{"encode", "--tokenizer", "char"},
		{"encode", "--special", "maybe", in},
		{"frobnicate"},
	} {
		if err := runTokenizer(context.Background(), bad); err == nil {
			t.Errorf("tern tokenizer %v succeeded", bad)
		}
	}
}
