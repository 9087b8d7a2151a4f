//go:build !purego

package kernels

// Implemented in nbitgemv_amd64.s: Σ u·q over `blocks` full 64-byte blocks of `rows` rows (rb bytes
// apart), one int32 per row into dots.
//
//go:noescape
func nbitDots8VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitDots4VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

//go:noescape
func nbitDots2VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)

// nbitSIMD reports whether a SIMD path serves this width (1 and 3 bits stay on the Go reference: 1 bit
// is the sign quantizer, cheap to widen later; 3-bit codes straddle bytes).
func nbitSIMD(bits int) bool { return hasVNNI && (bits == 2 || bits == 4 || bits == 8) }

// nbitDots runs the VNNI kernel of bits over rows [lo, hi) in groups of 64 rows.
func nbitDots(dots *[64]int32, w []byte, rb, lo, n, blocks, bits int, planes []int8) {
	p := &w[lo*rb]
	switch bits {
	case 8:
		nbitDots8VNNI(&dots[0], p, rb, n, blocks, &planes[0])
	case 4:
		nbitDots4VNNI(&dots[0], p, rb, n, blocks, &planes[0])
	case 2:
		nbitDots2VNNI(&dots[0], p, rb, n, blocks, &planes[0])
	}
}
