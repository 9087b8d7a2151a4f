// char.go: a character-level tokenizer for quick experiments: the vocabulary is the sorted set of
// distinct runes of a corpus, and id = position in that list. It is not byte-exact: invalid UTF-8
// reads as U+FFFD, and runes outside the vocabulary are dropped by Encode.

package tokenizer

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Char is a character-level tokenizer; safe for concurrent use.
type Char struct {
	runes []rune       // id -> rune, ascending
	index map[rune]int // rune -> id
}

// NewChar builds the vocabulary from the distinct runes of text, sorted by code point.
func NewChar(text string) *Char {
	seen := map[rune]bool{}
	for _, r := range text {
		seen[r] = true
	}
	runes := make([]rune, 0, len(seen))
	for r := range seen {
		runes = append(runes, r)
	}
	slices.Sort(runes)
	return newCharFromRunes(runes)
}

func newCharFromRunes(runes []rune) *Char {
	c := &Char{runes: runes, index: make(map[rune]int, len(runes))}
	for i, r := range runes {
		c.index[r] = i
	}
	return c
}

// Name returns "char".
func (c *Char) Name() string { return "char" }

// VocabSize returns the number of distinct runes.
func (c *Char) VocabSize() int { return len(c.runes) }

// Runes returns the vocabulary (id -> rune); the slice must not be modified.
func (c *Char) Runes() []rune { return c.runes }

// Encode returns one id per rune of text, dropping runes outside the vocabulary.
func (c *Char) Encode(text string) []int {
	out := make([]int, 0, len(text))
	for _, r := range text {
		if id, ok := c.index[r]; ok {
			out = append(out, id)
		}
	}
	return out
}

// Unknown counts the runes of text outside the vocabulary (those Encode drops), so that a measure
// per character can say how many it did not score.
func (c *Char) Unknown(text string) int {
	n := 0
	for _, r := range text {
		if _, ok := c.index[r]; !ok {
			n++
		}
	}
	return n
}

// EncodeChecked is Encode, but a rune outside the vocabulary is an error.
func (c *Char) EncodeChecked(text string) ([]int, error) {
	out := make([]int, 0, len(text))
	for i, r := range text {
		id, ok := c.index[r]
		if !ok {
			return nil, fmt.Errorf("tokenizer: character %q at byte %d is not in the char vocabulary (%d characters)", r, i, len(c.runes))
		}
		out = append(out, id)
	}
	return out, nil
}

// Decode returns the runes of ids, skipping unknown ids.
func (c *Char) Decode(ids []int) string {
	out := make([]byte, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < len(c.runes) {
			out = utf8.AppendRune(out, c.runes[id])
		}
	}
	return string(out)
}

// DecodeChecked is Decode, but an unknown id is an error.
func (c *Char) DecodeChecked(ids []int) (string, error) {
	for i, id := range ids {
		if id < 0 || id >= len(c.runes) {
			return "", fmt.Errorf("%w: %d at position %d (vocabulary size %d)", ErrUnknownID, id, i, len(c.runes))
		}
	}
	return c.Decode(ids), nil
}

// charJSON is the serialized form: {"type":"char","chars":"\n !,.ab..."}; chars lists the
// vocabulary in id order as one string.
type charJSON struct {
	Type  string `json:"type"`
	Chars string `json:"chars"`
}

// MarshalJSON writes the vocabulary so a model file can carry its tokenizer.
func (c *Char) MarshalJSON() ([]byte, error) {
	return json.Marshal(charJSON{Type: "char", Chars: string(c.runes)})
}

// UnmarshalCharJSON restores a Char written by MarshalJSON.
func UnmarshalCharJSON(data []byte) (*Char, error) {
	var j charJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("tokenizer: char vocabulary: %w", err)
	}
	if j.Type != "char" {
		return nil, fmt.Errorf("tokenizer: char vocabulary: type %q, want \"char\"", j.Type)
	}
	if !utf8.ValidString(j.Chars) {
		return nil, fmt.Errorf("tokenizer: char vocabulary: invalid UTF-8")
	}
	runes := []rune(j.Chars)
	for i := 1; i < len(runes); i++ {
		if runes[i] <= runes[i-1] {
			return nil, fmt.Errorf("tokenizer: char vocabulary: characters not strictly ascending at %d (%q after %q)", i, runes[i], runes[i-1])
		}
	}
	return newCharFromRunes(runes), nil
}
