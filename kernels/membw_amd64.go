//go:build !purego

package kernels

//go:noescape
func readSumAVX2(p *byte, n int) uint64

// readSum adds b as uint64 words, 256 bytes per iteration on AVX2 (the sum only keeps the loads live).
func readSum(b []byte) uint64 {
	if !hasAVX2 || len(b) < 256 {
		return readSumGeneric(b)
	}
	m := len(b) &^ 255
	return readSumAVX2(&b[0], m) + readSumGeneric(b[m:])
}

// spinPause executes PAUSE (pool_amd64.s), for the pool's polling loops.
func spinPause()
