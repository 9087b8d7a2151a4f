package quant

import (
	"math"
	"testing"

	"tern/tensor"
)

// bruteForce enumerates every choice: the least cost within the budget (+Inf if none).
func bruteForce(items []Item, budget int64) float64 {
	best := math.Inf(1)
	var rec func(i int, bits int64, cost float64)
	rec = func(i int, bits int64, cost float64) {
		if bits > budget {
			return
		}
		if i == len(items) {
			best = min(best, cost)
			return
		}
		for _, o := range items[i].Options {
			rec(i+1, bits+o.Bits, cost+o.Cost)
		}
	}
	rec(0, 0, 0)
	return best
}

func randomItems(rng *tensor.RNG, n, opts int) []Item {
	items := make([]Item, n)
	for i := range items {
		size := int64(1 + rng.Intn(4))
		for j := 0; j < opts; j++ {
			items[i].Options = append(items[i].Options, Option{Width: Widths()[j], Bits: size * int64(1+j+rng.Intn(3)), Cost: rng.Float64()})
		}
	}
	return items
}

// Knapsack is optimal (equal to brute force) on 400 random small instances and never exceeds the budget.
func TestKnapsackMatchesBruteForce(t *testing.T) {
	rng := tensor.NewRNG(11)
	for trial := 0; trial < 400; trial++ {
		items := randomItems(rng, 1+rng.Intn(6), 1+rng.Intn(5))
		var lo, hi int64
		for _, it := range items {
			l, h := int64(math.MaxInt64), int64(0)
			for _, o := range it.Options {
				l, h = min(l, o.Bits), max(h, o.Bits)
			}
			lo, hi = lo+l, hi+h
		}
		budget := lo - 1 + int64(rng.Intn(int(hi-lo)+3))
		want := bruteForce(items, budget)
		choice, err := Knapsack(items, budget)
		if math.IsInf(want, 1) {
			if err == nil {
				t.Fatalf("trial %d: budget %d below the least %d accepted", trial, budget, lo)
			}
			continue
		}
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		var bits int64
		var cost float64
		for i, c := range choice {
			bits += items[i].Options[c].Bits
			cost += items[i].Options[c].Cost
		}
		if bits > budget {
			t.Fatalf("trial %d: %d bits over the budget %d", trial, bits, budget)
		}
		if math.Abs(cost-want) > 1e-9 {
			t.Fatalf("trial %d: cost %g, brute force %g", trial, cost, want)
		}
	}
}

// Cluster gives every member of a group the same width, keeps the budget, and separates two clearly
// different populations of matrices.
func TestCluster(t *testing.T) {
	var items []Item
	var feats [][]float64
	for i := 0; i < 8; i++ {
		sens := 0.01
		if i%2 == 1 {
			sens = 1 // sensitive matrices
		}
		var it Item
		for j, w := range []Width{Width1, Width2, Width4} {
			it.Options = append(it.Options, Option{Width: w, Bits: int64(100 * w.Bits()), Cost: sens / float64(j+1)})
		}
		items = append(items, it)
		feats = append(feats, []float64{math.Log(sens), float64(i) * 1e-3})
	}
	budget := int64(8 * 250)
	choice, group, err := Cluster(items, feats, 2, budget)
	if err != nil {
		t.Fatal(err)
	}
	var bits int64
	for i, c := range choice {
		bits += items[i].Options[c].Bits
		if group[i] != group[i%2] || choice[i] != choice[i%2] {
			t.Fatalf("matrix %d: group %d choice %d, want its population's (%d, %d)", i, group[i], choice[i], group[i%2], choice[i%2])
		}
	}
	if group[0] == group[1] {
		t.Fatalf("the two populations share group %d", group[0])
	}
	if bits > budget {
		t.Fatalf("%d bits over the budget %d", bits, budget)
	}
	if items[1].Options[choice[1]].Width.Bits() <= items[0].Options[choice[0]].Width.Bits() {
		t.Fatalf("sensitive matrices got %v, insensitive %v", items[1].Options[choice[1]].Width, items[0].Options[choice[0]].Width)
	}
}
