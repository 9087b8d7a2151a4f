package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// sampleTensors covers every dtype tern writes, a scalar, an empty tensor and mixed element sizes
// (so the size-descending order and alignment are exercised).
func sampleTensors() []Tensor {
	return []Tensor{
		I8Tensor("w.ternary", []int{2, 3}, []int8{-1, 0, 1, 1, 0, -1}),
		F32Tensor("w.scale", []int{}, []float32{0.25}),
		U8Tensor("packed", []int{5}, []byte{0, 1, 242, 7, 9}),
		F16Tensor("h", []int{3}, []float32{1, -2, 0.5}),
		I64Tensor("step", []int{1}, []int64{1 << 40}),
		BF16Tensor("b", []int{2}, []float32{3, -0.125}),
		I32Tensor("ids", []int{2, 2}, []int32{-7, 1 << 30, 0, 5}),
		F32Tensor("empty", []int{0, 4}, nil),
		F32Tensor("emb", []int{2, 2}, []float32{1.5, -2.25, math.MaxFloat32, -math.MaxFloat32}),
	}
}

func writeSample(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Write(path, map[string]string{"config": `{"d":256}`}, sampleTensors()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

func TestRoundTrip(t *testing.T) {
	path, raw := writeSample(t)
	want := sampleTensors()
	for _, open := range []struct {
		name string
		fn   func(string) (*File, error)
	}{{"Read", Read}, {"ReadAny", ReadAny}, {"Open", Open}, {"OpenAny", OpenAny}} {
		f, err := open.fn(path)
		if err != nil {
			t.Fatalf("%s: %v", open.name, err)
		}
		if f.Meta["config"] != `{"d":256}` || f.Meta["format"] != "tern" || f.Meta["format_version"] != "2" {
			t.Errorf("%s: meta %v", open.name, f.Meta)
		}
		if len(f.Tensors) != len(want) {
			t.Fatalf("%s: %d tensors, want %d", open.name, len(f.Tensors), len(want))
		}
		for _, w := range want {
			g, ok := f.Tensor(w.Name)
			if !ok {
				t.Fatalf("%s: missing %q", open.name, w.Name)
			}
			if g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) || !bytes.Equal(g.Data, w.Data) {
				t.Errorf("%s: %q = %s%v %x, want %s%v %x", open.name, w.Name, g.DType, g.Shape, g.Data, w.DType, w.Shape, w.Data)
			}
		}
		if _, err := f.Get("nope"); !errors.Is(err, ErrNoTensor) {
			t.Errorf("%s: Get(nope) = %v", open.name, err)
		}
		// Alignment: data starts at a multiple of 8 and each tensor at a multiple of its size.
		if f.Header.DataStart%8 != 0 {
			t.Errorf("DataStart %d not 8-aligned", f.Header.DataStart)
		}
		for _, e := range f.Header.Entries {
			if e.Begin%int64(e.DType.Size()) != 0 {
				t.Errorf("%q (%s) at offset %d", e.Name, e.DType, e.Begin)
			}
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
	// Typed accessors.
	f, _ := Parse(raw)
	chk := func(name string, got, want any) {
		t.Helper()
		if !equalAny(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	tens := func(n string) Tensor { x, _ := f.Tensor(n); return x }
	v8, _ := tens("w.ternary").Int8()
	chk("Int8", v8, []int8{-1, 0, 1, 1, 0, -1})
	u8, _ := tens("packed").Uint8()
	chk("Uint8", u8, []byte{0, 1, 242, 7, 9})
	f32, _ := tens("emb").Float32()
	chk("F32", f32, []float32{1.5, -2.25, math.MaxFloat32, -math.MaxFloat32})
	f16, _ := tens("h").Float32()
	chk("F16", f16, []float32{1, -2, 0.5})
	bf, _ := tens("b").Float32()
	chk("BF16", bf, []float32{3, -0.125})
	i32, _ := tens("ids").Int32()
	chk("I32", i32, []int32{-7, 1 << 30, 0, 5})
	i64, _ := tens("step").Int64()
	chk("I64", i64, []int64{1 << 40})
	sc, _ := tens("w.scale").Float32()
	chk("scalar", sc, []float32{0.25})
	if _, err := tens("ids").Float32(); err == nil {
		t.Error("Float32 of I32 should fail")
	}
	if _, err := tens("emb").Int8(); err == nil {
		t.Error("Int8 of F32 should fail")
	}
}

func TestWriteDeterministicAndAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.safetensors")
	var prev []byte
	for i := 0; i < 2; i++ { // the second write replaces the first
		if err := Write(path, map[string]string{"x": "1", "y": "2"}, sampleTensors()); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if prev != nil && !bytes.Equal(prev, b) {
			t.Error("two writes of the same tensors differ")
		}
		prev = b
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temp files left behind: %v", ents)
	}
	if err := Write(filepath.Join(dir, "missing", "x"), nil, sampleTensors()); err == nil {
		t.Error("write into a missing directory should fail")
	}
	// A failing encode leaves the old file in place and no temp file.
	bad := append(sampleTensors(), I8Tensor("w.ternary", []int{1}, []int8{1}))
	if err := Write(path, nil, bad); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate name: %v", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, prev) {
		t.Error("failed write damaged the old file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temp files left behind after failure: %v", ents)
	}
	for _, k := range []string{"format", "format_version", "tern.crc32c.w.scale"} {
		if err := Write(path, map[string]string{k: "x"}, sampleTensors()); err == nil {
			t.Errorf("reserved key %q accepted", k)
		}
	}
	if err := Write(path, nil, []Tensor{{Name: "x", DType: F32, Shape: []int{2}, Data: make([]byte, 4)}}); err == nil {
		t.Error("size mismatch accepted")
	}
	if err := Write(path, nil, []Tensor{{Name: "__metadata__", DType: U8, Shape: []int{0}}}); err == nil {
		t.Error("__metadata__ as a tensor name accepted")
	}
}

// rawFile assembles a safetensors file from a header JSON string and data bytes.
func rawFile(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	return append(append(b, header...), data...)
}

const ternMeta = `"__metadata__":{"format":"tern","format_version":"1"`

func TestBadInputs(t *testing.T) {
	_, good := writeSample(t)
	hdrLen := int(binary.LittleEndian.Uint64(good))
	cases := []struct {
		name string
		file []byte
		want error  // errors.Is target
		msg  string // substring of the message
	}{
		{"empty", nil, ErrTruncated, ""},
		{"short length", []byte{1, 2, 3}, ErrTruncated, ""},
		{"huge header length", append([]byte{0, 0, 0, 0, 0, 0, 0, 0x10}, '{', '}'), ErrBadHeader, "limit"},
		{"header longer than file", good[:8+hdrLen-1], ErrTruncated, ""},
		{"not JSON", rawFile("hello world!", nil), ErrBadHeader, "not a JSON object"},
		{"broken JSON", rawFile(`{"a": {"dtype": "F32"`, nil), ErrBadHeader, ""},
		{"JSON array", rawFile(`[1,2,3]`, nil), ErrBadHeader, ""},
		{"metadata not strings", rawFile(`{"__metadata__":{"a":1}}`, nil), ErrBadHeader, "__metadata__"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), ErrBadHeader, "unknown dtype"},
		{"missing shape", rawFile(`{"a":{"dtype":"U8","data_offsets":[0,1]}}`, []byte{0}), ErrBadHeader, "missing shape"},
		{"negative dim", rawFile(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, []byte{0}), ErrBadHeader, "invalid shape"},
		{"overflowing shape", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrBadHeader, "invalid shape"},
		{"one offset", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}`, []byte{0}), ErrBadHeader, "data_offsets"},
		{"reversed offsets", rawFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, nil), ErrBadHeader, "bad data_offsets"},
		{"size != dtype*shape", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrBadHeader, "needs 8 bytes"},
		{"overlap", rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, make([]byte, 6)), ErrBadHeader, "overlap"},
		{"hole", rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}`, make([]byte, 6)), ErrBadHeader, "hole"},
		{"offsets past end", rawFile(`{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}`, make([]byte, 4)), ErrTruncated, "tensors need"},
		{"trailing bytes", rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, make([]byte, 4)), ErrBadHeader, "after the last tensor"},
	}
	for _, c := range cases {
		_, err := ParseAny(c.file)
		if err == nil || !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}

