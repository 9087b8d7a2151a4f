package data

import (
	"bytes"
	"strings"
	"testing"
)

// Fuzz targets for every reader of user files in this package (scripts/fuzz.sh runs each for a given
// time). Each must return an error or a result, never panic; what they accept must be consistent.

func FuzzGLUE(f *testing.F) {
	f.Add([]byte("sentence\tlabel\nit is good .\t1\nbad .\t0\n"))
	f.Add([]byte("gj04\t1\t\tThe sailors rode the breeze clear of the rocks.\n"))
	f.Add([]byte("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\ta b\tc d\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ex, err := ParseSST2(bytes.NewReader(b), "f.tsv"); err == nil {
			for _, e := range ex {
				if e.Label < 0 || e.Label > 1 {
					t.Fatalf("SST-2 label %d accepted", e.Label)
				}
			}
		}
		ParseCoLA(bytes.NewReader(b), "f.tsv")
		ParseMRPC(bytes.NewReader(b), "f.tsv")
	})
}

func FuzzCoNLL2003(f *testing.F) {
	f.Add([]byte("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := ParseCoNLL2003(bytes.NewReader(b), "f.conll")
		if err == nil {
			for _, s := range ss {
				if len(s.Tokens) != len(s.NER) || len(s.Tokens) != len(s.POS) {
					t.Fatalf("sentence with %d tokens, %d tags", len(s.Tokens), len(s.NER))
				}
			}
		}
	})
}

func FuzzCoNLLU(f *testing.F) {
	f.Add([]byte("# text = Hi there\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n2\tthere\tthere\tADV\tRB\t_\t1\tadvmod\t_\t_\n\n"))
	f.Add([]byte("1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n1\tdo\tdo\tAUX\tVBP\t_\t0\troot\t_\t_\n2.1\tx\tx\tX\tX\t_\t_\t_\t_\t_\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseCoNLLU(bytes.NewReader(b), "f.conllu") })
}

func FuzzSquad(f *testing.F) {
	f.Add([]byte(`{"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": "Café ½ über", "qas": [{"id": "q1", "question": "?", "answers": [{"text": "über", "answer_start": 7}]}]}]}]}`))
	f.Add([]byte(`{"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "q", "question": "?", "answers": [{"text": "bc", "answer_start": 9223372036854775807}]}]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseSquad(bytes.NewReader(b), "f.json")
		if err != nil {
			return
		}
		for _, a := range d.Articles {
			for _, p := range a.Paragraphs {
				for _, q := range p.QAs {
					for _, an := range q.Answers {
						if p.Context[an.ByteStart:an.ByteEnd] != an.Text {
							t.Fatalf("answer %q does not match its span", an.Text)
						}
					}
				}
			}
		}
	})
}

func FuzzWikiText(f *testing.F) {
	f.Add(" = Valkyria = \n\n Senjō no Valkyria 3 : Unrecorded Chronicles .\n = = Gameplay = = \n\n As with 1 @,@ 000 .\n")
	f.Fuzz(func(t *testing.T, s string) {
		docs := SplitWikiTextDocs(s)
		n := 0
		for _, d := range docs {
			n += len(d.Text)
		}
		if n > len(s)+len(docs) { // each document's last line gets a newline
			t.Fatalf("documents hold %d bytes of a %d-byte text", n, len(s))
		}
		WikiTextWords(s)
	})
}

func FuzzGutenbergSplit(f *testing.F) {
	f.Add([]byte("file\tsplit\tpg_ebook\twords\tbody_words\tstart_marker_line\tend_marker_line\nbooks/a.txt\ttrain\t1\t10\t8\t3\t40\n"))
	f.Add([]byte("file\tsplit\tpg_ebook\twords\tbody_words\tstart_marker_line\tend_marker_line\n../../etc/passwd\ttrain\t1\t10\t8\t3\t40\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ParseSplitTSV(bytes.NewReader(b), "split.tsv")
		if err != nil {
			return
		}
		for _, r := range rows {
			if strings.HasPrefix(r.File, "/") || strings.Contains("/"+r.File+"/", "/../") || r.End <= r.Start || r.Start < 0 {
				t.Fatalf("accepted row %+v", r)
			}
		}
	})
}
