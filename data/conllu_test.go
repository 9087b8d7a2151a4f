// Tests for the CoNLL-U reader: UD English EWT counts (skipped without the shared data) and
// hand-made sentences.

package data

import (
	"reflect"
	"strings"
	"testing"

	"tern/internal/testdata"
)

func TestReadCoNLLU(t *testing.T) {
	cases := []struct {
		file         string
		sents, words int
	}{
		// SOURCE.md / the official EWT statistics: dev 2,001 sentences and 25,147 words; train
		// (gzipped here) 12,544 and 204,577.
		{"en_ewt-ud-dev.conllu", 2001, 25147},
		{"en_ewt-ud-test.conllu", 2077, 25094},
		{"en_ewt-ud-train.conllu.gz", 12544, 204577},
	}
	for _, c := range cases {
		if c.sents > 10000 && testing.Short() {
			continue
		}
		ss, err := ReadCoNLLU(testdata.SharedData(t, "ud-english-ewt", c.file))
		if err != nil {
			t.Fatal(err)
		}
		words := 0
		upos := map[string]bool{}
		for _, s := range ss {
			words += len(s.Tokens)
			if s.ID == "" || s.Text == "" {
				t.Fatalf("%s: sentence without sent_id or text: %+v", c.file, s)
			}
			for _, tok := range s.Tokens {
				upos[tok.UPOS] = true
			}
		}
		if len(ss) != c.sents || words != c.words {
			t.Errorf("%s: %d sentences, %d words; want %d, %d", c.file, len(ss), words, c.sents, c.words)
		}
		if len(upos) != 17 {
			t.Errorf("%s: %d UPOS tags, want the 17 universal tags", c.file, len(upos))
		}
		if c.file == "en_ewt-ud-dev.conllu" {
			s := ss[0]
			if s.Text != "From the AP comes this story :" || len(s.Tokens) != 7 || s.Tokens[3] != (UDToken{"comes", "come", "VERB", "VBZ", 0, "root"}) {
				t.Errorf("first dev sentence: %+v", s)
			}
		}
	}
}

func TestParseCoNLLU(t *testing.T) {
	in := "# newdoc id = d1\n# sent_id = s1\n# text = I don't  know.\n" +
		"1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_\n" +
		"2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n" + // multiword token: skipped
		"2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t_\t_\n" +
		"3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_\n" +
		"4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\t_\n" +
		"4.1\tknows\tknow\tVERB\t_\t_\t_\t_\t4:conj\t_\n" + // empty node: skipped
		"5\t.\t.\tPUNCT\t.\t_\t_\tpunct\t_\t_\n\n" +
		"# sent_id = s2\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_" // no final newline
	ss, err := ParseCoNLLU(strings.NewReader(in), "x.conllu")
	if err != nil {
		t.Fatal(err)
	}
	want := []UDSentence{
		{ID: "s1", Text: "I don't  know.", Tokens: []UDToken{
			{"I", "I", "PRON", "PRP", 3, "nsubj"}, {"do", "do", "AUX", "VBP", 4, "aux"},
			{"n't", "not", "PART", "RB", 4, "advmod"}, {"know", "know", "VERB", "VB", 0, "root"},
			{".", ".", "PUNCT", ".", -1, "punct"}}},
		{ID: "s2", Tokens: []UDToken{{"Hi", "hi", "INTJ", "UH", 0, "root"}}},
	}
	if !reflect.DeepEqual(ss, want) {
		t.Errorf("got %+v\nwant %+v", ss, want)
	}

	line := func(id string) string { return id + "\tw\tw\tX\t_\t_\t0\tdep\t_\t_\n" }
	_, err = ParseCoNLLU(strings.NewReader(line("1")+"2\tw\tw\tX\n"), "x.conllu")
	wantParseError(t, err, "x.conllu", 2, "want 10 tab-separated columns, got 4")
	_, err = ParseCoNLLU(strings.NewReader(line("1")+line("3")), "x.conllu")
	wantParseError(t, err, "x.conllu", 2, `word ID "3" out of sequence (want 2)`)
	_, err = ParseCoNLLU(strings.NewReader(line("1")+line("1-x")), "x.conllu")
	wantParseError(t, err, "x.conllu", 2, `bad ID "1-x"`)
	_, err = ParseCoNLLU(strings.NewReader(line("1")+"\n# sent_id = s\n\n"), "x.conllu")
	wantParseError(t, err, "x.conllu", 3, "sentence has no words")
	_, err = ParseCoNLLU(strings.NewReader("1\tw\tw\tX\t_\t_\tzero\tdep\t_\t_\n"), "x.conllu")
	wantParseError(t, err, "x.conllu", 1, `bad HEAD "zero"`)
}

func BenchmarkReadCoNLLUDev(b *testing.B) {
	path := testdata.SharedData(b, "ud-english-ewt", "en_ewt-ud-dev.conllu")
	b.SetBytes(1805545)
	for b.Loop() {
		if _, err := ReadCoNLLU(path); err != nil {
			b.Fatal(err)
		}
	}
}
