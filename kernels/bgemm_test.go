package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"tern/half"
)

// Tests of the bf16 GEMM: every path (native VDPBF16PS, the emulated fp32 kernels, BgemmGeneric)
// agrees bit for bit on awkward shapes, and each is within the error bound that bf16 rounding
// implies of the exact (float64) product of the fp32 operands.

// bf16Unit is bf16's unit roundoff: 8 significant bits, so rounding to nearest errs by at most
// 2^-8 relative (2^-9 of the next power of two).
const bf16Unit = 1.0 / 256

// bf16Bound bounds |Bgemm - exact| for one element: each operand errs by at most bf16Unit relative,
// so a product by 2u+u² of |a||b|; the fp32 sum of k exact products (and the alpha multiply, and
// the first K block's add of beta*C) adds at most (k+2)·2^-24 relative to the sums of magnitudes.
// With s = Σ|a||b| over the element's row and column:
// |got - want| <= |alpha|·(2u + u² + (k+2)·2^-24·(1+2u+u²))·s + 2^-23·|beta·C0| + 2^-24·|want|.
func bf16Bound(k int, alpha, beta float32, s, c0, want float64) float64 {
	u := bf16Unit
	eps := math.Ldexp(1, -24)
	return math.Abs(float64(alpha))*(2*u+u*u+float64(k+2)*eps*(1+2*u+u*u))*s +
		2*eps*math.Abs(float64(beta)*c0) + eps*math.Abs(want) + 1e-30
}

func TestBF16Bits(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80},                       // 1
		{0x3f808000, 0x3f80},                       // 1 + 2^-8: a tie, to even (down)
		{0x3f818000, 0x3f82},                       // 1 + 3·2^-8: a tie, to even (up)
		{0x3f808001, 0x3f81},                       // just above the tie
		{0xbf80ffff, 0xbf81},                       // -1 - (2^-7 - 2^-23): up in magnitude
		{0x7f7fffff, 0x7f80},                       // max float32 rounds to Inf
		{0x7f800000, 0x7f80}, {0xff800000, 0xff80}, // ±Inf
		{0x7f800001, 0x7fc0}, {0xffa00000, 0xffe0}, // signalling NaNs, quieted (not turned into Inf)
		{0x00000001, 0x0000}, {0x807fffff, 0x8000}, // denormals to signed zero, as VCVTNE2PS2BF16
		{0x80000000, 0x8000},
		{0x00800000, 0x0080}, // smallest normal
	}
	for _, c := range cases {
		if got := bf16Bits(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("bf16Bits(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	// Everywhere else (normal, finite) it is plain round-to-nearest-even: compare with package half.
	rng := rand.New(rand.NewSource(1))
	for range 100000 {
		u := rng.Uint32()
		if e := u & 0x7f800000; e == 0 || e == 0x7f800000 {
			continue
		}
		if got, want := bf16Bits(math.Float32frombits(u)), half.Float32ToBF16(math.Float32frombits(u)); got != want {
			t.Fatalf("bf16Bits(%#08x) = %#04x, half says %#04x", u, got, want)
		}
	}
}

// bgemmCases are Sgemm's cases (every transpose form, ragged edges, strides, alpha/beta) plus
// products deep enough for several bf16 K blocks, one of them odd.
func bgemmCases() []gemmCase {
	cs := gemmCases()
	for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		cs = append(cs, gemmCase{tr[0], tr[1], 29, 45, 1537, ldFor(tr[0], 29, 1537), ldFor(tr[1], 1537, 45), 45, 1, 1})
	}
	return cs
}

// bgemmBitExact: for beta 0 and 1 every path must give BgemmGeneric's bits (see bgemm.go); for
// other betas the fused epilogues may round the last step differently.
func bgemmBitExact(g gemmCase) bool { return g.beta == 0 || g.beta == 1 }

func TestBgemmPaths(t *testing.T) {
	cases := bgemmCases()
	rng := rand.New(rand.NewSource(0)) // always the same seed for reproducible results
	type data struct{ a, b, c, ref []float32 }
	ops := make([]data, len(cases))
	for i, g := range cases {
		a, b, c := g.operands(rng)
		ref := slices.Clone(c)
		BgemmGeneric(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, ref, g.ldc)
		ops[i] = data{a, b, c, ref}
		checkBF16Bound(t, g, a, b, c, ref) // the reference itself is within bf16's bound
	}
	for _, name := range distinctImpls(BgemmPath) {
		withImplName(name, func() {
			t.Run(BgemmPath(), func(t *testing.T) {
				for i, g := range cases {
					d := ops[i]
					got := slices.Clone(d.c)
					Bgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, d.a, g.lda, d.b, g.ldb, g.beta, got, g.ldc)
					if !bgemmBitExact(g) { // bit-exact results are within the bound already checked for the reference
						checkBF16Bound(t, g, d.a, d.b, d.c, got)
					}
					for j := range got {
						x, y := got[j], d.ref[j]
						same := math.Float32bits(x) == math.Float32bits(y) || (x != x && y != y)
						if bgemmBitExact(g) && !same {
							t.Fatalf("%v: C[%d] = %v (%#08x), BgemmGeneric %v (%#08x)", g, j, x, math.Float32bits(x), y, math.Float32bits(y))
						}
						if !bgemmBitExact(g) && math.Abs(float64(x-y)) > 1e-6*(math.Abs(float64(y))+1) {
							t.Fatalf("%v: C[%d] = %v, BgemmGeneric %v", g, j, x, y)
						}
					}
				}
			})
		})
	}
}

