//go:build !purego

package kernels

// The AVX-512 batch kernels (sgemvbatch_amd64.s): rows of a and vectors of x are lda values apart,
// y's vectors ldy floats apart; k16 is a positive multiple of 16 (the Go driver adds the rest).
// 2x2 takes rows 0-1 against count pairs of vectors; 2x1 rows 0-1 and 1x1 row 0 against count
// vectors one at a time. Each sums a (row, vector) product as sgemvF16AVX512 sums the row.

//go:noescape
func sgemvF16B2x2AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, count, k16 int)

//go:noescape
func sgemvF16B2x1AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, count, k16 int)

//go:noescape
func sgemvF16B1x1AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, count, k16 int)

// sgemvF16BatchRows computes rows [0, n) of a against vectors [0, b): pairs of rows against every
// pair of vectors (the two rows stay in L1 while the vectors stream from L2), a last odd vector, then
// a last odd row; tails through dotF16, as sgemvF16Rows adds them.
func sgemvF16BatchRows(y []float32, ldy int, a []uint16, x []float32, n, k, b int) {
	k16 := k &^ 15
	if b == 1 || k16 == 0 || !hasAVX512 {
		sgemvF16BatchChunks(y, ldy, a, x, n, k, b)
		return
	}
	pairs, n2 := b/2, n&^1
	for r := 0; r < n2; r += 2 {
		if pairs > 0 {
			sgemvF16B2x2AVX512(&y[r], ldy, &a[r*k], k, &x[0], pairs, k16)
		}
		if b&1 != 0 {
			sgemvF16B2x1AVX512(&y[(b-1)*ldy+r], ldy, &a[r*k], k, &x[(b-1)*k], 1, k16)
		}
	}
	if n2 < n {
		sgemvF16B1x1AVX512(&y[n2], ldy, &a[n2*k], k, &x[0], b, k16)
	}
	if k16 < k {
		for r := range n {
			for v := range b {
				y[v*ldy+r] += dotF16(a[r*k+k16:r*k+k], x[v*k+k16:v*k+k])
			}
		}
	}
}
