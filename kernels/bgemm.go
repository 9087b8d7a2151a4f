package kernels

// bf16 GEMM: fp32 operands rounded to bfloat16 on the way into the packed panels, products summed in
// fp32. Callers pass and get fp32; only the packing differs from Sgemm's driver (sgemm_blocked.go).
//
// Every path computes each element of C with the same operations in the same order, so the
// AVX512_BF16 kernel, the emulated ones (AVX-512, AVX2, Go) and BgemmGeneric agree bit for bit:
//   - inputs are rounded as VCVTNE2PS2BF16 does (bf16Bits: nearest even, denormals to signed zero);
//   - K is split into the same equal blocks of at most bgemmKC (a multiple of 8, so pairs never
//     straddle blocks); a block's K runs in pairs (p, p+1), and, as VDPBF16PS does it, the pair adds
//     the product at p+1 to the fp32 accumulator first, rounding, then the product at p, rounding
//     again. A bf16 x bf16 product has at most 16 significant bits, so it is exact in fp32, and an
//     FMA of widened bf16 values rounds once exactly like VDPBF16PS's add: the emulated paths run the
//     fp32 micro-kernels over panels widened back to fp32 with each pair swapped.
//   - one block's sum goes into C as in Sgemm: C = alpha*acc (+ beta*C for the first block), later
//     blocks C += alpha*acc. For beta other than 0 and 1 the assembly's fused epilogue may differ
//     from the Go kernel's in the last bit, as Sgemm's do.
// The one exception: VDPBF16PS flushes denormal results (|sum| < 2^-126) to zero and the FMA paths
// do not; no product of trained weights and activations comes near that range.
//
// K is never split across threads, so results are bit-identical for any thread count.

import (
	"fmt"
	"math"
	"unsafe"

	"tern/tensor"
)

// bgemmKC is the K block of every bf16 path (the same on all, since the block split decides how
// the sums are rounded). 512: a native A panel is 14*256 pairs*4 = 14 KiB in L1 and a B panel
// 32 KiB streamed from L2 (Zen 5: 48 KiB L1d, 1 MiB L2 per core).
const bgemmKC = 512

