package eval

import (
	"bufio"
	"context"
	"math"
	"strings"
	"testing"

	"tern/model"
	"tern/tensor"
	"tern/tokenizer"
)

// naiveNLL scores ids with full-window Forward calls and float64 log-softmax over whole rows,
// following the sliding-window rule written out directly: windows [b, b+ctx) for b = 0, stride, ...
// each score the tokens in [max(prevEnd, b+1), end).
func naiveNLL(t *testing.T, lm model.LM, ids []int32, ctxLen, stride int) (float64, int) {
	V := lm.Config().Vocab
	var nats float64
	n, prevEnd := 0, 0
	for b := 0; ; b += stride {
		end := min(b+ctxLen, len(ids))
		w := ids[b:end]
		logits, err := lm.Forward(w, 1, len(w))
		if err != nil {
			t.Fatal(err)
		}
		for p := max(prevEnd, b+1); p < end; p++ {
			row := logits[(p-b-1)*V : (p-b)*V]
			var z float64
			for _, x := range row {
				z += math.Exp(float64(x))
			}
			nats += math.Log(z) - float64(row[ids[p]])
			n++
		}
		prevEnd = end
		if end == len(ids) {
			return nats, n
		}
	}
}

// TestEvaluateLM checks the streamed, row-subset, softmax-based scorer against naiveNLL on a tiny
// model for several window settings, and the character count.
func TestEvaluateLM(t *testing.T) {
	old := chunkBytes
	chunkBytes = 64 // many chunks: exercises the line-boundary cuts
	defer func() { chunkBytes = old }()
	text := strings.Repeat(" = Heading = \n\n The quick brown fox jumps over the lazy dog .\n Ünïcödé line , 1 @,@ 000 .\n\n", 4)
	tok, err := tokenizer.NewAdapter("char", text) // a small vocabulary keeps the float64 reference fast
	if err != nil {
		t.Fatal(err)
	}
	for _, tie := range []bool{true, false} {
		cfg := model.Config{Type: "transformer", Objective: "causal", Vocab: tok.VocabSize(), Hidden: 16, Layers: 1, Heads: 2, FFN: 32,
			MaxPos: 32, Linear: "fp32", TieEmbeddings: tie, Norm: "layernorm"}
		lm, err := model.New(cfg, tensor.NewRNG(4))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range lm.Params() {
			for i := range p.W {
				p.W[i] *= 20 // sharper distributions than the init, so errors would show
			}
		}
		ids := tok.Encode32(text)
		for _, w := range [][2]int{{32, 16}, {8, 3}, {2, 1}} {
			got, err := EvaluateLM(context.Background(), lm, tok, strings.NewReader(text), w[0], w[1], 0)
			if err != nil {
				t.Fatal(err)
			}
			nats, n := naiveNLL(t, lm, ids, w[0], w[1])
			if got.Tokens != int64(n) || math.Abs(got.Nats-nats) > 1e-4*nats {
				t.Fatalf("tie=%v window %v: %d tokens %.6f nats, naive %d tokens %.6f nats", tie, w, got.Tokens, got.Nats, n, nats)
			}
			if got.Chars != int64(len([]rune(text))) {
				t.Fatalf("chars %d, want %d", got.Chars, len([]rune(text)))
			}
		}
		got, err := EvaluateLM(context.Background(), lm, tok, strings.NewReader(text), 8, 4, 20)
		if err != nil {
			t.Fatal(err)
		}
		if nats, n := naiveNLL(t, lm, ids[:20], 8, 4); got.Tokens != int64(n) || math.Abs(got.Nats-nats) > 1e-4*nats {
			t.Fatalf("max 20 tokens: %d tokens %.6f nats, naive %d %.6f", got.Tokens, got.Nats, n, nats)
		}
	}
}

// TestTextTokensChunking: chunked tokenization equals tokenizing the whole text on WikiText-style
// lines (leading space, blank lines, headings).
func TestTextTokensChunking(t *testing.T) {
	tok, err := tokenizer.NewAdapter("gpt2", "")
	if err != nil {
		t.Fatal(err)
	}
	old := chunkBytes
	chunkBytes = 50
	defer func() { chunkBytes = old }()
	text := strings.Repeat(" = Robert Boulter = \n\n Robert Boulter is an English film , television and theatre actor .\n\n\n  two spaces\nno space\n", 5) +
		strings.Repeat("?\n\nGREMIO:\nGood morrow, neighbour Baptista.\n\nBAPTISTA:\nGood morrow.\n", 5) // Gutenberg style: blank lines before a word

	src := &textTokens{r: newReader(text), tok: tok, ctx: context.Background()}
	var got []int
	buf := make([]int, 7)
	for {
		n, err := src.ReadTokens(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	want := tok.Encode32(text)
	if len(got) != len(want) {
		t.Fatalf("%d tokens chunked, %d whole", len(got), len(want))
	}
	for i := range want {
		if got[i] != int(want[i]) {
			t.Fatalf("token %d: %d chunked, %d whole", i, got[i], want[i])
		}
	}
}

func newReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

// TestEvaluateLMHonest reproduces the wrong numbers: a char model dropping characters it
// has not seen divided bits per character by all of them (now Chars counts the scored ones and
// Skipped the others), an empty text gave "perplexity 0.00" with exit 0 (now an error), and a text
// with no newline was read whole (now a bounded line).
func TestEvaluateLMHonest(t *testing.T) {
	tok, err := tokenizer.NewAdapter("char", "abc d\n")
	if err != nil {
		t.Fatal(err)
	}
	cfg := model.Config{Type: "transformer", Objective: "causal", Vocab: tok.VocabSize(), Hidden: 8, Layers: 1, Heads: 2, FFN: 16,
		MaxPos: 16, Linear: "fp32", TieEmbeddings: true, Norm: "layernorm"}
	lm, err := model.New(cfg, tensor.NewRNG(4))
	if err != nil {
		t.Fatal(err)
	}
	text := "abc dxyz\nab zz\n" // x, y, z, z, z are unknown
	got, err := EvaluateLM(context.Background(), lm, tok, strings.NewReader(text), 8, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Skipped != 5 || got.Chars != int64(len(text)-5) || got.Tokens != int64(len(text)-5-1) {
		t.Errorf("skipped %d, chars %d, tokens %d; want 5, %d, %d", got.Skipped, got.Chars, got.Tokens, len(text)-5, len(text)-6)
	}
	if want := got.Nats / math.Ln2 / float64(len(text)-5); math.Abs(got.BitsPerChar-want) > 1e-12 {
		t.Errorf("bits/char %v, want %v (over the scored characters)", got.BitsPerChar, want)
	}
	for _, empty := range []string{"", "zzz\n"} {
		if _, err := EvaluateLM(context.Background(), lm, tok, strings.NewReader(empty), 8, 4, 0); err == nil || !strings.Contains(err.Error(), "no tokens") {
			t.Errorf("%q: %v", empty, err)
		}
	}
	old := maxLine
	maxLine = 1 << 20
	defer func() { maxLine = old }()
	if _, err := EvaluateLM(context.Background(), lm, tok, strings.NewReader(strings.Repeat("a", 2<<20)), 8, 4, 0); err == nil || !strings.Contains(err.Error(), "line longer") {
		t.Errorf("2 MB line with a 1 MB bound: %v", err)
	}
}
