package cluster

import (
	"tern/kernels"
)

// Dedup marks near-duplicate rows within each cluster, SemDeDup-style (Abbas et al.,
// https://arxiv.org/abs/2303.09540): walking a cluster's rows in index order, a row whose cosine
// similarity to a row already kept in the same cluster is >= threshold is dropped. Rows are
// L2-normalised, so the cosine is the dot product. Clusters run in parallel and each in a fixed order:
// the result does not depend on the thread count. Cost: Σ over clusters of kept·size sparse dots.
func Dedup(x *Rows, assign []int32, k int, threshold float64) (keep []bool) {
	keep = make([]bool, x.N())
	members := make([][]int, k)
	for i, c := range assign {
		members[c] = append(members[c], i)
	}
	kernels.ParallelFor(k, 1, func(lo, hi int) {
		dense := make([]float32, x.Dim)
		for c := lo; c < hi; c++ {
			var kept []int
			for _, i := range members[c] {
				idx, val := x.Row(i)
				for j, b := range idx {
					dense[b] = val[j]
				}
				dup := false
				for _, o := range kept {
					oi, ov := x.Row(o)
					var dot float64
					for j, b := range oi {
						dot += float64(ov[j]) * float64(dense[b])
					}
					if dot >= threshold {
						dup = true
						break
					}
				}
				for _, b := range idx {
					dense[b] = 0
				}
				if !dup {
					kept = append(kept, i)
					keep[i] = true
				}
			}
		}
	})
	return keep
}
