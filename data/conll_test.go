// Tests for the CoNLL-2003 reader: the shared-task counts on the shared test file (skipped without
// it) and invented sentences (no CoNLL-2003 text is copied into the repository).

package data

import (
	"reflect"
	"strings"
	"testing"

	"tern/internal/testdata"
)

func TestReadCoNLL2003(t *testing.T) {
	cases := []struct {
		file                string
		docs, sents, tokens int
		loc, misc, org, per int
	}{
		// Counts from the shared-task paper (Tjong Kim Sang & De Meulder 2003), as in SOURCE.md.
		{"test.txt", 231, 3453, 46435, 1668, 702, 1661, 1617},
		{"valid.txt", 216, 3250, 51362, 1837, 922, 1341, 1842},
	}
	for _, c := range cases {
		ss, err := ReadCoNLL2003(testdata.SharedData(t, "conll2003", c.file))
		if err != nil {
			t.Fatal(err)
		}
		tokens := 0
		entities := map[string]int{}
		for _, s := range ss {
			if len(s.POS) != len(s.Tokens) || len(s.Chunk) != len(s.Tokens) || len(s.NER) != len(s.Tokens) {
				t.Fatalf("%s: ragged sentence %+v", c.file, s)
			}
			tokens += len(s.Tokens)
			for _, tag := range s.NER {
				// IOB2: every entity starts with B-, so B- tags count entities.
				if strings.HasPrefix(tag, "B-") {
					entities[tag[2:]]++
				}
			}
		}
		if len(ss) != c.sents || tokens != c.tokens || ss[len(ss)-1].Doc != c.docs-1 {
			t.Errorf("%s: %d sentences, %d tokens, last doc %d; want %d, %d, %d", c.file, len(ss), tokens, ss[len(ss)-1].Doc, c.sents, c.tokens, c.docs-1)
		}
		want := map[string]int{"LOC": c.loc, "MISC": c.misc, "ORG": c.org, "PER": c.per}
		if !reflect.DeepEqual(entities, want) {
			t.Errorf("%s: entities %v, want %v", c.file, entities, want)
		}
	}
}

func TestParseCoNLL2003(t *testing.T) {
	in := "-DOCSTART- -X- -X- O\n\n" +
		"Alice NNP B-NP B-PER\nvisited VBD B-VP O\nNew NNP B-NP B-LOC\nCity NNP I-NP I-LOC\n\n\n" +
		"Bye UH B-INTJ O\n" +
		"-DOCSTART- -X- -X- O\n\n" +
		"Zed NNP B-NP B-PER" // no final newline
	ss, err := ParseCoNLL2003(strings.NewReader(in), "x.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []NERSentence{
		{Doc: 0, Tokens: []string{"Alice", "visited", "New", "City"}, POS: []string{"NNP", "VBD", "NNP", "NNP"},
			Chunk: []string{"B-NP", "B-VP", "B-NP", "I-NP"}, NER: []string{"B-PER", "O", "B-LOC", "I-LOC"}},
		// A -DOCSTART- line ends the open sentence even without a blank line before it.
		{Doc: 0, Tokens: []string{"Bye"}, POS: []string{"UH"}, Chunk: []string{"B-INTJ"}, NER: []string{"O"}},
		{Doc: 1, Tokens: []string{"Zed"}, POS: []string{"NNP"}, Chunk: []string{"B-NP"}, NER: []string{"B-PER"}},
	}
	if !reflect.DeepEqual(ss, want) {
		t.Errorf("got %+v\nwant %+v", ss, want)
	}

	_, err = ParseCoNLL2003(strings.NewReader("Alice NNP B-NP B-PER\nvisited VBD O\n"), "x.txt")
	wantParseError(t, err, "x.txt", 2, "want 4 space-separated columns (token POS chunk NER), got 3")
	_, err = ParseCoNLL2003(strings.NewReader("\nAlice NNP B-NP PER\n"), "x.txt")
	wantParseError(t, err, "x.txt", 2, `bad IOB tag "PER" in the NER column`)
	_, err = ParseCoNLL2003(strings.NewReader("Alice NNP X-NP O\n"), "x.txt")
	wantParseError(t, err, "x.txt", 1, `bad IOB tag "X-NP" in the chunk column`)
	_, err = ParseCoNLL2003(strings.NewReader("Alice NNP B-NP B-\n"), "x.txt")
	wantParseError(t, err, "x.txt", 1, `"B-"`)
	if ss, err := ParseCoNLL2003(strings.NewReader(""), "x.txt"); err != nil || len(ss) != 0 {
		t.Errorf("empty input: %v, %v", ss, err)
	}
}
