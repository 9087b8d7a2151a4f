package infer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// byteTok is a byte-level tokenizer: token i is byte i, so multi-byte characters span several tokens.
func byteTok(s string) []int {
	ids := make([]int, len(s))
	for i := range len(s) {
		ids[i] = int(s[i])
	}
	return ids
}

func byteDecode(ids []int) string {
	b := make([]byte, len(ids))
	for i, id := range ids {
		b[i] = byte(id)
	}
	return string(b)
}

// TestTextStream: every released piece is whole UTF-8; the concatenation is the text cut before the
// first complete stop string (found by strings.Index on the whole text, the brute-force reference);
// nothing that could still begin a stop is released early.
func TestTextStream(t *testing.T) {
	texts := []string{"héllo wörld, 日本語 and more", "abcSTOPdef", "aaaab", "xx\nUser: hi", "no stop at all ✓", "ST", "€€€"}
	stopSets := [][]string{nil, {"STOP"}, {"aab", "ab"}, {"\nUser:"}, {"wör", "日本"}, {"€"}, {"TOP", "STOP"}}
	for _, text := range texts {
		for _, stops := range stopSets {
			want, wantStop := text, false
			first := -1
			for _, st := range stops {
				if i := strings.Index(text, st); i >= 0 && (first < 0 || i < first) {
					first = i
				}
			}
			if first >= 0 {
				want, wantStop = text[:first], true
			}
			s := NewTextStream(byteDecode, stops)
			var got strings.Builder
			stopped := false
			for _, id := range byteTok(text) {
				p, stop := s.Push(id)
				if !utf8.ValidString(p) {
					t.Errorf("%q %q: piece %q is not whole UTF-8", text, stops, p)
				}
				got.WriteString(p)
				// released text never contains a stop's beginning that could still complete
				if !stop {
					for _, st := range stops {
						for k := 1; k < len(st); k++ {
							if strings.HasSuffix(got.String(), st[:k]) && strings.HasPrefix(text[len(got.String())-k:], st) {
								t.Errorf("%q %q: released %q, which ends with the start of a stop", text, stops, got.String())
							}
						}
					}
				}
				if stop {
					stopped = true
					break
				}
			}
			got.WriteString(s.Finish())
			if got.String() != want || stopped != wantStop || s.Text() != want {
				t.Errorf("%q stops %q: got %q (stopped %v), want %q (%v)", text, stops, got.String(), stopped, want, wantStop)
			}
		}
	}
	// an incomplete character at the end is flushed as decoded
	s := NewTextStream(byteDecode, nil)
	p, _ := s.Push(0xe6)
	if p != "" || s.Finish() != "\xe6" {
		t.Error("incomplete character not held back and flushed")
	}
}
