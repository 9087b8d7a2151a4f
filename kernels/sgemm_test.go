package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"
)

// Tests compare every GEMM path (AVX-512, AVX2, portable Go kernel, SgemmGeneric) with a float64
// reference on awkward sizes, all transpose forms, strided operands and alpha/beta variants.

// gemmPath is one distinct GEMM micro-kernel of the registry; set pins it and returns a restore func.
type gemmPath struct {
	name string
	set  func() (ok bool, restore func())
}

// gemmPaths lists the implementations that run different GEMM micro-kernels (SgemmPath).
func gemmPaths() []gemmPath {
	var out []gemmPath
	for _, name := range distinctImpls(SgemmPath) {
		out = append(out, gemmPath{name, func() (bool, func()) {
			restore, err := Use(name)
			return err == nil, restore
		}})
	}
	return out
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	lda, ldb, ldc  int
	alpha, beta    float32
}

func (g gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s_m%d_n%d_k%d_ld%d,%d,%d_a%g_b%g", t(g.transA), t(g.transB), g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.alpha, g.beta)
}

// operands returns random A, B, C for the case (C's padding and, for beta == 0, C itself hold NaN).
func (g gemmCase) operands(rng *rand.Rand) (a, b, c []float32) {
	ar, br := g.m, g.k
	if g.transA {
		ar = g.k
	}
	if g.transB {
		br = g.n
	}
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	a = fill(ar * g.lda)
	b = fill(br * g.ldb)
	c = fill(g.m * g.ldc)
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.ldc; j++ {
			if g.beta == 0 || j >= g.n {
				c[i*g.ldc+j] = float32(math.NaN())
			}
		}
	}
	return a, b, c
}

// refGemm is the float64 reference: exact enough that differences measure the fp32 paths only.
func refGemm(g gemmCase, a, b, c []float32) []float64 {
	out := make([]float64, g.m*g.n)
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			var s float64
			for p := 0; p < g.k; p++ {
				var av, bv float32
				if g.transA {
					av = a[p*g.lda+i]
				} else {
					av = a[i*g.lda+p]
				}
				if g.transB {
					bv = b[j*g.ldb+p]
				} else {
					bv = b[p*g.ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			v := float64(g.alpha) * s
			if g.beta != 0 {
				v += float64(g.beta) * float64(c[i*g.ldc+j])
			}
			out[i*g.n+j] = v
		}
	}
	return out
}

// maxErrSgemm bounds |got-want| / (sqrt(k)+1) in units of the operands' scale (N(0,1) data): fp32
// sums of k products of unit normals err by ~1e-7*sqrt(k) each step.
const maxErrSgemm = 2e-5

func checkGemm64(t *testing.T, g gemmCase, got []float32, c0 []float32, want []float64) {
	t.Helper()
	tol := maxErrSgemm * (math.Sqrt(float64(g.k)) + 1) * (math.Abs(float64(g.alpha)) + math.Abs(float64(g.beta)) + 1)
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.ldc; j++ {
			v := got[i*g.ldc+j]
			if j >= g.n { // padding must be untouched
				if c0[i*g.ldc+j] != v && !(math.IsNaN(float64(v)) && math.IsNaN(float64(c0[i*g.ldc+j]))) {
					t.Fatalf("%v: padding C[%d,%d] changed to %v", g, i, j, v)
				}
				continue
			}
			w := want[i*g.n+j]
			if d := math.Abs(float64(v) - w); !(d <= tol) {
				t.Fatalf("%v: C[%d,%d] = %v, want %v (|diff| %.3g > %.3g)", g, i, j, v, w, d, tol)
			}
		}
	}
}

