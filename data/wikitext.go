// WikiText reader (WikiText-2/-103, the tokenized "v1" or raw files): the whole split as one string,
// a splitter into articles at their ` = Title = ` headings, and the official word count.
//
// Tokenization is not done here: LM evaluation feeds the raw text to the model's tokenizer. The
// word count exists to turn a total NLL into the word-level perplexity papers report.

package data

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"tern/internal/sysmem"
)

// ReadWikiText returns the contents of a WikiText file (e.g. test.txt / wiki.test.tokens) unchanged.
// It checks that the file is UTF-8.
func ReadWikiText(path string) (string, error) {
	b, err := sysmem.ReadFile(path, sysmem.TextLimit())
	if err != nil {
		return "", fmt.Errorf("data: read %s: %w", path, err)
	}
	if !utf8.Valid(b) {
		return "", parseErr(path, 0, "not valid UTF-8")
	}
	return string(b), nil
}

// WikiDoc is one article of a WikiText split.
type WikiDoc struct {
	Title string // heading text, e.g. "Robert <unk>"; empty for text before the first heading
	Text  string // the article's lines, heading line included, each ending in "\n"
}

// isWikiTitle reports whether line is an article heading " = Title = " (one '=' on each side;
// section headings " = = Section = = " have two or more).
func isWikiTitle(line string) (string, bool) {
	if !strings.HasPrefix(line, " = ") || !strings.HasSuffix(line, " = ") || len(line) < 7 {
		return "", false
	}
	title := line[3 : len(line)-3]
	if title == "" || strings.HasPrefix(title, "= ") || strings.HasSuffix(title, " =") {
		return "", false
	}
	return title, true
}

// SplitWikiTextDocs splits a WikiText split into articles. An article starts at a heading line
// ` = Title = ` that follows a blank line (or starts the text) and is followed by a blank line;
// the blank-line condition rejects formula lines such as ` = 1 <unk> / s and a nominal <unk> k = `
// in WikiText-2 test, which would otherwise cut an article in two (62 heading-like lines, 60
// articles). Joining the Text of all returned docs gives back text exactly; text before the first
// heading (WikiText starts with a blank line) is kept with the first article.
func SplitWikiTextDocs(text string) []WikiDoc {
	var lines []string
	for rest := text; rest != ""; {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			lines = append(lines, rest)
			break
		}
		lines = append(lines, rest[:i+1])
		rest = rest[i+1:]
	}
	blank := func(i int) bool {
		return i < 0 || i >= len(lines) || strings.TrimSpace(lines[i]) == ""
	}
	var docs []WikiDoc
	start, off := 0, 0 // byte offset where the current doc starts, and of the current line
	title := ""
	for i, l := range lines {
		if t, ok := isWikiTitle(strings.TrimRight(l, "\r\n")); ok && blank(i-1) && blank(i+1) {
			if len(docs) > 0 || title != "" {
				docs = append(docs, WikiDoc{Title: title, Text: text[start:off]})
				start = off
			}
			title = t
		}
		off += len(l)
	}
	if start < len(text) || len(docs) == 0 && text != "" {
		docs = append(docs, WikiDoc{Title: title, Text: text[start:]})
	}
	return docs
}

// WikiTextWords is the official WikiText token count: whitespace-separated tokens plus one <eos>
// per line (WikiText-2 test: 241,211 + 4,358 = 245,569). Word-level perplexity is
// exp(total NLL / WikiTextWords).
func WikiTextWords(text string) int {
	n := strings.Count(text, "\n")
	if text != "" && !strings.HasSuffix(text, "\n") {
		n++ // a last line without newline still gets its <eos>
	}
	return n + len(strings.Fields(text))
}
