package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"tern/format"
)

// FileVersion is the cluster file's format version.
const FileVersion = 1

// Identity names the windows a cluster file was made for. Checksum is SHA-256 over the tokenizer's
// spec, the window length and the token stream, so a file made for other data, another tokenizer or
// another --seq is refused even when the names agree.
type Identity struct {
	Data      string `json:"data"`
	Tokenizer string `json:"tokenizer"`
	Seq       int    `json:"seq"`
	Tokens    int    `json:"tokens"`
	Windows   int    `json:"windows"`
	Checksum  string `json:"checksum"`
}

// NewIdentity computes the identity of the windows of tokens.
func NewIdentity(data, tokName, tokSpec string, seq int, tokens []int32) Identity {
	h := sha256.New()
	fmt.Fprintf(h, "tern-cluster-windows\x00%s\x00%d\x00", tokSpec, seq)
	var b [4]byte
	buf := make([]byte, 0, 1<<16)
	for _, t := range tokens {
		binary.LittleEndian.PutUint32(b[:], uint32(t))
		buf = append(buf, b[:]...)
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
	return Identity{Data: data, Tokenizer: tokName, Seq: seq, Tokens: len(tokens), Windows: Windows(len(tokens), seq),
		Checksum: hex.EncodeToString(h.Sum(nil))}
}

// File is what `tern cluster` writes: the settings, the k-means trace, per-cluster summaries, and
// the cluster of every window.
type File struct {
	Version    int        `json:"version"`
	Identity   Identity   `json:"identity"`
	Features   string     `json:"features"` // tfidf | model
	TFIDF      *TFIDF     `json:"tfidf,omitempty"`
	Model      string     `json:"model,omitempty"` // features=model: the model file
	K          int        `json:"k"`
	Seed       uint64     `json:"seed"`
	Iterations int        `json:"iterations"`
	Inertia    []float64  `json:"inertia"`    // after each iteration's assignment
	Sizes      []int      `json:"sizes"`      // windows per cluster
	Difficulty []float64  `json:"difficulty"` // per cluster: mean unigram surprisal of its windows (nats/token), the curriculum's order
	Examples   [][]string `json:"examples"`   // per cluster: the text of up to a few of its windows
	Assign     []int32    `json:"assign"`     // cluster of each window
}

// Write stores f atomically (temp file, fsync, rename).
func (f *File) Write(path string) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return format.WriteFileAtomic(path, b)
}

// Read loads and checks a cluster file.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster file: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("cluster file %s is empty (make one with tern cluster)", path)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("cluster file %s: not a tern cluster file: %v", path, err)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("cluster file %s: %s", path, fmt.Sprintf(format, a...))
	}
	switch {
	case f.Version != FileVersion:
		return nil, bad("version %d, this tern reads %d", f.Version, FileVersion)
	case f.K <= 0 || len(f.Sizes) != f.K || len(f.Difficulty) != f.K:
		return nil, bad("k %d with %d sizes and %d difficulties", f.K, len(f.Sizes), len(f.Difficulty))
	case len(f.Assign) == 0:
		return nil, bad("no windows assigned")
	case len(f.Assign) != f.Identity.Windows:
		return nil, bad("%d assignments for %d windows", len(f.Assign), f.Identity.Windows)
	}
	count := make([]int, f.K)
	for i, c := range f.Assign {
		if c < 0 || int(c) >= f.K {
			return nil, bad("window %d is in cluster %d, outside [0, %d)", i, c, f.K)
		}
		count[c]++
	}
	for c := range count {
		if count[c] != f.Sizes[c] {
			return nil, bad("cluster %d has %d windows but its size says %d", c, count[c], f.Sizes[c])
		}
		if math.IsNaN(f.Difficulty[c]) {
			return nil, bad("cluster %d has no difficulty", c)
		}
	}
	return &f, nil
}

// Check refuses a file made for other windows than id.
func (f *File) Check(path string, id Identity) error {
	if f.Identity.Checksum != id.Checksum {
		a, b := f.Identity, id
		return fmt.Errorf("cluster file %s was made for other data: it has %s with tokenizer %s, seq %d (%d tokens, %d windows, checksum %.12s); this run has %s with %s, seq %d (%d tokens, %d windows, checksum %.12s)",
			path, a.Data, a.Tokenizer, a.Seq, a.Tokens, a.Windows, a.Checksum, b.Data, b.Tokenizer, b.Seq, b.Tokens, b.Windows, b.Checksum)
	}
	return nil
}

// Difficulty is each cluster's mean unigram surprisal: the mean over its windows of
// −ln p(token) under the token stream's own unigram distribution. A model-free proxy for how hard
// the cluster's text is (rare tokens), which orders the curriculum.
func Difficulty(tokens []int32, seq int, assign []int32, k int) []float64 {
	cnt := map[int32]float64{}
	for _, t := range tokens {
		cnt[t]++
	}
	n := float64(len(tokens))
	sum := make([]float64, k)
	num := make([]float64, k)
	for w, c := range assign {
		var s float64
		for _, t := range tokens[w*seq : w*seq+seq] {
			s -= math.Log(cnt[t] / n)
		}
		sum[c] += s / float64(seq)
		num[c]++
	}
	for c := range sum {
		if num[c] > 0 {
			sum[c] /= num[c]
		}
	}
	return sum
}

// Build clusters the windows' feature rows x into k groups and assembles the file: sizes, the
// inertia trace, difficulties, and up to examples windows' text per cluster (decode turns ids into
// text; the first windows of each cluster, cut to 200 characters).
func Build(ctx context.Context, tokens []int32, id Identity, x *Rows, k int, seed uint64, maxIter int, decode func([]int32) string, examples int) (*File, error) {
	if x.N() != id.Windows {
		return nil, fmt.Errorf("cluster: %d feature rows for %d windows", x.N(), id.Windows)
	}
	r, err := KMeans(ctx, x, k, seed, maxIter)
	if err != nil {
		return nil, err
	}
	f := &File{Version: FileVersion, Identity: id, K: k, Seed: seed, Iterations: r.Iterations, Inertia: r.Inertia,
		Sizes: r.Sizes, Difficulty: Difficulty(tokens, id.Seq, r.Assign, k), Assign: r.Assign, Examples: make([][]string, k)}
	for w, c := range r.Assign {
		if len(f.Examples[c]) < examples {
			s := []rune(decode(tokens[w*id.Seq : w*id.Seq+id.Seq]))
			if len(s) > 200 {
				s = s[:200]
			}
			f.Examples[c] = append(f.Examples[c], string(s))
		}
	}
	return f, nil
}