// checkBF16Bound checks got against the exact product of the fp32 operands with bf16Bound, and that
// C's padding columns are untouched.
func checkBF16Bound(t *testing.T, g gemmCase, a, b, c0, got []float32) {
	t.Helper()
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.ldc; j++ {
			v, c := got[i*g.ldc+j], c0[i*g.ldc+j]
			if j >= g.n {
				if math.Float32bits(v) != math.Float32bits(c) {
					t.Fatalf("%v: padding C[%d,%d] changed to %v", g, i, j, v)
				}
				continue
			}
			var s, w float64 // Σ|a||b| and the exact product in float64
			for p := 0; p < g.k; p++ {
				ab := float64(aAt(g.transA, a, g.lda, i, p)) * float64(bAtT(g.transB, b, g.ldb, p, j))
				w += ab
				s += math.Abs(ab)
			}
			w *= float64(g.alpha)
			cv := 0.0
			if g.beta != 0 {
				cv = float64(c)
				w += float64(g.beta) * cv
			}
			if d := math.Abs(float64(v) - w); !(d <= bf16Bound(g.k, g.alpha, g.beta, s, cv, w)) {
				t.Fatalf("%v: C[%d,%d] = %v, exact %v: |diff| %.3g over the bf16 bound %.3g", g, i, j, v, w, d, bf16Bound(g.k, g.alpha, g.beta, s, cv, w))
			}
		}
	}
}

func bAtT(transB bool, b []float32, ldb, p, j int) float32 {
	if transB {
		return b[j*ldb+p]
	}
	return b[p*ldb+j]
}

// TestBgemmThreads: the same bits for 1, 2 and 3 threads on products large enough for the pool.
func TestBgemmThreads(t *testing.T) {
	defer SetThreads(Threads())
	rng := rand.New(rand.NewSource(2))
	for _, name := range distinctImpls(BgemmPath) {
		withImplName(name, func() {
			for _, g := range []gemmCase{
				{false, true, 300, 257, 700, 700, 700, 257, 1, 0},
				{true, false, 129, 400, 300, 129, 400, 400, 1, 1},
			} {
				a, b, c := g.operands(rng)
				var ref []float32
				for _, th := range []int{1, 2, 3} {
					SetThreads(th)
					got := slices.Clone(c)
					Bgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, got, g.ldc)
					if ref == nil {
						ref = got
						continue
					}
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
							t.Fatalf("%s %v threads=%d: C[%d] = %v, 1 thread %v", BgemmPath(), g, th, i, got[i], ref[i])
						}
					}
				}
			}
		})
	}
}

// TestBgemmSmallBlocks runs the driver with tiny blocks on every bf16 kernel, so that K, M and N
// blocks, double buffering and ragged pairs all occur on small products.
func TestBgemmSmallBlocks(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, kern := range bgemmKernels() {
		if kern.pack == packBF16 && !hasBF16 {
			continue
		}
		if kern.name != "go-emu" && !hasAVX2 || kern.name == "avx512-emu" && !hasAVX512 {
			continue
		}
		k2 := *kern
		k2.kc, k2.mb, k2.nb, k2.mc, k2.nc = 24, 2, 2, 2*k2.mr, 3*k2.nr
		for _, g := range []gemmCase{{false, false, 61, 131, 101, 101, 131, 131, 1, 0}, {true, true, 37, 70, 75, 37, 75, 70, 1, 1}} {
			a, b, c := g.operands(rng)
			got, want := slices.Clone(c), slices.Clone(c)
			sgemmBlocked(&k2, g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, got, g.ldc)
			// The reference with the same K blocks: kc 24 splits K into equal blocks of gemmBlockK(24, k).
			bgemmRefBlocks(g, a, b, want, gemmBlockK(24, g.k, true))
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("%s small blocks %v: C[%d] = %v, want %v", kern.name, g, i, got[i], want[i])
				}
			}
		}
	}
}

// bgemmRefBlocks is BgemmGeneric's rule with an explicit K block (for the shrunken kernels).
func bgemmRefBlocks(g gemmCase, a, b, c []float32, kc int) {
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			cij := &c[i*g.ldc+j]
			for pc := 0; pc < g.k; pc += kc {
				kb := min(kc, g.k-pc)
				var acc float32
				for p := pc; p < pc+kb; p += 2 {
					if p+1 < pc+kb {
						acc += RoundBF16(aAt(g.transA, a, g.lda, i, p+1)) * RoundBF16(bAtT(g.transB, b, g.ldb, p+1, j))
					} else {
						acc += 0
					}
					acc += RoundBF16(aAt(g.transA, a, g.lda, i, p)) * RoundBF16(bAtT(g.transB, b, g.ldb, p, j))
				}
				v := g.alpha * acc
				if pc > 0 {
					v += *cij
				} else if g.beta != 0 {
					v += g.beta * *cij
				}
				*cij = v
			}
		}
	}
}

