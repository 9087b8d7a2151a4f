// GLUE task readers for the TSV files as distributed: SST-2 (`sentence<TAB>label` with a header),
// CoLA (the creators' raw files: no header, `source<TAB>label<TAB>mark<TAB>sentence`) and MRPC
// (`Quality<TAB>#1 ID<TAB>#2 ID<TAB>#1 String<TAB>#2 String` with a header and a UTF-8 BOM).
//
// Fields are split on tabs only, with no quote processing (GLUE's own readers use
// csv.QUOTE_NONE): MRPC strings contain unbalanced `"`. Text is kept byte for byte, including
// SST-2's space before the tab, as the Hugging Face `glue` datasets keep it. Unlabelled test files
// (header starting with `index`) read with Label -1.

package data

import (
	"io"
	"strings"
)

// SentenceExample is a single-sentence classification example (SST-2, CoLA).
type SentenceExample struct {
	Text   string
	Label  int    // SST-2: 1 positive, 0 negative; CoLA: 1 acceptable, 0 not; -1 unlabelled
	Source string // CoLA: code of the source publication, e.g. "gj04"; empty for SST-2
	Mark   string // CoLA: the author's original judgement mark ("*", "?", "??", ...); usually empty
}

// PairExample is a sentence-pair classification example (MRPC).
type PairExample struct {
	ID1, ID2     string // MSR sentence IDs
	Text1, Text2 string
	Label        int // 1 paraphrase, 0 not; -1 unlabelled (test.tsv)
}

// parseLabel accepts exactly "0" or "1".
func parseLabel(s, name string, n int) (int, error) {
	switch s {
	case "0":
		return 0, nil
	case "1":
		return 1, nil
	}
	return 0, parseErr(name, n, "label %q is not 0 or 1", s)
}

// ReadSST2 reads a GLUE SST-2 TSV (train.tsv, dev.tsv, or the unlabelled test.tsv).
func ReadSST2(path string) ([]SentenceExample, error) { return readFile(path, ParseSST2) }

// ParseSST2 reads SST-2 TSV from r; name is used in errors. The header decides the layout:
// `sentence<TAB>label` (train/dev) or `index<TAB>sentence` (test, Label -1).
func ParseSST2(r io.Reader, name string) ([]SentenceExample, error) {
	var out []SentenceExample
	test := false
	err := eachLine(r, name, func(n int, line string) error {
		cols := strings.Split(line, "\t")
		if n == 1 {
			switch line {
			case "sentence\tlabel":
			case "index\tsentence":
				test = true
			default:
				return parseErr(name, n, "header %q is not \"sentence<TAB>label\" or \"index<TAB>sentence\"", line)
			}
			return nil
		}
		if len(cols) != 2 {
			return parseErr(name, n, "want 2 tab-separated columns, got %d", len(cols))
		}
		if test {
			out = append(out, SentenceExample{Text: cols[1], Label: -1})
			return nil
		}
		label, err := parseLabel(cols[1], name, n)
		if err != nil {
			return err
		}
		out = append(out, SentenceExample{Text: cols[0], Label: label})
		return nil
	})
	return examples(out, err, name)
}

// ReadCoLA reads one of the creators' raw CoLA TSV files (in_domain_train.tsv, in_domain_dev.tsv,
// out_of_domain_dev.tsv). GLUE's CoLA train.tsv is in_domain_train.tsv; GLUE dev.tsv is
// in_domain_dev.tsv followed by out_of_domain_dev.tsv.
func ReadCoLA(path string) ([]SentenceExample, error) { return readFile(path, ParseCoLA) }

// ParseCoLA reads headerless 4-column CoLA TSV from r; name is used in errors.
func ParseCoLA(r io.Reader, name string) ([]SentenceExample, error) {
	var out []SentenceExample
	err := eachLine(r, name, func(n int, line string) error {
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			return parseErr(name, n, "want 4 tab-separated columns (source, label, mark, sentence), got %d", len(cols))
		}
		label, err := parseLabel(cols[1], name, n)
		if err != nil {
			return err
		}
		out = append(out, SentenceExample{Text: cols[3], Label: label, Source: cols[0], Mark: strings.TrimSpace(cols[2])})
		return nil
	})
	return examples(out, err, name)
}

// ReadMRPC reads a GLUE MRPC TSV (train.tsv, dev.tsv, or the unlabelled test.tsv).
func ReadMRPC(path string) ([]PairExample, error) { return readFile(path, ParseMRPC) }

// ParseMRPC reads MRPC TSV from r; name is used in errors. The first column header decides whether
// it is labelled (`Quality`) or not (`index`, Label -1).
func ParseMRPC(r io.Reader, name string) ([]PairExample, error) {
	var out []PairExample
	test := false
	err := eachLine(r, name, func(n int, line string) error {
		cols := strings.Split(line, "\t")
		if n == 1 {
			switch line {
			case "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String":
			case "index\t#1 ID\t#2 ID\t#1 String\t#2 String":
				test = true
			default:
				return parseErr(name, n, "header %q is not MRPC's (Quality or index, #1 ID, #2 ID, #1 String, #2 String)", line)
			}
			return nil
		}
		if len(cols) != 5 {
			return parseErr(name, n, "want 5 tab-separated columns, got %d", len(cols))
		}
		ex := PairExample{ID1: cols[1], ID2: cols[2], Text1: cols[3], Text2: cols[4], Label: -1}
		if !test {
			label, err := parseLabel(cols[0], name, n)
			if err != nil {
				return err
			}
			ex.Label = label
		}
		out = append(out, ex)
		return nil
	})
	return examples(out, err, name)
}

// examples is a parser's result: its error, or out, which must not be empty.
func examples[T any](out []T, err error, name string) ([]T, error) {
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, parseErr(name, 0, "no examples")
	}
	return out, nil
}
