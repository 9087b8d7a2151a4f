package gguf

// ggml tensor types: sizes (for bounds checks of any file) and, for the types tern converts, the block
// layouts with their conversions to float32 and, for the types tern writes, from its values.
//
// Layouts (per block; d is an F16 scale unless said otherwise):
//   - Q8_0, 32 values, 34 bytes: d, int8 q[32]; x = d·q.
//   - Q6_K, 256 values, 210 bytes: ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], d;
//     per half of 128: x[l+32·i] = d·scales[l/16+2i]·(q-32), i = 0..3, with q's low nibble from
//     ql[l] (i = 0, 2: low/high nibble) or ql[l+32] (i = 1, 3) and its top bits from qh[l] >> 2i.
//   - TQ2_0, 256 values, 66 bytes: qs[64], d; value 128·c + 32·l + m is bits 2l..2l+1 of qs[32c+m],
//     stored as trit+1.
//   - TQ1_0, 256 values, 54 bytes: qs[48], qh[4], d. Five trits per byte in base 3, most significant
//     first, the byte holding ceil(v·256/243) so that the n-th trit is ((byte·3ⁿ mod 256)·3) >> 8:
//     qs[0:32] hold values 32n+m, qs[32:48] values 160+16n+m, qh values 240+4n+j (four trits, shifted
//     up one place).
//   - I2_S (bitnet.cpp, x86 layout with ACT_PARALLEL, its default): the whole tensor is one run of
//     128-value blocks of 32 bytes, value 32g+p of a block in bits 6-2g..7-2g of byte p (codes 0, 1, 2
//     = -1, 0, +1), then one float32 scale for the whole tensor and padding: n/4 + 32 bytes in all.
// Sources: ggml-common.h and ggml-quants.c of llama.cpp; src/ggml-bitnet-mad.cpp of microsoft/BitNet.

import (
	"encoding/binary"
	"fmt"
	"math"

	"tern/half"
)

// Type is a ggml tensor type.
type Type uint32

// The ggml types tern converts or writes (all others are recognised for their sizes only).
const (
	F32   Type = 0
	F16   Type = 1
	Q8_0  Type = 8
	Q6_K  Type = 14
	BF16  Type = 30
	TQ1_0 Type = 34
	TQ2_0 Type = 35
	I2_S  Type = 36 // bitnet.cpp (its fork of ggml); not a type of upstream ggml
)

type typeInfo struct {
	name         string
	block, bytes int // values per block, bytes per block
}

// types are ggml's block sizes (gguf-py's GGML_QUANT_SIZES) plus bitnet.cpp's I2_S.
var types = map[Type]typeInfo{
	0: {"F32", 1, 4}, 1: {"F16", 1, 2}, 2: {"Q4_0", 32, 18}, 3: {"Q4_1", 32, 20}, 6: {"Q5_0", 32, 22},
	7: {"Q5_1", 32, 24}, 8: {"Q8_0", 32, 34}, 9: {"Q8_1", 32, 40}, 10: {"Q2_K", 256, 84},
	11: {"Q3_K", 256, 110}, 12: {"Q4_K", 256, 144}, 13: {"Q5_K", 256, 176}, 14: {"Q6_K", 256, 210},
	15: {"Q8_K", 256, 292}, 16: {"IQ2_XXS", 256, 66}, 17: {"IQ2_XS", 256, 74}, 18: {"IQ3_XXS", 256, 98},
	19: {"IQ1_S", 256, 50}, 20: {"IQ4_NL", 32, 18}, 21: {"IQ3_S", 256, 110}, 22: {"IQ2_S", 256, 82},
	23: {"IQ4_XS", 256, 136}, 24: {"I8", 1, 1}, 25: {"I16", 1, 2}, 26: {"I32", 1, 4}, 27: {"I64", 1, 8},
	28: {"F64", 1, 8}, 29: {"IQ1_M", 256, 56}, 30: {"BF16", 1, 2}, 34: {"TQ1_0", 256, 54},
	35: {"TQ2_0", 256, 66}, 36: {"I2_S", 1, 0}, 39: {"MXFP4", 32, 17}, 40: {"NVFP4", 64, 36},
	41: {"Q1_0", 128, 18}, 42: {"Q2_0", 64, 18},
}

