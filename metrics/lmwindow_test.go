// Tests for the sliding-window LM evaluation with fake scorers whose totals are worked out by hand,
// and against a direct (whole-sequence-in-memory) transcription of the Hugging Face loop.

package metrics

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// unigram scores each target by -ln p(token) with p(0)=1/2, p(1)=p(2)=1/4, ignoring context.
func unigram(window []int, nTarget int) (float64, error) {
	p := []float64{0.5, 0.25, 0.25}
	nats := 0.0
	for _, id := range window[len(window)-nTarget:] {
		nats -= math.Log(p[id])
	}
	return nats, nil
}

// contextLen "scores" each target by its number of context tokens in the window, so the total
// reveals how much context every token got.
func contextLen(window []int, nTarget int) (float64, error) {
	nats := 0.0
	for i := len(window) - nTarget; i < len(window); i++ {
		nats += float64(i)
	}
	return nats, nil
}

// oneByOne yields one token per call and io.EOF only on a call that returns nothing.
type oneByOne struct{ ids []int }

func (r *oneByOne) ReadTokens(dst []int) (int, error) {
	if len(r.ids) == 0 {
		return 0, io.EOF
	}
	if len(dst) == 0 {
		return 0, nil
	}
	dst[0] = r.ids[0]
	r.ids = r.ids[1:]
	return 1, nil
}

func seq(n int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	return ids
}

func TestSlidingWindowHandWorked(t *testing.T) {
	// Unigram on a b c a a = 0 1 2 0 0: token 0 is never scored; tokens 1..4 are b c a a:
	// nats = ln4 + ln4 + ln2 + ln2 = 6 ln2, 4 tokens: loss 1.5 ln2, 1.5 bits/token, ppl 2^1.5.
	// Context does not matter for a unigram model, so every valid window gives the same total.
	for _, w := range []SlidingWindow{{2, 1}, {3, 1}, {3, 2}, {8, 3}} {
		tot, err := w.Evaluate(NewSliceTokens([]int{0, 1, 2, 0, 0}), unigram)
		if err != nil || !near(tot.Nats, 6*math.Ln2) || tot.Tokens != 4 || !near(tot.BitsPerToken(), 1.5) || !near(tot.Perplexity(), math.Pow(2, 1.5)) {
			t.Errorf("%+v: %+v, %v; want 6 ln2 nats over 4 tokens", w, tot, err)
		}
	}
	// Context lengths, N = 10, Context 4, Stride 2:
	//   window [0,4): targets 1,2,3 with 1,2,3 tokens of context -> 6
	//   window [2,6): targets 4,5 (4 and 5 follow the previous end 4) with 2,3 -> 5
	//   window [4,8): targets 6,7 -> 5;  window [6,10): targets 8,9 -> 5; it reaches the end.
	// Total 21 over 9 tokens; every target after the first window has >= Context-Stride = 2.
	for name, src := range map[string]TokenReader{"slice": NewSliceTokens(seq(10)), "one by one": &oneByOne{seq(10)}} {
		tot, err := (SlidingWindow{4, 2}).Evaluate(src, contextLen)
		if err != nil || tot.Nats != 21 || tot.Tokens != 9 {
			t.Errorf("%s: %+v, %v; want 21 over 9 tokens", name, tot, err)
		}
	}
	// Stride = Context-1 (disjoint windows sharing one token), N = 7, Context 3:
	//   [0,3): targets 1,2 -> 1+2; [2,5): targets 3,4 -> 1+2; [4,7): 5,6 -> 1+2. Total 9 over 6.
	tot, err := (SlidingWindow{3, 2}).Evaluate(NewSliceTokens(seq(7)), contextLen)
	if err != nil || tot.Nats != 9 || tot.Tokens != 6 {
		t.Errorf("stride context-1: %+v, %v; want 9 over 6", tot, err)
	}
	// Streams shorter than one window, one token, nothing.
	for n, want := range map[int]float64{3: 1 + 2, 1: 0, 0: 0} {
		tot, err := (SlidingWindow{8, 4}).Evaluate(NewSliceTokens(seq(n)), contextLen)
		if err != nil || tot.Nats != want || tot.Tokens != int64(max(n-1, 0)) {
			t.Errorf("N=%d: %+v, %v; want %v nats over %d", n, tot, err, want, max(n-1, 0))
		}
	}
}

