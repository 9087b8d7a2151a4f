package quant

import (
	"encoding/json"
	"math"
	"testing"

	"tern/tensor"
)

func TestWidthNamesAndJSON(t *testing.T) {
	for _, w := range Widths() {
		got, err := ParseWidth(w.String())
		if err != nil || got != w {
			t.Fatalf("ParseWidth(%q) = %v, %v", w.String(), got, err)
		}
		b, err := json.Marshal(map[string]Width{"m": w})
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]Width
		if err := json.Unmarshal(b, &back); err != nil || back["m"] != w {
			t.Fatalf("JSON %s -> %v, %v", b, back["m"], err)
		}
	}
	var w Width
	if err := json.Unmarshal([]byte(`"4"`), &w); err != nil || w != Width4 {
		t.Fatalf(`"4" -> %v, %v`, w, err)
	}
	for _, bad := range []string{"5", "0", "1.5", "x"} {
		if _, err := ParseWidth(bad); err == nil {
			t.Fatalf("ParseWidth(%q) accepted", bad)
		}
	}
}

// FakeQuant against the definitions: ternary equals Ternary's s·t; 1 bit equals the sign quantizer
// of Uniform (±mean|w|); n-bit codes lie in [0, 2^b) and the value is the nearest-below grid level
// (error at most one step inside the range); more bits never increase the error on Gaussian data.
func TestFakeQuantDefinitions(t *testing.T) {
	rng := tensor.NewRNG(7)
	const rows, cols = 13, 37
	w := make([]float32, rows*cols)
	rng.FillNormal(w, 0.3)
	dst, u := make([]float32, rows*cols), make([]uint8, rows*cols)
	tq := make([]int8, rows*cols)
	s := Ternary(tq, w)
	FakeQuantCheck := func(width Width, perRow bool) []float32 {
		steps := width.FakeQuant(dst, u, nil, w, rows, cols, perRow)
		if perRow && width != WidthTernary && len(steps) != rows || (!perRow || width == WidthTernary) && len(steps) != 1 {
			t.Fatalf("%v perRow=%v: %d steps", width, perRow, len(steps))
		}
		for i, c := range u[:rows*cols] {
			if width != WidthTernary && int(c) >= 1<<width.Bits() || width == WidthTernary && c > 2 {
				t.Fatalf("%v: code %d out of range", width, c)
			}
			st := steps[0]
			if perRow && width != WidthTernary {
				st = steps[i/cols]
			}
			if dst[i] != width.Value(c)*st {
				t.Fatalf("%v: dst[%d] = %v, want Value(%d)·step = %v", width, i, dst[i], c, width.Value(c)*st)
			}
		}
		return steps
	}
	FakeQuantCheck(WidthTernary, false)
	for i := range w {
		if dst[i] != float32(tq[i])*s {
			t.Fatalf("ternary dst[%d] = %v, want %v", i, dst[i], float32(tq[i])*s)
		}
	}
	FakeQuantCheck(Width1, false)
	uq, ustep := make([]int8, rows*cols), make([]float32, 1)
	Uniform{Bits: 1}.Quantize(uq, ustep, w, rows, cols)
	for i := range w {
		if math.Abs(float64(dst[i]-float32(uq[i])*ustep[0])) > 1e-6 {
			t.Fatalf("1-bit dst[%d] = %v, want %v", i, dst[i], float32(uq[i])*ustep[0])
		}
	}
	prev := math.Inf(1)
	for _, width := range []Width{Width1, Width2, Width3, Width4, Width8} {
		for _, perRow := range []bool{false, true} {
			steps := FakeQuantCheck(width, perRow)
			var mse float64
			for i := range w {
				d := float64(dst[i] - w[i])
				mse += d * d
				st := steps[0]
				if perRow {
					st = steps[i/cols]
				}
				top := float32(int(1)<<width.Bits()-1) / 2 * st
				if math.Abs(float64(w[i])) <= float64(top) && math.Abs(d) > float64(st)/2*1.0001 {
					t.Fatalf("%v: |w - q(w)| = %v > step/2 = %v inside the range", width, math.Abs(d), st/2)
				}
			}
			if !perRow {
				if mse > prev {
					t.Fatalf("%v: MSE %g above the narrower width's %g", width, mse, prev)
				}
				prev = mse
			}
		}
	}
}

func TestStoredBits(t *testing.T) {
	// 4096x4096 ternary: 820 bytes per row + one fp32 scale (the 1.6016 bits/weight of pack.go)
	if got := WidthTernary.StoredBits(4096, 4096, false); got != 8*820*4096+32 {
		t.Fatalf("ternary StoredBits = %d", got)
	}
	// 3 bits, 10 columns: 30 bits -> 4 bytes per row; per-row steps add 32 bits a row
	if got := Width3.StoredBits(7, 10, true); got != 7*32+7*32 {
		t.Fatalf("3-bit per-row StoredBits = %d", got)
	}
	if got := Width8.StoredBits(2, 3, false); got != 2*24+32 {
		t.Fatalf("8-bit StoredBits = %d", got)
	}
}
