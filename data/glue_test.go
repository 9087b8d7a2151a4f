// Tests for the GLUE readers: official counts on the shared files (skipped without them) and
// malformed inputs built here from strings (no GLUE text is copied into the repository).

package data

import (
	"errors"
	"strings"
	"testing"

	"tern/internal/testdata"
)

func countLabels[T any](xs []T, label func(T) int) (pos, neg int) {
	for _, x := range xs {
		switch label(x) {
		case 1:
			pos++
		case 0:
			neg++
		}
	}
	return pos, neg
}

func TestReadSST2(t *testing.T) {
	path := testdata.SharedData(t, "glue-sst2", "dev.tsv")
	xs, err := ReadSST2(path)
	if err != nil {
		t.Fatal(err)
	}
	// GLUE SST-2 dev: 872 sentences, 444 positive / 428 negative.
	pos, neg := countLabels(xs, func(x SentenceExample) int { return x.Label })
	if len(xs) != 872 || pos != 444 || neg != 428 {
		t.Errorf("SST-2 dev: %d examples (%d pos, %d neg), want 872 (444, 428)", len(xs), pos, neg)
	}
	// The text is kept as in the file: lower-cased PTB tokens with the space before the tab.
	if x := xs[0]; !strings.HasSuffix(x.Text, " ") || strings.Contains(x.Text, "\t") {
		t.Errorf("first sentence %q: want the file's trailing space and no tab", x.Text)
	}
	train, err := ReadSST2(testdata.SharedData(t, "glue-sst2", "train.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	// Train: 67,349 phrases, 37,569 positive / 29,780 negative.
	if pos, neg := countLabels(train, func(x SentenceExample) int { return x.Label }); len(train) != 67349 || pos != 37569 || neg != 29780 {
		t.Errorf("SST-2 train: %d (%d/%d), want 67349 (37569/29780)", len(train), pos, neg)
	}
	test, err := ReadSST2(testdata.SharedData(t, "glue-sst2", "test.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(test) != 1821 || test[0].Label != -1 {
		t.Errorf("SST-2 test: %d examples, label %d; want 1821 unlabelled", len(test), test[0].Label)
	}
}

func TestReadCoLA(t *testing.T) {
	cases := []struct {
		file          string
		n, pos, neg   int
		firstSourceCo string
	}{
		{"in_domain_dev.tsv", 527, 365, 162, "gj04"},
		{"out_of_domain_dev.tsv", 516, 354, 162, ""}, // this file has no final newline
		{"in_domain_train.tsv", 8551, 6023, 2528, "gj04"},
	}
	for _, c := range cases {
		xs, err := ReadCoLA(testdata.SharedData(t, "glue-cola", "raw", c.file))
		if err != nil {
			t.Fatal(err)
		}
		pos, neg := countLabels(xs, func(x SentenceExample) int { return x.Label })
		if len(xs) != c.n || pos != c.pos || neg != c.neg {
			t.Errorf("CoLA %s: %d (%d/%d), want %d (%d/%d)", c.file, len(xs), pos, neg, c.n, c.pos, c.neg)
		}
		if c.firstSourceCo != "" && xs[0].Source != c.firstSourceCo {
			t.Errorf("CoLA %s: source %q, want %q", c.file, xs[0].Source, c.firstSourceCo)
		}
		for i, x := range xs {
			// Acceptable sentences carry no judgement mark (one row's mark is a lone space).
			if x.Label == 1 && x.Mark != "" {
				t.Errorf("CoLA %s row %d: label %d with mark %q", c.file, i+1, x.Label, x.Mark)
				break
			}
		}
	}
}

func TestReadMRPC(t *testing.T) {
	xs, err := ReadMRPC(testdata.SharedData(t, "glue-mrpc", "dev.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	// GLUE MRPC dev: 408 pairs, 279 paraphrases / 129 not.
	pos, neg := countLabels(xs, func(x PairExample) int { return x.Label })
	if len(xs) != 408 || pos != 279 || neg != 129 {
		t.Errorf("MRPC dev: %d (%d/%d), want 408 (279/129)", len(xs), pos, neg)
	}
	for i, x := range xs {
		if x.ID1 == "" || x.ID2 == "" || x.Text1 == "" || x.Text2 == "" {
			t.Fatalf("MRPC dev row %d has an empty field: %+v", i+2, x)
		}
	}
	train, err := ReadMRPC(testdata.SharedData(t, "glue-mrpc", "train.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	// Train: 3,668 pairs, 2,474 / 1,194.
	if pos, neg := countLabels(train, func(x PairExample) int { return x.Label }); len(train) != 3668 || pos != 2474 || neg != 1194 {
		t.Errorf("MRPC train: %d (%d/%d), want 3668 (2474/1194)", len(train), pos, neg)
	}
	test, err := ReadMRPC(testdata.SharedData(t, "glue-mrpc", "test.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(test) != 1725 || test[0].Label != -1 {
		t.Errorf("MRPC test: %d examples, label %d; want 1725 unlabelled", len(test), test[0].Label)
	}
}

// wantParseError checks that err is a *ParseError at the given line whose message names the file
// and contains cause.
func wantParseError(t *testing.T, err error, name string, line int, cause string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want *ParseError", err, err)
	}
	if pe.Path != name || pe.Line != line || !strings.Contains(err.Error(), cause) || !strings.Contains(err.Error(), name) {
		t.Errorf("error %q (line %d), want %s line %d containing %q", err, pe.Line, name, line, cause)
	}
}

func TestGLUEMalformed(t *testing.T) {
	_, err := ParseSST2(strings.NewReader("sentence\tlabel\ngood film \t1\nbad film \t2\n"), "s.tsv")
	wantParseError(t, err, "s.tsv", 3, `label "2" is not 0 or 1`)
	_, err = ParseSST2(strings.NewReader("sentence\tlabel\ngood film 1\n"), "s.tsv")
	wantParseError(t, err, "s.tsv", 2, "want 2 tab-separated columns, got 1")
	_, err = ParseSST2(strings.NewReader("text\tlabel\n"), "s.tsv")
	wantParseError(t, err, "s.tsv", 1, "header")
	_, err = ParseSST2(strings.NewReader("sentence\tlabel\n"), "s.tsv")
	wantParseError(t, err, "s.tsv", 0, "no examples")

	_, err = ParseCoLA(strings.NewReader("src1\t1\t\tA fine sentence.\nsrc1\t0\t*\n"), "c.tsv")
	wantParseError(t, err, "c.tsv", 2, "want 4 tab-separated columns")
	_, err = ParseCoLA(strings.NewReader("src1\tyes\t\tA fine sentence.\n"), "c.tsv")
	wantParseError(t, err, "c.tsv", 1, `label "yes"`)

	hdr := "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
	xs, err := ParseMRPC(strings.NewReader(hdr+"1\t11\t12\tOne \"quoted\tTwo.\n0\t13\t14\tThree.\tFour."), "m.tsv")
	if err != nil || len(xs) != 2 || xs[0].Text1 != `One "quoted` || xs[1] != (PairExample{"13", "14", "Three.", "Four.", 0}) {
		t.Errorf("MRPC with BOM, bare quote, no final newline: %+v, %v", xs, err)
	}
	_, err = ParseMRPC(strings.NewReader(hdr+"1\t11\t12\tOnly one string\n"), "m.tsv")
	wantParseError(t, err, "m.tsv", 2, "want 5 tab-separated columns, got 4")
	_, err = ParseMRPC(strings.NewReader(hdr+"x\t11\t12\ta\tb\n"), "m.tsv")
	wantParseError(t, err, "m.tsv", 2, `label "x"`)

	if _, err := ReadMRPC("/nonexistent/dev.tsv"); err == nil || !strings.Contains(err.Error(), "/nonexistent/dev.tsv") {
		t.Errorf("missing file: %v", err)
	}
}