// hfReference is the guide's loop over the whole sequence in memory, with the exact token count:
// it returns, for each position, the context length it was scored with (-1: not scored).
func hfReference(n, ctx, stride int) []int {
	got := make([]int, n)
	for i := range got {
		got[i] = -1
	}
	prevEnd := 0
	for begin := 0; begin < n; begin += stride {
		end := min(begin+ctx, n)
		for p := max(prevEnd, begin+1); p < end; p++ {
			got[p] = p - begin
		}
		prevEnd = end
		if end == n {
			break
		}
	}
	return got
}

func TestSlidingWindowMatchesReference(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 17, 33, 65, 257} {
		for _, ctx := range []int{2, 3, 4, 8, 16} {
			for stride := 1; stride < ctx; stride++ {
				seen := make([]int, n)
				for i := range seen {
					seen[i] = -1
				}
				// Ids are positions, so the scorer can record which position got which context.
				record := func(window []int, nTarget int) (float64, error) {
					if len(window) > ctx {
						t.Fatalf("window of %d tokens exceeds context %d", len(window), ctx)
					}
					for i := len(window) - nTarget; i < len(window); i++ {
						if seen[window[i]] != -1 {
							t.Fatalf("n=%d ctx=%d stride=%d: position %d scored twice", n, ctx, stride, window[i])
						}
						if window[i] != window[0]+i {
							t.Fatalf("window not contiguous: %v", window)
						}
						seen[window[i]] = i
					}
					return 0, nil
				}
				tot, err := (SlidingWindow{ctx, stride}).Evaluate(&oneByOne{seq(n)}, record)
				if err != nil || tot.Tokens != int64(n-1) {
					t.Fatalf("n=%d ctx=%d stride=%d: %+v %v", n, ctx, stride, tot, err)
				}
				want := hfReference(n, ctx, stride)
				for p := range want {
					if seen[p] != want[p] {
						t.Fatalf("n=%d ctx=%d stride=%d: position %d got context %d, want %d", n, ctx, stride, p, seen[p], want[p])
					}
					if p >= ctx && seen[p] < ctx-stride {
						t.Fatalf("position %d has %d context tokens, want >= %d", p, seen[p], ctx-stride)
					}
				}
			}
		}
	}
}

type failReader struct{ n int }

func (r *failReader) ReadTokens(dst []int) (int, error) {
	if r.n == 0 {
		return 0, errors.New("disk gone")
	}
	r.n--
	dst[0] = 0
	return 1, nil
}

type stuckReader struct{}

func (stuckReader) ReadTokens([]int) (int, error) { return 0, nil }

func TestSlidingWindowErrors(t *testing.T) {
	for _, w := range []SlidingWindow{{1, 1}, {4, 0}, {4, 4}, {4, 5}} {
		if _, err := w.Evaluate(NewSliceTokens(seq(5)), unigram); !errors.Is(err, ErrWindow) {
			t.Errorf("%+v: err %v, want ErrWindow", w, err)
		}
	}
	tot, err := (SlidingWindow{4, 2}).Evaluate(&failReader{n: 5}, unigram)
	if err == nil || !strings.Contains(err.Error(), "disk gone") || tot.Tokens != 3 {
		t.Errorf("read error: %+v, %v; want the error after the first window (3 tokens)", tot, err)
	}
	if _, err := (SlidingWindow{4, 2}).Evaluate(stuckReader{}, unigram); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("stuck reader: %v, want io.ErrNoProgress", err)
	}
	boom := func([]int, int) (float64, error) { return 0, errors.New("boom") }
	if _, err := (SlidingWindow{4, 2}).Evaluate(NewSliceTokens(seq(9)), boom); err == nil || !strings.Contains(err.Error(), "window [0, 4): boom") {
		t.Errorf("scorer error: %v", err)
	}
}
