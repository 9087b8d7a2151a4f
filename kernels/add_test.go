package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// TestAddInPlace checks AddInPlace against the scalar sum at lengths that use the 64-, 16-value and
// scalar parts, with Inf, NaN and signed zeros among random values, and that y is left alone, under
// every implementation.
func TestAddInPlace(t *testing.T) {
	for _, name := range Impls() {
		restore, err := Use(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, testAddInPlace)
		restore()
	}
}

func testAddInPlace(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	special := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0, float32(math.Copysign(0, -1)), 3e38}
	for _, n := range []int{0, 1, 15, 16, 17, 63, 64, 65, 80, 127, 1536, 1539} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range n {
			x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*1e3)
			if rng.Intn(10) == 0 {
				x[i] = special[rng.Intn(len(special))]
			}
		}
		want, y0 := make([]float32, n), append([]float32(nil), y...)
		for i := range n {
			want[i] = x[i] + y[i]
		}
		AddInPlace(x, y)
		for i := range n {
			if math.Float32bits(x[i]) != math.Float32bits(want[i]) && !(x[i] != x[i] && want[i] != want[i]) {
				t.Fatalf("n=%d: x[%d] = %v, want %v", n, i, x[i], want[i])
			}
			if math.Float32bits(y[i]) != math.Float32bits(y0[i]) {
				t.Fatalf("n=%d: y[%d] changed", n, i)
			}
		}
	}
}
