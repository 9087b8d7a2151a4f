package tokenizer

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"tern/data"
)

// TestEncodeContextSameIDs: chunked encoding gives exactly the ids of one Encode32 over the whole
// text, for byte-level BPE (whose pre-tokens must not be cut) and char, at small chunk sizes that put
// cuts everywhere, including texts with runs of newlines and indented lines.
func TestEncodeContextSameIDs(t *testing.T) {
	c, err := data.LoadCorpus("tinyshakespeare")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{c.Valid, "a\n\n\nb\n c\n  d\n\te\n \n'tis\n 7\n\u3000x\n" + strings.Repeat("word\n", 50)}
	for _, name := range []string{"gpt2", "char"} {
		a, err := NewAdapter(name, c.Valid+texts[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range texts {
			want := a.Encode32(text)
			for _, chunk := range []int{1, 7, 100, 4096} {
				got, err := EncodeContext(context.Background(), a, text, chunk)
				if err != nil || !slices.Equal(got, want) {
					t.Fatalf("%s, chunk %d: %d ids, want %d (%v)", name, chunk, len(got), len(want), err)
				}
			}
		}
	}
}

// TestEncodeContextCanceled: a canceled context stops encoding with its error.
func TestEncodeContextCanceled(t *testing.T) {
	a, _ := NewAdapter("gpt2", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := EncodeContext(ctx, a, strings.Repeat("some text\n", 1000), 64); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// TestEncodeContextLongLine: a text with no place to cut (a 2 MB line without whitespace) is still
// abandoned when ctx ends, not encoded to its end (SIGTERM took 19 s to act on such a corpus).
func TestEncodeContextLongLine(t *testing.T) {
	a, _ := NewAdapter("gpt2", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := EncodeContext(ctx, a, strings.Repeat("abcdefghij", 200_000), 1<<20); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("2 MB line, 1 ms deadline: %v", err)
	}
}
