package quant

import (
	"math"
	"testing"

	"tern/kernels"
	"tern/tensor"
)

// Every width's pack/unpack round trip is exact on ragged shapes, pad bits stay zero, and the
// packed bytes are exactly what Width.StoredBits counts.
func TestPackBitsRoundTrip(t *testing.T) {
	rng := tensor.NewRNG(21)
	for _, bits := range []int{1, 2, 3, 4, 8} {
		for _, shape := range [][2]int{{1, 1}, {3, 7}, {5, 8}, {2, 9}, {4, 63}, {7, 65}, {3, 200}} {
			rows, cols := shape[0], shape[1]
			u := make([]uint8, rows*cols)
			for i := range u {
				u[i] = uint8(rng.Intn(1 << bits))
			}
			dst := make([]byte, rows*BitRowBytes(cols, bits))
			PackBits(dst, u, rows, cols, bits)
			back := make([]uint8, rows*cols)
			UnpackBits(back, dst, rows, cols, bits)
			for i := range u {
				if back[i] != u[i] {
					t.Fatalf("bits %d %dx%d: code %d: %d -> %d", bits, rows, cols, i, u[i], back[i])
				}
			}
			if pad := BitRowBytes(cols, bits)*8 - cols*bits; pad > 0 {
				for i := 0; i < rows; i++ {
					last := dst[(i+1)*BitRowBytes(cols, bits)-1]
					if last>>(8-pad) != 0 {
						t.Fatalf("bits %d %dx%d: pad bits of row %d are %08b", bits, rows, cols, i, last)
					}
				}
			}
			w := map[int]Width{1: Width1, 2: Width2, 3: Width3, 4: Width4, 8: Width8}[bits]
			if got := w.StoredBits(rows, cols, false); got != int64(8*len(dst)+32) {
				t.Fatalf("bits %d %dx%d: StoredBits %d, packed %d bytes + 32", bits, rows, cols, got, len(dst))
			}
		}
	}
}

// kernels.NBitGemv (whichever implementation the CPU gets) equals the float64 product of the dequantized matrix and activations.
func TestNBitGemvRef(t *testing.T) {
	rng := tensor.NewRNG(22)
	for _, w := range []Width{Width1, Width2, Width3, Width4, Width8} {
		for _, perRow := range []bool{false, true} {
			rows, cols := 9, 37
			wf := make([]float32, rows*cols)
			rng.FillNormal(wf, 0.1)
			dq, u := make([]float32, rows*cols), make([]uint8, rows*cols)
			steps := w.FakeQuant(dq, u, nil, wf, rows, cols, perRow)
			packed := make([]byte, rows*BitRowBytes(cols, w.Bits()))
			PackBits(packed, u, rows, cols, w.Bits())
			x := make([]float32, cols)
			rng.FillNormal(x, 1)
			q, g := make([]int8, cols), make([]float32, 1)
			Int8Rows(q, g, x, 1, cols)
			y := make([]float32, rows)
			kernels.NBitGemv(y, packed, steps, rows, cols, w.Bits(), q, g[0])
			for i := 0; i < rows; i++ {
				var want float64
				for j := 0; j < cols; j++ {
					want += float64(dq[i*cols+j]) * float64(q[j]) / float64(g[0])
				}
				if math.Abs(float64(y[i])-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("%v perRow=%v: y[%d] = %v, want %v", w, perRow, i, y[i], want)
				}
			}
		}
	}
}

// PackNBit/Dequantize give back FakeQuant's values bit for bit, Validate accepts them and rejects a
// nonzero pad bit and a bad step.
func TestPackedNBit(t *testing.T) {
	rng := tensor.NewRNG(23)
	for _, w := range []Width{Width1, Width2, Width3, Width4, Width8} {
		for _, perRow := range []bool{false, true} {
			const n, k = 5, 13
			wf := make([]float32, n*k)
			rng.FillNormal(wf, 0.2)
			dq, u := make([]float32, n*k), make([]uint8, n*k)
			w.FakeQuant(dq, u, nil, wf, n, k, perRow)
			p := PackNBit(w, wf, n, k, perRow)
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			back := make([]float32, n*k)
			p.Dequantize(back)
			for i := range dq {
				if back[i] != dq[i] {
					t.Fatalf("%v: %d: %v -> %v", w, i, dq[i], back[i])
				}
			}
			if pad := BitRowBytes(k, w.Bits())*8 - k*w.Bits(); pad > 0 {
				p.Data[len(p.Data)-1] |= 0x80
				if err := p.Validate(); err == nil {
					t.Fatalf("%v: nonzero pad bit accepted", w)
				}
				p.Data[len(p.Data)-1] &^= 0x80
			}
			p.Steps[0] = 0
			if err := p.Validate(); err == nil {
				t.Fatalf("%v: zero step accepted", w)
			}
		}
	}
}
