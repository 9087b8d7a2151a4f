package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// argmaxScalar is greedy sampling's loop, the definition Argmax must match.
func argmaxScalar(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// TestArgmax compares Argmax with the scalar loop under every implementation: random rows of many
// lengths, rows with NaNs (first or not), ±Inf, ±0, ties of the maximum, a maximum in the tail.
func TestArgmax(t *testing.T) {
	for _, name := range Impls() {
		restore, err := Use(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, testArgmax)
		restore()
	}
}

func testArgmax(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{nan, inf, -inf, 0, float32(math.Copysign(0, -1)), 1, -1}
	for trial := range 3000 {
		n := rng.Intn(200)
		if trial%50 == 0 {
			n = 32000 + rng.Intn(20)
		}
		x := make([]float32, n)
		for i := range x {
			switch rng.Intn(8) {
			case 0:
				x[i] = special[rng.Intn(len(special))]
			case 1:
				x[i] = float32(rng.Intn(3)) // ties
			default:
				x[i] = float32(rng.NormFloat64())
			}
		}
		if got, want := Argmax(x), argmaxScalar(x); got != want {
			t.Fatalf("trial %d n=%d: Argmax %d, scalar loop %d", trial, n, got, want)
		}
	}
	for _, x := range [][]float32{nil, {nan}, {nan, 5}, {-inf, nan, nan}, {nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan}} {
		if got, want := Argmax(x), argmaxScalar(x); len(x) > 0 && got != want || len(x) == 0 && got != 0 {
			t.Fatalf("%v: Argmax %d, scalar loop %d", x, got, want)
		}
	}
}

func BenchmarkArgmax(b *testing.B) {
	x := make([]float32, 32000)
	rng := rand.New(rand.NewSource(1))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for b.Loop() {
		Argmax(x)
	}
}
