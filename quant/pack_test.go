package quant

import (
	"math/rand"
	"strings"
	"testing"
)

func randTrits(rng *rand.Rand, n int) []int8 {
	t := make([]int8, n)
	for i := range t {
		t[i] = int8(rng.Intn(3) - 1)
	}
	return t
}

func TestPackTritsHandWorked(t *testing.T) {
	for _, c := range []struct {
		t    []int8
		want []byte
	}{
		{[]int8{-1, -1, -1, -1, -1}, []byte{0}},
		{[]int8{1, 1, 1, 1, 1}, []byte{242}},
		{[]int8{0, -1, 1, 0, 0}, []byte{1 + 0 + 18 + 27 + 81}},
		{[]int8{1}, []byte{2 + 3 + 9 + 27 + 81}},                         // tail padded with weight 0 (digit 1)
		{[]int8{0, 0, 0, 0, 0, -1, 1}, []byte{121, 0 + 6 + 9 + 27 + 81}}, // one full group, then a tail of 2
		{nil, []byte{}},
	} {
		got := make([]byte, PackedLen(len(c.t)))
		PackTrits(got, c.t)
		if string(got) != string(c.want) {
			t.Errorf("PackTrits(%v) = %v, want %v", c.t, got, c.want)
		}
	}
}

func TestPackRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(0)) // always the same seed for reproducible results
	for n := 0; n <= 70; n++ {
		for rep := 0; rep < 20; rep++ {
			tr := randTrits(rng, n)
			p := make([]byte, PackedLen(n))
			PackTrits(p, tr)
			for j, b := range p {
				if b > MaxPackedByte {
					t.Fatalf("n=%d: byte %d = %d", n, j, b)
				}
			}
			got := make([]int8, n)
			if err := UnpackTrits(got, p); err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			for i := range tr {
				if got[i] != tr[i] {
					t.Fatalf("n=%d: trit %d = %d, want %d", n, i, got[i], tr[i])
				}
			}
		}
	}
	// Every one of the 243 byte values decodes and re-encodes to itself.
	for b := 0; b <= MaxPackedByte; b++ {
		tr := make([]int8, 5)
		if err := UnpackTrits(tr, []byte{byte(b)}); err != nil {
			t.Fatal(err)
		}
		p := []byte{0}
		PackTrits(p, tr)
		if p[0] != byte(b) {
			t.Fatalf("byte %d -> %v -> %d", b, tr, p[0])
		}
	}
}

func TestUnpackRejectsBadBytes(t *testing.T) {
	dst := make([]int8, 10)
	if err := UnpackTrits(dst, []byte{5, 243}); err == nil || !strings.Contains(err.Error(), "243") {
		t.Errorf("byte 243: %v", err)
	}
	if err := UnpackTrits(dst[:3], []byte{0}); err == nil || !strings.Contains(err.Error(), "padding") {
		t.Errorf("non-zero padding: %v", err) // byte 0 = five -1s, but trits 3 and 4 are padding
	}
	defer func() {
		if recover() == nil {
			t.Error("PackTrits of 2 did not panic")
		}
	}()
	PackTrits(make([]byte, 1), []int8{2})
}

func TestPackedTernary(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, s := range [][2]int{{1, 1}, {3, 7}, {17, 33}, {4, 4096}, {2, 2560}, {5, 6912}, {0, 5}, {1, 0}} {
		n, k := s[0], s[1]
		tr := randTrits(rng, n*k)
		p := PackTernary(tr, 0.5, n, k)
		if len(p.Data) != n*((k+4)/5) {
			t.Errorf("(%d,%d): %d bytes", n, k, len(p.Data))
		}
		if err := p.Validate(); err != nil {
			t.Errorf("(%d,%d): %v", n, k, err)
		}
		got := make([]int8, n*k)
		if err := p.Unpack(got); err != nil {
			t.Fatal(err)
		}
		for i := range tr {
			if got[i] != tr[i] {
				t.Fatalf("(%d,%d): weight %d = %d, want %d", n, k, i, got[i], tr[i])
			}
		}
	}
	// Bits per weight including the fp32 scale, from the byte count.
	for _, c := range []struct {
		n, k int
		want float64
	}{
		{4096, 4096, float64(4096*820*8+32) / (4096 * 4096)}, // 1.6016
		{2560, 6912, float64(2560*1383*8+32) / (2560 * 6912)},
		{6912, 2560, float64(6912*512*8+32) / (6912 * 2560)}, // 1.6 + 2e-6
	} {
		p := &PackedTernary{N: c.n, K: c.k, Scale: 1, Data: make([]byte, c.n*RowBytes(c.k))}
		if got := p.BitsPerWeight(); got != c.want || got > 1.62 {
			t.Errorf("(%d,%d): %.5f bits/weight, want %.5f (<= 1.62)", c.n, c.k, got, c.want)
		}
	}
	bad := PackTernary(randTrits(rng, 3*7), 1, 3, 7)
	bad.Data[len(bad.Data)-1] = 0 // padding trits of the last row become -1
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("bad padding: %v", err)
	}
	bad.Data[len(bad.Data)-1] = 250
	if err := bad.Validate(); err == nil {
		t.Error("byte 250 accepted")
	}
	bad.Data = bad.Data[:1]
	if err := bad.Validate(); err == nil {
		t.Error("short data accepted")
	}
	ok := PackTernary(randTrits(rng, 6), 0, 2, 3)
	if err := ok.Validate(); err == nil {
		t.Error("zero scale accepted")
	}
}

func BenchmarkUnpack(b *testing.B) {
	tr := randTrits(rand.New(rand.NewSource(0)), 1<<20)
	p := make([]byte, PackedLen(len(tr)))
	PackTrits(p, tr)
	b.SetBytes(int64(len(tr)))
	for b.Loop() {
		UnpackTrits(tr, p)
	}
}
