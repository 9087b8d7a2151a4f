// Tests for the WikiText reader: WikiText-2 counts (skipped without the shared data) and a
// hand-made text.

package data

import (
	"reflect"
	"strings"
	"testing"

	"tern/internal/testdata"
)

func TestReadWikiText(t *testing.T) {
	cases := []struct {
		file                      string
		bytes, words, lines, docs int
		first, last               string
	}{
		// SOURCE.md: bytes, and the official counts with one <eos> per line. WikiText-2 has 60
		// articles in each of valid and test.
		{"test.txt", 1256449, 245569, 4358, 60, "Robert <unk>", "The <unk> ( film )"},
		{"valid.txt", 1121681, 217646, 3760, 60, "Homarus gammarus", ""},
	}
	for _, c := range cases {
		text, err := ReadWikiText(testdata.SharedData(t, "wikitext-2", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if len(text) != c.bytes || WikiTextWords(text) != c.words || strings.Count(text, "\n") != c.lines {
			t.Errorf("%s: %d bytes, %d words, %d lines; want %d, %d, %d", c.file, len(text), WikiTextWords(text), strings.Count(text, "\n"), c.bytes, c.words, c.lines)
		}
		docs := SplitWikiTextDocs(text)
		var b strings.Builder
		for _, d := range docs {
			b.WriteString(d.Text)
		}
		if len(docs) != c.docs || b.String() != text || docs[0].Title != c.first {
			t.Errorf("%s: %d docs (first %q), rejoin equal %v; want %d docs, first %q", c.file, len(docs), docs[0].Title, b.String() == text, c.docs, c.first)
		}
		if c.last != "" && docs[len(docs)-1].Title != c.last {
			t.Errorf("%s: last doc %q, want %q", c.file, docs[len(docs)-1].Title, c.last)
		}
	}
}

func TestSplitWikiTextDocs(t *testing.T) {
	text := " \n = A = \n \n a text \n \n = = Sec = = \n \n more \n = x = \n \n = B = \n \n b"
	got := SplitWikiTextDocs(text)
	want := []WikiDoc{
		// The section heading and the formula-like line " = x = " (not preceded by a blank
		// line) do not start articles.
		{"A", " \n = A = \n \n a text \n \n = = Sec = = \n \n more \n = x = \n \n"},
		{"B", " = B = \n \n b"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := SplitWikiTextDocs("no heading\n"); !reflect.DeepEqual(got, []WikiDoc{{"", "no heading\n"}}) {
		t.Errorf("no heading: %q", got)
	}
	if got := SplitWikiTextDocs(""); got != nil {
		t.Errorf("empty: %q", got)
	}
	// 2 lines + 1 unterminated line = 3 <eos>; tokens a b c d = 4.
	if n := WikiTextWords("a b\n\nc d"); n != 7 {
		t.Errorf("WikiTextWords = %d, want 7", n)
	}
}
