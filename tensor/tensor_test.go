package tensor

import (
	"math"
	"testing"
)

func TestRNGReproducibleAndRestorable(t *testing.T) {
	a, b := NewRNG(42), NewRNG(42)
	for i := 0; i < 100; i++ {
		if a.Uint64() != b.Uint64() {
			t.Fatal("same seed, different streams")
		}
	}
	a.NormFloat64() // leaves a spare normal cached: State must carry it
	st := a.State()
	want := []float64{a.NormFloat64(), a.Float64(), float64(a.Intn(7))}
	c := NewRNG(0)
	c.SetState(st)
	got := []float64{c.NormFloat64(), c.Float64(), float64(c.Intn(7))}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("restored stream differs at %d: %v vs %v", i, got[i], want[i])
		}
	}
}

func TestRNGDistributions(t *testing.T) {
	r := NewRNG(1)
	const n = 200000
	var sum, sq float64
	counts := make([]int, 5)
	for i := 0; i < n; i++ {
		x := r.NormFloat64()
		sum += x
		sq += x * x
		counts[r.Intn(5)]++
		if f := r.Float32(); f < 0 || f >= 1 {
			t.Fatalf("Float32 out of [0,1): %v", f)
		}
	}
	if m, v := sum/n, sq/n; math.Abs(m) > 0.01 || math.Abs(v-1) > 0.02 {
		t.Errorf("normal mean %.4f var %.4f", m, v)
	}
	for k, c := range counts { // each ~ n/5 = 40000, sd ~ 179
		if math.Abs(float64(c)-n/5) > 1000 {
			t.Errorf("Intn(5): value %d drawn %d times", k, c)
		}
	}
	p := r.Perm(10)
	seen := map[int]bool{}
	for _, v := range p {
		seen[v] = true
	}
	if len(seen) != 10 {
		t.Errorf("Perm is not a permutation: %v", p)
	}
}

func TestViews(t *testing.T) {
	x := New(2, 3, 4)
	v := x.View(6, -1)
	if v.Shape[1] != 4 {
		t.Fatalf("inferred shape %v", v.Shape)
	}
	v.Data[5] = 7
	if x.Data[5] != 7 {
		t.Fatal("view does not share storage")
	}
	if r := x.Row(1); r.Data[0] != 0 || len(r.Data) != 12 || !SameShape(r.Shape, []int{3, 4}) {
		t.Fatalf("Row(1) = %v", r)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("View with the wrong size did not panic")
		}
	}()
	x.View(5, 5)
}
