package main

import (
	"path/filepath"
	"testing"

	"tern/format"
	"tern/model"
	"tern/tensor"
)

// TestInfoStorage: the per-format totals of a packed file with an int8 table, against sizes derived
// by hand from the config (trit5 rows of ceil(K/5) bytes plus a 4-byte scale per matrix; int8 table
// V·C bytes plus a 4-byte scale per row).
func TestInfoStorage(t *testing.T) {
	cfg, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hidden, cfg.FFN, cfg.Heads, cfg.Layers, cfg.Vocab, cfg.MaxPos = 24, 48, 2, 2, 50, 16
	lm, err := model.New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.tern")
	if _, err := model.WritePackedAs(path, lm, "", model.PackFormat{Float: format.F16, Table: format.I8}); err != nil {
		t.Fatal(err)
	}
	f, err := format.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	groups, tensors := storage(f)
	got := map[string]infoGroup{}
	for _, g := range groups {
		got[g.Format] = g
	}
	C, F, V, L := 24, 48, 50, 2
	rb := func(k int) int64 { return int64((k + 4) / 5) }
	wantTern := int64(L) * (3*int64(C)*rb(C) + int64(C)*rb(C) + int64(F)*rb(C) + int64(C)*rb(F) + 4*4)
	if g := got["ternary (trit5)"]; g.Tensors != 4*L || g.Values != int64(L*(4*C*C+2*C*F)) || g.Bytes != wantTern {
		t.Errorf("ternary group %+v, want %d tensors, %d values, %d bytes", g, 4*L, L*(4*C*C+2*C*F), wantTern)
	}
	if g := got["int8 (row scales)"]; g.Tensors != 1 || g.Values != int64(V*C) || g.Bytes != int64(V*C+4*V) {
		t.Errorf("int8 group %+v, want 1 tensor, %d values, %d bytes", g, V*C, V*C+4*V)
	}
	var listed int64
	for _, ti := range tensors {
		listed += ti.Bytes
	}
	var all int64
	for _, ft := range f.Tensors {
		all += int64(len(ft.Data))
	}
	if listed != all {
		t.Errorf("listed tensors hold %d bytes, the file's tensors %d", listed, all)
	}
}
