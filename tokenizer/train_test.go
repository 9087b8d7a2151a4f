package tokenizer

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// naiveTrain is the textbook trainer: recount every pair over every word before each merge, take
// the most frequent (ties: smallest (left, right) ids), merge it everywhere left to right. It is the
// oracle for TrainCounts' incremental bookkeeping.
func naiveTrain(counts WordCounts, vocab int, special []string) [][2]int32 {
	var byteID [256]int32
	alphabet := make([]int, 256)
	for i := range alphabet {
		alphabet[i] = i
	}
	slices.SortFunc(alphabet, func(a, b int) int { return int(byteToRune[a]) - int(byteToRune[b]) })
	tokens := make([]string, len(special))
	for _, c := range alphabet {
		byteID[c] = int32(len(tokens))
		tokens = append(tokens, string([]byte{byte(c)}))
	}
	type word struct {
		s []int32
		n int64
	}
	var words []word
	for w, n := range counts {
		var s []int32
		for i := 0; i < len(w); i++ {
			s = append(s, byteID[w[i]])
		}
		words = append(words, word{s, n})
	}
	var merges [][2]int32
	for len(tokens) < vocab {
		pc := map[[2]int32]int64{}
		for _, w := range words {
			for i := 0; i+1 < len(w.s); i++ {
				pc[[2]int32{w.s[i], w.s[i+1]}] += w.n
			}
		}
		var best [2]int32
		var bestN int64
		for p, n := range pc {
			if n > bestN || (n == bestN && (p[0] < best[0] || (p[0] == best[0] && p[1] < best[1]))) {
				best, bestN = p, n
			}
		}
		if bestN == 0 {
			break
		}
		merged := tokens[best[0]] + tokens[best[1]]
		id := int32(slices.Index(tokens, merged))
		if id < 0 {
			id = int32(len(tokens))
			tokens = append(tokens, merged)
		}
		merges = append(merges, best)
		for k := range words {
			s := words[k].s
			var out []int32
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == best[0] && s[i+1] == best[1] {
					out = append(out, id)
					i++
				} else {
					out = append(out, s[i])
				}
			}
			words[k].s = out
		}
	}
	return merges
}

func TestTrainMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	pieces := []string{"a", "b", "ab", "aa", "ba", " ", "  ", "the", "\n", "é", "!", "1", "'s", "x"}
	for trial := 0; trial < 40; trial++ {
		var b strings.Builder
		for i := rng.Intn(400); i >= 0; i-- {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		text := b.String()
		vocab := 257 + rng.Intn(80)
		tok, err := Train([]string{text}, TrainConfig{VocabSize: vocab, Special: []string{"<|endoftext|>"}})
		if err != nil {
			t.Fatal(err)
		}
		want := naiveTrain(CountWords([]string{text}, nil), vocab, []string{"<|endoftext|>"})
		got, _ := tok.merges()
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (%q, vocab %d): merges\n got %v\nwant %v", trial, text, vocab, got, want)
		}
		if d := tok.Decode(tok.Encode(text)); d != text {
			t.Fatalf("trained tokenizer does not round-trip %q", text)
		}
	}
}

// TestTrainHandWorked: words "aaab" x1 and "ab" x3. Counts: (a,a)=2, (a,b)=1+3=4 -> merge (a,b) first; then "aa"+"ab": (a,a)=1, (a,ab)=1;
// tie at 1 broken by smaller ids: (a,a) < (a,ab) since ab's id is newer.
func TestTrainHandWorked(t *testing.T) {
	counts := WordCounts{"aaab": 1, "ab": 3}
	tok, err := TrainCounts(counts, TrainConfig{VocabSize: 256 + 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	ms, _ := tok.merges()
	for _, m := range ms {
		got = append(got, string(tok.TokenBytes(int(m[0])))+"+"+string(tok.TokenBytes(int(m[1]))))
	}
	if want := []string{"a+b", "a+a", "aa+ab"}; !slices.Equal(got, want) {
		t.Errorf("merges %q, want %q", got, want)
	}
	if ids := tok.Encode("aaab"); len(ids) != 1 || string(tok.TokenBytes(ids[0])) != "aaab" {
		t.Errorf("aaab -> %v", ids)
	}
}

func TestTrainErrors(t *testing.T) {
	if _, err := Train([]string{"abc"}, TrainConfig{VocabSize: 100}); err == nil {
		t.Error("vocab size below 256 accepted")
	}
	tok, err := Train([]string{"abab"}, TrainConfig{VocabSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() >= 1000 {
		t.Errorf("vocab %d: training should stop when no pair is left", tok.VocabSize())
	}
	tok, err = Train([]string{"ab ab ab cd"}, TrainConfig{VocabSize: 1000, MinFrequency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n := tok.NumMerges(); n != 2 { // a+b (3), then " "+ab (2); c+d (1) is below 2
		t.Errorf("%d merges with min frequency 2, want 2", n)
	}
}
