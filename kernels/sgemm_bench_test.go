package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// Benchmarks report GFLOP/s (2*M*N*K per product). Run e.g.
//
//	go test ./kernels -run '^$' -bench Sgemm -benchtime 20x

func benchSgemm(b *testing.B, transA, transB bool, m, n, k int) {
	rng := rand.New(rand.NewSource(1))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	lda, ldb := ldFor(transA, m, k), ldFor(transB, k, n)
	a, bb, c := fill(m*k), fill(k*n), make([]float32, m*n)
	Sgemm(transA, transB, m, n, k, 1, a, lda, bb, ldb, 0, c, n) // warm the pools
	b.ResetTimer()
	for range b.N {
		Sgemm(transA, transB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSgemm(b *testing.B) {
	for _, tr := range []string{"NN", "NT", "TN"} {
		for _, s := range []int{64, 128, 256, 512, 1024} {
			b.Run(fmt.Sprintf("%s/%d", tr, s), func(b *testing.B) {
				benchSgemm(b, tr[0] == 'T', tr[1] == 'T', s, s, s)
			})
		}
	}
}

// BenchmarkSgemmLayer times the shapes a small transformer's linear layers produce (tokens 1024,
// C 256, 4C 1024; vocab 8192): forward (NT), dinp (NN) and dW (TN).
func BenchmarkSgemmLayer(b *testing.B) {
	for _, sh := range []struct {
		name    string
		ta, tb  bool
		m, n, k int
	}{
		{"fwd_1024x1024x256", false, true, 1024, 1024, 256},
		{"dinp_1024x256x1024", false, false, 1024, 256, 1024},
		{"dW_1024x256x1024", true, false, 1024, 256, 1024},
		{"head_1024x8192x256", false, true, 1024, 8192, 256},
		{"attn_128x128x64", false, true, 128, 128, 64},
	} {
		b.Run(sh.name, func(b *testing.B) { benchSgemm(b, sh.ta, sh.tb, sh.m, sh.n, sh.k) })
	}
}

func BenchmarkSgemmGeneric(b *testing.B) {
	for _, s := range []int{64, 256} {
		b.Run(fmt.Sprint(s), func(b *testing.B) {
			a, bb, c := make([]float32, s*s), make([]float32, s*s), make([]float32, s*s)
			for range b.N {
				SgemmGeneric(false, false, s, s, s, 1, a, s, bb, s, 0, c, s)
			}
			b.ReportMetric(2*float64(s*s*s)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSgemmPaths compares the micro-kernels on one thread (NN, square).
func BenchmarkSgemmPaths(b *testing.B) {
	defer SetThreads(Threads())
	SetThreads(1)
	for _, p := range gemmPaths() {
		for _, s := range []int{96, 512} {
			b.Run(fmt.Sprintf("%s/%d", p.name, s), func(b *testing.B) {
				ok, restore := p.set()
				defer restore()
				if !ok {
					b.Skipf("CPU lacks %s", p.name)
				}
				benchSgemm(b, false, false, s, s, s)
			})
		}
	}
}
