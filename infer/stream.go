package infer

import (
	"strings"
	"unicode/utf8"
)

// TextStream turns generated token ids into text as it is produced, for every streaming consumer
// (tern generate's terminal, the server's completions and chat events): it releases whole UTF-8
// characters only (a BPE token can end inside one), and with stop strings it finds the first stop
// as soon as it is complete and holds back only a tail that could still become one. The stop
// search looks only at text that could contain a stop ending in the newest piece, so a completion of
// n characters costs O(n·longest stop) in all, not O(n²) from rescanning.
type TextStream struct {
	decode  func(ids []int) string
	stops   []string
	hold    int    // longest stop minus one byte: the tail a stop could still start in
	pending []int  // ids of a character still incomplete
	text    []byte // the text so far (without a stop string found)
	sent    int    // bytes of text released
	stopped bool
	tokens  int
}

// NewTextStream returns a stream that decodes with decode (a tokenizer's Decode of a few ids) and
// ends at the first of stops (none: never).
func NewTextStream(decode func(ids []int) string, stops []string) *TextStream {
	s := &TextStream{decode: decode}
	for _, st := range stops {
		if st != "" {
			s.stops = append(s.stops, st)
			s.hold = max(s.hold, len(st)-1)
		}
	}
	return s
}

// Push adds the next token and returns the text that may be released now, and whether a stop string
// is complete (the stream then holds the text before it; later pushes are ignored).
func (s *TextStream) Push(id int) (piece string, stop bool) {
	if s.stopped {
		return "", true
	}
	s.tokens++
	s.pending = append(s.pending, id)
	dec := s.decode(s.pending)
	if !utf8.ValidString(dec) {
		return "", false // wait for the rest of the character
	}
	s.pending = s.pending[:0]
	old := len(s.text)
	s.text = append(s.text, dec...)
	if len(s.stops) > 0 {
		// A stop that ends in the new piece starts at most hold bytes before it.
		from := max(0, old-s.hold)
		first := -1
		for _, st := range s.stops {
			if i := strings.Index(string(s.text[from:]), st); i >= 0 && (first < 0 || from+i < first) {
				first = from + i
			}
		}
		if first >= 0 {
			s.text = s.text[:first]
			s.stopped = true
			return s.release(len(s.text)), true
		}
	}
	safe := len(s.text) - s.hold
	for safe > s.sent && safe < len(s.text) && !utf8.RuneStart(s.text[safe]) {
		safe--
	}
	return s.release(safe), false
}

// release returns text[sent:upto] and marks it sent.
func (s *TextStream) release(upto int) string {
	if upto <= s.sent {
		return ""
	}
	p := string(s.text[s.sent:upto])
	s.sent = upto
	return p
}

// Finish ends the stream and returns what was held back: the tail kept for a stop string that never
// came, and an incomplete character at the end as the tokenizer decodes it.
func (s *TextStream) Finish() string {
	if !s.stopped && len(s.pending) > 0 {
		s.text = append(s.text, s.decode(s.pending)...)
		s.pending = s.pending[:0]
	}
	return s.release(len(s.text))
}

// Text is the whole text so far (the stop string excluded), released or not.
func (s *TextStream) Text() string { return string(s.text) }

// Tokens is the number of tokens pushed before the stream stopped.
func (s *TextStream) Tokens() int { return s.tokens }

// Stopped reports whether a stop string ended the stream.
func (s *TextStream) Stopped() bool { return s.stopped }
