// Tests for the SQuAD v1.1 reader: XQuAD English counts (skipped without the shared data) and
// hand-made JSON, including non-ASCII contexts where character and byte offsets differ.

package data

import (
	"strings"
	"testing"

	"tern/internal/testenv"
)

func TestReadSquadXQuAD(t *testing.T) {
	d, err := ReadSquad(testenv.SharedData(t, "xquad-en", "xquad.en.json"))
	if err != nil {
		t.Fatal(err)
	}
	paras, answers, nonASCII := 0, 0, 0
	ids := map[string]bool{}
	for _, a := range d.Articles {
		paras += len(a.Paragraphs)
		for _, p := range a.Paragraphs {
			for _, q := range p.QAs {
				ids[q.ID] = true
				answers += len(q.Answers)
				for _, an := range q.Answers {
					if p.Context[an.ByteStart:an.ByteEnd] != an.Text {
						t.Fatalf("%s: byte span does not give the answer", q.ID)
					}
					if an.ByteStart != an.Start {
						nonASCII++ // a non-ASCII character precedes the answer
					}
				}
			}
		}
	}
	// XQuAD README: 48 articles, 240 paragraphs, 1,190 questions with one answer each.
	if d.Version != "1.1" || len(d.Articles) != 48 || paras != 240 || d.Questions() != 1190 || answers != 1190 || len(ids) != 1190 {
		t.Errorf("XQuAD: version %q, %d articles, %d paragraphs, %d questions (%d ids), %d answers; want 1.1, 48, 240, 1190, 1190",
			d.Version, len(d.Articles), paras, d.Questions(), len(ids), answers)
	}
	if nonASCII == 0 {
		t.Error("expected some answers after non-ASCII text (e.g. 6½): the code point -> byte conversion is untested")
	}
	first, rest := d.SplitArticles(40)
	if len(first.Articles) != 40 || len(rest.Articles) != 8 || first.Questions()+rest.Questions() != 1190 ||
		first.Articles[0].Title != d.Articles[0].Title || rest.Articles[0].Title != d.Articles[40].Title {
		t.Errorf("SplitArticles(40): %d + %d articles, %d + %d questions", len(first.Articles), len(rest.Articles), first.Questions(), rest.Questions())
	}
}

func TestParseSquad(t *testing.T) {
	// "Café ½ über" : é and ½ and ü are 2 bytes each, so character offsets != byte offsets.
	// "über" starts at character 7 (C,a,f,é,space,½,space), byte 9.
	good := `{"version": "1.1", "data": [{"title": "T", "paragraphs": [
  {"context": "Café ½ über", "qas": [
    {"id": "q1", "question": "Which?", "answers": [{"text": "über", "answer_start": 7}, {"text": "Café", "answer_start": 0}]}
  ]}]}, {"title": "U", "paragraphs": []}]}`
	d, err := ParseSquad(strings.NewReader(good), "g.json")
	if err != nil {
		t.Fatal(err)
	}
	a := d.Articles[0].Paragraphs[0].QAs[0].Answers[0]
	if a != (SquadAnswer{Text: "über", Start: 7, ByteStart: 9, ByteEnd: 14}) {
		t.Errorf("answer %+v, want start 7, bytes [9, 14)", a)
	}
	f, r := d.SplitArticles(5)
	if len(f.Articles) != 2 || len(r.Articles) != 0 {
		t.Errorf("SplitArticles past the end: %d, %d", len(f.Articles), len(r.Articles))
	}
	f, r = d.SplitArticles(-1)
	if len(f.Articles) != 0 || len(r.Articles) != 2 {
		t.Errorf("SplitArticles(-1): %d, %d", len(f.Articles), len(r.Articles))
	}

	bad := func(ctx, qa string) string {
		return "{\"version\": \"1.1\", \"data\": [{\"title\": \"T\", \"paragraphs\": [\n{\"context\": \"" + ctx + "\",\n\"qas\": [\n" + qa + "]}]}]}"
	}
	cases := []struct {
		in    string
		line  int
		cause string
	}{
		// The answer ends past the context (11 characters, though 14 bytes).
		{bad("Café ½ über", `{"id": "q9", "question": "?", "answers": [{"text": "über!", "answer_start": 7}]}`), 4,
			"span [7, 12) (characters) outside the context of 11 characters"},
		{bad("abc", `{"id": "q9", "question": "?", "answers": [{"text": "a", "answer_start": -1}]}`), 4, "outside the context"},
		// A byte offset instead of a character offset: "½" is at byte 6 but character 5.
		{bad("Café ½ über", `{"id": "q9", "question": "?", "answers": [{"text": "½", "answer_start": 6}]}`), 4,
			`context[6:7] is " ", not the answer text "½"`},
		{bad("abc", `{"id": "q9", "question": "?", "answers": []}`), 4, "no answers"},
		{bad("abc", `{"id": "q9", "question": "?", "answers": [{"text": "a"}]}`), 4, "missing answer_start"},
		{bad("abc", `{"id": "q9", "question": "?", "answers": [{"text": "a", "answer_start": "0"}]}`), 4, "cannot unmarshal string"},
		// Truncated JSON.
		{good[:60], 2, "unexpected end of JSON input"},
		{"{\"data\": [\n}", 2, "invalid character '}'"},
		{`{"version": "1.1"}`, 0, `no "data" array`},
	}
	for _, c := range cases {
		_, err := ParseSquad(strings.NewReader(c.in), "b.json")
		wantParseError(t, err, "b.json", c.line, c.cause)
	}
}

func BenchmarkReadSquadXQuAD(b *testing.B) {
	path := testenv.SharedData(b, "xquad-en", "xquad.en.json")
	b.SetBytes(609383)
	for b.Loop() {
		if _, err := ReadSquad(path); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSquadAnswerStartOverflow reproduces the answer_start of 2^63-1, whose start+len
// overflowed the bounds check and panicked: it is refused as outside the context.
func TestSquadAnswerStartOverflow(t *testing.T) {
	in := `{"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": "abc", "qas": [
	  {"id": "q", "question": "?", "answers": [{"text": "bc", "answer_start": 9223372036854775807}]}]}]}]}`
	if _, err := ParseSquad(strings.NewReader(in), "o.json"); err == nil || !strings.Contains(err.Error(), "outside the context") {
		t.Errorf("answer_start 2^63-1: %v", err)
	}
}
