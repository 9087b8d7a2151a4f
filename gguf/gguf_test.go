package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"tern/half"
)

// sample is a file with every value type and a tensor of every type tern writes.
func sample(t testing.TB) ([]KV, []Tensor, map[string][]float32) {
	kv := []KV{
		String(KeyArchitecture, "llama"), Uint32(KeyAlignment, 64), Int32("a.i32", -5), Float32("a.f32", 1.5),
		Bool("a.bool", false), {"a.u8", TypeUint8, uint8(200)}, {"a.i8", TypeInt8, int8(-100)},
		{"a.u16", TypeUint16, uint16(60000)}, {"a.i16", TypeInt16, int16(-30000)}, {"a.u64", TypeUint64, uint64(1) << 63},
		{"a.i64", TypeInt64, int64(-1) << 62}, {"a.f64", TypeFloat64, math.Pi},
		Strings("a.strs", []string{"x", "", "ünï"}), Int32s("a.ints", []int32{-1, 2}), Float32s("a.floats", []float32{0.5}),
		{"a.nested", TypeArray, Array{TypeArray, []Array{{TypeUint8, []uint8{1, 2}}, {TypeString, []string{"q"}}}}},
		{"a.bools", TypeArray, Array{TypeBool, []bool{true, false}}},
	}
	vals := map[string][]float32{}
	var ts []Tensor
	add := func(name string, typ Type, rows, cols int, data []byte, want []float32) {
		ts = append(ts, Tensor{Name: name, Dims: Matrix(rows, cols), Type: typ, Data: data})
		vals[name] = want
	}
	rnd := func(n int, seed float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(math.Sin(float64(i)*1.7+seed) * 3)
		}
		return v
	}
	for _, typ := range []Type{F32, F16, BF16} {
		v := rnd(2*64, float64(typ))
		b, err := EncodeFloat(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, len(v))
		for i, x := range v {
			switch typ {
			case F32:
				want[i] = x
			case F16:
				want[i] = half.F16ToFloat32(half.Float32ToF16(x))
			case BF16:
				want[i] = half.BF16ToFloat32(half.Float32ToBF16(x))
			}
		}
		add(strings.ToLower(typ.String()), typ, 2, 64, b, want)
	}
	for _, typ := range []Type{TQ1_0, TQ2_0, I2_S} {
		trits := make([]int8, 3*256)
		for i := range trits {
			trits[i] = int8((i*7+i/5+int(typ))%3) - 1
		}
		const s = 0.0123
		b, err := EncodeTernary(typ, trits, s)
		if err != nil {
			t.Fatal(err)
		}
		d := float32(s)
		if typ != I2_S {
			d = half.F16ToFloat32(half.Float32ToF16(s))
		}
		want := make([]float32, len(trits))
		for i, v := range trits {
			want[i] = float32(v) * d
		}
		add(strings.ToLower(typ.String()), typ, 3, 256, b, want)
	}
	return kv, ts, vals
}

// TestRoundTrip: what Write writes, Open reads back: metadata values and types, tensor bytes, and the
// values each encoder was given (exactly, after the type's own rounding).
func TestRoundTrip(t *testing.T) {
	kv, ts, vals := sample(t)
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := Write(path, kv, ts); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Alignment != 64 || f.DataOffset%64 != 0 {
		t.Errorf("alignment %d, data at %d", f.Alignment, f.DataOffset)
	}
	if !reflect.DeepEqual(f.KV, kv) {
		t.Errorf("metadata\n%#v\nwant\n%#v", f.KV, kv)
	}
	for _, w := range ts {
		ti, ok := f.Tensor(w.Name)
		if !ok {
			t.Fatalf("no tensor %s", w.Name)
		}
		if ti.Type != w.Type || !reflect.DeepEqual(ti.Dims, w.Dims) || !bytes.Equal(ti.Data, w.Data) || ti.Offset%64 != 0 {
			t.Errorf("%s: %s %v at %d", w.Name, ti.Type, ti.Dims, ti.Offset)
		}
		if !reflect.DeepEqual(ti.Shape(), []int{int(w.Dims[1]), int(w.Dims[0])}) {
			t.Errorf("%s: shape %v", w.Name, ti.Shape())
		}
		got, err := ti.Float32()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, vals[w.Name]) {
			t.Errorf("%s: values differ", w.Name)
		}
	}
}

