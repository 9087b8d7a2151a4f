// SQuAD v1.1 JSON reader (SQuAD, XQuAD): articles -> paragraphs -> questions with gold answers.
// Every answer is checked against its context: answer_start is a character offset as Python
// counts them (Unicode code points), so it is converted to a byte offset before slicing the Go
// string, and a span outside the context or not equal to the answer text is an error.
//
// Not a SQuAD v2.0 reader: is_impossible / plausible_answers are ignored, and a question without
// answers is an error.

package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"tern/internal/sysmem"
)

// SquadAnswer is one gold answer span.
type SquadAnswer struct {
	Text  string
	Start int // character (code point) offset into the context, as in the JSON
	// Byte offsets into the Go context string: Context[ByteStart:ByteEnd] == Text.
	ByteStart, ByteEnd int
}

// SquadQA is one question.
type SquadQA struct {
	ID       string
	Question string
	Answers  []SquadAnswer // at least one; XQuAD has exactly one, SQuAD dev up to several
}

// SquadParagraph is one context passage and its questions.
type SquadParagraph struct {
	Context string
	QAs     []SquadQA
}

// SquadArticle is one Wikipedia article.
type SquadArticle struct {
	Title      string
	Paragraphs []SquadParagraph
}

// SquadDataset is a whole SQuAD-format file.
type SquadDataset struct {
	Version  string
	Articles []SquadArticle
}

// Questions counts the questions in d.
func (d *SquadDataset) Questions() int {
	n := 0
	for _, a := range d.Articles {
		for _, p := range a.Paragraphs {
			n += len(p.QAs)
		}
	}
	return n
}

// SplitArticles splits d by whole articles, deterministically: the first nFirst articles (in file
// order) go to first, the rest to rest. Splitting by article keeps paragraphs of one article out of
// both sides. nFirst is clamped to [0, len(d.Articles)]. The articles are shared, not copied.
func (d *SquadDataset) SplitArticles(nFirst int) (first, rest *SquadDataset) {
	nFirst = min(max(nFirst, 0), len(d.Articles))
	return &SquadDataset{Version: d.Version, Articles: d.Articles[:nFirst:nFirst]},
		&SquadDataset{Version: d.Version, Articles: d.Articles[nFirst:]}
}

// The JSON layout, as written by the SQuAD release.
type squadJSON struct {
	Version string `json:"version"`
	Data    []struct {
		Title      string `json:"title"`
		Paragraphs []struct {
			Context string `json:"context"`
			QAs     []struct {
				ID       string `json:"id"`
				Question string `json:"question"`
				Answers  []struct {
					Text        string `json:"text"`
					AnswerStart *int   `json:"answer_start"`
				} `json:"answers"`
			} `json:"qas"`
		} `json:"paragraphs"`
	} `json:"data"`
}

// ReadSquad reads a SQuAD v1.1 JSON file.
func ReadSquad(path string) (*SquadDataset, error) { return readFile(path, ParseSquad) }

// ParseSquad reads SQuAD v1.1 JSON from r; name is used in errors. Errors carry the line of the
// offending JSON (for syntax errors, or the line where the question's id appears) and the JSON path,
// e.g. data[3].paragraphs[1].qas[0].answers[0].
func ParseSquad(r io.Reader, name string) (*SquadDataset, error) {
	raw, err := sysmem.ReadAll(r, sysmem.TextLimit())
	if err != nil {
		return nil, &ParseError{Path: name, Err: err}
	}
	var js squadJSON
	if err := json.Unmarshal(raw, &js); err != nil {
		line := 0
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line = lineAt(raw, se.Offset)
		case errors.As(err, &te):
			line = lineAt(raw, te.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			line = lineAt(raw, int64(len(raw)))
		}
		return nil, &ParseError{Path: name, Line: line, Err: fmt.Errorf("invalid SQuAD JSON: %w", err)}
	}
	if js.Data == nil {
		return nil, parseErr(name, 0, "no \"data\" array")
	}
	d := &SquadDataset{Version: js.Version, Articles: make([]SquadArticle, 0, len(js.Data))}
	for ai, a := range js.Data {
		art := SquadArticle{Title: a.Title, Paragraphs: make([]SquadParagraph, 0, len(a.Paragraphs))}
		for pi, p := range a.Paragraphs {
			para := SquadParagraph{Context: p.Context, QAs: make([]SquadQA, 0, len(p.QAs))}
			// Byte offset of every code point (and of the end), for code point -> byte conversion.
			offs := make([]int, 0, len(p.Context)+1)
			for i := range p.Context {
				offs = append(offs, i)
			}
			offs = append(offs, len(p.Context))
			nChars := len(offs) - 1
			for qi, q := range p.QAs {
				where := func(format string, args ...any) error {
					return &ParseError{Path: name, Line: lineOfID(raw, q.ID),
						Err: fmt.Errorf("data[%d].paragraphs[%d].qas[%d] (id %q): %s", ai, pi, qi, q.ID, fmt.Sprintf(format, args...))}
				}
				if q.ID == "" {
					return nil, where("missing id")
				}
				if len(q.Answers) == 0 {
					return nil, where("no answers (SQuAD v1.1 has at least one per question)")
				}
				qa := SquadQA{ID: q.ID, Question: q.Question, Answers: make([]SquadAnswer, 0, len(q.Answers))}
				for ki, ans := range q.Answers {
					if ans.AnswerStart == nil {
						return nil, where("answers[%d]: missing answer_start", ki)
					}
					start := *ans.AnswerStart
					n := utf8.RuneCountInString(ans.Text)
					if start < 0 || start > nChars-n { // not start+n > nChars: 2^63-1 + n overflows
						return nil, where("answers[%d]: span [%d, %d) (characters) outside the context of %d characters",
							ki, start, start+n, nChars)
					}
					bs, be := offs[start], offs[start+n]
					if got := p.Context[bs:be]; got != ans.Text {
						return nil, where("answers[%d]: context[%d:%d] is %q, not the answer text %q", ki, start, start+n, got, ans.Text)
					}
					qa.Answers = append(qa.Answers, SquadAnswer{Text: ans.Text, Start: start, ByteStart: bs, ByteEnd: be})
				}
				para.QAs = append(para.QAs, qa)
			}
			art.Paragraphs = append(art.Paragraphs, para)
		}
		d.Articles = append(d.Articles, art)
	}
	return d, nil
}

// lineAt is the 1-based line of byte offset off in raw.
func lineAt(raw []byte, off int64) int {
	off = min(max(off, 0), int64(len(raw)))
	return 1 + bytes.Count(raw[:off], []byte{'\n'})
}

// lineOfID is the line where the JSON string "id" first appears (question ids are unique hex
// strings), or 0 when not found.
func lineOfID(raw []byte, id string) int {
	if id == "" {
		return 0
	}
	q, _ := json.Marshal(id)
	i := bytes.Index(raw, q)
	if i < 0 {
		return 0
	}
	return lineAt(raw, int64(i))
}
