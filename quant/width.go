// width.go names the per-matrix weight precisions of adaptive bit widths, {1, 1.58, 2, 3, 4, 8} bits,
// and the quantizer of each. It is not the allocator (alloc.go) nor a packing layout (pack*.go).
//
// 1.58 is BitNet b1.58's ternary absmean (Ternary, unchanged). Every other width is a mid-rise
// symmetric grid that uses all 2^b codes: code u ∈ [0, 2^b-1] stands for
//
//	w ≈ (u - (2^b-1)/2) · step      (levels ±step/2, ±3·step/2, ..., ±(2^b-1)·step/2)
//
// A mid-tread grid (codes in [-Q, Q], zero exact) wastes a code and makes 2 bits the same as ternary
// (Q = 1), so the only 2-bit grid worth its extra 0.4 bits is the mid-rise one. 1 bit is then the
// sign quantizer with the L2-optimal scale: levels ±mean|w| (step = 2·mean|w|). For 2, 3 and 4 bits
// step = c_b·mean|w| with c_b the step of the MSE-optimal uniform quantizer of a Gaussian (Max 1960,
// table of N = 4, 8, 16 levels: 0.9957σ, 0.5860σ, 0.3352σ) divided by E|w|/σ = sqrt(2/π): a good
// default for trained weights, which are near-Gaussian in the bulk. 8 bits use absmax (step =
// max|w|/127.5): nothing clips and 256 levels leave little to gain from clipping.
//
// The unsigned code is what the kernels want: VPDPBUSD multiplies unsigned bytes by signed int8
// activations, so Σ x·w = step/2·(2·Σ x·u - (2^b-1)·Σ x) needs one Σx per activation vector.
//
// Scales are one fp32 step per matrix (PerRow false) or per row; stored bits per weight count them.
package quant

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"tern/kernels"
)

// Width is a weight precision. The zero value is ternary, today's BitLinear.
type Width uint8

const (
	WidthTernary Width = iota // 1.58 bits: BitNet b1.58 absmean ternary, packed 5 trits per byte
	Width1                    // 1 bit: sign · mean|w|
	Width2                    // 2 bits: 4 mid-rise levels
	Width3                    // 3 bits: 8 levels
	Width4                    // 4 bits: 16 levels
	Width8                    // 8 bits: 256 levels, absmax
	numWidths
)

// Widths lists every width by increasing storage cost.
func Widths() []Width { return []Width{Width1, WidthTernary, Width2, Width3, Width4, Width8} }

// WidthNames is the allowed spellings, for error messages.
const WidthNames = "1, 1.58, 2, 3, 4, 8"

// Bits is the code width in bits (0 for ternary, whose codes are trits).
func (w Width) Bits() int {
	switch w {
	case Width1:
		return 1
	case Width2:
		return 2
	case Width3:
		return 3
	case Width4:
		return 4
	case Width8:
		return 8
	}
	return 0
}

// Nominal is the width's name as a number: 1, 1.58, 2, 3, 4 or 8.
func (w Width) Nominal() float64 {
	if w == WidthTernary {
		return 1.58
	}
	return float64(w.Bits())
}

func (w Width) String() string {
	if w >= numWidths {
		return fmt.Sprintf("Width(%d)", int(w))
	}
	return strconv.FormatFloat(w.Nominal(), 'g', -1, 64)
}

// ParseWidth reads "1", "1.58", "2", "3", "4" or "8" (also "ternary").
func ParseWidth(s string) (Width, error) {
	s = strings.TrimSpace(s)
	for _, w := range Widths() {
		if s == w.String() {
			return w, nil
		}
	}
	if s == "ternary" || s == "1.6" {
		return WidthTernary, nil
	}
	return 0, fmt.Errorf("unknown bit width %q (allowed: %s)", s, WidthNames)
}

// MarshalJSON writes the width as a number (1.58 for ternary).
func (w Width) MarshalJSON() ([]byte, error) {
	if w >= numWidths {
		return nil, fmt.Errorf("quant: invalid width %d", int(w))
	}
	return []byte(w.String()), nil
}

// UnmarshalJSON reads a number or a string naming a width.
func (w *Width) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	v, err := ParseWidth(s)
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// StoredBits is the size in bits of a rows x cols matrix stored at width w: the codes (ternary: 5
// trits per byte, each row padded to whole bytes; n-bit: each row padded to whole bytes) plus one
// fp32 step per matrix or per row. This is what the packed file holds, so budgets are kept on it.
func (w Width) StoredBits(rows, cols int, perRow bool) int64 {
	var rowBytes int64
	if w == WidthTernary {
		rowBytes = int64(PackedLen(cols))
	} else {
		rowBytes = (int64(cols)*int64(w.Bits()) + 7) / 8
	}
	scales := int64(1)
	if perRow && w != WidthTernary {
		scales = int64(rows)
	}
	return 8*rowBytes*int64(rows) + 32*scales
}