func TestTernMetadata(t *testing.T) {
	plain := rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2})
	if _, err := Parse(plain); !errors.Is(err, ErrNotTern) || !strings.Contains(err.Error(), "ReadAny") {
		t.Errorf("plain safetensors via Parse: %v", err)
	}
	if f, err := ParseAny(plain); err != nil || len(f.Tensors) != 1 {
		t.Errorf("plain safetensors via ParseAny: %v", err)
	}
	other := rawFile(`{"__metadata__":{"format":"pt"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2})
	if _, err := Parse(other); !errors.Is(err, ErrNotTern) || !strings.Contains(err.Error(), `"pt"`) {
		t.Errorf("format pt via Parse: %v", err)
	}
	crc := checksum([]byte{1, 2})
	for _, c := range []struct {
		name, header string
		want         error
		msg          string
	}{
		{"newer version", `{"__metadata__":{"format":"tern","format_version":"3","tern.crc32c.a":"` + crc + `"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, ErrVersion, "upgrade tern"},
		{"bad version", `{"__metadata__":{"format":"tern","format_version":"one"}}`, ErrVersion, "bad format_version"},
		{"no version", `{"__metadata__":{"format":"tern"}}`, ErrVersion, "missing"},
		{"no checksum", `{` + ternMeta + `},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, ErrBadHeader, `tensor "a" has no`},
		{"stray checksum", `{` + ternMeta + `,"tern.crc32c.a":"` + crc + `","tern.crc32c.zz":"00000000"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, ErrBadHeader, `"zz"`},
		{"wrong checksum", `{` + ternMeta + `,"tern.crc32c.a":"00000000"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, ErrChecksum, `tensor "a"`},
	} {
		_, err := Parse(rawFile(c.header, []byte{1, 2}))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
	ok := `{` + ternMeta + `,"tern.crc32c.a":"` + crc + `"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`
	if _, err := Parse(rawFile(ok, []byte{1, 2})); err != nil {
		t.Errorf("hand-made tern file: %v", err)
	}
}

// TestCorruption flips every byte of the data region in turn and cuts the file at every length:
// each must fail cleanly, a flipped data byte with a checksum error naming the tensor that holds it.
func TestCorruption(t *testing.T) {
	_, good := writeSample(t)
	h, err := ReadHeader(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	for i := int(h.DataStart); i < len(good); i++ {
		b := append([]byte{}, good...)
		b[i] ^= 0x10
		_, err := Parse(b)
		var owner string
		for _, e := range h.Entries {
			if int64(i) >= h.DataStart+e.Begin && int64(i) < h.DataStart+e.End {
				owner = e.Name
			}
		}
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), `"`+owner+`"`) {
			t.Errorf("flip at %d (tensor %q): %v", i, owner, err)
		}
	}
	for n := 0; n < len(good); n++ {
		if _, err := Parse(good[:n]); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		} else if n >= int(h.DataStart) && !errors.Is(err, ErrTruncated) {
			t.Errorf("truncated to %d bytes: %v, want ErrTruncated", n, err)
		}
	}
	// Every single-bit flip in the length or the header is refused: the metadata checksum covers
	// every key and value and the tensor table, and a version 2 file cannot lose the key.
	for i := 0; i < int(h.DataStart); i++ {
		for bit := 0; bit < 8; bit++ {
			b := append([]byte{}, good...)
			b[i] ^= 1 << bit
			if _, err := Parse(b); err == nil {
				t.Fatalf("header bit %d of byte %d (%q) flipped: accepted", bit, i, good[i])
			}
		}
	}
}

// TestHeaderChecksum reproduces the "layers":3 -> 1 edit: one changed metadata value, with
// the tensors untouched, is refused; so is a changed tensor table entry, and a file that lost the
// key. Files from before the checksum (format_version 1, no key) still load.
func TestHeaderChecksum(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, map[string]string{"cfg": `{"layers":3}`}, []Tensor{U8Tensor("a", []int{2}, []byte{1, 2})}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) []byte { return bytes.Replace(good, []byte(old), []byte(new), 1) }
	for name, b := range map[string][]byte{
		"layers 3 -> 1":      edit(`{\"layers\":3}`, `{\"layers\":1}`),
		"shape [2] -> [1,2]": edit(`"shape":[2]`, `"shape":[1,2]`),
		"dtype U8 -> I8":     edit(`"U8"`, `"I8"`),
	} {
		if bytes.Equal(b, good) {
			t.Fatalf("%s: edit did not apply", name)
		}
		if _, err := Parse(b); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "header") {
			t.Errorf("%s: %v, want a header checksum error", name, err)
		}
	}
	crc := checksum([]byte{1, 2})
	v1 := `{` + ternMeta + `,"tern.crc32c.a":"` + crc + `"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`
	if _, err := Parse(rawFile(v1, []byte{1, 2})); err != nil {
		t.Errorf("version 1 file without a metadata checksum: %v", err)
	}
	v2 := strings.Replace(v1, `"format_version":"1"`, `"format_version":"2"`, 1)
	if _, err := Parse(rawFile(v2, []byte{1, 2})); !errors.Is(err, ErrBadHeader) || !strings.Contains(err.Error(), MetaChecksumKey) {
		t.Errorf("version 2 file without a metadata checksum: %v", err)
	}
	// The sum does not depend on the JSON's spelling: the same header with other spacing loads.
	h, _ := ReadHeader(bytes.NewReader(good))
	respaced := fmt.Sprintf(`{ "a" : {"data_offsets":[0,2], "dtype":"U8", "shape":[2]}, "__metadata__": {"tern.crc32c.__metadata__":%q, "tern.crc32c.a":%q, "format_version":"2", "format":"tern", "cfg":"{\"layers\":3}"} }`,
		h.Meta[MetaChecksumKey], crc)
	if _, err := Parse(rawFile(respaced, []byte{1, 2})); err != nil {
		t.Errorf("respaced header: %v", err)
	}
}

// TestNotRegular: a device or a directory is refused before anything is read (tern info /dev/zero
// read until memory ran out), and so is a huge sparse file whose header does not describe it.
func TestNotRegular(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := Read("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Read(/dev/zero): %v", err)
		}
		if _, err := ReadFileHeader("/dev/zero", true); err == nil {
			t.Errorf("ReadFileHeader(/dev/zero): no error")
		}
	}
	if _, err := Read(t.TempDir()); err == nil {
		t.Errorf("Read(directory): no error")
	}
	// A 4 GB sparse file of zeros (no disk blocks): refused from its 8-byte length alone.
	sparse := filepath.Join(t.TempDir(), "sparse.safetensors")
	fd, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := fd.Truncate(4 << 30); err != nil {
		t.Skip("no sparse files here:", err)
	}
	fd.Close()
	if _, err := Read(sparse); !errors.Is(err, ErrBadHeader) {
		t.Errorf("Read(4 GB of zeros): %v", err)
	}
	// A valid header followed by a hole: refused by size before the data is read.
	var buf bytes.Buffer
	Encode(&buf, nil, []Tensor{U8Tensor("a", []int{2}, []byte{1, 2})})
	fd, _ = os.OpenFile(sparse, os.O_WRONLY, 0)
	fd.WriteAt(buf.Bytes(), 0)
	fd.Close()
	if _, err := Read(sparse); !errors.Is(err, ErrBadHeader) || !strings.Contains(err.Error(), "after the last tensor") {
		t.Errorf("Read(header + 4 GB hole): %v", err)
	}
}

// TestNonFinite: NaN and ±Inf are refused with the tensor and element named, by Float32 and by
// CheckFinite for each floating dtype.
func TestNonFinite(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, tn := range []Tensor{
		F32Tensor("w32", []int{3}, []float32{1, nan, 2}),
		F16Tensor("w16", []int{3}, []float32{1, 2, -inf}),
		BF16Tensor("wbf", []int{3}, []float32{1, inf, 2}),
		F16Tensor("big", []int{2}, []float32{1, 1e6}), // overflows F16 to +Inf
	} {
		if _, err := tn.Float32(); !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), `"`+tn.Name+`"`) {
			t.Errorf("%s Float32: %v", tn.Name, err)
		}
		if err := tn.CheckFinite(); !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), `"`+tn.Name+`"`) {
			t.Errorf("%s CheckFinite: %v", tn.Name, err)
		}
	}
	fine := F16Tensor("ok", []int{2}, []float32{65504, -65504})
	if err := fine.CheckFinite(); err != nil {
		t.Errorf("largest F16: %v", err)
	}
}

