package cluster

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tern/kernels"
	"tern/tensor"
)

// synthetic: a token stream of three "topics" (disjoint token ranges) in runs of whole windows, with
// a little noise, so TF-IDF clusters are real and not trivially equal.
func synthetic(nWin, seq int, seed uint64) []int32 {
	rng := tensor.NewRNG(seed)
	toks := make([]int32, nWin*seq+1)
	for w := 0; w < nWin; w++ {
		topic := int32(rng.Intn(3))
		for i := 0; i < seq; i++ {
			t := topic*20 + int32(rng.Intn(20))
			if rng.Float64() < 0.1 {
				t = int32(rng.Intn(60))
			}
			toks[w*seq+i] = t
		}
	}
	return toks
}

func withThreads(t *testing.T, n int) {
	old := kernels.Threads()
	kernels.SetThreads(n)
	t.Cleanup(func() { kernels.SetThreads(old) })
}

// TestKMeansThreadsMonotoneBruteForce: the same seed gives bit-identical clusters, centres and
// inertia on 1, 2 and 3 threads; the objective never increases between iterations; every row's
// cluster is its nearest centre by a dense brute-force distance.
func TestKMeansThreadsMonotoneBruteForce(t *testing.T) {
	x := TFIDF{Dim: 512, NGram: 2}.Features(synthetic(600, 32, 1), 32)
	var ref *Result
	for _, th := range []int{1, 2, 3} {
		withThreads(t, th)
		r, err := KMeans(context.Background(), x, 7, 42, 100)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = r
			continue
		}
		if !slices.Equal(r.Assign, ref.Assign) || !slices.Equal(r.Inertia, ref.Inertia) {
			t.Fatalf("%d threads: clusters differ from 1 thread", th)
		}
		for c := range r.Centers {
			if !slices.Equal(r.Centers[c], ref.Centers[c]) {
				t.Fatalf("%d threads: centre %d differs", th, c)
			}
		}
	}
	if ref.Iterations < 2 {
		t.Fatalf("converged in %d iterations: the test exercises nothing", ref.Iterations)
	}
	for i := 1; i < len(ref.Inertia); i++ {
		if ref.Inertia[i] > ref.Inertia[i-1]*(1+1e-12) {
			t.Errorf("inertia rose at iteration %d: %v -> %v", i, ref.Inertia[i-1], ref.Inertia[i])
		}
	}
	dense := make([]float64, x.Dim)
	var total float64
	for i := 0; i < x.N(); i++ {
		clear(dense)
		idx, val := x.Row(i)
		for j, b := range idx {
			dense[b] = float64(val[j])
		}
		best, bd := -1, math.Inf(1)
		for c, ctr := range ref.Centers {
			var d float64
			for b := range ctr {
				e := dense[b] - ctr[b]
				d += e * e
			}
			if d < bd-1e-12 {
				best, bd = c, d
			}
		}
		if int(ref.Assign[i]) != best {
			t.Fatalf("row %d: in cluster %d, brute force says %d", i, ref.Assign[i], best)
		}
		total += bd
	}
	if last := ref.Inertia[len(ref.Inertia)-1]; math.Abs(total-last) > 1e-9*last {
		t.Errorf("final inertia %v, brute force %v", last, total)
	}
	sum := 0
	for _, s := range ref.Sizes {
		sum += s
	}
	if sum != x.N() {
		t.Errorf("sizes sum to %d, want %d", sum, x.N())
	}
}

// TestKMeansFindsTopics: three well-separated topics with k 3 come out as the three topics (the
// brute-force optimal partition here), whatever the labels.
func TestKMeansFindsTopics(t *testing.T) {
	seq := 32
	toks := make([]int32, 0, 90*seq+1)
	rng := tensor.NewRNG(5)
	var topic []int
	for w := 0; w < 90; w++ {
		tp := w % 3
		topic = append(topic, tp)
		for i := 0; i < seq; i++ {
			toks = append(toks, int32(tp*20+rng.Intn(20)))
		}
	}
	toks = append(toks, 0)
	x := TFIDF{Dim: 256, NGram: 1}.Features(toks, seq)
	r, err := KMeans(context.Background(), x, 3, 1, 50)
	if err != nil {
		t.Fatal(err)
	}
	label := map[int]int32{}
	for w, tp := range topic {
		if l, ok := label[tp]; ok && l != r.Assign[w] {
			t.Fatalf("topic %d split over clusters %d and %d", tp, l, r.Assign[w])
		}
		label[tp] = r.Assign[w]
	}
	if len(map[int32]bool{label[0]: true, label[1]: true, label[2]: true}) != 3 {
		t.Fatalf("topics merged: %v", label)
	}
}

