package kernels

import (
	"math"
	"math/rand"
	"testing"

	"tern/half"
)

// TestToF16 compares ToF16 with half.Float32ToF16 on every path: each sign and float32 exponent with
// random mantissas, the rounding ties around every half mantissa step (low 13 bits just below, at and
// above 0x1000, with even and odd kept bits), Inf, NaNs with payloads, zeros and denormals, at lengths
// that leave tails.
func TestToF16(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	var src []float32
	for s := uint32(0); s < 2; s++ {
		for e := uint32(0); e < 256; e++ {
			for range 512 {
				src = append(src, math.Float32frombits(s<<31|e<<23|uint32(rng.Intn(1<<23))))
			}
			for _, low := range []uint32{0, 1, 0xfff, 0x1000, 0x1001, 0x1fff} {
				for _, keep := range []uint32{0, 1 << 13, 0x3ff << 13, 0x155 << 13} {
					src = append(src, math.Float32frombits(s<<31|e<<23|keep|low))
				}
			}
		}
	}
	src = append(src, float32(math.Inf(1)), float32(math.Inf(-1)), 65504, 65519.99, 65520, 65536, 6e-8, 3e-8, 2.9e-8)
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{len(src), len(src) - 7, 15, 16, 17, 1, 0} {
			dst := make([]uint16, n)
			ToF16(dst, src[:n])
			for i, v := range src[:n] {
				if want := half.Float32ToF16(v); dst[i] != want {
					t.Fatalf("n=%d: ToF16(%#08x) = %#04x, want %#04x", n, math.Float32bits(v), dst[i], want)
				}
			}
		}
	})
}
