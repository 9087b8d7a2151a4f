//go:build !purego

package kernels

// amd64 paths of the bf16 GEMM (bgemm.go): the AVX512_BF16 micro-kernel, and the fp32 AVX-512 and
// AVX2 micro-kernels over widened bf16 panels where the CPU lacks VDPBF16PS.

// kernelBF16 is the native path: a 14 x 32 tile like Sgemm's AVX-512 kernel, each step one pair of
// K (VDPBF16PS multiplies two bf16 pairs per fp32 lane), so a panel step holds the same bytes as an
// fp32 step and the blocking carries over with twice the K per byte.
var kernelBF16 = gemmKernel{name: "avx512bf16", mr: 14, nr: 32, kc: bgemmKC, mb: 8, nb: 8, mc: 14 * 8 * 32, nc: 2048, pack: packBF16, run: runBgemmKernel14x32}

var (
	kernelAVX512Emu = emuKernel(kernelAVX512, "avx512-emu")
	kernelAVX2Emu   = emuKernel(kernelAVX2, "avx2-emu")
)

func bgemmKernel() *gemmKernel {
	switch {
	case hasAMX:
		return &kernelAMXBF16
	case hasBF16:
		return &kernelBF16
	case hasAVX512:
		return &kernelAVX512Emu
	case hasAVX2:
		return &kernelAVX2Emu
	}
	return &kernelGoEmu
}

// bgemmKernels lists this platform's bf16 micro-kernels (tests shrink their blocks).
func bgemmKernels() []*gemmKernel {
	return []*gemmKernel{&kernelBF16, &kernelAVX512Emu, &kernelAVX2Emu, &kernelGoEmu}
}

func runBgemmKernel14x32(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool) {
	l := 0
	if load {
		l = 1
	}
	bgemmKernel14x32(k, a, b, c, ldc, alpha, beta, rows, uint64(1)<<cols-1, l)
}

// bgemmKernel14x32 computes a 14 x 32 tile from k pairs of bf16 (see bgemm_amd64.s): mask bit j
// keeps column j; the epilogue is sgemmKernel14x32's.
//
//go:noescape
func bgemmKernel14x32(k int, a, b, c *float32, ldc int, alpha, beta float32, rows int, mask uint64, load int)

// packPairsBF16 packs bf16 pairs with the assembly where the CPU has AVX512_BF16 (see
// packPanelBF16), in one pass over the operand: runs (each K step a contiguous row of the operand:
// B in NN form, A transposed) through pairRowsBF16, strips (A in NN form, B transposed) through
// packT16BF16, 16 lanes at a time. It reports false to leave the work to the Go loop.
func packPairsBF16(dst []float32, runs bool, src []float32, ld, n, width, kc int) bool {
	if !hasBF16 || width > 32 || kc == 0 {
		return false
	}
	_ = dst[(kc+1)/2*width-1]
	store := uint64(1)<<width - 1
	if runs {
		_ = src[(kc-1)*ld+n-1]
		pairRowsBF16(&dst[0], &src[0], ld, width, kc, &bf16PairPerm[0], uint64(1)<<n-1, store)
		return true
	}
	kp := (kc + 1) / 2
	for r0 := 0; r0 < width; r0 += 16 {
		w := min(16, width-r0)
		rs := min(n-r0, w)
		if rs <= 0 {
			for q := 0; q < kp; q++ {
				clear(dst[q*width+r0 : q*width+r0+w])
			}
			continue
		}
		// Bounds: the last element read is src[(r0+rs-1)*ld+kc-1], the last written
		// dst[(kp-1)*width+r0+w-1].
		_ = src[(r0+rs-1)*ld+kc-1]
		packT16BF16(&dst[r0], width, &src[r0*ld], ld, rs, w, kc)
	}
	return true
}

// packT16BF16 packs up to 16 rows of kc values as bf16 pairs, transposed (sgemm_pack_amd64.s).
//
//go:noescape
func packT16BF16(dst *float32, ldd int, src *float32, lds int, rows, width, k int)

// bf16PairPerm interleaves the words of two converted rows: 0, 16, 1, 17, ..., 15, 31.
var bf16PairPerm = func() (p [32]uint16) {
	for i := range 16 {
		p[2*i], p[2*i+1] = uint16(i), uint16(16+i)
	}
	return p
}()

// pairRowsBF16 rounds and interleaves pairs of fp32 rows (lds floats apart) into bf16 pair rows of
// width dwords (bgemm_amd64.s).
//
//go:noescape
func pairRowsBF16(dst, src *float32, lds, width, kc int, perm *uint16, loadMasks, storeMasks uint64)

// vdpbf16SamplesAddr points at the encoding samples in bgemm_amd64.s (for tests).
func vdpbf16SamplesAddr() *byte