func TestKMeansErrors(t *testing.T) {
	x := TFIDF{Dim: 64, NGram: 1}.Features(synthetic(5, 8, 1), 8)
	if _, err := KMeans(context.Background(), x, 6, 1, 10); err == nil || !strings.Contains(err.Error(), "k 6 is larger than the number of windows (5)") {
		t.Errorf("k > windows: %v", err)
	}
	if _, err := KMeans(context.Background(), x, 0, 1, 10); err == nil {
		t.Error("k 0 accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := KMeans(ctx, x, 2, 1, 10); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
	// Duplicate rows only: k-means++ still returns k centres and no NaN.
	dup := make([]int32, 4*8+1)
	y := TFIDF{Dim: 64, NGram: 1}.Features(dup, 8)
	r, err := KMeans(context.Background(), y, 3, 1, 10)
	if err != nil || math.IsNaN(r.Inertia[0]) {
		t.Errorf("duplicates: %v %v", r, err)
	}
}

// TestTFIDFHandWorked: window [1 1 2] with unigrams only in a stream of two windows, the other
// [2 3 3]: tf-idf by hand, L2-normalised.
func TestTFIDFHandWorked(t *testing.T) {
	x := TFIDF{Dim: 1 << 20, NGram: 1}.Features([]int32{1, 1, 2, 2, 3, 3, 0}, 3)
	if x.N() != 2 {
		t.Fatalf("%d windows", x.N())
	}
	idf1 := math.Log(3.0/2) + 1 // token 1 in one window of two
	idf2 := 1.0                 // token 2 in both
	a, b := (1+math.Log(2))*idf1, idf2
	want := map[uint64]float64{hashNGram([]int32{1}) % (1 << 20): a / math.Hypot(a, b), hashNGram([]int32{2}) % (1 << 20): b / math.Hypot(a, b)}
	idx, val := x.Row(0)
	if len(idx) != 2 {
		t.Fatalf("row 0 has %d entries", len(idx))
	}
	for j, bk := range idx {
		if math.Abs(float64(val[j])-want[uint64(bk)]) > 1e-6 {
			t.Errorf("bucket %d: %v, want %v", bk, val[j], want[uint64(bk)])
		}
	}
}

// TestDedup: exact copies inside a cluster go, distinct rows and copies in other clusters stay, for
// any thread count.
func TestDedup(t *testing.T) {
	seq := 16
	base := synthetic(6, seq, 9)
	toks := append(append([]int32{}, base[:6*seq]...), base[:2*seq]...) // windows 6, 7 copy 0, 1
	toks = append(toks, 0)
	x := TFIDF{Dim: 512, NGram: 2}.Features(toks, seq)
	assign := []int32{0, 0, 0, 1, 1, 1, 0, 1} // 7 copies 1 but sits in another cluster
	for _, th := range []int{1, 2} {
		withThreads(t, th)
		keep := Dedup(x, assign, 2, 0.95)
		want := []bool{true, true, true, true, true, true, false, true}
		if !slices.Equal(keep, want) {
			t.Errorf("%d threads: keep %v, want %v", th, keep, want)
		}
	}
}

// TestFileErrors: a round trip, and the bad files the issue names.
func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	toks := synthetic(40, 8, 3)
	id := NewIdentity("syn", "char", `{"type":"char"}`, 8, toks)
	x := TFIDF{Dim: 128, NGram: 2}.Features(toks, 8)
	r, _ := KMeans(context.Background(), x, 4, 1, 20)
	f := &File{Version: FileVersion, Identity: id, Features: "tfidf", K: 4, Seed: 1, Iterations: r.Iterations, Inertia: r.Inertia,
		Sizes: r.Sizes, Difficulty: Difficulty(toks, 8, r.Assign, 4), Assign: r.Assign}
	path := filepath.Join(dir, "c.json")
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	g, err := Read(path)
	if err != nil || !slices.Equal(g.Assign, f.Assign) || g.Check(path, id) != nil {
		t.Fatalf("round trip: %v", err)
	}
	other := NewIdentity("syn", "char", `{"type":"char"}`, 8, append(slices.Clone(toks[:len(toks)-1]), 5))
	if err := g.Check(path, other); err == nil || !strings.Contains(err.Error(), "made for other data") {
		t.Errorf("other data: %v", err)
	}
	if err := g.Check(path, NewIdentity("syn", "char", `{"type":"char"}`, 9, toks)); err == nil {
		t.Error("other seq accepted")
	}
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Read(empty); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty file: %v", err)
	}
	f.Sizes[0]++
	f.Write(path)
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "size says") {
		t.Errorf("bad sizes: %v", err)
	}
	os.WriteFile(path, []byte(`{"version":1,"k":2,"sizes":[1,1],"difficulty":[0,0],"assign":[],"identity":{"windows":0}}`), 0o644)
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "no windows") {
		t.Errorf("no assignments: %v", err)
	}
}
