// Package data reads tern's inputs: plain-text corpora for language modelling (a file, a folder, the
// Gutenberg split, the embedded Tiny Shakespeare) and the task datasets used by evaluation (GLUE TSV,
// CoNLL, CoNLL-U, SQuAD JSON, WikiText), and samples training windows deterministically.
package data

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"tern/internal/sysmem"
)

//go:embed embedded/tinyshakespeare.txt
var tinyShakespeare string

// TinyShakespeare returns the embedded corpus (public domain; see embedded/SOURCE.md).
func TinyShakespeare() string { return tinyShakespeare }

// Corpus is a text corpus split into training and validation text.
type Corpus struct {
	Name         string
	Train, Valid string
	Test         string // may be empty
}

// ErrEmpty is returned for a corpus without text.
var ErrEmpty = errors.New("corpus is empty")

// LoadCorpus reads a corpus named by spec:
//   - "tinyshakespeare" (embedded): first 90% train, last 10% validation;
//   - a Gutenberg-style folder with split.tsv (file<TAB>split<TAB>...; train/valid/test), bodies between the
//     Project Gutenberg START/END markers;
//   - a folder of .txt files: sorted by name, the last file (or last 10% if only one) is validation;
//   - a single text file: first 90% train, last 10% validation.
func LoadCorpus(spec string) (*Corpus, error) {
	if spec == "tinyshakespeare" || spec == "" {
		return splitText("tinyshakespeare", tinyShakespeare, 0.9), nil
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, fmt.Errorf("data: corpus %s: %w", spec, err)
	}
	if !st.IsDir() {
		b, err := sysmem.ReadFile(spec, sysmem.TextLimit())
		if err != nil {
			return nil, fmt.Errorf("data: corpus %s: %w", spec, err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, fmt.Errorf("data: corpus %s: %w", spec, ErrEmpty)
		}
		return splitText(filepath.Base(spec), string(b), 0.9), nil
	}
	if _, err := os.Stat(filepath.Join(spec, "split.tsv")); err == nil {
		return loadGutenberg(spec)
	}
	files, err := filepath.Glob(filepath.Join(spec, "*.txt"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("data: corpus folder %s: no .txt files: %w", spec, ErrEmpty)
	}
	sort.Strings(files)
	if len(files) == 1 {
		return LoadCorpus(files[0])
	}
	c := &Corpus{Name: filepath.Base(spec)}
	var tr strings.Builder
	for i, f := range files {
		b, err := sysmem.ReadFile(f, sysmem.TextLimit())
		if err != nil {
			return nil, fmt.Errorf("data: corpus %s: %w", f, err)
		}
		if i == len(files)-1 {
			c.Valid = string(b)
		} else {
			tr.Write(b)
			tr.WriteByte('\n')
		}
	}
	c.Train = tr.String()
	if strings.TrimSpace(c.Train) == "" || strings.TrimSpace(c.Valid) == "" {
		return nil, fmt.Errorf("data: corpus folder %s: %w", spec, ErrEmpty)
	}
	return c, nil
}

func splitText(name, text string, frac float64) *Corpus {
	cut := int(float64(len(text)) * frac)
	return &Corpus{Name: name, Train: text[:cut], Valid: text[cut:]}
}

// loadGutenberg reads dir/split.tsv (header: file, split, pg_ebook, words, body_words, start_marker_line,
// end_marker_line) and returns the book bodies, strictly between the marker lines, CRLF normalized to LF.
func loadGutenberg(dir string) (*Corpus, error) {
	path := filepath.Join(dir, "split.tsv")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	rows, err := ParseSplitTSV(f, path)
	if err != nil {
		return nil, err
	}
	c := &Corpus{Name: filepath.Base(dir)}
	parts := map[string]*strings.Builder{"train": {}, "valid": {}, "test": {}}
	for _, r := range rows {
		body, err := bookBody(filepath.Join(dir, r.File), r.Start, r.End)
		if err != nil {
			return nil, err
		}
		parts[r.Split].WriteString(body)
		parts[r.Split].WriteString("\n")
	}
	c.Train, c.Valid, c.Test = parts["train"].String(), parts["valid"].String(), parts["test"].String()
	if c.Train == "" || c.Valid == "" {
		return nil, fmt.Errorf("data: %s: train or valid split is empty: %w", path, ErrEmpty)
	}
	return c, nil
}

// SplitRow is one book of a Gutenberg split.tsv.
type SplitRow struct {
	File, Split string // a path inside the split's folder; train, valid or test
	Start, End  int    // 1-based marker lines; the body lies strictly between them
}

// ParseSplitTSV reads a Gutenberg split.tsv from r (path names it in errors). Book files must lie
// inside the split's folder: "../x" or an absolute path is refused, not read.
func ParseSplitTSV(r io.Reader, path string) ([]SplitRow, error) {
	var rows []SplitRow
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		cols := strings.Split(sc.Text(), "\t")
		if line == 1 {
			if len(cols) < 7 || cols[0] != "file" || cols[1] != "split" {
				return nil, fmt.Errorf("data: %s:1: header must start with file, split (got %q)", path, sc.Text())
			}
			continue
		}
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		if len(cols) < 7 {
			return nil, fmt.Errorf("data: %s:%d: want 7 columns, got %d", path, line, len(cols))
		}
		switch cols[1] {
		case "train", "valid", "test":
		default:
			return nil, fmt.Errorf("data: %s:%d: unknown split %q (want train, valid or test)", path, line, cols[1])
		}
		if !filepath.IsLocal(cols[0]) {
			return nil, fmt.Errorf("data: %s:%d: book file %q is not inside the split's folder", path, line, cols[0])
		}
		start, err1 := strconv.Atoi(cols[5])
		end, err2 := strconv.Atoi(cols[6])
		if err1 != nil || err2 != nil || start < 0 || end <= start {
			return nil, fmt.Errorf("data: %s:%d: bad marker lines %q, %q", path, line, cols[5], cols[6])
		}
		rows = append(rows, SplitRow{File: cols[0], Split: cols[1], Start: start, End: end})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return rows, nil
}

// bookBody returns lines strictly between 1-based lines start and end, with LF line endings.
func bookBody(path string, start, end int) (string, error) {
	b, err := sysmem.ReadFile(path, sysmem.TextLimit())
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if end-1 > len(lines) {
		return "", fmt.Errorf("data: %s: end marker line %d beyond %d lines", path, end, len(lines))
	}
	return strings.Join(lines[start:end-1], "\n"), nil
}
