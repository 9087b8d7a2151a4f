// Package cluster groups a corpus's training windows by content: per-window features (hashed n-gram
// TF-IDF, or a model's mean hidden state), deterministic parallel k-means++, SemDeDup-style
// near-duplicate removal within clusters, and the cluster file that `tern cluster` writes and
// `tern train --clusters` reads (with a checksummed identity of the data it was made for).
//
// Files: features.go (sparse rows, TF-IDF), kmeans.go, dedup.go, file.go.
package cluster

import (
	"math"
	"slices"

	"tern/kernels"
)

// Window i of a token stream is tokens[i·seq : i·seq+seq+1]: seq inputs and their seq targets,
// non-overlapping, the last partial one dropped. Windows is their count.
func Windows(nTokens, seq int) int {
	if seq <= 0 || nTokens < seq+1 {
		return 0
	}
	return (nTokens - 1) / seq
}

// Rows is a set of sparse feature vectors (CSR): row i has the entries Idx[Ptr[i]:Ptr[i+1]] (sorted,
// distinct) with values Val[...]. Every row is L2-normalised (or all zero).
type Rows struct {
	Dim int
	Ptr []int64
	Idx []int32
	Val []float32
}

// N is the number of rows.
func (r *Rows) N() int { return len(r.Ptr) - 1 }

// Row returns row i's indices and values.
func (r *Rows) Row(i int) ([]int32, []float32) {
	return r.Idx[r.Ptr[i]:r.Ptr[i+1]], r.Val[r.Ptr[i]:r.Ptr[i+1]]
}

// Bytes is the memory the rows hold.
func (r *Rows) Bytes() int64 { return int64(len(r.Ptr))*8 + int64(len(r.Idx))*4 + int64(len(r.Val))*4 }

// TFIDF is the default feature: token n-grams (n = 1..NGram) of each window's seq input tokens,
// hashed into Dim buckets, weighted by sublinear term frequency 1+ln(tf) times the smoothed inverse
// document frequency ln((1+N)/(1+df))+1 (scikit-learn's TfidfVectorizer(sublinear_tf=True)), then
// L2-normalised. Sparse: a window has at most seq·NGram non-zeros whatever Dim is.
type TFIDF struct {
	Dim   int `json:"dim"`
	NGram int `json:"ngram"`
}

// hashNGram mixes n tokens (splitmix64 steps) into a bucket; n is part of the hash so a unigram and a
// bigram never share a bucket by construction of the key.
func hashNGram(toks []int32) uint64 {
	h := uint64(len(toks)) * 0x9e3779b97f4a7c15
	for _, t := range toks {
		h ^= uint64(uint32(t))
		h += 0x9e3779b97f4a7c15
		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9
		h = (h ^ (h >> 27)) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

// Features computes the TF-IDF rows of the windows of tokens (see Windows), in parallel over the
// kernels pool; the result does not depend on the thread count.
func (f TFIDF) Features(tokens []int32, seq int) *Rows {
	n := Windows(len(tokens), seq)
	idx := make([][]int32, n)
	cnt := make([][]float32, n)
	kernels.ParallelFor(n, 64, func(lo, hi int) {
		var hs []uint64
		for w := lo; w < hi; w++ {
			win := tokens[w*seq : w*seq+seq]
			hs = hs[:0]
			for g := 1; g <= f.NGram; g++ {
				for i := 0; i+g <= len(win); i++ {
					hs = append(hs, hashNGram(win[i:i+g])%uint64(f.Dim))
				}
			}
			slices.Sort(hs)
			var ix []int32
			var c []float32
			for i := 0; i < len(hs); {
				j := i
				for j < len(hs) && hs[j] == hs[i] {
					j++
				}
				ix = append(ix, int32(hs[i]))
				c = append(c, float32(j-i))
				i = j
			}
			idx[w], cnt[w] = ix, c
		}
	})
	df := make([]int32, f.Dim)
	total := 0
	for w := range idx {
		for _, b := range idx[w] {
			df[b]++
		}
		total += len(idx[w])
	}
	idf := make([]float64, f.Dim)
	for b, d := range df {
		idf[b] = math.Log(float64(1+n)/float64(1+d)) + 1
	}
	r := &Rows{Dim: f.Dim, Ptr: make([]int64, n+1), Idx: make([]int32, 0, total), Val: make([]float32, total)}
	for w := range idx {
		r.Ptr[w+1] = r.Ptr[w] + int64(len(idx[w]))
		r.Idx = append(r.Idx, idx[w]...)
	}
	kernels.ParallelFor(n, 64, func(lo, hi int) {
		for w := lo; w < hi; w++ {
			val := r.Val[r.Ptr[w]:r.Ptr[w+1]]
			var ss float64
			for i, b := range idx[w] {
				v := (1 + math.Log(float64(cnt[w][i]))) * idf[b]
				val[i] = float32(v)
				ss += v * v
			}
			normalize(val, ss)
		}
	})
	return r
}

func normalize(val []float32, ss float64) {
	if ss == 0 {
		return
	}
	s := 1 / math.Sqrt(ss)
	for i := range val {
		val[i] = float32(float64(val[i]) * s)
	}
}

// DenseRows turns n dense vectors of width dim (row-major) into L2-normalised Rows, e.g. a model's
// mean hidden states.
func DenseRows(x []float32, n, dim int) *Rows {
	r := &Rows{Dim: dim, Ptr: make([]int64, n+1), Idx: make([]int32, n*dim), Val: make([]float32, n*dim)}
	for i := 0; i < n; i++ {
		r.Ptr[i+1] = int64((i + 1) * dim)
		var ss float64
		for j := 0; j < dim; j++ {
			r.Idx[i*dim+j] = int32(j)
			v := x[i*dim+j]
			r.Val[i*dim+j] = v
			ss += float64(v) * float64(v)
		}
		normalize(r.Val[i*dim:(i+1)*dim], ss)
	}
	return r
}
