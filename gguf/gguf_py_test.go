package gguf

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"tern/internal/testenv"
)

// TestGGUFPyReference: a file written by llama.cpp's gguf-py (every value type, a tensor of each type
// tern converts) reads back with the same metadata, the same bytes per tensor, and, converted to
// float32, bit for bit the values gguf-py's own dequantization gives.
func TestGGUFPyReference(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ref.gguf")
	cmd := testenv.GGUFPython(t, "testdata/ref.py", path, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gguf-py: %v\n%s", err, out)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if a, _ := f.String(KeyArchitecture); a != "bitnet" {
		t.Errorf("architecture %q", a)
	}
	want := map[string]any{"t.u32": uint32(4000000000), "t.i32": int32(-7), "t.f32": float32(0.25), "t.f64": -1.5,
		"t.u64": uint64(1 << 40), "t.i64": int64(-(1 << 40)), "t.i8": int8(-3), "t.u16": uint16(65000), "t.bool": true,
		"t.str": "héllo wörld"}
	for k, v := range want {
		kv, ok := f.Lookup(k)
		if !ok || kv.Value != v {
			t.Errorf("%s = %v (%T), want %v (%T)", k, kv.Value, kv.Value, v, v)
		}
	}
	if s, err := f.Strings("t.strs"); err != nil || !slices.Equal(s, []string{"a", "", "ĠThe", "<|end_of_text|>"}) {
		t.Errorf("t.strs = %q, %v", s, err)
	}
	if kv, _ := f.Lookup("t.ints"); !slices.Equal(kv.Value.(Array).Values.([]int32), []int32{1, -2, 3}) {
		t.Errorf("t.ints = %v", kv.Value)
	}
	for _, name := range []string{"f32", "f16", "bf16", "q8_0", "q6_k", "tq1_0", "tq2_0"} {
		ti, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("no tensor %s", name)
		}
		raw, err := os.ReadFile(filepath.Join(dir, name+".raw"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ti.Data, raw) {
			t.Errorf("%s: bytes differ from gguf-py's", name)
		}
		got, err := ti.Float32()
		if err != nil {
			t.Fatal(err)
		}
		ref := floatsFile(t, filepath.Join(dir, name+".f32"))
		if len(ref) != len(got) {
			t.Fatalf("%s: %d values, gguf-py %d", name, len(got), len(ref))
		}
		for i, r := range ref {
			if math.Float32bits(got[i]) != math.Float32bits(r) && !(got[i] == 0 && r == 0) {
				t.Fatalf("%s[%d] = %v, gguf-py %v", name, i, got[i], r)
			}
		}
		// tern's encoders write the same bytes as gguf-py's quantizers for exact inputs.
		switch ti.Type {
		case TQ1_0, TQ2_0:
			trits, scales, err := DecodeTernary(ti)
			if err != nil {
				t.Fatal(err)
			}
			if scales[0] == 0 {
				t.Fatalf("%s: first block scale 0", name)
			}
			enc, err := EncodeTernary(ti.Type, trits, scales[0])
			if err != nil {
				t.Fatal(err)
			}
			// gguf-py stores d = 0 for the all-zero block; tern writes the tensor's one scale there.
			for b := range scales {
				if scales[b] == 0 {
					per := len(enc) / len(scales)
					copy(enc[b*per:(b+1)*per], ti.Data[b*per:(b+1)*per])
				}
			}
			if !slices.Equal(enc, ti.Data) {
				t.Errorf("%s: EncodeTernary differs from gguf-py's quantizer", name)
			}
		case F16, BF16, Q8_0, F32:
			enc, err := EncodeFloat(ti.Type, floatsFile(t, filepath.Join(dir, name+".src")))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(enc, ti.Data) {
				t.Errorf("%s: EncodeFloat differs from gguf-py's quantizer", name)
			}
		}
	}
}

// floatsFile reads raw little-endian float32s.
func floatsFile(t *testing.T, path string) []float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
