//go:build !purego

package kernels

// amd64 micro-kernels for the blocked fp32 GEMM (sgemm_blocked.go), chosen once per call from
// hasAVX512 / hasAVX2 (tests flip them).

// Block sizes (Zen 4: 32 KiB L1d, 1 MiB L2 per core, 32 MiB L3), tuned on 1024^3 by CPU time
// (KC 256..512 and units 4..16 all landed within 2% of ~100 GFLOP/s on one core; 128 and 192 lost 5%):
//   - KC 384 (K split into equal blocks of at most 384): an A panel is 14*384*4 = 21 KiB and stays in
//     L1 while the unit's B panels (32*384*4 = 48 KiB each) stream from L2; C is read and written once
//     per K block.
//   - unit 8 tile rows x 8 panels (112 x 256 of C, ~0.2 ms of work): small enough to balance two
//     threads, large enough that each A panel is reused 8 times.
//   - MC 3584 rows, NC 2048 columns: the packed blocks (at most 5.3 and 3 MiB, twice for double
//     buffering) live in L3 and are shared by the threads.
var kernelAVX512 = gemmKernel{name: "avx512", mr: 14, nr: 32, kc: 384, mb: 8, nb: 8, mc: 14 * 8 * 32, nc: 2048, run: runKernel14x32}

// AVX2: 6 x 16 tile (all 16 ymm registers); A panel 9 KiB, B panel 24 KiB at KC 384.
var kernelAVX2 = gemmKernel{name: "avx2", mr: 6, nr: 16, kc: 384, mb: 16, nb: 16, mc: 6 * 16 * 32, nc: 2048, run: runKernel6x16}

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	switch {
	case hasAVX512:
		if m <= gemvMaxM && k > 0 && alpha != 0 {
			sgemvRows(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			return
		}
		sgemmBlocked(&kernelAVX512, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case hasAVX2:
		sgemmBlocked(&kernelAVX2, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	default:
		sgemmBlocked(&kernelGo, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

func runKernel14x32(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool) {
	l := 0
	if load {
		l = 1
	}
	sgemmKernel14x32(k, a, b, c, ldc, alpha, beta, rows, uint64(1)<<cols-1, l)
}

// laneMasks[16-n:][:16] holds AVX2 lane masks for the first n of 16 lanes.
var laneMasks = [32]int32{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

func runKernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool) {
	l := 0
	if load {
		l = 1
	}
	var mask *int32
	if cols < 16 {
		mask = &laneMasks[16-cols]
	}
	sgemmKernel6x16(k, a, b, c, ldc, alpha, beta, rows, mask, l)
}

// sgemmKernel14x32 computes a 14 x 32 tile (see sgemm_amd64.s): mask bit j keeps column j.
//
//go:noescape
func sgemmKernel14x32(k int, a, b, c *float32, ldc int, alpha, beta float32, rows int, mask uint64, load int)

// sgemmKernel6x16 computes a 6 x 16 tile; mask is nil for all 16 columns.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32, rows int, mask *int32, load int)

// packT16 packs a strip of up to 16 rows transposed (see sgemm_pack_amd64.s): for p < k,
// dst[p*ldd+r] = src[r*lds+p] for r < rows and 0 for rows <= r < width (1 <= rows <= width <= 16).
//
//go:noescape
func packT16(dst *float32, ldd int, src *float32, lds int, rows, width, k int)

// packStrips packs width lanes of a strided operand (see packA / packB) with the AVX-512 or AVX2
// transposer; it reports false when neither applies, leaving the Go loop to do it.
func packStrips(dst []float32, ldd int, src []float32, lds, rows, width, k int) bool {
	switch {
	case hasAVX512:
		for r0 := 0; r0 < width; r0 += 16 {
			w := min(16, width-r0)
			packStrip(dst[r0:], ldd, src, lds, r0, rows-r0, w, k, 16)
		}
		return true
	case hasAVX2:
		for r0 := 0; r0 < width; r0 += 8 {
			w := min(8, width-r0)
			packStrip(dst[r0:], ldd, src, lds, r0, rows-r0, w, k, 8)
		}
		return true
	}
	return false
}

// packStrip packs source rows r0..r0+rs (rs may be <= 0: all padding) into w lanes of dst with the
// 16- or 8-lane transposer; the AVX2 one takes whole 8-column chunks, the tail goes by Go.
func packStrip(dst []float32, ldd int, src []float32, lds, r0, rs, w, k, lanes int) {
	if rs <= 0 {
		for p := 0; p < k; p++ {
			clear(dst[p*ldd : p*ldd+w])
		}
		return
	}
	rs = min(rs, w)
	kv := k
	if lanes == 8 {
		kv = k &^ 7
	}
	if kv > 0 {
		// Bounds: the last element read is src[(r0+rs-1)*lds + kv-1], the last written
		// dst[(kv-1)*ldd + w-1].
		_ = src[(r0+rs-1)*lds+kv-1]
		_ = dst[(kv-1)*ldd+w-1]
		if lanes == 16 {
			packT16(&dst[0], ldd, &src[r0*lds], lds, rs, w, kv)
		} else {
			packT8(&dst[0], ldd, &src[r0*lds], lds, rs, w, kv, &laneMasks[16-w])
		}
	}
	for p := kv; p < k; p++ {
		d := dst[p*ldd : p*ldd+w]
		for r := range d {
			if r < rs {
				d[r] = src[(r0+r)*lds+p]
			} else {
				d[r] = 0
			}
		}
	}
}

// packN32 copies k rows of cols contiguous floats into rows of width (see sgemm_pack_amd64.s):
// dst[p*ldd+c] = src[p*lds+c] for c < cols, 0 for cols <= c < width (1 <= cols <= width <= 32).
//
//go:noescape
func packN32(dst *float32, ldd int, src *float32, lds int, cols, width, k int)

// packRows is packStrips for the contiguous case: k runs of cols floats, src stride lds, into runs
// of width floats (zero padded).
func packRows(dst []float32, ldd int, src []float32, lds, cols, width, k int) bool {
	_ = src[(k-1)*lds+cols-1]
	_ = dst[(k-1)*ldd+width-1]
	switch {
	case hasAVX512 && width <= 32:
		packN32(&dst[0], ldd, &src[0], lds, cols, width, k)
		return true
	case hasAVX2 && width <= 16:
		var smask *int32
		if width < 16 {
			smask = &laneMasks[16-width]
		}
		packN16(&dst[0], ldd, &src[0], lds, k, &laneMasks[16-cols], smask)
		return true
	}
	return false
}

// packT8 is packT16 with 8 lanes for AVX2 (k a multiple of 8; mask: 8 lane masks for width).
//
//go:noescape
func packT8(dst *float32, ldd int, src *float32, lds int, rows, width, k int, mask *int32)

// packN16 copies k runs of up to 16 floats: lanes set in lmask are copied, lanes set only in smask
// are zeroed; smask nil stores all 16 (see sgemm_pack_amd64.s).
//
//go:noescape
func packN16(dst *float32, ldd int, src *float32, lds int, k int, lmask, smask *int32)

// gemmKernels lists this platform's micro-kernels (tests shrink their blocks).
func gemmKernels() []*gemmKernel { return []*gemmKernel{&kernelAVX512, &kernelAVX2, &kernelGo} }

func sgemmPath() string {
	switch {
	case hasAVX512:
		return kernelAVX512.name
	case hasAVX2:
		return kernelAVX2.name
	}
	return kernelGo.name
}
