package tokenizer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func mustGPT2(t testing.TB) *BPE {
	t.Helper()
	tok, err := GPT2()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestEmbeddedVocab checks the embedded file against VOCAB_SOURCE.md and a few well-known ids.
func TestEmbeddedVocab(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(r50kGz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != "75eb6068c561766c6634d825d055d51519cee9f28cdbead7012a6c09d70145a9" {
		t.Errorf("payload sha256 %s differs from VOCAB_SOURCE.md", got)
	}
	tok := mustGPT2(t)
	if tok.VocabSize() != 50257 || tok.NumMerges() != 50000 {
		t.Errorf("vocab %d merges %d, want 50257 and 50000", tok.VocabSize(), tok.NumMerges())
	}
	// Ids every GPT-2 user knows: "!" = 0, " the" = 262, "Hello" = 15496, " world" = 995.
	for id, want := range map[int]string{0: "!", 262: " the", 15496: "Hello", 995: " world", 50256: "<|endoftext|>"} {
		if got := string(tok.TokenBytes(id)); got != want {
			t.Errorf("token %d = %q, want %q", id, got, want)
		}
	}
}

// TestMergeHeapMatchesScan checks the long-word heap merge against the scan on random words that
// favour repeated merges (few distinct bytes), for both merge rules.
func TestMergeHeapMatchesScan(t *testing.T) {
	gpt := mustGPT2(t)
	trained := trainSmallCorpus(t)
	rng := rand.New(rand.NewSource(2))
	alphabets := []string{" e", "ab", "the ", "=-", "\n ", "0123456789", "aeiou rstln"}
	for _, tok := range []*BPE{gpt, trained} {
		st := newEncState()
		for n := 0; n < 3000; n++ {
			al := alphabets[rng.Intn(len(alphabets))]
			w := make([]byte, 1+rng.Intn(300))
			for i := range w {
				w[i] = al[rng.Intn(len(al))]
			}
			a := slices.Clone(tok.mergeScan(st, string(w)))
			b := slices.Clone(tok.mergeHeap(st, string(w)))
			if !slices.Equal(a, b) {
				t.Fatalf("%s %q: scan %v heap %v", tok.Name(), w, a, b)
			}
			if got := string(tok.AppendDecode(nil, toInts(a))); got != string(w) {
				t.Fatalf("merge lost bytes: %q -> %q", w, got)
			}
		}
	}
}

func toInts(a []int32) []int {
	out := make([]int, len(a))
	for i, v := range a {
		out[i] = int(v)
	}
	return out
}

// trainSmallCorpus trains on a synthetic corpus (no data files needed).
func trainSmallCorpus(t testing.TB) *BPE {
	t.Helper()
	var b strings.Builder
	rng := rand.New(rand.NewSource(3))
	words := []string{"the", "then", "there", "cat", "catalog", "a", "aaa", "==", "1999", "\n\n", "  "}
	for i := 0; i < 5000; i++ {
		b.WriteString(words[rng.Intn(len(words))])
		b.WriteByte(" \n"[rng.Intn(2)])
	}
	tok, err := Train([]string{b.String()}, TrainConfig{VocabSize: 300, Special: []string{"<|endoftext|>"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSpecialPolicies(t *testing.T) {
	tok := mustGPT2(t)
	s := "a<|endoftext|>b"
	if _, err := tok.EncodeWithSpecial(s, SpecialDisallow); !errors.Is(err, ErrDisallowedSpecial) {
		t.Errorf("disallow: err %v, want ErrDisallowedSpecial", err)
	}
	got, err := tok.EncodeWithSpecial(s, SpecialAllow)
	if err != nil || !slices.Equal(got, []int{64, 50256, 65}) { // "a" = 64, "b" = 65
		t.Errorf("allow: %v %v, want [64 50256 65]", got, err)
	}
	got, err = tok.EncodeWithSpecial(s, SpecialAsText)
	if err != nil || !slices.Equal(got, tok.Encode(s)) || slices.Contains(got, 50256) {
		t.Errorf("as text: %v %v", got, err)
	}
	if _, err := tok.EncodeWithSpecial(s, SpecialPolicy(9)); err == nil {
		t.Error("unknown policy accepted")
	}
	if d := tok.Decode([]int{64, 50256, 65}); d != s {
		t.Errorf("decode %q", d)
	}
}

func TestDecodeChecked(t *testing.T) {
	tok := mustGPT2(t)
	for _, bad := range [][]int{{-1}, {50257}, {15496, 1 << 40}} {
		if _, err := tok.DecodeChecked(bad); !errors.Is(err, ErrUnknownID) {
			t.Errorf("DecodeChecked(%v): err %v, want ErrUnknownID", bad, err)
		}
	}
	if got := tok.Decode([]int{15496, -5, 99999999, 995}); got != "Hello world" {
		t.Errorf("Decode skips unknown ids: got %q", got)
	}
	if got, err := tok.DecodeChecked([]int{15496, 995}); err != nil || got != "Hello world" {
		t.Errorf("DecodeChecked: %q %v", got, err)
	}
}

func TestEncodeParallelMatchesSerial(t *testing.T) {
	tok := mustGPT2(t)
	rng := rand.New(rand.NewSource(4))
	docs := make([]string, 37)
	for i := range docs {
		docs[i] = strings.Repeat(hardCases[rng.Intn(len(hardCases))]+" ", rng.Intn(20))
	}
	for _, threads := range []int{1, 2, 3, 8, 0} {
		got := tok.EncodeParallel(docs, threads)
		for i, d := range docs {
			if !slices.Equal(got[i], tok.Encode(d)) {
				t.Fatalf("threads %d doc %d differs", threads, i)
			}
		}
	}
}

// TestCacheInvisible checks that results do not depend on the word cache's state.
func TestCacheInvisible(t *testing.T) {
	tok := mustGPT2(t)
	s := strings.Join(hardCases, " ")
	a := tok.Encode(s)
	tok.ResetCache()
	b := tok.Encode(s)
	c := tok.Encode(s)
	if !slices.Equal(a, b) || !slices.Equal(b, c) {
		t.Error("results depend on the cache")
	}
}

// TestAppendEncodeAllocs: with a warm cache and a reused buffer, encoding does not allocate.
func TestAppendEncodeAllocs(t *testing.T) {
	tok := mustGPT2(t)
	s := "The quick brown fox jumps over the lazy dog, again and again; 1234 times!\n\n"
	buf := tok.AppendEncode(nil, s)
	if n := testing.AllocsPerRun(100, func() { buf = tok.AppendEncode(buf[:0], s) }); n != 0 {
		t.Errorf("allocs = %v, want 0", n)
	}
}

func TestByteLevelMapping(t *testing.T) {
	// 0xAD is the last of the 68 unprintable bytes, so it maps to U+0100+67 = 'Ń'.
	if byteToRune[' '] != 'Ġ' || byteToRune['\n'] != 'Ċ' || byteToRune['A'] != 'A' || byteToRune[0xAD] != 'Ń' {
		t.Errorf("mapping: ' '->%q '\\n'->%q 0xAD->%q", byteToRune[' '], byteToRune['\n'], byteToRune[0xAD])
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	back, ok := unicodeToBytes(bytesToUnicode(all))
	if !ok || !bytes.Equal(back, all) {
		t.Error("byte-level mapping does not round-trip")
	}
	if _, ok := unicodeToBytes("日"); ok {
		t.Error("rune outside the alphabet accepted")
	}
}