func TestBgemmAllocs(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	g := gemmCase{false, true, 200, 300, 400, 400, 400, 300, 1, 0}
	a, b, c := g.operands(rng)
	Bgemm(false, true, 200, 300, 400, 1, a, 400, b, 400, 0, c, 300)
	if n := testing.AllocsPerRun(5, func() { Bgemm(false, true, 200, 300, 400, 1, a, 400, b, 400, 0, c, 300) }); n > 4 {
		t.Errorf("Bgemm allocates %v times per call, want <= 4 (the pool's)", n)
	}
}

func BenchmarkBgemm(b *testing.B) {
	for _, n := range []int{256, 1024} {
		for _, name := range distinctImpls(BgemmPath) {
			withImplName(name, func() {
				rng := rand.New(rand.NewSource(0))
				g := gemmCase{false, false, n, n, n, n, n, n, 1, 0}
				x, y, z := g.operands(rng)
				b.Run(fmt.Sprintf("%s/%d", BgemmPath(), n), func(b *testing.B) {
					b.SetBytes(int64(2 * n * n * n)) // "MB/s" reads as MFLOP/s
					for b.Loop() {
						Bgemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
					}
				})
			})
		}
	}
}

// TestBgemmPacked: products with a prepacked B give Bgemm's bits on every path, for each transpose
// of B, ragged shapes, several K and N blocks (small blocks), a B repacked into the same PackedB with
// another shape, and beta 0 and 1.
func TestBgemmPacked(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for _, name := range distinctImpls(BgemmPath) {
		withImplName(name, func() {
			var p PackedB
			for _, g := range []gemmCase{
				{false, true, 7, 45, 1537, 1537, 1537, 45, 1, 1},
				{false, false, 3, 70, 75, 75, 70, 70, 1, 0},
				{true, true, 16, 33, 100, 16, 100, 40, 1, 1},
				{false, false, 1, 2100, 9, 9, 2100, 2100, 0.5, 0},
				{true, false, 30, 129, 513, 30, 129, 129, 1, 0},
			} {
				a, b, c := g.operands(rng)
				p.Pack(g.transB, g.n, g.k, b, g.ldb)
				for range 2 { // the same packed B twice, as a time loop does
					want, got := slices.Clone(c), slices.Clone(c)
					Bgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, want, g.ldc)
					BgemmPacked(g.transA, g.m, g.alpha, a, g.lda, &p, g.beta, got, g.ldc)
					for j := range got {
						if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
							t.Fatalf("%s %v: C[%d] = %v, Bgemm %v", name, g, j, got[j], want[j])
						}
					}
					a, _, _ = g.operands(rng) // another A for the second round
				}
			}
		})
	}
	// the AMX driver over its emulation, with small blocks: several (jc, pc) blocks of panels
	kern := emuAMXBF16()
	kern.kc, kern.nc = 24, 2*kern.nr
	g := gemmCase{false, true, 5, 97, 61, 61, 61, 97, 1, 1}
	a, b, c := g.operands(rng)
	var p PackedB
	p.kern, p.n, p.k = &kern, g.n, g.k
	packWith(&p, &kern, g.transB, b, g.ldb)
	want, got := slices.Clone(c), slices.Clone(c)
	sgemmBlocked(&kern, g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, want, g.ldc)
	gemmBlocked(&kern, &p, g.transA, false, g.m, g.n, g.k, g.alpha, a, g.lda, nil, g.n, g.beta, got, g.ldc)
	for j := range got {
		if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
			t.Fatalf("amx-emu small blocks: C[%d] = %v, unpacked %v", j, got[j], want[j])
		}
	}
}

// BenchmarkBgemmRecurrent: an LSTM step's recurrent product (8 state rows x W_hhᵀ, H = 256, 4 gates)
// with B packed per call (Bgemm) and packed once (BgemmPacked), and the packing itself.
func BenchmarkBgemmRecurrent(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	m, n, k := 8, 1024, 256
	a, w, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
	for i := range a {
		a[i] = rng.Float32()
	}
	for i := range w {
		w[i] = rng.Float32()
	}
	b.Run("Bgemm", func(b *testing.B) {
		for range b.N {
			Bgemm(false, true, m, n, k, 1, a, k, w, k, 1, c, n)
		}
	})
	var p PackedB
	p.Pack(true, n, k, w, k)
	b.Run("BgemmPacked", func(b *testing.B) {
		for range b.N {
			BgemmPacked(false, m, 1, a, k, &p, 1, c, n)
		}
	})
	b.Run("Pack", func(b *testing.B) {
		for range b.N {
			p.Pack(true, n, k, w, k)
		}
	})
}
