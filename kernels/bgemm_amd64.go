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
// packPanelBF16), in two passes: the fp32 packer (with its transposes) writes kc rows of width
// floats into scratch, then pairRowsBF16 rounds and interleaves row pairs into dst. It reports
// false to leave the work to the Go loop.
func packPairsBF16(scratch, dst []float32, runs bool, src []float32, ld, n, width, kc int) bool {
	if !hasBF16 || width > 32 || kc == 0 || len(scratch) < kc*width {
		return false
	}
	_ = dst[(kc+1)/2*width-1]
	packPanel(scratch, runs, src, ld, n, width, kc)
	pairRowsBF16(&dst[0], &scratch[0], width, kc, &bf16PairPerm[0], uint64(1)<<width-1)
	return true
}

// bf16PairPerm interleaves the words of two converted rows: 0, 16, 1, 17, ..., 15, 31.
var bf16PairPerm = func() (p [32]uint16) {
	for i := range 16 {
		p[2*i], p[2*i+1] = uint16(i), uint16(16+i)
	}
	return p
}()

// pairRowsBF16 rounds and interleaves the row pairs of a packed fp32 panel src into dst
// (bgemm_amd64.s).
//
//go:noescape
func pairRowsBF16(dst, src *float32, width, kc int, perm *uint16, masks uint64)

// vdpbf16SamplesAddr points at the encoding samples in bgemm_amd64.s (for tests).
func vdpbf16SamplesAddr() *byte