var typeOrder = []Type{F32, F16, BF16, Q8_0, Q6_K, TQ1_0, TQ2_0, I2_S}

func (t Type) String() string {
	if i, ok := types[t]; ok {
		return i.name
	}
	return fmt.Sprintf("ggml type %d", uint32(t))
}

// ParseType reads a type name ("tq2_0", "F16", ...).
func ParseType(s string) (Type, error) {
	for t, i := range types {
		if equalFold(i.name, s) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown ggml type %q", s)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// BlockSize is the number of values per block; rows (Dims[0]) are whole blocks.
func (t Type) BlockSize() int { return types[t].block }

// bytes is the size of n values of type t (n a multiple of the block size).
func (t Type) bytes(n int64) int64 {
	if t == I2_S {
		return (n+3)/4 + 32
	}
	i := types[t]
	return n / int64(i.block) * int64(i.bytes)
}

// Bytes is the size in a file of a tensor of n values.
func (t Type) Bytes(n int64) int64 { return t.bytes(n) }

// Ternary reports whether t stores ternary values (TQ1_0, TQ2_0, I2_S).
func (t Type) Ternary() bool { return t == TQ1_0 || t == TQ2_0 || t == I2_S }

// Float32 converts the tensor to float32 values in ggml order (row-major, Dims[0] fastest).
func (t *TensorInfo) Float32() ([]float32, error) {
	out := make([]float32, t.Elements())
	if err := Dequantize(t.Type, t.Data, out); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return out, nil
}

// Dequantize converts len(out) values of type typ stored in data to float32.
func Dequantize(typ Type, data []byte, out []float32) error {
	n := int64(len(out))
	if typ.BlockSize() == 0 || n%int64(typ.BlockSize()) != 0 {
		return fmt.Errorf("%d values are not whole %s blocks", n, typ)
	}
	if int64(len(data)) != typ.bytes(n) {
		return fmt.Errorf("%d values of %s take %d bytes, got %d", n, typ, typ.bytes(n), len(data))
	}
	le := binary.LittleEndian
	switch typ {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(data[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = half.F16ToFloat32(le.Uint16(data[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = half.BF16ToFloat32(le.Uint16(data[2*i:]))
		}
	case Q8_0:
		for b := 0; b < len(out)/32; b++ {
			blk := data[34*b:]
			d := half.F16ToFloat32(le.Uint16(blk))
			for j := range 32 {
				out[32*b+j] = d * float32(int8(blk[2+j]))
			}
		}
	case Q6_K:
		for b := 0; b < len(out)/256; b++ {
			q6k(out[256*b:256*b+256], data[210*b:210*b+210])
		}
	case TQ1_0, TQ2_0, I2_S:
		trits := make([]int8, len(out))
		scales, err := decodeTernary(typ, data, trits)
		if err != nil {
			return err
		}
		per := len(out) / len(scales)
		for i, v := range trits {
			out[i] = float32(v) * scales[i/per]
		}
	default:
		return fmt.Errorf("converting %s is not supported (supported: F32, F16, BF16, Q8_0, Q6_K, TQ1_0, TQ2_0, I2_S)", typ)
	}
	return nil
}

// q6k dequantizes one Q6_K block.
func q6k(y []float32, blk []byte) {
	ql, qh, sc := blk[:128], blk[128:192], blk[192:208]
	d := half.F16ToFloat32(binary.LittleEndian.Uint16(blk[208:]))
	for h := range 2 {
		qlh, qhh, sch, yh := ql[64*h:], qh[32*h:], sc[8*h:], y[128*h:]
		for l := range 32 {
			is := l / 16
			q := [4]int{
				int(qlh[l]&0xF) | int(qhh[l]>>0&3)<<4,
				int(qlh[l+32]&0xF) | int(qhh[l]>>2&3)<<4,
				int(qlh[l]>>4) | int(qhh[l]>>4&3)<<4,
				int(qlh[l+32]>>4) | int(qhh[l]>>6&3)<<4,
			}
			for i := range 4 {
				yh[l+32*i] = d * float32(int8(sch[is+2*i])) * float32(q[i]-32)
			}
		}
	}
}

// tq1Trit is the n-th trit (0..4, most significant first) of a TQ1_0 byte, as 0, 1, 2.
func tq1Trit(b byte, n int) int8 {
	q := b * pow3[n] // mod 256, as ggml's uint8 arithmetic
	return int8((uint16(q) * 3) >> 8)
}

var pow3 = [6]byte{1, 3, 9, 27, 81, 243}

// DecodeTernary returns a ternary tensor's values as trits in ggml order and its scales: one per
// 256-value block for TQ1_0 and TQ2_0 (the F16 d, widened), one for the whole tensor for I2_S; the
// value of element i is trits[i]·scales[i/(n/len(scales))].
func DecodeTernary(t *TensorInfo) ([]int8, []float32, error) {
	trits := make([]int8, t.Elements())
	s, err := decodeTernary(t.Type, t.Data, trits)
	if err != nil {
		return nil, nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return trits, s, nil
}

func decodeTernary(typ Type, data []byte, trits []int8) ([]float32, error) {
	n := len(trits)
	le := binary.LittleEndian
	switch typ {
	case TQ2_0:
		if n%256 != 0 || len(data) != n/256*66 {
			return nil, fmt.Errorf("%d values of TQ2_0 need %d bytes, got %d", n, n/256*66, len(data))
		}
		scales := make([]float32, n/256)
		for b := range scales {
			blk, y := data[66*b:], trits[256*b:]
			for c := range 2 {
				for l := range 4 {
					for m := range 32 {
						y[128*c+32*l+m] = int8(blk[32*c+m]>>(2*l)&3) - 1
					}
				}
			}
			scales[b] = half.F16ToFloat32(le.Uint16(blk[64:]))
		}
		return scales, checkTrits(trits, typ)
	case TQ1_0:
		if n%256 != 0 || len(data) != n/256*54 {
			return nil, fmt.Errorf("%d values of TQ1_0 need %d bytes, got %d", n, n/256*54, len(data))
		}
		scales := make([]float32, n/256)
		for b := range scales {
			blk, y := data[54*b:], trits[256*b:]
			for nn := range 5 {
				for m := range 32 {
					y[32*nn+m] = tq1Trit(blk[m], nn) - 1
				}
				for m := range 16 {
					y[160+16*nn+m] = tq1Trit(blk[32+m], nn) - 1
				}
			}
			for nn := range 4 {
				for j := range 4 {
					y[240+4*nn+j] = tq1Trit(blk[48+j], nn) - 1
				}
			}
			scales[b] = half.F16ToFloat32(le.Uint16(blk[52:]))
		}
		return scales, nil
	case I2_S:
		if n%128 != 0 || len(data) != n/4+32 {
			return nil, fmt.Errorf("%d values of I2_S (whole 128-value blocks) need %d bytes, got %d", n, n/4+32, len(data))
		}
		for b := 0; b < n/128; b++ {
			blk, y := data[32*b:], trits[128*b:]
			for g := range 4 {
				for p := range 32 {
					y[32*g+p] = int8(blk[p]>>(6-2*g)&3) - 1
				}
			}
		}
		s := math.Float32frombits(le.Uint32(data[n/4:]))
		return []float32{s}, checkTrits(trits, typ)
	}
	return nil, fmt.Errorf("%s is not a ternary type", typ)
}

// checkTrits rejects the unused 2-bit code 3 (decoded as 2): a corrupt or foreign tensor.
func checkTrits(trits []int8, typ Type) error {
	for i, v := range trits {
		if v > 1 {
			return fmt.Errorf("value %d holds the unused %s code 3", i, typ)
		}
	}
	return nil
}

// EncodeTernary stores trits (values in {-1, 0, 1}, ggml order) with one scale as typ: TQ1_0 or TQ2_0
// (every block's d is the scale rounded to F16) or I2_S (the scale kept as float32).
func EncodeTernary(typ Type, trits []int8, scale float32) ([]byte, error) {
	n := len(trits)
	for i, v := range trits {
		if v < -1 || v > 1 {
			return nil, fmt.Errorf("value %d is %d, not a trit", i, v)
		}
	}
	le := binary.LittleEndian
	switch typ {
	case TQ2_0:
		if n%256 != 0 {
			return nil, fmt.Errorf("TQ2_0 stores whole blocks of 256 values, not %d", n)
		}
		out := make([]byte, n/256*66)
		d := half.Float32ToF16(scale)
		for b := 0; b < n/256; b++ {
			blk, x := out[66*b:], trits[256*b:]
			for c := range 2 {
				for l := range 4 {
					for m := range 32 {
						blk[32*c+m] |= byte(x[128*c+32*l+m]+1) << (2 * l)
					}
				}
			}
			le.PutUint16(blk[64:], d)
		}
		return out, nil
	case TQ1_0:
		if n%256 != 0 {
			return nil, fmt.Errorf("TQ1_0 stores whole blocks of 256 values, not %d", n)
		}
		out := make([]byte, n/256*54)
		d := half.Float32ToF16(scale)
		// base3 packs trits most significant first and maps the value v (< 243) to ceil(v·256/243), the
		// byte whose scaled multiplications recover the digits.
		base3 := func(ts ...int8) byte {
			v := 0
			for _, t := range ts {
				v = 3*v + int(t+1)
			}
			for range 5 - len(ts) {
				v *= 3
			}
			return byte((v*256 + 242) / 243)
		}
		for b := 0; b < n/256; b++ {
			blk, x := out[54*b:], trits[256*b:]
			for m := range 32 {
				blk[m] = base3(x[m], x[32+m], x[64+m], x[96+m], x[128+m])
			}
			for m := range 16 {
				blk[32+m] = base3(x[160+m], x[176+m], x[192+m], x[208+m], x[224+m])
			}
			for j := range 4 {
				blk[48+j] = base3(x[240+j], x[244+j], x[248+j], x[252+j])
			}
			le.PutUint16(blk[52:], d)
		}
		return out, nil
	case I2_S:
		if n%128 != 0 {
			return nil, fmt.Errorf("I2_S stores whole blocks of 128 values, not %d", n)
		}
		out := make([]byte, n/4+32)
		for b := 0; b < n/128; b++ {
			blk, x := out[32*b:], trits[128*b:]
			for g := range 4 {
				for p := range 32 {
					blk[p] |= byte(x[32*g+p]+1) << (6 - 2*g)
				}
			}
		}
		le.PutUint32(out[n/4:], math.Float32bits(scale))
		return out, nil
	}
	return nil, fmt.Errorf("%s is not a ternary type", typ)
}

// EncodeFloat stores values as F32, F16, BF16 (round to nearest even) or Q8_0 (ggml's reference
// quantizer: d = max|x|/127 per 32 values, q = round(x/d)).
func EncodeFloat(typ Type, v []float32) ([]byte, error) {
	le := binary.LittleEndian
	switch typ {
	case F32:
		out := make([]byte, 4*len(v))
		for i, x := range v {
			le.PutUint32(out[4*i:], math.Float32bits(x))
		}
		return out, nil
	case F16, BF16:
		out := make([]byte, 2*len(v))
		for i, x := range v {
			h := half.Float32ToF16(x)
			if typ == BF16 {
				h = half.Float32ToBF16(x)
			}
			le.PutUint16(out[2*i:], h)
		}
		return out, nil
	case Q8_0:
		if len(v)%32 != 0 {
			return nil, fmt.Errorf("Q8_0 stores whole blocks of 32 values, not %d", len(v))
		}
		out := make([]byte, len(v)/32*34)
		for b := 0; b < len(v)/32; b++ {
			x, blk := v[32*b:32*b+32], out[34*b:]
			amax := float32(0)
			for _, a := range x {
				amax = max(amax, float32(math.Abs(float64(a))))
			}
			d := amax / 127
			id := float32(0)
			if d != 0 {
				id = 1 / d
			}
			le.PutUint16(blk, half.Float32ToF16(d))
			for j, a := range x {
				blk[2+j] = byte(int8(math.Round(float64(a * id))))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("writing %s from floats is not supported (F32, F16, BF16, Q8_0)", typ)
}
