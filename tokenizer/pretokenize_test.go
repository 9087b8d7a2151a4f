package tokenizer

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// refSplit is an independent pre-tokenizer built on Go's regexp: the pattern without its lookahead
// alternative, whose effect (\s+(?!\S) gives back the last whitespace character before a non-space)
// is applied afterwards. \s is spelled out as Unicode White_Space, which Go's \s (ASCII) is not.
var refPattern = regexp.MustCompile(`'s|'t|'re|'ve|'m|'ll|'d| ?\pL+| ?\pN+| ?[^` + ws + `\pL\pN]+|[` + ws + `]+`)

const ws = `\t\n\v\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`

var wsRun = regexp.MustCompile(`^[` + ws + `]+$`)

func refSplit(s string) []string {
	// Invalid bytes become U+FFFD one by one first (the regexp would do the same per byte), and
	// pieces are mapped back by byte offsets, tracked through the substitution.
	var clean strings.Builder
	var offs []int // offs[k] = original offset of clean byte k
	for i, r := range s {
		w := utf8.RuneLen(r)
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				w = 3
			}
		}
		clean.WriteRune(r)
		for k := 0; k < w; k++ {
			offs = append(offs, i)
		}
	}
	offs = append(offs, len(s))
	c := clean.String()
	var cuts []int // piece ends in clean offsets
	for i := 0; i < len(c); {
		loc := refPattern.FindStringIndex(c[i:])
		j := i + loc[1]
		if wsRun.MatchString(c[i:j]) && j < len(c) {
			// lookahead: give back the last whitespace character if one stays (the next piece,
			// e.g. " word", takes it); a lone one is kept (\s+ alternative).
			if _, w := utf8.DecodeLastRuneInString(c[i:j]); j-w > i {
				j -= w
			}
		}
		cuts = append(cuts, j)
		i = j
	}
	var out []string
	prev := 0
	for _, j := range cuts {
		out = append(out, s[prev:offs[j]])
		prev = offs[j]
	}
	return out
}

func TestPretokenizeHandWorked(t *testing.T) {
	cases := map[string][]string{
		"Hello world":          {"Hello", " world"},
		"I'm   here\n\n there": {"I", "'m", "  ", " here", "\n\n", " there"},
		"a  b":                 {"a", " ", " b"},
		"a \nb":                {"a", " ", "\n", "b"},
		"x   ":                 {"x", "   "},
		"it's 2024!!":          {"it", "'s", " 2024", "!!"},
		"'sup 'LL 'll":         {"'s", "up", " '", "LL", " '", "ll"},
		"3.14 ½x":              {"3", ".", "14", " ½", "x"},
		"é\u0301 ..":           {"é", "\u0301", " .."},
	}
	for in, want := range cases {
		if got := Pretokenize(in); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("Pretokenize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPretokenizeMatchesRegexp compares with refSplit on random strings over an alphabet chosen
// for the pattern's corners.
func TestPretokenizeMatchesRegexp(t *testing.T) {
	alphabet := []string{"a", "Z", "é", "中", "1", "٣", "½", " ", " ", "\n", "\t", "\r", "\u00a0", "\u3000", "\u0085",
		"'", "s", "t", "l", "r", "e", "v", "m", "d", "!", ".", "👍", "\u0301", "\xff", "\xe2\x82", "\x00"}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := rng.Intn(24); k >= 0; k-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		s := b.String()
		got, want := Pretokenize(s), refSplit(s)
		if strings.Join(got, "\x00|") != strings.Join(want, "\x00|") {
			t.Fatalf("Pretokenize(%q) = %q, regexp reference %q", s, got, want)
		}
	}
}
