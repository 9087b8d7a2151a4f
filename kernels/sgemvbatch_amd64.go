//go:build !purego

package kernels

//go:generate go run sgemvf16_gen.go

// The AVX-512 F16 tile kernels (sgemvf16_amd64.s, written by sgemvf16_gen.go): sgemvF16T<R>x<V>AVX512
// computes count tiles of R rows (1 or 4; a's rows lda values apart, tile after tile) against V
// vectors (x's vectors ldx values apart, y's ldy apart) over the first k16 columns, a positive
// multiple of 16. Every (row, vector) product is summed by one rule, whatever the tile (one 16-lane
// accumulator over the column groups in order, then a fixed lane tree; see sgemvf16_gen.go), so a
// row's value for a vector is the same bits in SgemvF16 (4x1 tiles) and in any batch.

//go:noescape
func sgemvF16T4x1AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T4x2AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T4x3AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T4x4AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T4x5AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T4x6AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T1x1AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T1x2AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T1x3AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T1x4AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T1x5AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16T1x6AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

type sgemvF16Tile = func(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

// sgemvF16Tiles[R==4][V-1]: the kernel for R rows x V vectors.
var sgemvF16Tiles = [2][sgemvF16MaxV]sgemvF16Tile{
	{sgemvF16T1x1AVX512, sgemvF16T1x2AVX512, sgemvF16T1x3AVX512, sgemvF16T1x4AVX512, sgemvF16T1x5AVX512, sgemvF16T1x6AVX512},
	{sgemvF16T4x1AVX512, sgemvF16T4x2AVX512, sgemvF16T4x3AVX512, sgemvF16T4x4AVX512, sgemvF16T4x5AVX512, sgemvF16T4x6AVX512},
}

// sgemvF16MaxV: the most vectors a tile takes (4 x 6 = 24 accumulators, 4 widened rows and 2
// vectors in the 32 zmm registers).
const sgemvF16MaxV = 6

// sgemvF16TileRows computes y[v·ldy + i] for rows i < n of a (lda apart) and vectors v < nv
// (nv <= sgemvF16MaxV, x's ldx apart) over the first k16 columns: 4-row tiles, then single rows.
func sgemvF16TileRows(y []float32, ldy int, a []uint16, lda int, x []float32, ldx, n, nv, k16 int) {
	if n4 := n / 4; n4 > 0 {
		sgemvF16Tiles[1][nv-1](&y[0], ldy, &a[0], lda, &x[0], ldx, n4, k16)
	}
	if r := n &^ 3; r < n {
		sgemvF16Tiles[0][nv-1](&y[r], ldy, &a[r*lda], lda, &x[0], ldx, n-r, k16)
	}
}

// sgemvF16BatchRows computes rows [0, n) of a against vectors [0, b). Rows go in chunks that stay
// in L2; each chunk meets the vectors in groups of at most 6 (sizes as even as possible), a group's
// vectors staying in L1 while the chunk's 4-row tiles pass. Tails (k mod 16) through dotF16, as
// sgemvF16Rows adds them.
func sgemvF16BatchRows(y []float32, ldy int, a []uint16, x []float32, n, k, b int) {
	k16 := k &^ 15
	if b == 1 || k16 == 0 || !hasAVX512 {
		sgemvF16BatchChunks(y, ldy, a, x, n, k, b)
		return
	}
	groups := (b + sgemvF16MaxV - 1) / sgemvF16MaxV
	rows := max(4, (sgemvF16ChunkBytes/(2*k))&^3)
	for r0 := 0; r0 < n; r0 += rows {
		r1 := min(n, r0+rows)
		for g, v0 := 0, 0; g < groups; g++ {
			nv := (b - v0) / (groups - g)
			sgemvF16TileRows(y[v0*ldy+r0:], ldy, a[r0*k:], k, x[v0*k:], k, r1-r0, nv, k16)
			v0 += nv
		}
	}
	if k16 < k {
		for r := range n {
			for v := range b {
				y[v*ldy+r] += dotF16(a[r*k+k16:r*k+k], x[v*k+k16:v*k+k])
			}
		}
	}
}

// sgemvF16ChunkBytes: the F16 bytes of a chunk of rows (in L2 while the vector groups pass).
var sgemvF16ChunkBytes = 96 << 10

//go:noescape
func sgemvF16S4AVX512(y *float32, ys int, a *uint16, rs, lda int, x *float32, count, k16 int)