// stepFactor is c_b: step = c_b · mean|w| for 1..4 bits (see the file comment).
var stepFactor = [...]float64{Width1: 2, Width2: 0.9957 / 0.7978845608, Width3: 0.5860 / 0.7978845608, Width4: 0.3352 / 0.7978845608}

// Step returns the quantization step of the group g at width w (ternary: its scale s = mean|w|).
func (w Width) Step(g []float32) float32 {
	n := float64(max(len(g), 1))
	switch w {
	case WidthTernary:
		return float32(max(kernels.SumAbs(g)/n, eps))
	case Width8:
		return float32(max(float64(kernels.MaxAbs(g)), eps) / 127.5)
	}
	return float32(stepFactor[w] * max(kernels.SumAbs(g)/n, eps))
}

// Codes quantizes the group g with step into u: ternary codes t+1 ∈ {0,1,2}, n-bit codes
// u = clamp(floor(w/step) + 2^(b-1), 0, 2^b-1). len(u) >= len(g).
func (w Width) Codes(u []uint8, g []float32, step float32) {
	u = u[:len(g)]
	if w == WidthTernary {
		inv := 1 / step
		for i, v := range g {
			u[i] = uint8(max(-1, min(1, math.Round(float64(v*inv)))) + 1)
		}
		return
	}
	half, top := float64(int(1)<<(w.Bits()-1)), float64(int(1)<<w.Bits()-1)
	inv := 1 / step
	for i, v := range g {
		u[i] = uint8(max(0, min(top, math.Floor(float64(v*inv))+half)))
	}
}

// Value is the weight code u stands for, in units of step.
func (w Width) Value(u uint8) float32 {
	if w == WidthTernary {
		return float32(int(u) - 1)
	}
	return float32(u) - float32(int(1)<<w.Bits()-1)/2
}

// FakeQuant writes dst (rows, cols) = the dequantized width-w quantization of src, one step per
// matrix or per row, and returns the steps it used (scratch: u needs rows·cols bytes). Training uses
// it for the straight-through estimator: forward with dst, gradient of dst applied to src.
func (w Width) FakeQuant(dst []float32, u []uint8, steps []float32, src []float32, rows, cols int, perRow bool) []float32 {
	if w >= numWidths || len(dst) < rows*cols || len(src) < rows*cols || len(u) < rows*cols {
		panic(fmt.Sprintf("quant: FakeQuant %v: rows=%d cols=%d len(dst)=%d len(src)=%d len(u)=%d", w, rows, cols, len(dst), len(src), len(u)))
	}
	return w.fakeQuant(dst, u, steps, src, rows, cols, perRow, false)
}

// FakeQuantFixed is FakeQuant with the given steps (1 or rows of them) instead of computed ones: a
// model loaded from a packed file keeps its stored steps, so that re-quantizing the dequantized
// values gives back exactly the stored codes ((u - off)·step / step lands inside code u's cell).
func (w Width) FakeQuantFixed(dst []float32, u []uint8, steps []float32, src []float32, rows, cols int) {
	if len(steps) != 1 && len(steps) != rows {
		panic(fmt.Sprintf("quant: FakeQuantFixed %v: %d steps for %d rows", w, len(steps), rows))
	}
	w.fakeQuant(dst, u, steps, src, rows, cols, len(steps) == rows && rows > 1, true)
}

func (w Width) fakeQuant(dst []float32, u []uint8, steps []float32, src []float32, rows, cols int, perRow, fixed bool) []float32 {
	if w >= numWidths || len(dst) < rows*cols || len(src) < rows*cols || len(u) < rows*cols {
		panic(fmt.Sprintf("quant: FakeQuant %v: rows=%d cols=%d len(dst)=%d len(src)=%d len(u)=%d", w, rows, cols, len(dst), len(src), len(u)))
	}
	groups, gl := 1, rows*cols
	if perRow && w != WidthTernary { // ternary keeps BitNet's one scale per matrix
		groups, gl = rows, cols
	}
	if !fixed {
		if cap(steps) < groups {
			steps = make([]float32, groups)
		}
		steps = steps[:groups]
	}
	kernels.ParallelFor(groups, max(1, 4096/max(gl, 1)), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			g := src[k*gl : k*gl+gl]
			var s float32
			if fixed {
				s = steps[k]
			} else {
				s = w.Step(g)
				steps[k] = s
			}
			w.Codes(u[k*gl:k*gl+gl], g, s)
			if w == WidthTernary {
				for i, c := range u[k*gl : k*gl+gl] {
					dst[k*gl+i] = float32(int(c)-1) * s
				}
				continue
			}
			off := float32(int(1)<<w.Bits()-1) / 2
			for i, c := range u[k*gl : k*gl+gl] {
				dst[k*gl+i] = (float32(c) - off) * s
			}
		}
	})
	return steps
}