// Bgemm computes C = alpha*op(A)*op(B) + beta*C like Sgemm, with A and B rounded to bfloat16 (8
// significant bits) and products summed in fp32. Same arguments, same forms, same threading rules
// (products under 4M multiply-adds stay on the calling goroutine); no allocation in steady state.
// With AVX512_BF16 it runs VDPBF16PS (two bf16 products per fp32 lane); elsewhere the emulated
// paths give the same bits at fp32 GEMM speed (see BgemmPath).
func Bgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	sgemmBlocked(bgemmKernel(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// BgemmPath names the path Bgemm runs here: "avx512bf16" (native), or "avx512-emu", "avx2-emu",
// "go-emu" (fp32 micro-kernels over bf16 values).
func BgemmPath() string { return bgemmKernel().name }

// Packing modes of gemmKernel.pack.
const (
	packF32         = iota // fp32 as given (Sgemm)
	packBF16               // pairs of bf16 in one 32-bit slot: low half p, high half p+1 (VDPBF16PS operands)
	packBF16Emu            // fp32 rows of bf16-rounded values, each pair swapped (p+1 before p)
	packBF16AMX            // AMX: B's pair rows, each pair swapped, padded to steps of 16 pairs (amx.go)
	packBF16AMXRows        // AMX: A's rows of pairs (packA's form of packBF16AMX)
)

// kernelGoEmu is the portable path: the Go fp32 micro-kernel over widened bf16 panels.
var kernelGoEmu = emuKernel(kernelGo, "go-emu")

// emuKernel is kern run over bf16 values widened to fp32 (packBF16Emu), with the bf16 K block.
func emuKernel(kern gemmKernel, name string) gemmKernel {
	kern.name, kern.pack, kern.kc = name, packBF16Emu, bgemmKC
	return kern
}

// bf16Bits rounds f to bfloat16 exactly as VCVTNE2PS2BF16 does: round to nearest even; zeros and
// denormals become a zero of the same sign (the instruction treats denormal inputs as zero);
// infinities stay; a NaN stays a NaN, quieted.
func bf16Bits(f float32) uint16 {
	u := math.Float32bits(f)
	switch u & 0x7f800000 {
	case 0:
		return uint16(u>>16) & 0x8000
	case 0x7f800000:
		if u&0x7fffff != 0 {
			return uint16(u>>16) | 0x40
		}
		return uint16(u >> 16)
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16) // a carry out of the significand rounds the exponent up, to Inf at the top
}

// RoundBF16 rounds f to the nearest bfloat16 value as Bgemm rounds its operands, returned as fp32.
func RoundBF16(f float32) float32 { return math.Float32frombits(uint32(bf16Bits(f)) << 16) }

// opAt returns element (c, p) of the operand packPanel reads: src[p*ld+c] for runs, else src[c*ld+p].
func opAt(runs bool, src []float32, ld, c, p int) float32 {
	if runs {
		return src[p*ld+c]
	}
	return src[c*ld+p]
}

// packPanelBF16 is packPanel for the bf16 modes: lanes c < n of kc steps of the operand (element
// (c, p) as opAt reads it), rounded to bf16, zero padded to width lanes and to an even kc.
//   - packBF16: slot q*width+c holds p = 2q in its low 16 bits and p = 2q+1 in its high 16 bits.
//   - packBF16Emu: row s*width holds step s^1 (pairs swapped), widened to fp32.
func packPanelBF16(mode int, dst []float32, runs bool, src []float32, ld, n, width, kc int) {
	if mode == packBF16AMX || mode == packBF16AMXRows {
		packAMXBF16(mode == packBF16AMXRows, dst, runs, src, ld, n, width, kc)
		return
	}
	kp := (kc + 1) / 2 // pairs
	if mode == packBF16 {
		if packPairsBF16(dst, runs, src, ld, n, width, kc) {
			return
		}
		d := unsafe.Slice((*uint32)(unsafe.Pointer(&dst[0])), kp*width)
		for q := 0; q < kp; q++ {
			row := d[q*width : q*width+width]
			for c := 0; c < n; c++ {
				lo := uint32(bf16Bits(opAt(runs, src, ld, c, 2*q)))
				var hi uint32
				if 2*q+1 < kc {
					hi = uint32(bf16Bits(opAt(runs, src, ld, c, 2*q+1)))
				}
				row[c] = lo | hi<<16
			}
			clear(row[n:])
		}
		return
	}
	d := dst[:2*kp*width]
	for s := 0; s < 2*kp; s++ {
		row := d[s*width : s*width+width]
		if p := s ^ 1; p < kc {
			for c := 0; c < n; c++ {
				row[c] = RoundBF16(opAt(runs, src, ld, c, p))
			}
		} else {
			clear(row[:n])
		}
		clear(row[n:])
	}
}

// BgemmGeneric is the plain-Go reference of Bgemm, written out from the rules above (rounding,
// K blocks, pair order, epilogue) independently of the packed driver: rows of C are split across
// threads, each element summed on its own.
func BgemmGeneric(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	kc := gemmBlockK(bgemmKC, k, true)
	// the operands rounded once (a reference may allocate)
	ar, br := make([]float32, len(a)), make([]float32, len(b))
	for i, v := range a {
		ar[i] = RoundBF16(v)
	}
	for i, v := range b {
		br[i] = RoundBF16(v)
	}
	bAt := func(p, j int) float32 {
		if transB {
			return br[j*ldb+p]
		}
		return br[p*ldb+j]
	}
	ParallelFor(m, 4, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for j := 0; j < n; j++ {
				cij := &c[i*ldc+j]
				if k == 0 || alpha == 0 {
					*cij = scaleOne(beta, *cij)
					continue
				}
				for pc := 0; pc < k; pc += kc {
					kb := min(kc, k-pc)
					var acc float32
					for p := pc; p < pc+kb; p += 2 {
						if p+1 < pc+kb {
							acc += aAt(transA, ar, lda, i, p+1) * bAt(p+1, j)
						} else {
							acc += 0
						}
						acc += aAt(transA, ar, lda, i, p) * bAt(p, j)
					}
					t := alpha * acc
					switch {
					case pc > 0:
						t += *cij
					case beta != 0:
						t += beta * *cij
					}
					*cij = t
				}
			}
		}
	})
}

