package half

import (
	"math"
	"math/rand"
	"testing"
)

// f16Ref is the value of half-precision bits h, computed from the IEEE 754 definition in float64.
func f16Ref(h uint16) float64 {
	s := 1.0
	if h&0x8000 != 0 {
		s = -1
	}
	e, m := int(h>>10&0x1f), float64(h&0x3ff)
	switch {
	case e == 0x1f && m == 0:
		return math.Inf(int(s))
	case e == 0x1f:
		return math.NaN()
	case e == 0:
		return s * math.Ldexp(m, -24)
	}
	return s * math.Ldexp(1+m/1024, e-15)
}

func TestF16(t *testing.T) {
	// Every half value widens exactly and narrows back to itself.
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := F16ToFloat32(h)
		ref := f16Ref(h)
		if math.IsNaN(ref) {
			if !math.IsNaN(float64(f)) || !math.IsNaN(float64(F16ToFloat32(Float32ToF16(f)))) {
				t.Fatalf("NaN %#04x -> %v", h, f)
			}
			continue
		}
		if float64(f) != ref {
			t.Fatalf("F16ToFloat32(%#04x) = %v, want %v", h, f, ref)
		}
		if g := Float32ToF16(f); g != h {
			t.Fatalf("Float32ToF16(%v) = %#04x, want %#04x", f, g, h)
		}
	}
	// Hand-worked values, including ties that must go to even.
	for _, c := range []struct {
		f float32
		h uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {65519.99, 0x7bff},
		{1 + 1.0/2048, 0x3c00},           // tie between 0x3c00 and 0x3c01: even
		{1 + 3.0/2048, 0x3c02},           // tie between 0x3c01 and 0x3c02: even
		{float32(math.Ldexp(1, -24)), 1}, // smallest subnormal
		{float32(math.Ldexp(1, -25)), 0}, // half of it: tie to even (0)
		{float32(math.Ldexp(1.5, -25)), 1},
		{float32(math.Ldexp(3, -25)), 2},                       // 1.5 subnormal units: tie to even (2)
		{float32(math.Ldexp(1, -14)) * (1 - 1.0/4096), 0x0400}, // rounds up into the smallest normal
		{float32(math.Inf(-1)), 0xfc00}, {1e-10, 0}, {-1e-10, 0x8000},
	} {
		if g := Float32ToF16(c.f); g != c.h {
			t.Errorf("Float32ToF16(%v) = %#04x, want %#04x", c.f, g, c.h)
		}
	}
	// Random float32s round to the nearest half (ties even), checked against the float64 reference.
	rng := rand.New(rand.NewSource(0))
	for i := 0; i < 200000; i++ {
		f := math.Float32frombits(rng.Uint32())
		if math.IsNaN(float64(f)) {
			continue
		}
		if math.Abs(float64(f)) > 70000 {
			f = float32(rng.NormFloat64() * math.Pow(2, float64(rng.Intn(40)-30)))
		}
		h := Float32ToF16(f)
		got := f16Ref(h)
		if math.IsInf(got, 0) {
			if math.Abs(float64(f)) < 65520 {
				t.Fatalf("%v -> Inf", f)
			}
			continue
		}
		// Neighbours one ulp away in half space must not be nearer.
		for _, nb := range []uint16{h + 1, h - 1} {
			if nb&0x7c00 == 0x7c00 || (nb^h)&0x8000 != 0 {
				continue
			}
			d0, d1 := math.Abs(float64(f)-got), math.Abs(float64(f)-f16Ref(nb))
			if d1 < d0 || (d1 == d0 && h&1 == 1) {
				t.Fatalf("Float32ToF16(%v) = %#04x (%v), but %#04x (%v) is nearer or even", f, h, got, nb, f16Ref(nb))
			}
		}
	}
}

func TestBF16(t *testing.T) {
	for _, c := range []struct {
		f float32
		h uint16
	}{
		{1, 0x3f80}, {-2, 0xc000}, {3, 0x4040},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie: even
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie: even (up)
		{math.Float32frombits(0x3f808001), 0x3f81}, // just above the tie
		{float32(math.Inf(1)), 0x7f80},
		{math.MaxFloat32, 0x7f80}, // rounds to Inf, as IEEE does
	} {
		if g := Float32ToBF16(c.f); g != c.h {
			t.Errorf("Float32ToBF16(%v) = %#04x, want %#04x", c.f, g, c.h)
		}
	}
	if !math.IsNaN(float64(BF16ToFloat32(Float32ToBF16(math.Float32frombits(0x7f800001))))) {
		t.Error("signalling NaN with a low payload became Inf")
	}
	for i := 0; i < 1<<16; i++ {
		f := BF16ToFloat32(uint16(i))
		if !math.IsNaN(float64(f)) && Float32ToBF16(f) != uint16(i) {
			t.Fatalf("BF16 %#04x does not round-trip", i)
		}
	}
}
