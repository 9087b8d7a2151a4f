package format

import (
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tern/quant"
)

func TestTernaryRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(0))
	n, k := 64, 4096
	tr := make([]int8, n*k)
	for i := range tr {
		tr[i] = int8(rng.Intn(3) - 1)
	}
	p := quant.PackTernary(tr, 0.0375, n, k)
	ts, meta := TernaryTensors("layers.0.attn.q", p)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Write(path, meta, ts); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func(string) (*File, error){Read, Open} {
		f, err := open(path)
		if err != nil {
			t.Fatal(err)
		}
		q, err := f.Ternary("layers.0.attn.q")
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int8, n*k)
		if err := q.Unpack(got); err != nil {
			t.Fatal(err)
		}
		if q.Scale != p.Scale || q.N != n || q.K != k || string(int8Bytes(got)) != string(int8Bytes(tr)) {
			t.Errorf("round trip differs")
		}
		f.Close()
	}
	// Bits per weight from the real file size: 1.6016 for the payload, plus the header.
	st, _ := os.Stat(path)
	if bpw := float64(8*st.Size()) / float64(n*k); bpw > 1.62 {
		t.Errorf("%.4f bits/weight from the file size", bpw)
	}
	if _, err := mustRead(t, path).Ternary("nope"); err == nil {
		t.Error("missing matrix accepted")
	}
	// A metadata entry that lies about K is caught.
	ts2, _ := TernaryTensors("w", quant.PackTernary(tr[:5*7], 1, 5, 7))
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := Write(bad, map[string]string{"tern.ternary.w": `{"layout":"trit5","rows":5,"cols":11}`}, ts2); err != nil {
		t.Fatal(err)
	}
	if _, err := mustRead(t, bad).Ternary("w"); err == nil || !strings.Contains(err.Error(), "want U8") {
		t.Errorf("wrong cols: %v", err)
	}
	// Invalid packed bytes are caught by Validate.
	ts3, meta3 := TernaryTensors("w", quant.PackTernary(tr[:5*7], 1, 5, 7))
	ts3[0].Data = append([]byte{}, ts3[0].Data...)
	ts3[0].Data[3] = 250
	if err := Write(bad, meta3, ts3); err != nil {
		t.Fatal(err)
	}
	if _, err := mustRead(t, bad).Ternary("w"); err == nil || !strings.Contains(err.Error(), "250") {
		t.Errorf("byte 250: %v", err)
	}
}

func mustRead(t *testing.T, path string) *File {
	t.Helper()
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func int8Bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}