// scaleOne is scaleC for one element.
func scaleOne(beta, c float32) float32 {
	switch beta {
	case 0:
		return 0
	case 1:
		return c
	}
	return beta * c
}

// PackedB is op(B) packed once into the bf16 GEMM's panels, for many Bgemm products with the same B
// and different A (BgemmPacked): an RNN's recurrent weight, multiplied by a few rows of state at
// every time step, would otherwise be packed again at each one (for small M the packing costs as
// much as the product). The panels are exactly those Bgemm packs, so the results are Bgemm's bits.
// Its memory is reused by later Packs.
type PackedB struct {
	kern   *gemmKernel
	n, k   int
	panels []float32
	offs   []int // start of each (jc, pc) block's panels, in the driver's loop order
}

// Pack packs op(B) (k x n; B is (n,k) with ldb if transB, else (k,n)) for the bf16 path in use.
func (p *PackedB) Pack(transB bool, n, k int, b []float32, ldb int) {
	checkGemm(false, transB, 1, n, k, k, k, len(b), ldb, n, n)
	p.n, p.k = n, k
	packWith(p, bgemmKernel(), transB, b, ldb)
}

// packWith packs p's B (p.n, p.k set) with kern's blocks and packers.
func packWith(p *PackedB, kern *gemmKernel, transB bool, b []float32, ldb int) {
	n, k := p.n, p.k
	p.kern = kern
	p.offs = p.offs[:0]
	if n == 0 || k == 0 {
		return
	}
	kc := gemmBlockK(kern.kc, k, true)
	size := 0
	for jc := 0; jc < n; jc += kern.nc {
		for pc := 0; pc < k; pc += kc {
			p.offs = append(p.offs, size)
			size += (min(kern.nc, n-jc) + kern.nr - 1) / kern.nr * kern.nr * panelK(kern.pack, min(kc, k-pc))
		}
	}
	p.panels = tensor.Grow(p.panels, size)
	i := 0
	for jc := 0; jc < n; jc += kern.nc {
		for pc := 0; pc < k; pc += kc {
			blk := p.panels[p.offs[i]:]
			i++
			kcur, nc := min(kc, k-pc), min(kern.nc, n-jc)
			ks := panelK(kern.pack, kcur)
			nPan := (nc + kern.nr - 1) / kern.nr
			ParallelFor(nPan, max(1, 1<<16/(ks*kern.nr)), func(lo, hi int) {
				for q := lo; q < hi; q++ {
					j0 := jc + q*kern.nr
					packB(kern.pack, blk[q*ks*kern.nr:(q+1)*ks*kern.nr], transB, b, ldb, pc, kcur, j0, min(kern.nr, jc+nc-j0), kern.nr)
				}
			})
		}
	}
}

// BgemmPacked is Bgemm(transA, transB, m, n, k, alpha, a, lda, B, ldb, beta, c, ldc) for the B that
// p holds, with the same bits. It panics if the kernel implementation changed since Pack (Use).
func BgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	n, k := p.n, p.k
	checkGemm(transA, false, m, n, k, len(a), lda, n*k, n, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if p.kern != bgemmKernel() {
		panic(fmt.Sprintf("kernels: BgemmPacked: B was packed for %s, the bf16 path is now %s", p.kern.name, BgemmPath()))
	}
	gemmBlocked(p.kern, p, transA, false, m, n, k, alpha, a, lda, nil, n, beta, c, ldc)
}
