// Tests for the SQuAD v1.1 metrics; expected values are derived from evaluate-v1.1.py's
// definitions in the comments.

package metrics

import "testing"

func TestNormalizeAnswer(t *testing.T) {
	cases := []struct{ in, want string }{
		{"The Denver Broncos", "denver broncos"},
		// Punctuation goes before articles are removed: "the," -> "the" -> removed.
		{"the, cat", "cat"},
		// Articles only as whole words: "theater", "another", "Ana" stay.
		{"An apple a day in the theater, another Ana", "apple day in theater another ana"},
		// Hyphen is punctuation and is deleted, not replaced by a space: "well-known" -> "wellknown".
		{"well-known", "wellknown"},
		// Deleting the apostrophe joins words, so "the" inside "the's" is no article any more.
		{"the's", "thes"},
		// Whitespace (tabs, newlines, NBSP U+00A0, U+001F) collapses to single spaces and is trimmed.
		{"  a\tb\n\u00a0c\x1fd  ", "b c d"},
		// Non-ASCII punctuation is kept (string.punctuation is ASCII only): "–" and "“" stay.
		{"1990–91 “Hi”", "1990–91 “hi”"},
		// Articles next to non-ASCII letters are not whole words: "theé" stays.
		{"theé the é", "theé é"},
		// A combining mark is not a word character in Python's re: "the\u0301" -> " \u0301".
		{"the\u0301", "\u0301"},
		// Python lower(): U+0130 -> "i" + U+0307; final capital sigma -> ς, other Σ -> σ.
		{"İ ΟΔΟΣ ΣΑ", "i\u0307 οδος σα"},
		{"", ""},
		{"The", ""},
	}
	for _, c := range cases {
		if got := NormalizeAnswer(c.in); got != c.want {
			t.Errorf("NormalizeAnswer(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSquadF1EM(t *testing.T) {
	cases := []struct {
		pred, gold string
		em, f1     float64
	}{
		// Identical after normalization.
		{"The Denver Broncos", "denver broncos!", 1, 1},
		// pred {denver, broncos, team}, gold {denver, broncos}: same 2, P 2/3, R 1, F1 = (4/3)/(5/3) = 4/5.
		{"Denver Broncos team", "Denver Broncos", 0, 0.8},
		// Counter intersection counts repeats at most min(count): pred {a->removed} so use words:
		// pred "b b b c", gold "b c c": common b:min(3,1)=1, c:min(1,2)=1 -> 2; P 2/4, R 2/3,
		// F1 = 2*(1/2)(2/3)/(1/2+2/3) = (2/3)/(7/6) = 4/7.
		{"b b b c", "b c c", 0, 4.0 / 7},
		// Empty prediction: no shared token -> F1 0; EM 0 as "" != "x".
		{"", "x", 0, 0},
		// Both normalize to "": EM 1 (equal strings) but F1 0 (num_same 0): the script's quirk.
		{"", "The", 1, 0},
		{"a an the", "", 1, 0},
		// No overlap.
		{"Broncos", "Panthers", 0, 0},
	}
	for _, c := range cases {
		if em := SquadExactMatch(c.pred, c.gold); em != c.em {
			t.Errorf("EM(%q, %q) = %v, want %v", c.pred, c.gold, em, c.em)
		}
		if f := SquadF1(c.pred, c.gold); !near(f, c.f1) {
			t.Errorf("F1(%q, %q) = %v, want %v", c.pred, c.gold, f, c.f1)
		}
	}
}

func TestSquadEvaluate(t *testing.T) {
	refs := []SquadReference{
		// Max over golds, taken separately for EM and F1: EM 1 via "Denver Broncos", F1 1 too.
		{ID: "q1", Answers: []string{"Broncos", "Denver Broncos", "the Denver Broncos"}},
		// pred "Santa Clara California": vs "Santa Clara": same 2, P 2/3, R 1, F1 0.8;
		// vs "Levi's Stadium": 0. EM 0. -> (0, 0.8).
		{ID: "q2", Answers: []string{"Santa Clara", "Levi's Stadium"}},
		// Unanswered: scores 0, still counted.
		{ID: "q3", Answers: []string{"gold"}},
		// Tie: two golds give the same F1 0.5 (pred "x y" vs "x z": same 1, P 1/2, R 1/2).
		{ID: "q4", Answers: []string{"x z", "y w"}},
	}
	preds := map[string]string{"q1": "Denver Broncos", "q2": "Santa Clara California", "q4": "x y", "extra": "ignored"}
	// EM = 100 * (1 + 0 + 0 + 0)/4 = 25. F1 = 100 * (1 + 0.8 + 0 + 0.5)/4 = 57.5.
	got := SquadEvaluate(refs, preds)
	if !near(got.ExactMatch, 25) || !near(got.F1, 57.5) || got.Total != 4 || got.Answered != 3 {
		t.Errorf("SquadEvaluate = %+v, want EM 25, F1 57.5, 4 total, 3 answered", got)
	}
	if got := SquadEvaluate(nil, preds); got != (SquadResult{}) {
		t.Errorf("SquadEvaluate(no refs) = %+v, want zeros", got)
	}
	if em, f := SquadScore("x", nil); em != 0 || f != 0 {
		t.Errorf("SquadScore without golds = %v %v, want 0 0", em, f)
	}
}

func BenchmarkSquadF1(b *testing.B) {
	pred := "the Denver Broncos defeated the Carolina Panthers 24–10"
	gold := "Denver Broncos"
	for b.Loop() {
		SquadF1(pred, gold)
	}
}