// TestUnused: a loader can ask which tensors it never took.
func TestUnused(t *testing.T) {
	_, raw := writeSample(t)
	f, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range sampleTensors() {
		if w.Name != "ids" && w.Name != "h" {
			f.Get(w.Name)
		}
	}
	if u := f.Unused(); !slices.Equal(u, []string{"ids", "h"}) {
		t.Errorf("Unused = %v, want [ids h] (data order)", u)
	}
	if err := f.CheckUsed(); err == nil || !strings.Contains(err.Error(), `"ids" (and 1 more)`) {
		t.Errorf("CheckUsed: %v", err)
	}
	f.Tensor("ids")
	f.Tensor("h")
	if err := f.CheckUsed(); err != nil {
		t.Errorf("all used: %v", err)
	}
}

func TestStreaming(t *testing.T) {
	path, good := writeSample(t)
	h, err := ReadFileHeader(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if h.FileSize() != int64(len(good)) {
		t.Errorf("FileSize %d, file %d", h.FileSize(), len(good))
	}
	r := bytes.NewReader(good)
	for _, w := range sampleTensors() {
		g, err := ReadTensor(r, h, w.Name)
		if err != nil || !bytes.Equal(g.Data, w.Data) || g.DType != w.DType {
			t.Errorf("ReadTensor %q: %v", w.Name, err)
		}
	}
	if _, err := ReadTensor(r, h, "nope"); !errors.Is(err, ErrNoTensor) {
		t.Errorf("missing tensor: %v", err)
	}
	bad := append([]byte{}, good...)
	e, _ := h.Lookup("emb")
	bad[h.DataStart+e.Begin] ^= 1
	if _, err := ReadTensor(bytes.NewReader(bad), h, "emb"); !errors.Is(err, ErrChecksum) {
		t.Errorf("corrupt tensor via ReadTensor: %v", err)
	}
	last := h.Entries[len(h.Entries)-1].Name
	if _, err := ReadTensor(bytes.NewReader(good[:len(good)-1]), h, last); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated stream: %v", err)
	}
	short := filepath.Join(t.TempDir(), "short.safetensors")
	os.WriteFile(short, good[:len(good)-3], 0o644)
	if _, err := ReadFileHeader(short, true); !errors.Is(err, ErrTruncated) {
		t.Errorf("ReadFileHeader on truncated file: %v", err)
	}
	if _, err := Open(short); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), short) {
		t.Errorf("Open on truncated file: %v", err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read of a missing file: %v", err)
	}
}

func equalAny(a, b any) bool { return reflect.DeepEqual(a, b) }

// TestEncodeInvalidUTF8: metadata JSON cannot hold invalid UTF-8 (it would be stored as U+FFFD, and
// the header checksum would not match what was given): Encode refuses it. Found by fuzzing
// (train.FuzzCheckpointMeta).
func TestEncodeInvalidUTF8(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, map[string]string{"k": "\xe4"}, nil); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid value: %v", err)
	}
	if err := Encode(&buf, nil, []Tensor{U8Tensor("\xff", []int{1}, []byte{1})}); err == nil {
		t.Errorf("invalid tensor name accepted")
	}
}
