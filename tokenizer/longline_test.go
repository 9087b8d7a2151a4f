package tokenizer

import (
	"strings"
	"testing"
)

// TestLongPretokenBounded reproduces the 50 MB line without whitespace (22 s and 3.4 GB as one
// pre-token) at 0.5 and 2 MB: it is merged in maxPretoken pieces, so the merge's scratch (heap nodes
// and candidates, the parts, the word cache) stays at a piece's size however long the line, and the
// call's memory is its ids plus that; the ids decode back to the text. Text of ordinary words is
// unaffected (ref_test.go checks it against tiktoken). The scratch is read from the encoder state
// itself: process-wide counters (MemStats.TotalAlloc) also count other goroutines, such as the
// encode TestEncodeContextLongLine abandons, and made this test flaky.
func TestLongPretokenBounded(t *testing.T) {
	b, err := GPT2()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{50_000, 200_000} {
		text := strings.Repeat("abcdefghij", n) // 0.5 or 2 MB of letters: one pre-token
		st := newEncState()
		ids := b.appendOrdinary(st, nil, text)
		if got := b.Decode(ids); got != text {
			t.Fatalf("%d bytes: decode(encode) differs", len(text))
		}
		// append's growth leaves capacity at most 2x what a piece needs; one whole-text merge needs
		// len(text) nodes (and as many heap candidates).
		for _, s := range []struct {
			name string
			cap  int
		}{{"heap nodes", cap(st.nodes)}, {"heap candidates", cap(st.heap)}, {"parts", cap(st.parts)}, {"cache slab", cap(st.slab)}} {
			if s.cap > 2*maxPretoken {
				t.Errorf("%d bytes: the merge's %s grew to %d entries, want <= %d (2 pieces)", len(text), s.name, s.cap, 2*maxPretoken)
			}
		}
	}
	// Below the bound nothing changes: a word of maxPretoken bytes encodes as before (one piece).
	w := strings.Repeat("x", maxPretoken)
	if got, want := b.Encode(w), b.mergeHeap(b.getState(), w); len(got) != len(want) {
		t.Errorf("a %d-byte word: %d ids, heap merge gives %d", maxPretoken, len(got), len(want))
	}
}
