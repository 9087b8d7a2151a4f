// CoNLL-U reader (Universal Dependencies, e.g. English EWT) for tagging tasks: sentences of
// syntactic words with FORM, LEMMA, UPOS, XPOS, HEAD and DEPREL, plus the `# sent_id` and `# text`
// comments. Multiword-token range lines (`3-4`) and empty nodes (`8.1`) are skipped, so Tokens
// holds exactly the integer-ID words that carry UPOS tags. Files ending in .gz are decompressed.
//
// Not a full CoNLL-U validator (FEATS, DEPS and MISC are not parsed), but the ID sequence is
// checked: word IDs must run 1, 2, 3, ... within each sentence.

package data

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// UDToken is one syntactic word of a CoNLL-U sentence.
type UDToken struct {
	Form   string // word form, e.g. "comes"
	Lemma  string // e.g. "come"
	UPOS   string // universal POS tag (17 tags), e.g. VERB
	XPOS   string // language-specific tag (PTB for English), e.g. VBZ; "_" when absent
	Head   int    // ID of the head word, 0 for the root; -1 when given as "_"
	DepRel string // universal dependency relation, e.g. nsubj
}

// UDSentence is one CoNLL-U sentence.
type UDSentence struct {
	ID     string    // from `# sent_id = ...`; empty if absent
	Text   string    // from `# text = ...`; empty if absent
	Tokens []UDToken // integer-ID words in order (Tokens[i] has ID i+1)
}

// ReadCoNLLU reads a CoNLL-U file; a path ending in ".gz" is gunzipped on the fly.
func ReadCoNLLU(path string) ([]UDSentence, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: read %s: %w", path, err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return nil, fmt.Errorf("data: read %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	return ParseCoNLLU(r, path)
}

// ParseCoNLLU reads CoNLL-U data from r; name is used in errors.
func ParseCoNLLU(r io.Reader, name string) ([]UDSentence, error) {
	var out []UDSentence
	var cur UDSentence
	open := false // inside a sentence (saw a comment or a word line since the last blank)
	startLine := 0
	flush := func() {
		if open && len(cur.Tokens) > 0 {
			out = append(out, cur)
		}
		cur, open = UDSentence{}, false
	}
	err := eachLine(r, name, func(n int, line string) error {
		if line == "" {
			if open && len(cur.Tokens) == 0 {
				return parseErr(name, startLine, "sentence has no words")
			}
			flush()
			return nil
		}
		if !open {
			open, startLine = true, n
		}
		if strings.HasPrefix(line, "#") {
			key, val, ok := strings.Cut(strings.TrimPrefix(line, "#"), "=")
			if ok {
				switch strings.TrimSpace(key) {
				case "sent_id":
					cur.ID = strings.TrimSpace(val)
				case "text":
					// Keep the text verbatim after "= " (it may have meaningful inner spacing).
					cur.Text = strings.TrimPrefix(val, " ")
				}
			}
			return nil
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 10 {
			return parseErr(name, n, "want 10 tab-separated columns, got %d", len(cols))
		}
		id := cols[0]
		if strings.ContainsAny(id, "-.") {
			// Multiword token range (3-4) or empty node (8.1): check the shape, then skip.
			if !udRangeOrEmpty(id) {
				return parseErr(name, n, "bad ID %q", id)
			}
			return nil
		}
		k, err := strconv.Atoi(id)
		if err != nil || k != len(cur.Tokens)+1 {
			return parseErr(name, n, "word ID %q out of sequence (want %d)", id, len(cur.Tokens)+1)
		}
		head := -1
		if cols[6] != "_" {
			if head, err = strconv.Atoi(cols[6]); err != nil || head < 0 {
				return parseErr(name, n, "bad HEAD %q", cols[6])
			}
		}
		if cols[3] == "" {
			return parseErr(name, n, "empty UPOS")
		}
		cur.Tokens = append(cur.Tokens, UDToken{Form: cols[1], Lemma: cols[2], UPOS: cols[3], XPOS: cols[4], Head: head, DepRel: cols[7]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if open && len(cur.Tokens) == 0 {
		return nil, parseErr(name, startLine, "sentence has no words")
	}
	flush() // a file may end without the final blank line
	return out, nil
}

// udRangeOrEmpty reports whether id looks like "N-M" (multiword token) or "N.K" (empty node).
func udRangeOrEmpty(id string) bool {
	a, b, ok := strings.Cut(id, "-")
	if !ok {
		a, b, ok = strings.Cut(id, ".")
	}
	_, e1 := strconv.Atoi(a)
	_, e2 := strconv.Atoi(b)
	return ok && e1 == nil && e2 == nil
}
