package tokenizer

import (
	"slices"
	"testing"
)

// FuzzRoundTrip: for any byte string, GPT-2 and a trained vocabulary decode their encoding back to
// the same bytes, EncodeWithSpecial(SpecialAllow) round-trips too, and the heap and scan merges
// agree. Seed corpus: testdata/fuzz/FuzzRoundTrip plus the hard cases. Plain `go test` runs the
// seeds; to fuzz: go test -run '^$' -fuzz FuzzRoundTrip -fuzztime 60s ./tokenizer/
func FuzzRoundTrip(f *testing.F) {
	for _, s := range hardCases {
		f.Add([]byte(s))
	}
	gpt := mustGPT2(f)
	trained := trainSmallCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		for _, tok := range []*BPE{gpt, trained} {
			ids := tok.Encode(s)
			if got := tok.Decode(ids); got != s {
				t.Fatalf("%s: Decode(Encode(%q)) = %q", tok.Name(), s, got)
			}
			if got, err := tok.DecodeChecked(ids); err != nil || got != s {
				t.Fatalf("%s: DecodeChecked: %q %v", tok.Name(), got, err)
			}
			sp, err := tok.EncodeWithSpecial(s, SpecialAllow)
			if err != nil || tok.Decode(sp) != s {
				t.Fatalf("%s: special round trip of %q: %v", tok.Name(), s, err)
			}
			if len(s) > 1 {
				st := newEncState()
				a := slices.Clone(tok.mergeScan(st, s))
				if b := tok.mergeHeap(st, s); !slices.Equal(a, b) {
					t.Fatalf("%s: scan %v heap %v for %q", tok.Name(), a, b, s)
				}
			}
		}
	})
}
