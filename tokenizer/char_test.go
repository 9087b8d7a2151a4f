package tokenizer

import (
	"errors"
	"slices"
	"testing"
)

func TestChar(t *testing.T) {
	c := NewChar("hello, wörld\n")
	if want := []rune("\n ,dehlorwö"); !slices.Equal(c.Runes(), want) {
		t.Fatalf("runes %q, want %q", string(c.Runes()), string(want))
	}
	ids := c.Encode("world")
	if !slices.Equal(ids, []int{9, 7, 8, 6, 3}) { // w o r l d
		t.Errorf("encode %v", ids)
	}
	if c.Decode(c.Encode("hello, wörld\n")) != "hello, wörld\n" {
		t.Error("round trip")
	}
	if got := c.Encode("hex!"); !slices.Equal(got, []int{5, 4}) {
		t.Errorf("unknown runes must be dropped: %v", got)
	}
	if _, err := c.EncodeChecked("hex"); err == nil {
		t.Error("EncodeChecked accepted 'x'")
	}
	if _, err := c.DecodeChecked([]int{0, 11}); !errors.Is(err, ErrUnknownID) {
		t.Errorf("DecodeChecked: %v", err)
	}
	if c.VocabSize() != 11 || c.Name() != "char" {
		t.Errorf("size %d name %q", c.VocabSize(), c.Name())
	}
}

func TestCharJSON(t *testing.T) {
	c := NewChar("zébra 🦓\x00\"\\")
	data, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalCharJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Runes(), c.Runes()) {
		t.Errorf("restored %q, want %q", string(back.Runes()), string(c.Runes()))
	}
	for _, bad := range []string{`{`, `{"type":"bpe","chars":"ab"}`, `{"type":"char","chars":"ba"}`, `{"type":"char","chars":"aa"}`} {
		if _, err := UnmarshalCharJSON([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
