// pretokenize.go: GPT-2's pre-tokenizer, the r50k_base regular expression
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// written out by hand: Go's regexp has no lookahead, and a hand scanner with an ASCII class table
// is several times faster than any regexp engine. \s is Unicode White_Space (as in Rust's regex,
// which tiktoken uses), \p{L} and \p{N} are Go's unicode tables. A byte that is not valid UTF-8 is a
// one-byte "other" character, exactly like U+FFFD, so every byte string splits, and the pieces
// concatenate back to the input.

package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Character classes of the pattern.
const (
	clsOther  = iota // [^\s\p{L}\p{N}]
	clsLetter        // \p{L}
	clsNumber        // \p{N}
	clsSpace         // \s
)

var asciiClass [128]uint8

func init() {
	for c := 0; c < 128; c++ {
		asciiClass[c] = classOfRune(rune(c))
	}
}

func classOfRune(r rune) uint8 {
	switch {
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	case unicode.IsSpace(r): // Unicode White_Space, U+0085 and U+00A0 included
		return clsSpace
	}
	return clsOther
}

// classAt returns the class of the character starting at s[i] and its width in bytes.
func classAt(s string, i int) (uint8, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:]) // invalid byte: (RuneError, 1), class other
	return classOfRune(r), w
}

// pretokenEnd returns the end of the pre-token that starts at s[i] (i < len(s)). Alternatives are
// tried in the pattern's order, as a backtracking regexp engine would.
func pretokenEnd(s string, i int) int {
	n := len(s)
	c := s[i]
	if c == '\'' && i+1 < n { // 's|'t|'re|'ve|'m|'ll|'d
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < n && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < n && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	start := i
	if c == ' ' && i+1 < n { // " ?" before a letter, number or other run
		if c2 := s[i+1]; c2 < utf8.RuneSelf {
			if asciiClass[c2] != clsSpace {
				i++
			}
		} else if cls, _ := classAt(s, i+1); cls != clsSpace {
			i++
		}
	}
	var cls uint8
	j := i + 1
	if c := s[i]; c < utf8.RuneSelf {
		cls = asciiClass[c]
	} else {
		var w int
		cls, w = classAt(s, i)
		j = i + w
	}
	if cls != clsSpace {
		// \p{L}+, \p{N}+ or [^\s\p{L}\p{N}]+: extend while the class holds.
		for j < n {
			if c := s[j]; c < utf8.RuneSelf {
				if asciiClass[c] != cls {
					break
				}
				j++
				continue
			}
			k, w := classAt(s, j)
			if k != cls {
				break
			}
			j += w
		}
		return j
	}
	// \s+(?!\S) and \s+: a whitespace run that ends the text is taken whole; one followed by a
	// non-space character gives back its last character (which then starts " word" or similar),
	// unless that would leave it empty.
	last := i
	for j < n {
		k, w := classAt(s, j)
		if k != clsSpace {
			break
		}
		last = j
		j += w
	}
	if j < n && last > start {
		return last
	}
	return j
}

// Pretokenize splits s into GPT-2 pre-tokens; their concatenation is s.
func Pretokenize(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := pretokenEnd(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}
