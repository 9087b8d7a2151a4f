package cluster

import (
	"context"
	"fmt"

	"tern/kernels"
	"tern/tensor"
)

// Result is a k-means clustering.
type Result struct {
	K          int
	Assign     []int32     // cluster of each row
	Sizes      []int       // rows per cluster
	Inertia    []float64   // Σ‖x − c‖² after each iteration's assignment step (never increases)
	Iterations int         // Lloyd iterations run
	Centers    [][]float64 // K × Dim
}

// KMeans clusters the rows with k-means++ seeding (Arthur & Vassilvitskii 2007) from seed, then
// Lloyd iterations until no assignment changes or maxIter. Work is split over rows (distances) and
// over clusters (means) on the kernels pool, and every sum runs in a fixed order, so the result is
// the same for any thread count. Distances are float64: ‖x−c‖² = ‖x‖² + ‖c‖² − 2x·c on sparse x.
// Ties go to the lower cluster index. An empty cluster takes the row farthest from its centre.
// Cancelling ctx stops it between centres or iterations with ctx's error.
func KMeans(ctx context.Context, x *Rows, k int, seed uint64, maxIter int) (*Result, error) {
	n := x.N()
	if k <= 0 {
		return nil, fmt.Errorf("cluster: k must be >= 1 (got %d)", k)
	}
	if k > n {
		return nil, fmt.Errorf("cluster: k %d is larger than the number of windows (%d)", k, n)
	}
	if maxIter <= 0 {
		maxIter = 50
	}
	sq := make([]float64, n) // ‖x‖²
	for i := range sq {
		_, v := x.Row(i)
		for _, a := range v {
			sq[i] += float64(a) * float64(a)
		}
	}
	res := &Result{K: k, Assign: make([]int32, n), Sizes: make([]int, k), Centers: make([][]float64, k)}
	cn := make([]float64, k) // ‖c‖²
	setCenter := func(c, row int) {
		res.Centers[c] = make([]float64, x.Dim)
		idx, val := x.Row(row)
		for j, b := range idx {
			res.Centers[c][b] = float64(val[j])
		}
		cn[c] = sq[row]
	}
	dist := func(i, c int) float64 {
		idx, val := x.Row(i)
		ctr := res.Centers[c]
		var dot float64
		for j, b := range idx {
			dot += float64(val[j]) * ctr[b]
		}
		return max(0, sq[i]+cn[c]-2*dot)
	}

	// k-means++: each next centre is a row drawn with probability ∝ its squared distance to the
	// nearest centre so far.
	rng := tensor.NewRNG(seed)
	d2 := make([]float64, n)
	setCenter(0, rng.Intn(n))
	kernels.ParallelFor(n, 256, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d2[i] = dist(i, 0)
		}
	})
	for c := 1; c < k; c++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var total float64
		for _, d := range d2 {
			total += d
		}
		pick := -1
		if total > 0 {
			u := rng.Float64() * total
			for i, d := range d2 {
				if u -= d; u < 0 && d > 0 {
					pick = i
					break
				}
			}
			if pick < 0 { // rounding left u just above 0: the last row with weight
				for i := n - 1; i >= 0; i-- {
					if d2[i] > 0 {
						pick = i
						break
					}
				}
			}
		} else {
			pick = rng.Intn(n) // every row sits on a centre: duplicates; any row will do
		}
		setCenter(c, pick)
		kernels.ParallelFor(n, 256, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d2[i] = min(d2[i], dist(i, c))
			}
		})
	}

	// Lloyd.
	dmin := make([]float64, n)
	for i := range res.Assign {
		res.Assign[i] = -1
	}
	for it := 0; it < maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		changed := make([]int, n) // per row 0/1, summed in order below
		kernels.ParallelFor(n, 64, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				best, bd := 0, dist(i, 0)
				for c := 1; c < k; c++ {
					if d := dist(i, c); d < bd {
						best, bd = c, d
					}
				}
				if res.Assign[i] != int32(best) {
					changed[i] = 1
				}
				res.Assign[i], dmin[i] = int32(best), bd
			}
		})
		var inertia float64
		moved := 0
		for i := range dmin {
			inertia += dmin[i]
			moved += changed[i]
		}
		res.Inertia = append(res.Inertia, inertia)
		res.Iterations = it + 1
		if moved == 0 || it == maxIter-1 {
			break // the centres stay those the assignment was made against
		}
		// Update: each centre is the mean of its rows, summed in row order.
		members := make([][]int, k)
		for i, c := range res.Assign {
			members[c] = append(members[c], i)
		}
		kernels.ParallelFor(k, 1, func(lo, hi int) {
			for c := lo; c < hi; c++ {
				if len(members[c]) == 0 {
					continue
				}
				ctr := res.Centers[c]
				clear(ctr)
				for _, i := range members[c] {
					idx, val := x.Row(i)
					for j, b := range idx {
						ctr[b] += float64(val[j])
					}
				}
				inv := 1 / float64(len(members[c]))
				var s float64
				for b := range ctr {
					ctr[b] *= inv
					s += ctr[b] * ctr[b]
				}
				cn[c] = s
			}
		})
		// An empty cluster moves onto the row farthest from its centre (no row is assigned to it, so
		// the objective does not change now and can only fall at the next assignment).
		taken := map[int]bool{}
		for c := 0; c < k; c++ {
			if len(members[c]) > 0 {
				continue
			}
			far := -1
			for i := range dmin {
				if !taken[i] && (far < 0 || dmin[i] > dmin[far]) {
					far = i
				}
			}
			taken[far] = true
			setCenter(c, far)
		}
	}
	clear(res.Sizes)
	for _, c := range res.Assign {
		res.Sizes[c]++
	}
	return res, nil
}
