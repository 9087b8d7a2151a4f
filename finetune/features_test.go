package finetune

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tern/data"
	"tern/tokenizer"
)

func gpt2(t *testing.T) tokenizer.Adapter {
	t.Helper()
	tok, err := tokenizer.NewAdapter("gpt2", "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestEncodeOffsets: segment-wise encoding gives the ids of encoding the whole text, and each
// token's byte span decodes to that token.
func TestEncodeOffsets(t *testing.T) {
	tok := gpt2(t)
	for _, text := range []string{
		"The Broncos defeated the Panthers 24–10 in Super Bowl 50.",
		"  two  spaces\nand a newline, don't split\t tabs… naïve café 123,456",
		"x",
		"",
	} {
		spans := encodeOffsets(tok, text)
		whole := tok.Encode32(text)
		if len(spans) != len(whole) {
			t.Fatalf("%q: %d tokens segment-wise, %d whole", text, len(spans), len(whole))
		}
		end := 0
		for i, s := range spans {
			if s.id != whole[i] {
				t.Fatalf("%q: token %d is %d segment-wise, %d whole", text, i, s.id, whole[i])
			}
			if s.start != end || s.end < s.start {
				t.Fatalf("%q: token %d span [%d, %d) does not follow %d", text, i, s.start, s.end, end)
			}
			if got := tok.Decode([]int{int(s.id)}); got != text[s.start:s.end] && !strings.ContainsRune(got, '\uFFFD') {
				t.Fatalf("%q: token %d decodes to %q, span holds %q", text, i, got, text[s.start:s.end])
			}
			end = s.end
		}
		if end != len(text) {
			t.Fatalf("%q: spans end at %d of %d bytes", text, end, len(text))
		}
	}
}

// TestTokenFeature: the first subtoken of each word carries its tag, the rest -1; WordPos points at
// it; words past MaxLen have no position.
func TestTokenFeature(t *testing.T) {
	tok := gpt2(t)
	it := Item{Words: []string{"Unbelievably", ",", "Zyxqwv", "ran"}, Tags: []int{1, 2, 3, 4}}
	f := TokenFeature(tok, it, 0, Options{MaxLen: 64})
	want := []int32{}
	for w, word := range it.Words {
		if w > 0 {
			word = " " + word
		}
		ids := tok.Encode32(word)
		if f.WordPos[w] != len(want) {
			t.Fatalf("word %d at %d, want %d", w, f.WordPos[w], len(want))
		}
		want = append(want, int32(it.Tags[w]))
		for range len(ids) - 1 {
			want = append(want, -1)
		}
	}
	if len(f.Tags) != len(want) || len(f.IDs) != len(want) {
		t.Fatalf("tags %v, want %v", f.Tags, want)
	}
	for i := range want {
		if f.Tags[i] != want[i] {
			t.Fatalf("tags %v, want %v", f.Tags, want)
		}
	}
	short := TokenFeature(tok, it, 0, Options{MaxLen: len(want) - 1})
	if short.WordPos[3] != -1 || short.WordPos[0] != 0 {
		t.Fatalf("truncated word positions %v", short.WordPos)
	}
}

// TestSpanFeatures: the labelled start/end tokens cover exactly the answer; long contexts split
// into overlapping windows, each answer-bearing window labels it, AnswerText recovers it; a span
// outside the context is an error.
func TestSpanFeatures(t *testing.T) {
	tok := gpt2(t)
	ctx := strings.Repeat("Filler words go here. ", 30) + "The Denver Broncos won Super Bowl 50 in 2016. " + strings.Repeat("More text follows. ", 20)
	ans := "Denver Broncos"
	bs := strings.Index(ctx, ans)
	it := Item{ID: "q1", Question: "Who won Super Bowl 50?", Context: ctx,
		Answers: []data.SquadAnswer{{Text: ans, ByteStart: bs, ByteEnd: bs + len(ans)}}}
	o := Options{MaxLen: 64, Sep: tok.Encode32("\n"), MaxQuestion: 16, Stride: 24}
	fs, err := SpanFeatures(tok, it, 0, encodeOffsets(tok, ctx), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) < 5 {
		t.Fatalf("%d windows for a long context", len(fs))
	}
	found := 0
	for _, f := range fs {
		if len(f.IDs) > o.MaxLen || len(f.Off) != len(f.IDs) || len(f.Types) != len(f.IDs) {
			t.Fatalf("feature lengths ids %d off %d types %d", len(f.IDs), len(f.Off), len(f.Types))
		}
		if f.Start >= 0 {
			found++
			if got := AnswerText(ctx, &f, int(f.Start), int(f.End)); got != ans {
				t.Fatalf("answer tokens give %q, want %q", got, ans)
			}
		}
	}
	if found == 0 {
		t.Fatal("no window labels the answer")
	}
	it.Answers[0].ByteStart, it.Answers[0].ByteEnd = len(ctx)-2, len(ctx)+5
	if _, err := SpanFeatures(tok, it, 0, encodeOffsets(tok, ctx), o); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("span outside the context: %v", err)
	}
}

// TestBadInput: unknown tasks, wrong label sets and missing columns are errors naming file and cause.
func TestBadInput(t *testing.T) {
	if _, err := Lookup("sst3"); err == nil || !strings.Contains(err.Error(), "sst2") {
		t.Fatalf("unknown task: %v", err)
	}
	dir := t.TempDir()
	write := func(rel, body string) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("ud-english-ewt/en_ewt-ud-test.conllu", "# sent_id = s1\n1\tHello\thello\tINTJ\tUH\t_\t0\troot\t_\t_\n2\tyou\tyou\tPRONOUN\tPRP\t_\t1\tvocative\t_\t_\n\n")
	task, _ := Lookup("ewt-upos")
	_, err := task.Load(dir, true)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "PRONOUN") {
		t.Fatalf("wrong UPOS tag: %v", err)
	}
	p = write("glue-sst2/dev.tsv", "sentence\tlabel\ngood movie \t1\nmissing label column\n")
	task, _ = Lookup("sst2")
	_, err = task.Load(dir, true)
	if err == nil || !strings.Contains(err.Error(), p+":3") {
		t.Fatalf("missing column: %v", err)
	}
	write("glue-sst2/dev.tsv", "sentence\tlabel\ngood movie \t2\n")
	if _, err = task.Load(dir, true); err == nil || !strings.Contains(err.Error(), "label") {
		t.Fatalf("label outside the set: %v", err)
	}
}