// TestI2SLayout places single trits by bitnet.cpp's description (value 32g+p of 128-value block b is
// bits 6-2g of byte 32b+p; codes 0, 1, 2 = -1, 0, +1; a float32 scale at byte n/4) and decodes them.
func TestI2SLayout(t *testing.T) {
	const n = 256
	for _, i := range []int{0, 1, 31, 32, 63, 64, 100, 127, 128, 160, 255} {
		for _, v := range []int8{-1, 1} {
			data := make([]byte, n/4+32)
			for j := range n / 4 {
				data[j] = 0x55 // every code 1: zero
			}
			b, g, p := i/128, i%128/32, i%32
			sh := 6 - 2*g
			data[32*b+p] = data[32*b+p]&^(3<<sh) | byte(v+1)<<sh
			binary.LittleEndian.PutUint32(data[n/4:], math.Float32bits(0.5))
			out := make([]float32, n)
			if err := Dequantize(I2_S, data, out); err != nil {
				t.Fatal(err)
			}
			for j, x := range out {
				want := float32(0)
				if j == i {
					want = float32(v) * 0.5
				}
				if x != want {
					t.Fatalf("trit %d=%d: value %d is %v, want %v", i, v, j, x, want)
				}
			}
			trits := make([]int8, n)
			trits[i] = v
			enc, err := EncodeTernary(I2_S, trits, 0.5)
			if err != nil || !bytes.Equal(enc, data) {
				t.Fatalf("trit %d=%d: EncodeTernary gives other bytes (%v)", i, v, err)
			}
		}
	}
}

// TestTQ1Digits: every 5-trit group (3^5 = 243 of them) survives ggml's base-3 byte encoding
// (ceil(v·256/243)) and the multiply-and-shift decoding.
func TestTQ1Digits(t *testing.T) {
	trits := make([]int8, 256)
	for v := range 243 {
		d := v
		var digits [5]int8
		for k := 4; k >= 0; k-- {
			digits[k] = int8(d%3) - 1
			d /= 3
		}
		// the five trits of byte 0 are values 0, 32, 64, 96, 128 of the block
		for k := range 5 {
			trits[32*k] = digits[k]
		}
		b, err := EncodeTernary(TQ1_0, trits, 1)
		if err != nil {
			t.Fatal(err)
		}
		if want := byte((v*256 + 242) / 243); b[0] != want {
			t.Fatalf("group %d: byte %d, want %d", v, b[0], want)
		}
		out := make([]float32, 256)
		if err := Dequantize(TQ1_0, b, out); err != nil {
			t.Fatal(err)
		}
		for k := range 5 {
			if out[32*k] != float32(digits[k]) {
				t.Fatalf("group %d: trit %d decodes to %v, want %d", v, k, out[32*k], digits[k])
			}
		}
	}
}

// TestBadFiles: truncations, out-of-file tensors, unknown types, bad alignment, absurd counts and
// dims give errors naming the file (and the tensor), never a panic.
func TestBadFiles(t *testing.T) {
	kv, ts, _ := sample(t)
	var buf bytes.Buffer
	if err := Encode(&buf, kv, ts); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if _, err := Parse(good, "good.gguf"); err != nil {
		t.Fatal(err)
	}
	f, _ := Parse(good, "good.gguf")
	lt := f.Tensors[len(f.Tensors)-1]
	end := int(f.DataOffset) + int(lt.Offset) + len(lt.Data) // what follows is padding
	for n := 0; n < end; n++ {
		if _, err := Parse(good[:n], "cut.gguf"); err == nil || !strings.Contains(err.Error(), "cut.gguf") {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	infoAt := func(name string) int { // offset of the tensor info's type field
		i := bytes.Index(good, append(binary.LittleEndian.AppendUint64(nil, uint64(len(name))), name...))
		return i + 8 + len(name) + 4 + 8*2
	}
	patch := func(at int, v uint64, size int) []byte {
		b := bytes.Clone(good)
		if size == 4 {
			binary.LittleEndian.PutUint32(b[at:], uint32(v))
		} else {
			binary.LittleEndian.PutUint64(b[at:], v)
		}
		return b
	}
	last := f.Tensors[len(f.Tensors)-1].Name
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"unknown type", patch(infoAt("tq2_0"), 99, 4), `tensor "tq2_0": unknown ggml type 99`},
		{"offset outside", patch(infoAt(last)+4, 1<<40, 8), `tensor "` + last + `": bytes`},
		{"misaligned", patch(infoAt("f16")+4, f.Tensors[1].Offset+2, 8), "not a multiple of the alignment"},
		{"zero dim", patch(infoAt("f32")-16, 0, 8), "dimension 0 is 0"},
		{"huge tensor count", patch(8, 1<<60, 8), "tensor infos cannot fit"},
		{"huge kv count", patch(16, 1<<60, 8), "metadata entries cannot fit"},
		{"version", patch(4, 9, 4), "version 9"},
		{"magic", append([]byte("GGUX"), good[4:]...), "not a GGUF file"},
	}
	for _, c := range cases {
		_, err := Parse(c.b, "bad.gguf")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.gguf") {
			t.Errorf("%s: %v (want %q)", c.name, err, c.want)
		}
	}
	// a file on disk: Open names the path
	p := filepath.Join(t.TempDir(), "trunc.gguf")
	os.WriteFile(p, good[:end-10], 0o644)
	if _, err := Open(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("Open of a truncated file: %v", err)
	}
	// writer refuses data of the wrong size
	bad := []Tensor{{Name: "w", Dims: Matrix(1, 256), Type: TQ2_0, Data: make([]byte, 65)}}
	if err := Encode(&bytes.Buffer{}, nil, bad); err == nil || !strings.Contains(err.Error(), `"w"`) {
		t.Errorf("Encode with short data: %v", err)
	}
}
