package tokenizer

import (
	"context"
	"strings"
	"unicode/utf8"
)

// EncodeContext is a.Encode32(text) in chunks of about chunk bytes, checking ctx between them, so a
// signal during the tokenization of a large corpus is acted on within a chunk's time (a 50 MB corpus
// in one call took 19 s to notice SIGTERM). Chunks end only before a line that starts a new word, the
// same cut as eval's streaming reader: byte-level BPE then sees exactly the pre-tokens of the whole
// text ("\n" and " The" are separate pre-tokens; "\n\n" and "\n  x" are not cut), so the ids are
// identical to one Encode32 of the whole text. The newline must also follow a non-space: in
// "?\n\nGREMIO" the whole text's pre-tokens are "\n", "\n" (a whitespace run before a word gives up
// its last character), but a chunk ending in "?\n\n" would make them one "\n\n".
func EncodeContext(ctx context.Context, a Adapter, text string, chunk int) ([]int32, error) {
	if chunk <= 0 {
		chunk = 1 << 20
	}
	var out []int32
	for len(text) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := cutAfter(text, chunk)
		// A text with no safe cut (one 50 MB line) is one long chunk: encode it aside and stop
		// waiting when ctx ends (the caller exits; the abandoned encode dies with the process).
		done := make(chan []int32, 1)
		go func(piece string) { done <- a.Encode32(piece) }(text[:n])
		select {
		case ids := <-done:
			out = append(out, ids...)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		text = text[n:]
	}
	return out, nil
}

// cutAfter returns the length of the first chunk of text: the first safe cut at or after min bytes,
// or all of text when there is none.
func cutAfter(text string, min int) int {
	for i := min; i < len(text); {
		j := strings.IndexByte(text[i:], '\n')
		if j < 0 {
			return len(text)
		}
		cut := i + j + 1 // just after the newline
		if CanCut(text[:cut], text[cut:]) {
			return cut
		}
		i = cut
	}
	return len(text)
}

// CanCut reports whether byte-level BPE (and every other tern tokenizer) encodes before+after as the
// concatenation of encoding each: before ends in a newline that follows a non-space, and after
// starts a word (see EncodeContext). Streaming readers cut their text only where it holds.
func CanCut(before, after string) bool {
	if len(before) < 2 || before[len(before)-1] != '\n' {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(before[:len(before)-1])
	return r != utf8.RuneError && !isSpace(r) && startsWord(after)
}

// startsWord: rest begins with a non-space, or one space and then a non-space.
func startsWord(rest string) bool {
	r, n := utf8.DecodeRuneInString(rest)
	if n == 0 || isSpace(r) {
		if r != ' ' {
			return false
		}
		r2, n2 := utf8.DecodeRuneInString(rest[1:])
		return n2 > 0 && !isSpace(r2)
	}
	return true
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xA0:
		return true
	}
	return r > 0xff && strings.ContainsRune("\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", r)
}
