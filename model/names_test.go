package model

import (
	"slices"
	"testing"

	"tern/tensor"
)

// TestNamesMatchParams: the name table (names.go) spells exactly the tensors the builders make, so a
// loader that reads by the table finds every parameter.
func TestNamesMatchParams(t *testing.T) {
	layer := func(out []string, l string, bias bool) []string {
		out = append(out, Weight(l))
		if bias {
			out = append(out, Bias(l))
		}
		return out
	}
	block := func(out []string, b BlockNames, dec bool) []string {
		out = layer(out, b.Ln1, true)
		out = layer(out, b.Ln2, true)
		for _, p := range []string{b.QKV, b.O, b.Fc, b.Fc2} {
			out = layer(out, p, true)
		}
		if dec {
			out = layer(out, b.LnCross, true)
			for _, p := range []string{b.CrossQ, b.CrossKV, b.CrossO} {
				out = layer(out, p, true)
			}
		}
		return out
	}
	cfg := Config{Type: TypeTransformer, Objective: ObjMLM, Vocab: 11, Hidden: 8, Layers: 2, Heads: 2, FFN: 16,
		MaxPos: 8, TypeVocab: 2, Linear: LinearBitNet, Norm: NormLayer, Bias: true}
	want := []string{Weight(NameTokEmb), Weight(NamePosEmb), Weight(NameTypeEmb), Weight(NameLMHead)}
	want = layer(want, NameLnF, true)
	for l := range cfg.Layers {
		want = block(want, TransformerBlock(l), false)
	}
	check(t, cfg, want)

	cfg.Type, cfg.Objective, cfg.TypeVocab, cfg.DecoderLayers = TypeEncDec, ObjSeq2Seq, 0, 1
	// the decoder's token table is the encoder's (NameDecTokEmb names only the layer)
	want = []string{Weight(NameTokEmb), Weight(NameEncPosEmb), Weight(NameDecPosEmb), Weight(NameLMHead)}
	want = layer(want, NameLnF, true)
	want = layer(want, NameLnEnc, true)
	for l := range cfg.Layers {
		want = block(want, EncoderBlock(l), false)
	}
	want = block(want, DecoderBlock(0), true)
	check(t, cfg, want)
}

func check(t *testing.T, cfg Config, want []string) {
	t.Helper()
	lm, err := New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range lm.Params() {
		if !slices.Contains(got, p.Name) {
			got = append(got, p.Name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: params\n%v\nname table\n%v", cfg.Type, got, want)
	}
}