func gemmCases() []gemmCase {
	var cs []gemmCase
	sizes := []int{1, 3, 7, 17, 33, 65}
	trans := [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}}
	i := 0
	for _, tr := range trans {
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range sizes {
					i++
					g := gemmCase{transA: tr[0], transB: tr[1], m: m, n: n, k: k, alpha: 1, beta: 0}
					// Rotate through alpha/beta and padded strides rather than taking the full product.
					switch i % 4 {
					case 1:
						g.beta = 1
					case 2:
						g.alpha, g.beta = -0.5, 0.25
					case 3:
						g.alpha = 2
					}
					g.lda, g.ldb, g.ldc = ldFor(g.transA, m, k), ldFor(g.transB, k, n), n
					if i%3 == 0 {
						g.lda += 5
						g.ldb += 3
						g.ldc += 2
					}
					cs = append(cs, g)
				}
			}
		}
	}
	// Larger shapes: several K blocks (k > 256), many tiles and edges in every dimension.
	for _, tr := range trans {
		for _, sz := range [][3]int{{1, 300, 257}, {4, 129, 1000}, {257, 33, 300}, {33, 257, 513}, {1000, 17, 7}, {3, 1000, 65}, {40, 97, 1000}} {
			m, n, k := sz[0], sz[1], sz[2]
			cs = append(cs, gemmCase{tr[0], tr[1], m, n, k, ldFor(tr[0], m, k) + 1, ldFor(tr[1], k, n), n + 3, 0.5, -1})
			cs = append(cs, gemmCase{tr[0], tr[1], m, n, k, ldFor(tr[0], m, k), ldFor(tr[1], k, n) + 2, n, 1, 0})
		}
	}
	// k == 0 and alpha == 0 leave C = beta*C (BLAS: A and B are not read).
	cs = append(cs,
		gemmCase{false, false, 5, 7, 0, 1, 7, 7, 1, 0.5},
		gemmCase{false, true, 5, 7, 0, 1, 1, 9, 1, 0},
		gemmCase{true, false, 17, 33, 9, 17, 33, 33, 0, -2},
		gemmCase{false, false, 17, 33, 9, 9, 33, 33, 0, 0})
	return cs
}

// ldFor is the packed row stride of a (rows, cols) operand stored transposed or not.
func ldFor(trans bool, rows, cols int) int {
	if trans {
		return rows
	}
	return cols
}

func TestSgemmPaths(t *testing.T) {
	cases := gemmCases()
	rng := rand.New(rand.NewSource(0)) // always the same seed for reproducible results
	type data struct{ a, b, c []float32 }
	ops := make([]data, len(cases))
	want := make([][]float64, len(cases))
	for i, g := range cases {
		a, b, c := g.operands(rng)
		ops[i] = data{a, b, c}
		want[i] = refGemm(g, a, b, c)
	}
	run := func(t *testing.T, f func(g gemmCase, a, b, c []float32)) {
		for i, g := range cases {
			c := append([]float32(nil), ops[i].c...)
			f(g, ops[i].a, ops[i].b, c)
			checkGemm64(t, g, c, ops[i].c, want[i])
		}
	}
	for _, p := range gemmPaths() {
		t.Run(p.name, func(t *testing.T) {
			ok, restore := p.set()
			defer restore()
			if !ok {
				t.Skipf("CPU lacks %s", p.name)
			}
			run(t, func(g gemmCase, a, b, c []float32) {
				Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc)
			})
		})
	}
	t.Run("generic", func(t *testing.T) {
		run(t, func(g gemmCase, a, b, c []float32) {
			SgemmGeneric(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc)
		})
	})
}

