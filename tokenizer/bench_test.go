package tokenizer

import (
	"os"
	"path/filepath"
	"testing"

	"tern/internal/testenv"
)

// benchText is one Gutenberg training book (Pride and Prejudice, 0.7 MB).
func benchText(b *testing.B) string {
	data, err := os.ReadFile(testenv.SharedData(b, "gutenberg", "pg1342_austen_pride-and-prejudice.txt"))
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

// BenchmarkEncodeGPT2 times one core; "cold" empties the word cache before every pass.
func BenchmarkEncodeGPT2(b *testing.B) {
	tok := mustGPT2(b)
	text := benchText(b)
	for _, cold := range []bool{true, false} {
		name := map[bool]string{true: "cold", false: "warm"}[cold]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			buf := tok.AppendEncode(nil, text)
			clk := startCPU()
			for b.Loop() {
				if cold {
					tok.ResetCache()
				}
				buf = tok.AppendEncode(buf[:0], text)
			}
			clk.report(b, int64(len(text)))
		})
	}
}

func BenchmarkPretokenize(b *testing.B) {
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	clk := startCPU()
	for b.Loop() {
		for i := 0; i < len(text); {
			i = pretokenEnd(text, i)
		}
	}
	clk.report(b, int64(len(text)))
}

func BenchmarkEncodeParallel(b *testing.B) {
	tok := mustGPT2(b)
	dir := testenv.SharedData(b, "gutenberg")
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	var docs []string
	n := 0
	for _, f := range files[:min(len(files), 16)] {
		d, _ := os.ReadFile(f)
		docs = append(docs, string(d))
		n += len(d)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		tok.ResetCache()
		tok.EncodeParallel(docs, 0)
	}
}

func BenchmarkTrain(b *testing.B) {
	text := benchText(b)
	counts := CountWords([]string{text}, nil)
	for b.Loop() {
		if _, err := TrainCounts(counts, TrainConfig{VocabSize: 8000}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeLongWords times the heap merge (words above longWord bytes: long digit and symbol
// runs, base64, minified code: here letters only, 300-350 a word), cold so every word is merged.
func BenchmarkEncodeLongWords(b *testing.B) {
	tok := mustGPT2(b)
	var sb []byte
	for i := range 400 {
		for j := range 300 + i%50 {
			sb = append(sb, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[(i*7+j*13)%52])
		}
		sb = append(sb, ' ')
	}
	text := string(sb)
	b.SetBytes(int64(len(text)))
	buf := tok.AppendEncode(nil, text)
	for b.Loop() {
		tok.ResetCache()
		buf = tok.AppendEncode(buf[:0], text)
	}
}
