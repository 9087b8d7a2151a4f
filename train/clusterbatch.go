package train

import (
	"fmt"
	"math"
	"slices"

	"tern/cluster"
	"tern/model"
	"tern/tensor"
)

// clusterSampler draws training windows from a cluster file's windows (cluster.Windows: fixed,
// non-overlapping) instead of random offsets:
//   - balanced: epochs; each epoch visits every kept window once, and the order interleaves the
//     clusters so that every prefix of p windows holds p·n_c/N ± 1 windows of cluster c (each
//     position takes the cluster furthest behind its share). Batches are stratified samples.
//   - random: epochs of a plain shuffle of the kept windows (the same windows, no stratification:
//     the control for balanced).
//   - curriculum: competence-based (Platanios et al., https://arxiv.org/abs/1903.09848): windows
//     ranked by their cluster's difficulty (easy first), and at training fraction f a window is
//     drawn uniformly from the easiest c(f) = sqrt(f·(1−c0²)+c0²) of them, c0 = 0.1.
//
// The epoch order is a function of (seed, epoch) alone, so a checkpoint needs only the epoch and the
// position in it; curriculum draws from the run's sampler RNG, which checkpoints already carry.
type clusterSampler struct {
	tokens []int32
	seq, k int
	mode   string
	seed   uint64
	assign []int32
	lists  [][]int32 // per cluster, its kept windows in index order
	kept   int
	ranked []int32 // curriculum: kept windows, easiest cluster first

	order      []int32 // the current epoch (balanced, random)
	epoch, pos int
	frac       float64 // curriculum: training progress in [0, 1], set before each step
	counts     []int   // scratch: the last batch's windows per cluster
	majority   int     // the last batch's most frequent cluster
}