// TestSgemmThreads checks that results are bit-identical for 1, 2 and 3 threads on every path,
// with shapes big enough to be split (both the M split and short-wide products).
func TestSgemmThreads(t *testing.T) {
	defer SetThreads(Threads())
	rng := rand.New(rand.NewSource(2))
	cases := []gemmCase{
		{false, false, 300, 200, 513, 513, 200, 200, 1, 0},
		{false, true, 19, 1000, 300, 300, 300, 1003, 0.5, 1},
		{true, false, 257, 65, 1000, 257, 65, 65, 1, 1},
		{false, true, 1000, 257, 70, 70, 70, 257, 1, 0},
		// few rows: the matrix-vector path, columns split across threads
		{false, false, 3, 2000, 1000, 1000, 2000, 2000, 1, 0},
		{true, true, 2, 3001, 800, 2, 800, 3001, 0.5, 1},
		{false, true, 1, 5000, 1000, 1000, 1000, 5000, 1, 0},
		{true, false, 8, 1000, 600, 8, 1000, 1000, 1, 0.5},
	}
	type data struct {
		a, b, c0 []float32
		want     []float64
	}
	ops := make([]data, len(cases))
	for i, g := range cases {
		a, b, c0 := g.operands(rng)
		ops[i] = data{a, b, c0, refGemm(g, a, b, c0)}
	}
	for _, p := range gemmPaths() {
		t.Run(p.name, func(t *testing.T) {
			ok, restore := p.set()
			defer restore()
			if !ok {
				t.Skipf("CPU lacks %s", p.name)
			}
			for ci, g := range cases {
				a, b, c0 := ops[ci].a, ops[ci].b, ops[ci].c0
				var first []float32
				for _, th := range []int{1, 2, 3} {
					SetThreads(th)
					c := append([]float32(nil), c0...)
					Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc)
					if th == 1 {
						first = c
						checkGemm64(t, g, c, c0, ops[ci].want)
						continue
					}
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
							t.Fatalf("%v: threads=%d: C[%d] = %v, threads=1 gave %v", g, th, i, c[i], first[i])
						}
					}
				}
			}
		})
	}
}

