package train

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tern/cluster"
	"tern/data"
	"tern/model"
	"tern/tensor"
	"tern/tokenizer"
)

// TestBalancedEpochBounds: over random cluster sizes, a balanced epoch visits every window exactly
// once (cluster frequencies per epoch equal the sizes), and every prefix of p windows holds
// within 1 of p·n_c/N windows of each cluster c — so any batch of B windows is within ±2 of its
// share B·n_c/N. The random mode has the same epoch counts but no such bound.
func TestBalancedEpochBounds(t *testing.T) {
	rng := tensor.NewRNG(11)
	for trial := 0; trial < 20; trial++ {
		k := 1 + rng.Intn(9)
		var assign []int32
		for c := 0; c < k; c++ {
			for i := rng.Intn(60); i >= 0; i-- {
				assign = append(assign, int32(c))
			}
		}
		// shuffle the windows' clusters so lists are not contiguous ranges
		for i := len(assign) - 1; i > 0; i-- {
			j := rng.Intn(i + 1)
			assign[i], assign[j] = assign[j], assign[i]
		}
		f := &cluster.File{K: k, Assign: assign, Difficulty: make([]float64, k)}
		s, err := newClusterSampler(nil, 1, f, nil, "balanced", uint64(trial))
		if err != nil {
			t.Fatal(err)
		}
		N := len(assign)
		size := make([]int, k)
		for _, c := range assign {
			size[c]++
		}
		for epoch := 0; epoch < 2; epoch++ {
			seen := make([]bool, N)
			cnt := make([]int, k)
			for p := 1; p <= N; p++ {
				w := s.next(nil)
				if seen[w] {
					t.Fatalf("trial %d: window %d twice in one epoch", trial, w)
				}
				seen[w] = true
				cnt[assign[w]]++
				for c := 0; c < k; c++ {
					if d := math.Abs(float64(cnt[c]) - float64(p*size[c])/float64(N)); d > 1 {
						t.Fatalf("trial %d: after %d windows cluster %d has %d, share %.2f", trial, p, c, cnt[c], float64(p*size[c])/float64(N))
					}
				}
			}
			for c := range cnt {
				if cnt[c] != size[c] {
					t.Fatalf("trial %d epoch %d: cluster %d drawn %d times, size %d", trial, epoch, c, cnt[c], size[c])
				}
			}
		}
	}
}

// smallCorpus writes the first 40,000 characters of Tiny Shakespeare to a file: a few thousand
// windows keep k-means and the quadratic dedup fast.
func smallCorpus(t *testing.T) string {
	t.Helper()
	c, err := data.LoadCorpus("tinyshakespeare")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "small.txt")
	if err := os.WriteFile(path, []byte(c.Train[:40000]), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeClusters makes a small cluster file for corpus (char tokenizer) at seq.
func writeClusters(t *testing.T, corpus string, seq, k int) string {
	t.Helper()
	c, err := data.LoadCorpus(corpus)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.NewAdapter("char", c.Train+c.Valid)
	if err != nil {
		t.Fatal(err)
	}
	toks := tok.Encode32(c.Train)
	id := cluster.NewIdentity(corpus, "char", tok.Spec(), seq, toks)
	x := cluster.TFIDF{Dim: 256, NGram: 1}.Features(toks, seq)
	f, err := cluster.Build(context.Background(), toks, id, x, k, 1, 5, func([]int32) string { return "" }, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Features, f.TFIDF = "tfidf", &cluster.TFIDF{Dim: 256, NGram: 1}
	path := filepath.Join(t.TempDir(), "clusters.json")
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestClusteredBatchesResume: training from clusters (each mode, with dedup) resumes bit-identically,
// and the loss goes down; bad cluster files are clear errors.
func TestClusteredBatchesResume(t *testing.T) {
	small := smallCorpus(t)
	path := writeClusters(t, small, 16, 4)
	for _, mode := range []string{"balanced", "curriculum", "random"} {
		t.Run(mode, func(t *testing.T) {
			mut := func(c *Config, m *model.Config) { c.Data, c.Clusters, c.Batching, c.Dedup = small, path, mode, 0.9 }
			dirA, dirB := t.TempDir(), t.TempDir()
			cfgA, mc := tinyRun(t, dirA, 8, 0, mut)
			ra, err := NewRun(cfgA, mc, false, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ra.Train(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := trainLosses(t, ra)
			cfgB, _ := tinyRun(t, dirB, 8, 4, mut)
			rb, _ := NewRun(cfgB, mc, false, io.Discard)
			rb.stopAt = 5
			rb.Train(context.Background())
			rc, err := NewRun(cfgB, mc, true, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rc.Train(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := trainLosses(t, rc)
			for s := 1; s <= 8; s++ {
				if math.Float64bits(got[s]) != math.Float64bits(want[s]) {
					t.Errorf("step %d: resumed %v, uninterrupted %v", s, got[s], want[s])
				}
			}
		})
	}
	for _, c := range []struct {
		name, want string
		mut        func(*Config, *model.Config)
	}{
		{"other seq", "made for other data", func(c *Config, m *model.Config) { c.Data, c.Clusters, c.Seq = small, path, 32 }},
		{"other data", "made for other data", func(c *Config, m *model.Config) {
			other := filepath.Join(t.TempDir(), "other.txt")
			os.WriteFile(other, []byte(strings.Repeat("to be or not to be, that is the question\n", 400)), 0o644)
			c.Clusters, c.Data = path, other
		}},
		{"empty file", "is empty", func(c *Config, m *model.Config) {
			empty := filepath.Join(t.TempDir(), "empty.json")
			os.WriteFile(empty, nil, 0o644)
			c.Data, c.Clusters = small, empty
		}},
		{"batching without clusters", "need a cluster file", func(c *Config, m *model.Config) { c.Batching = "balanced" }},
		{"bad batching", "unknown batching", func(c *Config, m *model.Config) { c.Data, c.Clusters, c.Batching = small, path, "sorted" }},
	} {
		cfg, mc := tinyRun(t, t.TempDir(), 2, 0, c.mut)
		if _, err := NewRun(cfg, mc, false, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
