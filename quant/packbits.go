package quant

import (
	"fmt"
	"math"
)

// packbits.go: the row layout of n-bit codes (widths 1, 2, 3, 4 and 8 of width.go), the form a packed
// file will hold and a GEMV can read in place. Each row of K codes takes BitRowBytes(K, b) = ceil(K·b/8)
// bytes, rows start on a byte; inside a row the codes are one little-endian bit stream: code j
// occupies bits j·b .. j·b+b-1, counted from bit 0 of byte 0 (so for b = 1, 2, 4, 8 byte i holds codes
// 8i/b ... whole, and for b = 3 a code may straddle two bytes). Pad bits are zero. Steps are stored
// beside the codes (one fp32 per matrix or per row), not in this layout.

// BitRowBytes is the bytes one row of k b-bit codes takes.
func BitRowBytes(k, bits int) int { return (k*bits + 7) / 8 }

// PackBits packs codes u (rows, cols), each < 2^bits, into dst[:rows·BitRowBytes(cols, bits)].
func PackBits(dst []byte, u []uint8, rows, cols, bits int) {
	rb := BitRowBytes(cols, bits)
	if bits < 1 || bits > 8 || len(dst) < rows*rb || len(u) < rows*cols {
		panic(fmt.Sprintf("quant: PackBits: bits=%d rows=%d cols=%d len(dst)=%d len(u)=%d", bits, rows, cols, len(dst), len(u)))
	}
	clear(dst[:rows*rb])
	for i := 0; i < rows; i++ {
		row := dst[i*rb : i*rb+rb]
		for j, c := range u[i*cols : i*cols+cols] {
			if int(c) >= 1<<bits {
				panic(fmt.Sprintf("quant: PackBits: code %d does not fit %d bits", c, bits))
			}
			bit := j * bits
			v := uint16(c) << (bit % 8)
			row[bit/8] |= byte(v)
			if bit%8+bits > 8 {
				row[bit/8+1] |= byte(v >> 8)
			}
		}
	}
}

// UnpackBits is PackBits' inverse: it writes u (rows, cols) from src.
func UnpackBits(u []uint8, src []byte, rows, cols, bits int) {
	rb := BitRowBytes(cols, bits)
	if bits < 1 || bits > 8 || len(src) < rows*rb || len(u) < rows*cols {
		panic(fmt.Sprintf("quant: UnpackBits: bits=%d rows=%d cols=%d len(src)=%d len(u)=%d", bits, rows, cols, len(src), len(u)))
	}
	mask := uint16(1)<<bits - 1
	for i := 0; i < rows; i++ {
		row := src[i*rb : i*rb+rb]
		for j := 0; j < cols; j++ {
			bit := j * bits
			v := uint16(row[bit/8])
			if bit/8+1 < rb {
				v |= uint16(row[bit/8+1]) << 8
			}
			u[i*cols+j] = uint8(v >> (bit % 8) & mask)
		}
	}
}

// PackedNBit is an (N,K) matrix of n-bit codes in storage layout: w[r][c] ≈ (u - (2^Bits-1)/2)·step,
// step = Steps[0] or Steps[r].
type PackedNBit struct {
	N, K, Bits int
	Steps      []float32 // 1 (per matrix) or N (per row), finite and positive
	Data       []byte    // (N, BitRowBytes(K, Bits))
}

// PackNBit quantizes w (n, k) at width wd (not ternary) and packs it.
func PackNBit(wd Width, w []float32, n, k int, perRow bool) *PackedNBit {
	if wd == WidthTernary || wd >= numWidths || len(w) != n*k {
		panic(fmt.Sprintf("quant: PackNBit: width %v, len(w)=%d for (%d, %d)", wd, len(w), n, k))
	}
	dq, u := make([]float32, n*k), make([]uint8, n*k)
	steps := wd.FakeQuant(dq, u, nil, w, n, k, perRow)
	p := &PackedNBit{N: n, K: k, Bits: wd.Bits(), Steps: append([]float32(nil), steps...), Data: make([]byte, n*BitRowBytes(k, wd.Bits()))}
	PackBits(p.Data, u, n, k, wd.Bits())
	return p
}

// PackNBitFixed is PackNBit with given steps (1 or n): a matrix loaded from a packed file re-packs to
// the same bytes.
func PackNBitFixed(wd Width, w []float32, n, k int, steps []float32) *PackedNBit {
	if wd == WidthTernary || wd >= numWidths || len(w) != n*k {
		panic(fmt.Sprintf("quant: PackNBitFixed: width %v, len(w)=%d for (%d, %d)", wd, len(w), n, k))
	}
	dq, u := make([]float32, n*k), make([]uint8, n*k)
	wd.FakeQuantFixed(dq, u, steps, w, n, k)
	p := &PackedNBit{N: n, K: k, Bits: wd.Bits(), Steps: append([]float32(nil), steps...), Data: make([]byte, n*BitRowBytes(k, wd.Bits()))}
	PackBits(p.Data, u, n, k, wd.Bits())
	return p
}

// Width is the matrix's width.
func (p *PackedNBit) Width() Width {
	for _, w := range Widths() {
		if w != WidthTernary && w.Bits() == p.Bits {
			return w
		}
	}
	return numWidths
}

// Validate checks a matrix read from a file: a width tern has, sizes, finite positive steps and zero
// pad bits. The GEMV kernels trust validated data.
func (p *PackedNBit) Validate() error {
	if p.Width() == numWidths {
		return fmt.Errorf("quant: packed matrix has %d bits (widths: 1, 2, 3, 4, 8)", p.Bits)
	}
	rb := BitRowBytes(p.K, p.Bits)
	if p.N < 0 || p.K < 0 || len(p.Data) != p.N*rb {
		return fmt.Errorf("quant: packed %d-bit (%d, %d) needs %d bytes, has %d", p.Bits, p.N, p.K, p.N*rb, len(p.Data))
	}
	if len(p.Steps) != 1 && len(p.Steps) != p.N {
		return fmt.Errorf("quant: packed %d-bit (%d, %d) has %d steps, want 1 or %d", p.Bits, p.N, p.K, len(p.Steps), p.N)
	}
	for i, s := range p.Steps {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("quant: packed %d-bit step %d is %v, not finite and positive", p.Bits, i, s)
		}
	}
	if pad := rb*8 - p.K*p.Bits; pad > 0 && rb > 0 {
		for r := 0; r < p.N; r++ {
			if last := p.Data[(r+1)*rb-1]; last>>(8-pad) != 0 {
				return fmt.Errorf("quant: packed %d-bit row %d: pad bits are not zero", p.Bits, r)
			}
		}
	}
	return nil
}

// Step is row r's step.
func (p *PackedNBit) Step(r int) float32 {
	if len(p.Steps) == 1 {
		return p.Steps[0]
	}
	return p.Steps[r]
}

// Dequantize writes w (N, K) = the values the codes stand for.
func (p *PackedNBit) Dequantize(w []float32) {
	u := make([]uint8, p.N*p.K)
	UnpackBits(u, p.Data, p.N, p.K, p.Bits)
	wd := p.Width()
	for r := 0; r < p.N; r++ {
		s := p.Step(r)
		for j, c := range u[r*p.K : (r+1)*p.K] {
			w[r*p.K+j] = wd.Value(c) * s
		}
	}
}

// BitsPerWeight is the storage cost including the fp32 steps.
func (p *PackedNBit) BitsPerWeight() float64 {
	if p.N*p.K == 0 {
		return 0
	}
	return float64(8*len(p.Data)+32*len(p.Steps)) / float64(p.N*p.K)
}