// TestSgemmAllocs checks that packing buffers are reused: no allocation per call in steady state.
func TestSgemmAllocs(t *testing.T) {
	defer SetThreads(Threads())
	m, n, k := 100, 100, 513 // 5M multiply-adds: threaded; K in 2 blocks
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for _, th := range []int{1, 2} {
		SetThreads(th)
		allocs := testing.AllocsPerRun(20, func() {
			Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
		})
		// Each fork-join in ParallelFor allocates its WaitGroup (pool.go); the GEMM itself allocates
		// nothing: one fork-join per K block plus one, at most 3 K blocks (every kernel's KC >= 256).
		want := 0.0
		if th > 1 {
			want = 3 + 1
		}
		t.Logf("threads=%d: %v allocs", th, allocs)
		if allocs > want {
			t.Errorf("threads=%d: %v allocations per Sgemm, want <= %v", th, allocs, want)
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"short A", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
		{"short C", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		}},
		{"bad ldb", func() {
			Sgemm(false, true, 2, 3, 2, 1, make([]float32, 4), 2, make([]float32, 6), 1, 0, make([]float32, 6), 3)
		}},
		{"negative", func() { Sgemm(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) }},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

// TestSgemmConcurrent runs products from several goroutines at once (each call takes its own
// packing state from the pool) and checks them bit for bit against the same products run alone.
func TestSgemmConcurrent(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	cases := []gemmCase{
		{false, true, 100, 130, 400, 400, 400, 130, 1, 0},
		{true, false, 70, 200, 90, 70, 200, 200, 1, 1},
		{false, false, 33, 65, 1000, 1000, 65, 65, -1, 0.5},
		{false, true, 150, 40, 50, 50, 50, 40, 2, 0},
	}
	type op struct{ a, b, c0, want []float32 }
	ops := make([]op, len(cases))
	for i, g := range cases {
		a, b, c0 := g.operands(rng)
		want := append([]float32(nil), c0...)
		Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, want, g.ldc)
		ops[i] = op{a, b, c0, want}
	}
	errs := make(chan string, 4*len(cases))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 3; r++ {
				i := (w + r) % len(cases)
				g, o := cases[i], ops[i]
				c := append([]float32(nil), o.c0...)
				Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, o.a, g.lda, o.b, g.ldb, g.beta, c, g.ldc)
				for j := range c {
					if math.Float32bits(c[j]) != math.Float32bits(o.want[j]) {
						errs <- fmt.Sprintf("%v: C[%d] = %v concurrently, %v alone", g, j, c[j], o.want[j])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestSgemmPack checks the packing routines (AVX-512, AVX2 and Go variants) against their
// definition on edge strips: partial rows and columns, K not a multiple of 8 or 16, padded strides.
func TestSgemmPack(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, p := range gemmPaths() {
		t.Run(p.name, func(t *testing.T) {
			ok, restore := p.set()
			defer restore()
			if !ok {
				t.Skipf("CPU lacks %s", p.name)
			}
			for _, width := range []int{2, 4, 6, 14, 16, 32} {
				for _, kc := range []int{1, 7, 8, 17, 40} {
					for _, rows := range []int{1, width / 2, width - 1, width} {
						if rows < 1 {
							continue
						}
						for _, trans := range []bool{false, true} {
							// Source: op(X) is (rows0+rows, p0+kc), stored transposed or not with padding.
							r0, p0 := 3, 5
							R, K := r0+rows+2, p0+kc+1
							ld := K + 3
							if trans {
								ld = R + 3
							}
							src := make([]float32, ld*max(R, K))
							for i := range src {
								src[i] = float32(rng.Intn(1000))
							}
							at := func(r, q int) float32 {
								if trans {
									return src[q*ld+r]
								}
								return src[r*ld+q]
							}
							dst := make([]float32, kc*width+5)
							for i := range dst {
								dst[i] = -1
							}
							// packA reads rows of op(A); packB rows of op(B)ᵀ, so "not transposed" for A is
							// the strided case and for B the contiguous one.
							packA(packF32, dst, trans, src, ld, r0, rows, p0, kc, width)
							check := func(name string) {
								for q := 0; q < kc; q++ {
									for r := 0; r < width; r++ {
										want := float32(0)
										if r < rows {
											want = at(r0+r, p0+q)
										}
										if got := dst[q*width+r]; got != want {
											t.Fatalf("%s trans=%v width=%d kc=%d rows=%d: dst[%d*%d+%d] = %v, want %v", name, trans, width, kc, rows, q, width, r, got, want)
										}
									}
								}
								for _, v := range dst[kc*width:] {
									if v != -1 {
										t.Fatalf("%s trans=%v width=%d kc=%d rows=%d: wrote past the panel", name, trans, width, kc, rows)
									}
								}
							}
							check("packA")
							for i := range dst {
								dst[i] = -1
							}
							packB(packF32, dst, !trans, src, ld, p0, kc, r0, rows, width)
							check("packB")
						}
					}
				}
			}
		})
	}
}

// TestSgemmSmallBlocks shrinks every kernel's blocks so that ordinary shapes cross several N
// blocks, K blocks and M super-blocks (B packed once and reused by later M super-blocks, double
// buffers swapping), and checks the result against the reference and across thread counts.
func TestSgemmSmallBlocks(t *testing.T) {
	defer SetThreads(Threads())
	for _, k := range gemmKernels() {
		saved := *k
		defer func() { *k = saved }()
		k.kc = 24
		k.mc = 3 * k.mr
		k.nc = 2 * k.nr
		k.mb, k.nb = 2, 1
	}
	rng := rand.New(rand.NewSource(5))
	cases := []gemmCase{ // each over 4M multiply-adds, so 2 threads really split it
		{false, false, 200, 150, 150, 150, 150, 150, 1, 0},
		{false, true, 161, 197, 175, 175, 175, 197, 0.5, 1},
		{true, false, 190, 170, 201, 190, 170, 173, 1, -1},
		{true, true, 145, 230, 150, 145, 150, 230, 2, 0},
	}
	for _, p := range gemmPaths() {
		t.Run(p.name, func(t *testing.T) {
			ok, restore := p.set()
			defer restore()
			if !ok {
				t.Skipf("CPU lacks %s", p.name)
			}
			for _, g := range cases {
				a, b, c0 := g.operands(rng)
				want := refGemm(g, a, b, c0)
				var first []float32
				for _, th := range []int{1, 2} {
					SetThreads(th)
					c := append([]float32(nil), c0...)
					Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc)
					checkGemm64(t, g, c, c0, want)
					if th == 1 {
						first = c
						continue
					}
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
							t.Fatalf("%v: threads=%d: C[%d] = %v, threads=1 gave %v", g, th, i, c[i], first[i])
						}
					}
				}
			}
		})
	}
}
