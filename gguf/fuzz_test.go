package gguf

import (
	"bytes"
	"testing"
)

// FuzzParse: any bytes either parse into a file whose every tensor lies inside the input, or give an
// error; never a panic or an allocation beyond what the input can back.
func FuzzParse(f *testing.F) {
	kv, ts, _ := sample(f)
	var buf bytes.Buffer
	if err := Encode(&buf, kv, ts); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Parse(b, "fuzz.gguf")
		if err != nil {
			return
		}
		for _, ti := range g.Tensors {
			if int64(len(ti.Data)) != ti.Type.Bytes(ti.Elements()) {
				t.Fatalf("tensor %q: %d bytes for %d values", ti.Name, len(ti.Data), ti.Elements())
			}
			if ti.Type.Ternary() || ti.Type == Q6_K || ti.Type == Q8_0 || ti.Type <= F16 || ti.Type == BF16 {
				if ti.Elements() <= 1<<16 {
					ti.Float32() // must not panic (errors are fine: unused codes)
				}
			}
		}
	})
}
