// CoNLL-2003 NER reader: one token per line, `TOKEN POS CHUNK NER` separated by spaces, a blank
// line ends a sentence, `-DOCSTART- -X- -X- O` lines mark documents. Tags are validated as IOB
// (O, B-TYPE, I-TYPE) but IOB1 vs IOB2 is not enforced: the shared data is IOB2, the original
// eng.* files are IOB1, and both read.
//
// This file also holds what every line-based task reader in this package shares: ParseError (file,
// line, cause) and the line iterator.

package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ParseError reports malformed input: the file (or the name given to a Parse function), the
// 1-based line (0 when the error is not tied to a line) and the cause.
type ParseError struct {
	Path string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("data: %s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("data: %s: %v", e.Path, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

func parseErr(path string, line int, format string, args ...any) error {
	return &ParseError{Path: path, Line: line, Err: fmt.Errorf(format, args...)}
}

// eachLine calls fn with every line of r (1-based number, without "\n" or "\r\n"; a last line
// without a newline is included). A UTF-8 byte order mark on line 1 is dropped. Lines may be of
// any length (no bufio.Scanner token limit). Read errors come back as ParseError.
func eachLine(r io.Reader, name string, fn func(n int, line string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return &ParseError{Path: name, Line: n, Err: err}
		}
		if len(line) > 0 {
			line = strings.TrimSuffix(line, "\n")
			line = strings.TrimSuffix(line, "\r")
			if n == 1 {
				line = strings.TrimPrefix(line, "\ufeff")
			}
			if e := fn(n, line); e != nil {
				return e
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readFile opens path and hands it to parse, wrapping an open error with the path.
func readFile[T any](path string, parse func(io.Reader, string) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("data: read %s: %w", path, err)
	}
	defer f.Close()
	return parse(f, path)
}

// NERSentence is one CoNLL-2003 sentence; the four slices have one entry per token.
type NERSentence struct {
	Doc    int      // index of the document (count of -DOCSTART- lines seen before it, minus 1; 0 if none)
	Tokens []string // words
	POS    []string // Penn Treebank POS tags, e.g. NNP
	Chunk  []string // syntactic chunk tags, e.g. B-NP
	NER    []string // named-entity tags: O, B-PER, I-LOC, ... (types PER, ORG, LOC, MISC)
}

// ReadCoNLL2003 reads a CoNLL-2003 file (train.txt, valid.txt, test.txt).
func ReadCoNLL2003(path string) ([]NERSentence, error) {
	return readFile(path, ParseCoNLL2003)
}

// ErrBadTag is the cause of a ParseError for a tag that is not O, B-TYPE or I-TYPE.
var ErrBadTag = errors.New("bad IOB tag")

// validIOB reports whether tag is O, B-TYPE or I-TYPE with a non-empty TYPE.
func validIOB(tag string) bool {
	return tag == "O" || (len(tag) > 2 && (tag[0] == 'B' || tag[0] == 'I') && tag[1] == '-')
}

// ParseCoNLL2003 reads CoNLL-2003 data from r; name is used in errors. -DOCSTART- lines and the blank
// line after them are skipped; a document boundary also ends any open sentence.
func ParseCoNLL2003(r io.Reader, name string) ([]NERSentence, error) {
	var out []NERSentence
	cur := NERSentence{}
	doc := -1
	flush := func() {
		if len(cur.Tokens) > 0 {
			cur.Doc = max(doc, 0)
			out = append(out, cur)
		}
		cur = NERSentence{}
	}
	err := eachLine(r, name, func(n int, line string) error {
		if strings.TrimSpace(line) == "" {
			flush()
			return nil
		}
		f := strings.Fields(line)
		if f[0] == "-DOCSTART-" {
			flush()
			doc++
			return nil
		}
		if len(f) != 4 {
			return parseErr(name, n, "want 4 space-separated columns (token POS chunk NER), got %d", len(f))
		}
		if !validIOB(f[2]) {
			return &ParseError{Path: name, Line: n, Err: fmt.Errorf("%w %q in the chunk column", ErrBadTag, f[2])}
		}
		if !validIOB(f[3]) {
			return &ParseError{Path: name, Line: n, Err: fmt.Errorf("%w %q in the NER column", ErrBadTag, f[3])}
		}
		cur.Tokens = append(cur.Tokens, f[0])
		cur.POS = append(cur.POS, f[1])
		cur.Chunk = append(cur.Chunk, f[2])
		cur.NER = append(cur.NER, f[3])
		return nil
	})
	if err != nil {
		return nil, err
	}
	flush()
	return out, nil
}