func newClusterSampler(tokens []int32, seq int, f *cluster.File, keep []bool, mode string, seed uint64) (*clusterSampler, error) {
	if mode == "" {
		mode = "balanced"
	}
	s := &clusterSampler{tokens: tokens, seq: seq, k: f.K, mode: mode, seed: seed, assign: f.Assign,
		lists: make([][]int32, f.K), counts: make([]int, f.K)}
	for w, c := range f.Assign {
		if keep == nil || keep[w] {
			s.lists[c] = append(s.lists[c], int32(w))
			s.kept++
		}
	}
	if s.kept == 0 {
		return nil, fmt.Errorf("clusters: no window left to train on")
	}
	if mode == "curriculum" {
		byDiff := make([]int, f.K)
		for c := range byDiff {
			byDiff[c] = c
		}
		slices.SortStableFunc(byDiff, func(a, b int) int { return cmpFloat(f.Difficulty[a], f.Difficulty[b]) })
		for _, c := range byDiff {
			s.ranked = append(s.ranked, s.lists[c]...)
		}
	}
	return s, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// epochOrder is epoch e's window order (balanced or random).
func (s *clusterSampler) epochOrder(e int) []int32 {
	rng := tensor.NewRNG(s.seed ^ 0xc105 ^ uint64(e)*0x9e3779b97f4a7c15)
	shuffle := func(v []int32) {
		for i := len(v) - 1; i > 0; i-- {
			j := rng.Intn(i + 1)
			v[i], v[j] = v[j], v[i]
		}
	}
	out := make([]int32, 0, s.kept)
	if s.mode == "random" {
		for _, l := range s.lists {
			out = append(out, l...)
		}
		shuffle(out)
		return out
	}
	lists := make([][]int32, s.k)
	for c, l := range s.lists {
		lists[c] = slices.Clone(l)
		shuffle(lists[c])
	}
	return interleave(lists, s.kept, out)
}

// interleave appends the lists' elements so that after p of them, list c has contributed within 1
// of p·len(c)/total: each position goes to the list with the largest deficit p·n_c/N − taken_c
// (ties to the lower index). An exhausted list's deficit is <= 0 while the largest is > 0, so it is
// never chosen.
func interleave(lists [][]int32, total int, out []int32) []int32 {
	taken := make([]int, len(lists))
	for p := 1; p <= total; p++ {
		best, bd := -1, math.Inf(-1)
		for c, l := range lists {
			if taken[c] == len(l) {
				continue
			}
			if d := float64(p)*float64(len(l))/float64(total) - float64(taken[c]); d > bd {
				best, bd = c, d
			}
		}
		out = append(out, lists[best][taken[best]])
		taken[best]++
	}
	return out
}

// next returns the next window index.
func (s *clusterSampler) next(rng *tensor.RNG) int32 {
	if s.mode == "curriculum" {
		const c0 = 0.1
		c := math.Min(1, math.Sqrt(s.frac*(1-c0*c0)+c0*c0))
		n := max(1, int(c*float64(len(s.ranked))))
		return s.ranked[rng.Intn(n)]
	}
	if s.pos >= len(s.order) {
		s.epoch++
		s.order, s.pos = s.epochOrder(s.epoch), 0
	}
	w := s.order[s.pos]
	s.pos++
	return w
}

// Next fills ids and targets (B, T) from the next B windows, then corrupts them as the objective
// needs (with rng, the run's sampler RNG).
func (s *clusterSampler) Next(ids, targets []int32, b, t int, rng *tensor.RNG, mc model.Config, maskProb float64) {
	clear(s.counts)
	for i := 0; i < b; i++ {
		w := int(s.next(rng))
		win := s.tokens[w*s.seq : w*s.seq+t+1]
		copy(ids[i*t:(i+1)*t], win[:t])
		copy(targets[i*t:(i+1)*t], win[1:])
		s.counts[s.assign[w]]++
	}
	s.majority = 0
	for c, n := range s.counts {
		if n > s.counts[s.majority] {
			s.majority = c
		}
	}
	corrupt(ids, targets, b, t, rng, mc, maskProb)
}

// restore puts the sampler at (epoch, pos) of a checkpoint.
func (s *clusterSampler) restore(epoch, pos int) error {
	if epoch < 0 || pos < 0 || (epoch == 0 && pos != 0) {
		return fmt.Errorf("cluster sampler at epoch %d position %d", epoch, pos)
	}
	s.epoch, s.pos, s.order = epoch, pos, nil
	if epoch > 0 && s.mode != "curriculum" {
		s.order = s.epochOrder(epoch)
		if pos > len(s.order) {
			return fmt.Errorf("cluster sampler position %d beyond the epoch's %d windows", pos, len(s.order))
		}
	}
	return nil
}

// loadClusters reads cfg.Clusters, refuses a file made for other windows, drops near-duplicates
// (cfg.Dedup) and returns the sampler and a line for the log.
func loadClusters(cfg Config, spec string, tokens []int32) (*clusterSampler, string, error) {
	f, err := cluster.Read(cfg.Clusters)
	if err != nil {
		return nil, "", err
	}
	if err := f.Check(cfg.Clusters, cluster.NewIdentity(cfg.Data, cfg.Tokenizer, spec, cfg.Seq, tokens)); err != nil {
		return nil, "", err
	}
	var keep []bool
	note := fmt.Sprintf("%s: %d windows in %d clusters (%s features), %s batches", cfg.Clusters, len(f.Assign), f.K, f.Features, orDefault(cfg.Batching, "balanced"))
	if cfg.Dedup > 0 {
		tf := cluster.TFIDF{Dim: 4096, NGram: 3} // a model-feature file is deduplicated on the default TF-IDF
		if f.TFIDF != nil {
			tf = *f.TFIDF
		}
		keep = cluster.Dedup(tf.Features(tokens, cfg.Seq), f.Assign, f.K, cfg.Dedup)
		n := 0
		for _, k := range keep {
			if !k {
				n++
			}
		}
		note += fmt.Sprintf("; dedup %g dropped %d near-duplicate windows (%.2f%%)", cfg.Dedup, n, 100*float64(n)/float64(len(keep)))
	}
	s, err := newClusterSampler(tokens, cfg.Seq, f, keep, cfg.Batching, cfg.Seed)
	return s, note, err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
