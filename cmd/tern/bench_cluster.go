package main

// `tern bench cluster`: TF-IDF features and k-means++ over synthetic windows (the size:
// 100k windows x 4096 hashed features, k 64), time and memory.

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"tern/cluster"
	"tern/kernels"
	"tern/tensor"
)

func init() {
	registerBench("cluster", "k-means++ over hashed n-gram TF-IDF of synthetic windows: time and memory", benchCluster)
}

type clusterBench struct {
	Windows      int     `json:"windows"`
	Seq          int     `json:"seq"`
	Dim          int     `json:"dim"`
	NGram        int     `json:"ngram"`
	K            int     `json:"k"`
	Threads      int     `json:"threads"`
	NonZeros     float64 `json:"nonzeros_per_window"`
	FeatureBytes int64   `json:"feature_bytes"`
	FeaturesSec  float64 `json:"features_s"`
	KMeansSec    float64 `json:"kmeans_s"`
	Iterations   int     `json:"iterations"`
	PerIterSec   float64 `json:"s_per_iteration"` // k-means time (seeding included) / iterations
	HeapPeak     uint64  `json:"heap_peak_bytes"` // largest live heap seen after each phase
	GoSys        uint64  `json:"go_sys_bytes"`    // memory the Go runtime took from the OS (bounds the peak)
	Inertia0     float64 `json:"inertia_first"`
	InertiaN     float64 `json:"inertia_last"`
	CPU          string  `json:"cpu"`
}

func benchCluster(ctx context.Context, args []string) error {
	fs := newFlags("bench cluster", "bench cluster [--windows 100000] [--dim 4096] [--k 64] [--threads 2] [--json]")
	n := fs.Int("windows", 100000, "windows")
	seq := fs.Int("seq", 128, "tokens per window")
	dim := fs.Int("dim", 4096, "hashed feature buckets")
	ngram := fs.Int("ngram", 3, "n-grams of 1..N tokens")
	k := fs.Int("k", 64, "clusters")
	iters := fs.Int("iters", 20, "at most this many Lloyd iterations")
	threads := fs.Int("threads", 2, "threads")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *n <= 0 || *seq <= 0 || *dim <= 0 || *ngram <= 0 || *k <= 0 {
		return fmt.Errorf("--windows, --seq, --dim, --ngram and --k must be > 0")
	}
	setThreads(*threads)
	toks := syntheticTopics(*n, *seq, *k)
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	runtime.GC()
	t0 := time.Now()
	x := cluster.TFIDF{Dim: *dim, NGram: *ngram}.Features(toks, *seq)
	tf := time.Since(t0).Seconds()
	sample()
	if err := ctx.Err(); err != nil {
		return err
	}
	t1 := time.Now()
	r, err := cluster.KMeans(ctx, x, *k, 1, *iters)
	if err != nil {
		return err
	}
	tk := time.Since(t1).Seconds()
	sample()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b := clusterBench{Windows: x.N(), Seq: *seq, Dim: *dim, NGram: *ngram, K: *k, Threads: kernels.Threads(),
		NonZeros: float64(len(x.Idx)) / float64(x.N()), FeatureBytes: x.Bytes(), FeaturesSec: tf, KMeansSec: tk,
		Iterations: r.Iterations, PerIterSec: tk / float64(r.Iterations), HeapPeak: peak, GoSys: ms.Sys,
		Inertia0: r.Inertia[0], InertiaN: r.Inertia[len(r.Inertia)-1], CPU: kernels.Features()}
	return printResult(*asJSON, b, fmt.Sprintf("%d windows x %d features (%.0f non-zeros each), k %d, %d threads: features %.2f s, k-means %.2f s (%d iterations, %.3f s each), heap peak %.0f MiB, Go sys %.0f MiB",
		b.Windows, b.Dim, b.NonZeros, b.K, b.Threads, tf, tk, b.Iterations, b.PerIterSec, float64(peak)/(1<<20), float64(ms.Sys)/(1<<20)))
}

// syntheticTopics is a token stream of n windows, each from one of k topics: 70% of its tokens from
// the topic's own 64 ids, 30% from a shared 4096-id vocabulary, both skewed towards low ids.
func syntheticTopics(n, seq, k int) []int32 {
	rng := tensor.NewRNG(7)
	toks := make([]int32, n*seq+1)
	skew := func(m int) int { u := rng.Float64(); return int(u * u * float64(m)) }
	for w := 0; w < n; w++ {
		topic := rng.Intn(k)
		for i := 0; i < seq; i++ {
			if rng.Float64() < 0.7 {
				toks[w*seq+i] = int32(4096 + topic*64 + skew(64))
			} else {
				toks[w*seq+i] = int32(skew(4096))
			}
		}
	}
	return toks
}
