package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// Ternary packing at 5 trits per byte, tern's storage (and decoding) layout for 1.58-bit weights.
//
// 3^5 = 243 <= 256, so five weights t ∈ {-1,0,1} fit in one byte: with digits d_i = t_i + 1 ∈ {0,1,2},
//
//	byte = d0 + 3·d1 + 9·d2 + 27·d3 + 81·d4     (d0 is the first weight; the byte is ≤ 242)
//
// That is 1.6 bits per weight; log2(3) = 1.585 is the floor. A matrix is stored row by row, each row
// padded to whole bytes (ceil(K/5) bytes, the pad digits are 1, i.e. weight 0), so a row starts on a
// byte and the GEMV kernel (kernels/gemv.go) reads the same bytes the file holds; the padding costs
// nothing when K is a multiple of 5 and 0.1% for K = 4096 (820 bytes for 4096 weights). One fp32
// scale per matrix (BitNet's absmean s, w ≈ s·t) adds 32 bits: 1.6016 bits/weight for 4096x4096.

// TritsPerByte is the number of ternary weights in one packed byte.
const TritsPerByte = 5

// MaxPackedByte is the largest valid packed byte (all five digits 2): 3^5 - 1.
const MaxPackedByte = 242

// PackedLen is the number of bytes that hold n trits.
func PackedLen(n int) int { return (n + TritsPerByte - 1) / TritsPerByte }

// PackTrits packs t (values in {-1,0,1}) into dst[:PackedLen(len(t))]; a tail group is padded with
// zeros. It panics on a value outside {-1,0,1} or a short dst.
func PackTrits(dst []byte, t []int8) {
	n := len(t)
	if len(dst) < PackedLen(n) {
		panic(fmt.Sprintf("quant: PackTrits: len(dst)=%d < %d for %d trits", len(dst), PackedLen(n), n))
	}
	full := n / TritsPerByte
	for j := 0; j < full; j++ {
		g := t[5*j : 5*j+5 : 5*j+5]
		dst[j] = digit(g[0]) + 3*digit(g[1]) + 9*digit(g[2]) + 27*digit(g[3]) + 81*digit(g[4])
	}
	if r := n - full*TritsPerByte; r > 0 {
		var b, p byte = 0, 1
		for i := 0; i < TritsPerByte; i++ {
			d := byte(1) // padding: weight 0
			if i < r {
				d = digit(t[full*TritsPerByte+i])
			}
			b += d * p
			p *= 3
		}
		dst[full] = b
	}
}

func digit(v int8) byte {
	if v < -1 || v > 1 {
		panic(fmt.Sprintf("quant: PackTrits: value %d is not ternary", v))
	}
	return byte(v + 1)
}

// unpackTable[b] holds byte b's five trits as int8 in its low 5 bytes (little-endian), so Unpack can
// store 8 bytes at a time.
var unpackTable = func() (t [256]uint64) {
	for b := 0; b <= MaxPackedByte; b++ {
		v, x := b, uint64(0)
		for i := 0; i < TritsPerByte; i++ {
			x |= uint64(uint8(int8(v%3-1))) << (8 * i)
			v /= 3
		}
		t[b] = x
	}
	return
}()

// UnpackTrits decodes len(dst) trits from src. Packed bytes come from files, so a byte above 242 or
// a tail byte whose padding digits are not weight 0 is reported as an error, not a panic; a short
// src is a programming error and panics.
func UnpackTrits(dst []int8, src []byte) error {
	n := len(dst)
	nb := PackedLen(n)
	if len(src) < nb {
		panic(fmt.Sprintf("quant: UnpackTrits: len(src)=%d < %d for %d trits", len(src), nb, n))
	}
	full := n / TritsPerByte
	j := 0
	for ; j < full && 5*j+8 <= n; j++ { // 8-byte stores while they stay inside dst
		b := src[j]
		if b > MaxPackedByte {
			return fmt.Errorf("quant: packed byte %d is %d > %d", j, b, MaxPackedByte)
		}
		putUint64(dst[5*j:], unpackTable[b])
	}
	for ; j < nb; j++ {
		b := src[j]
		if b > MaxPackedByte {
			return fmt.Errorf("quant: packed byte %d is %d > %d", j, b, MaxPackedByte)
		}
		v := int(b)
		for i := 0; i < TritsPerByte; i++ {
			if k := 5*j + i; k < n {
				dst[k] = int8(v%3 - 1)
			} else if v%3 != 1 {
				return fmt.Errorf("quant: packed byte %d: padding trit %d is %d, want 0", j, i, v%3-1)
			}
			v /= 3
		}
	}
	return nil
}

