// alloc.go chooses one width per weight matrix under a size budget (adaptive bit allocation): an exact
// multiple-choice knapsack, and the seed's "parameter clustering" (k-means into precision groups,
// then the knapsack over groups). It only sees numbers: measuring sensitivities is the trainer's job.
package quant

import (
	"fmt"
	"math"
	"sort"
)

// Option is one way to store a matrix: a width, its stored size in bits (Width.StoredBits) and its
// cost, the measured sensitivity (e.g. the loss increase when the matrix alone is at this width).
type Option struct {
	Width Width
	Bits  int64
	Cost  float64
}

// Item is one matrix and its options.
type Item struct {
	Name    string
	Options []Option
}

// state is one point of a Pareto frontier: total bits and cost of a choice for items [0, i], the
// option taken for item i and the index of the state it extends in the previous frontier.
type state struct {
	bits   int64
	cost   float64
	opt    int
	parent int
}

// Knapsack returns the option index of each item minimizing Σ Cost subject to Σ Bits <= budget. It is
// exact: item by item it keeps the Pareto frontier of (bits, cost) over all choices so far (a choice
// that costs at least as many bits and loses at least as much as another is never part of a better
// completion), drops states that cannot be completed within the budget, and walks back from the
// cheapest final state. The frontier has at most one state per distinct bit total, so matrices of
// equal shape (most of a transformer) keep it small. Ties go to fewer bits, then to earlier options.
func Knapsack(items []Item, budget int64) ([]int, error) {
	if len(items) == 0 {
		return nil, nil
	}
	suffix := make([]int64, len(items)+1) // least bits items[i:] can take
	for i := len(items) - 1; i >= 0; i-- {
		if len(items[i].Options) == 0 {
			return nil, fmt.Errorf("quant: knapsack: matrix %s has no options", items[i].Name)
		}
		least := int64(math.MaxInt64)
		for _, o := range items[i].Options {
			least = min(least, o.Bits)
		}
		suffix[i] = suffix[i+1] + least
	}
	if suffix[0] > budget {
		return nil, fmt.Errorf("quant: knapsack: the smallest choice takes %d bits, over the budget of %d", suffix[0], budget)
	}
	frontiers := make([][]state, len(items))
	prev := []state{{parent: -1}}
	for i, it := range items {
		var cand []state
		for pi, p := range prev {
			for oi, o := range it.Options {
				b := p.bits + o.Bits
				if b+suffix[i+1] > budget {
					continue
				}
				cand = append(cand, state{bits: b, cost: p.cost + o.Cost, opt: oi, parent: pi})
			}
		}
		sort.SliceStable(cand, func(a, b int) bool {
			if cand[a].bits != cand[b].bits {
				return cand[a].bits < cand[b].bits
			}
			return cand[a].cost < cand[b].cost
		})
		front := cand[:0]
		for _, c := range cand {
			if len(front) == 0 || c.cost < front[len(front)-1].cost {
				front = append(front, c)
			}
		}
		frontiers[i] = append([]state(nil), front...)
		prev = frontiers[i]
	}
	last := prev[len(prev)-1] // the frontier's cost decreases with bits: the last state is the cheapest
	choice := make([]int, len(items))
	for i := len(items) - 1; i >= 0; i-- {
		choice[i] = last.opt
		if i > 0 {
			last = frontiers[i-1][last.parent]
		}
	}
	return choice, nil
}

// Cluster is the seed's parameter clustering: k-means (Lloyd, deterministic farthest-point start)
// over one feature vector per item puts the matrices into at most k precision groups, and every group
// takes one width, chosen by Knapsack over the groups (a group's option is the sum of its members'
// bits and costs at that width). All items must list the same widths in the same order. It returns
// each item's option index and group.
func Cluster(items []Item, features [][]float64, k int, budget int64) (choice, group []int, err error) {
	if len(features) != len(items) {
		return nil, nil, fmt.Errorf("quant: cluster: %d feature rows for %d matrices", len(features), len(items))
	}
	if len(items) == 0 {
		return nil, nil, nil
	}
	for _, it := range items {
		if len(it.Options) != len(items[0].Options) {
			return nil, nil, fmt.Errorf("quant: cluster: matrix %s has %d options, %s has %d", it.Name, len(it.Options), items[0].Name, len(items[0].Options))
		}
		for j, o := range it.Options {
			if o.Width != items[0].Options[j].Width {
				return nil, nil, fmt.Errorf("quant: cluster: matrix %s lists widths in another order", it.Name)
			}
		}
	}
	group = KMeans(features, k)
	ng := 0
	for _, g := range group {
		ng = max(ng, g+1)
	}
	groups := make([]Item, ng)
	for g := range groups {
		groups[g] = Item{Name: fmt.Sprintf("group %d", g), Options: make([]Option, len(items[0].Options))}
		for j, o := range items[0].Options {
			groups[g].Options[j].Width = o.Width
		}
	}
	for i, it := range items {
		for j, o := range it.Options {
			groups[group[i]].Options[j].Bits += o.Bits
			groups[group[i]].Options[j].Cost += o.Cost
		}
	}
	gc, err := Knapsack(groups, budget)
	if err != nil {
		return nil, nil, err
	}
	choice = make([]int, len(items))
	for i := range items {
		choice[i] = gc[group[i]]
	}
	return choice, group, nil
}

// KMeans assigns each row of x to one of at most k clusters (Lloyd's algorithm, squared Euclidean
// distance, at most 100 rounds). The start is deterministic: the row nearest the mean, then repeatedly
// the row farthest from the chosen centres. Cluster ids are renumbered by first appearance.
func KMeans(x [][]float64, k int) []int {
	n := len(x)
	if n == 0 {
		return nil
	}
	k = max(1, min(k, n))
	d := len(x[0])
	dist := func(a, b []float64) float64 {
		var s float64
		for j := range a {
			s += (a[j] - b[j]) * (a[j] - b[j])
		}
		return s
	}
	mean := make([]float64, d)
	for _, r := range x {
		for j, v := range r {
			mean[j] += v / float64(n)
		}
	}
	first := 0
	for i := range x {
		if dist(x[i], mean) < dist(x[first], mean) {
			first = i
		}
	}
	cent := [][]float64{append([]float64(nil), x[first]...)}
	for len(cent) < k {
		far, fd := -1, 0.0
		for i := range x {
			m := math.Inf(1)
			for _, c := range cent {
				m = min(m, dist(x[i], c))
			}
			if m > fd {
				far, fd = i, m
			}
		}
		if far < 0 { // fewer distinct rows than k
			break
		}
		cent = append(cent, append([]float64(nil), x[far]...))
	}
	assign := make([]int, n)
	for round := 0; round < 100; round++ {
		changed := false
		for i := range x {
			best := 0
			for c := range cent {
				if dist(x[i], cent[c]) < dist(x[i], cent[best]) {
					best = c
				}
			}
			if best != assign[i] || round == 0 {
				changed = changed || best != assign[i]
				assign[i] = best
			}
		}
		if !changed && round > 0 {
			break
		}
		for c := range cent {
			cnt := 0
			sum := make([]float64, d)
			for i := range x {
				if assign[i] == c {
					cnt++
					for j, v := range x[i] {
						sum[j] += v
					}
				}
			}
			if cnt > 0 {
				for j := range sum {
					sum[j] /= float64(cnt)
				}
				cent[c] = sum
			}
		}
	}
	ids := map[int]int{}
	out := make([]int, n)
	for i, a := range assign {
		id, ok := ids[a]
		if !ok {
			id = len(ids)
			ids[a] = id
		}
		out[i] = id
	}
	return out
}
