package format

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzReadHeader feeds arbitrary bytes to ReadHeader and ParseAny: they must never panic, and any
// header they accept must satisfy the invariants readers rely on. Seeds: the corpus under
// testdata/fuzz/FuzzReadHeader plus a real tern file. Run with `go test -fuzz FuzzReadHeader ./format`.
func FuzzReadHeader(f *testing.F) {
	var buf bytes.Buffer
	if err := Encode(&buf, map[string]string{"k": "v"}, sampleTensors()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadHeader(bytes.NewReader(b))
		if err == nil {
			var pos int64
			for _, e := range h.Entries {
				if e.Begin != pos || e.End < e.Begin {
					t.Fatalf("accepted non-contiguous entry %+v at %d", e, pos)
				}
				n, ok := numElements(e.Shape)
				if !ok || n*int64(e.DType.Size()) != e.End-e.Begin || e.DType.Size() == 0 {
					t.Fatalf("accepted inconsistent entry %+v", e)
				}
				if _, ok := h.Lookup(e.Name); !ok {
					t.Fatalf("entry %q not indexed", e.Name)
				}
				pos = e.End
			}
			if pos != h.DataSize {
				t.Fatalf("DataSize %d, entries end at %d", h.DataSize, pos)
			}
		}
		fl, err := ParseAny(b)
		if err == nil {
			for _, tn := range fl.Tensors {
				if err := tn.check(); err != nil {
					t.Fatalf("accepted tensor: %v", err)
				}
			}
		}
		Parse(b)
	})
}

// TestWriteFuzzCorpus regenerates the committed seed corpus (TERN_WRITE_CORPUS=1 go test -run
// TestWriteFuzzCorpus ./format): a valid tern file, a plain safetensors file and one of each bad input.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("TERN_WRITE_CORPUS") == "" {
		t.Skip("set TERN_WRITE_CORPUS=1 to regenerate testdata/fuzz/FuzzReadHeader")
	}
	var buf bytes.Buffer
	if err := Encode(&buf, map[string]string{"config": "{}"}, sampleTensors()); err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"tern":      buf.Bytes(),
		"plain":     rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}),
		"scalar":    rawFile(`{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"__metadata__":{}}`, make([]byte, 4)),
		"overlap":   rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, make([]byte, 6)),
		"hole":      rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}`, make([]byte, 6)),
		"size":      rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"huge":      append([]byte{0, 0, 0, 0, 0, 0, 0, 0x10}, '{', '}'),
		"notjson":   rawFile("hello world!", nil),
		"truncated": buf.Bytes()[:len(buf.Bytes())-5],
		"version":   rawFile(`{"__metadata__":{"format":"tern","format_version":"2"}}`, nil),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReadHeader")
	os.MkdirAll(dir, 0o755)
	for name, b := range seeds {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