// putUint64 stores x little-endian into d[:8] (int8 and byte share a representation).
func putUint64(d []int8, x uint64) {
	binary.LittleEndian.PutUint64(unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), 8), x)
}

// PackedTernary is an (N,K) ternary matrix in storage layout: w[r][c] ≈ Scale·t[r][c].
type PackedTernary struct {
	N, K  int
	Scale float32 // per-matrix scale (BitNet absmean), stored as fp32
	Data  []byte  // (N, RowBytes(K)): row r is Data[r*RowBytes(K):], 5 trits per byte
}

// RowBytes is the packed size of one row of k weights.
func RowBytes(k int) int { return PackedLen(k) }

// PackTernary packs t (N,K) with values in {-1,0,1} and its scale.
func PackTernary(t []int8, scale float32, n, k int) *PackedTernary {
	if n < 0 || k < 0 || len(t) != n*k {
		panic(fmt.Sprintf("quant: PackTernary: len(t)=%d for (%d, %d)", len(t), n, k))
	}
	rb := RowBytes(k)
	p := &PackedTernary{N: n, K: k, Scale: scale, Data: make([]byte, n*rb)}
	for r := 0; r < n; r++ {
		PackTrits(p.Data[r*rb:(r+1)*rb], t[r*k:(r+1)*k])
	}
	return p
}

// Unpack decodes the matrix into dst (N,K); it fails on bytes no packer writes (see UnpackTrits).
func (p *PackedTernary) Unpack(dst []int8) error {
	if err := p.checkSize(); err != nil {
		return err
	}
	if len(dst) != p.N*p.K {
		panic(fmt.Sprintf("quant: PackedTernary.Unpack: len(dst)=%d for (%d, %d)", len(dst), p.N, p.K))
	}
	rb := RowBytes(p.K)
	for r := 0; r < p.N; r++ {
		if err := UnpackTrits(dst[r*p.K:(r+1)*p.K], p.Data[r*rb:(r+1)*rb]); err != nil {
			return fmt.Errorf("quant: row %d: %w", r, err)
		}
	}
	return nil
}

// Validate checks a matrix read from a file: sizes, a finite positive scale, and that every byte
// decodes (≤ 242, zero padding). The GEMV kernel trusts validated data.
func (p *PackedTernary) Validate() error {
	if err := p.checkSize(); err != nil {
		return err
	}
	if !(p.Scale > 0) || math.IsInf(float64(p.Scale), 0) {
		return fmt.Errorf("quant: packed ternary scale %v is not finite and positive", p.Scale)
	}
	rb := RowBytes(p.K)
	var tail [TritsPerByte]int8
	r := p.K % TritsPerByte
	for row := 0; row < p.N; row++ {
		d := p.Data[row*rb : (row+1)*rb]
		for j, b := range d {
			if b > MaxPackedByte {
				return fmt.Errorf("quant: row %d byte %d is %d > %d", row, j, b, MaxPackedByte)
			}
		}
		if r != 0 {
			if err := UnpackTrits(tail[:r], d[rb-1:]); err != nil {
				return fmt.Errorf("quant: row %d: %w", row, err)
			}
		}
	}
	return nil
}

func (p *PackedTernary) checkSize() error {
	if p.N < 0 || p.K < 0 || len(p.Data) != p.N*RowBytes(p.K) {
		return fmt.Errorf("quant: packed ternary (%d, %d) needs %d bytes, has %d", p.N, p.K, p.N*RowBytes(p.K), len(p.Data))
	}
	return nil
}

// BitsPerWeight is the storage cost including the fp32 scale: (8·len(Data) + 32) / (N·K).
func (p *PackedTernary) BitsPerWeight() float64 {
	if p.N*p.K == 0 {
		return 0
	}
	return float64(8*len(p.Data)+32) / float64(p.N*p.K)
}
