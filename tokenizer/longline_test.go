package tokenizer

import (
	"runtime"
	"strings"
	"testing"
)

// TestLongPretokenBounded reproduces the 50 MB line without whitespace (22 s and 3.4 GB as one
// pre-token), at 2 MB: it is merged in maxPretoken pieces, so memory stays near the output's size, and
// the ids decode back to the text. Text of ordinary words is unaffected (ref_test.go checks it against
// tiktoken).
func TestLongPretokenBounded(t *testing.T) {
	b, err := GPT2()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("abcdefghij", 200_000) // 2 MB of letters: one pre-token
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	ids := b.Encode(text)
	runtime.ReadMemStats(&m1)
	if got := b.Decode(ids); got != text {
		t.Fatalf("decode(encode) differs")
	}
	// About 11 bytes per input byte, mostly the growing []int of ids; one whole-text heap merge
	// allocated ~68 bytes per byte (3.4 GB for 50 MB).
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > uint64(len(text))*20 {
		t.Errorf("encoding %d bytes allocated %d bytes", len(text), alloc)
	}
	// Below the bound nothing changes: a word of maxPretoken bytes encodes as before (one piece).
	w := strings.Repeat("x", maxPretoken)
	if got, want := b.Encode(w), b.mergeHeap(b.getState(), w); len(got) != len(want) {
		t.Errorf("a %d-byte word: %d ids, heap merge gives %d", maxPretoken, len(got), len(want))
	}
}
