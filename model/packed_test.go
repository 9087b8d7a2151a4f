package model

import (
	"maps"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"tern/format"
	"tern/tensor"
)

func tinyPackLM(t *testing.T, tied bool) LM {
	t.Helper()
	cfg, err := Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hidden, cfg.FFN, cfg.Heads, cfg.Layers, cfg.Vocab, cfg.MaxPos, cfg.TieEmbeddings = 24, 48, 2, 1, 40, 16, tied
	lm, err := New(cfg, tensor.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	return lm
}

// TestPackedInt8Table: an int8 table reads back as q·step within half a step of each weight (absmax
// rounding), every other tensor as before; the layout names it.
func TestPackedInt8Table(t *testing.T) {
	for _, tied := range []bool{true, false} {
		lm := tinyPackLM(t, tied)
		path := filepath.Join(t.TempDir(), "m.tern")
		if _, err := WritePackedAs(path, lm, "", PackFormat{Float: format.F32, Table: format.I8}); err != nil {
			t.Fatal(err)
		}
		back, _, err := LoadPacked(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := format.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Meta[MetaPacking]; got != "trits5-rows/f32+table-i8" {
			t.Errorf("tied=%v: packing %q", tied, got)
		}
		want := map[string][]float32{}
		for _, p := range lm.Params() {
			want[p.Name] = p.W
		}
		tables := 0
		for _, p := range back.Params() {
			if !TableParam(p.Name) {
				continue
			}
			tables++
			C := p.Shape[1]
			for r := 0; r < p.Shape[0]; r++ {
				row := want[p.Name][r*C : (r+1)*C]
				var amax float64
				for _, v := range row {
					amax = math.Max(amax, math.Abs(float64(v)))
				}
				step := amax / 127
				for j, v := range row {
					if d := math.Abs(float64(p.W[r*C+j] - v)); d > step/2*(1+1e-5) {
						t.Fatalf("tied=%v %s[%d,%d]: %v read back as %v (step %v)", tied, p.Name, r, j, v, p.W[r*C+j], step)
					}
				}
			}
		}
		if wantTables := map[bool]int{true: 1, false: 2}[tied]; tables < wantTables {
			t.Errorf("tied=%v: %d table params checked", tied, tables)
		}
	}
}

// TestPackedInt8TableBadScale: a scale tensor of the wrong length or with a NaN is refused by name.
func TestPackedInt8TableBadScale(t *testing.T) {
	lm := tinyPackLM(t, true)
	ts, meta, err := PackedTensorsAs(lm, PackFormat{Table: format.I8})
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(format.Tensor) format.Tensor{
		"short": func(s format.Tensor) format.Tensor { return format.F32Tensor(s.Name, []int{3}, []float32{1, 2, 3}) },
		"nan": func(s format.Tensor) format.Tensor {
			v, _ := s.Float32()
			v[5] = float32(math.NaN())
			return format.F32Tensor(s.Name, s.Shape, v)
		},
	} {
		bad := make([]format.Tensor, len(ts))
		for i, x := range ts {
			if x.Name == "tok_emb.weight.scale" {
				x = edit(x)
			}
			bad[i] = x
		}
		m := FileMeta(lm, "packed", "")
		maps.Copy(m, meta)
		m[MetaPacking] = "trits5-rows/f16+table-i8"
		path := filepath.Join(t.TempDir(), name+".tern")
		if err := format.Write(path, m, bad); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadPacked(path); err == nil || !strings.Contains(err.Error(), "tok_emb.weight") {
			t.Errorf("%s scale: err = %v, want one naming tok_emb.weight", name, err)
		}
	}
}

func TestPackFormatChecks(t *testing.T) {
	lm := tinyPackLM(t, true)
	if _, _, err := PackedTensorsAs(lm, PackFormat{Table: format.BF16}); err == nil {
		t.Error("BF16 table accepted")
	}
	if _, _, err := PackedTensorsAs(lm, PackFormat{Float: format.I8}); err == nil {
		t.Error("I8 floats accepted")
	}
}
