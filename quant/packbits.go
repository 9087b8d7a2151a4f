package quant

import "fmt"

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

// NBitGemvRef is the plain-Go reference product of an n-bit packed matrix (rows, cols; steps: 1 or
// rows) with int8 activations x (cols) quantized with inverse scale g (x ≈ q/g):
//
//	y[i] = step_i/(2g) · (2·Σ_j u_ij·q_j - (2^b-1)·Σ_j q_j)      (exact int32 sums)
//
// which is Σ_j (u_ij - (2^b-1)/2)·step_i · q_j/g, the dequantized product. The int32 sums cannot
// overflow for cols < 2^31 / (255·128·2).
func NBitGemvRef(y []float32, packed []byte, steps []float32, rows, cols, bits int, q []int8, g float32) {
	rb := BitRowBytes(cols, bits)
	if len(y) < rows || len(packed) < rows*rb || len(q) < cols || (len(steps) != 1 && len(steps) < rows) {
		panic(fmt.Sprintf("quant: NBitGemvRef: rows=%d cols=%d bits=%d len(y)=%d len(packed)=%d len(q)=%d len(steps)=%d", rows, cols, bits, len(y), len(packed), len(q), len(steps)))
	}
	var sx int32
	for _, v := range q[:cols] {
		sx += int32(v)
	}
	u := make([]uint8, cols)
	for i := 0; i < rows; i++ {
		UnpackBits(u, packed[i*rb:i*rb+rb], 1, cols, bits)
		var dot int32
		for j, c := range u {
			dot += int32(c) * int32(q[j])
		}
		s := steps[0]
		if len(steps) > 1 {
			s = steps[i]
		}
		y[i] = s / (2 * g) * float32(2*dot-int32(1<<bits-1)*sx)
	}
}
