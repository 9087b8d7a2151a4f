//go:build !purego

package kernels

//go:generate go run sgemvf16_gen.go

// The AVX-512 F16 kernels (sgemvf16_amd64.s, written by sgemvf16_gen.go): sgemvF16R4x<V>AVX512
// computes count tiles of 4 rows against V vectors over the first k16 columns (a positive multiple
// of 16): tile t takes the rows t·ts + r·rs (r < 4) of a (rows lda values apart) and writes
// y[v·ldy + row]; x's vectors are ldx values apart. sgemvF16R1x<V>AVX512 takes count rows one at
// a time. Every (row, vector) product is summed by one rule, whatever the kernel (one 16-lane
// accumulator over the column groups in order, then a fixed lane tree; see sgemvf16_gen.go), so a
// row's value for a vector is the same bits in SgemvF16 and in any batch.

//go:noescape
func sgemvF16R4x1AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, rs, ts, count, k16 int, pf *uint16, pfstep int)

//go:noescape
func sgemvF16R4x2AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, rs, ts, count, k16 int, pf *uint16, pfstep int)

//go:noescape
func sgemvF16R4x3AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, rs, ts, count, k16 int, pf *uint16, pfstep int)

//go:noescape
func sgemvF16R4x4AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, rs, ts, count, k16 int, pf *uint16, pfstep int)

//go:noescape
func sgemvF16R4x5AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, rs, ts, count, k16 int, pf *uint16, pfstep int)

//go:noescape
func sgemvF16R4x6AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, rs, ts, count, k16 int, pf *uint16, pfstep int)

//go:noescape
func sgemvF16R1x1AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16R1x2AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16R1x3AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16R1x4AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16R1x5AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

//go:noescape
func sgemvF16R1x6AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)

// sgemvF16MaxV: the most vectors a tile takes (4 x 6 = 24 accumulators, 4 widened rows and 2
// vectors in the 32 zmm registers).
const sgemvF16MaxV = 6

var (
	sgemvF16R4 = [sgemvF16MaxV]func(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, rs, ts, count, k16 int, pf *uint16, pfstep int){
		sgemvF16R4x1AVX512, sgemvF16R4x2AVX512, sgemvF16R4x3AVX512, sgemvF16R4x4AVX512, sgemvF16R4x5AVX512, sgemvF16R4x6AVX512,
	}
	sgemvF16R1 = [sgemvF16MaxV]func(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int){
		sgemvF16R1x1AVX512, sgemvF16R1x2AVX512, sgemvF16R1x3AVX512, sgemvF16R1x4AVX512, sgemvF16R1x5AVX512, sgemvF16R1x6AVX512,
	}
)

// sgemvF16Spaced: 4-row tiles take rows a quarter of the range apart (four sequential streams);
// false takes neighbouring rows (for benchmarks).
var sgemvF16Spaced = true

// sgemvF16TileRows computes y[v·ldy + i] for rows i < n of a (lda apart) and vectors v < nv
// (nv <= sgemvF16MaxV, x's ldx apart) over the first k16 columns: 4-row tiles, then single rows.
// With pf != nil the 4-row tiles prefetch from pf on, two lines per 16 columns, advancing step bytes
// (128: as many bytes as they read, a chunk of rows for a chunk). Not from a table that is read once: a linear prefetch
// across the four spaced streams doubled the one-vector product's time (fetched too early).
func sgemvF16TileRows(y []float32, ldy int, a []uint16, lda int, x []float32, ldx, n, nv, k16 int, pf *uint16, step int) {
	if m := n / 4; m > 0 {
		rs, ts := m, 1
		if !sgemvF16Spaced {
			rs, ts = 1, 4
		}
		if pf == nil {
			pf, step = &a[0], 0
		}
		sgemvF16R4[nv-1](&y[0], ldy, &a[0], lda, &x[0], ldx, rs, ts, m, k16, pf, step)
	}
	if r := n &^ 3; r < n {
		sgemvF16R1[nv-1](&y[r], ldy, &a[r*lda], lda, &x[0], ldx, n-r, k16)
	}
}

// sgemvF16BatchRows computes rows [0, n) of a against vectors [0, b). Rows go in chunks that stay
// in L2; each chunk meets the vectors in groups of at most 6 (sizes as even as possible), a group's
// vectors staying in L1 while the chunk's 4-row tiles pass, and the passes prefetch the next chunk,
// each its share (1.1-1.4x at B = 4-16 against the hardware prefetcher alone, 1 thread, Zen 5).
// Tails (k mod 16) through dotF16, as sgemvF16Rows adds them.
func sgemvF16BatchRows(y []float32, ldy int, a []uint16, x []float32, n, k, b int) {
	k16 := k &^ 15
	if b == 1 {
		// SgemvF16's product over the thread's whole range: L2-sized chunks would cut its four
		// streams short (a 100M-preset decode step at 1 client ran 1.4-2.3x slower that way).
		sgemvF16Rows(y, a, k, x, n, k)
		return
	}
	if k16 == 0 || !hasAVX512 {
		sgemvF16BatchChunks(y, ldy, a, x, n, k, b)
		return
	}
	groups := (b + sgemvF16MaxV - 1) / sgemvF16MaxV
	rows := max(4, (sgemvF16ChunkBytes/(2*k))&^3)
	for r0 := 0; r0 < n; r0 += rows {
		r1 := min(n, r0+rows)
		for g, v0 := 0, 0; g < groups; g++ {
			nv := (b - v0) / (groups - g)
			// Each pass over a chunk fetches its share of the next one: pass g the g-th of groups
			// equal parts, advancing 128/groups bytes per 16 columns of a tile (which reads 128),
			// so the next chunk streams in evenly over all passes instead of in the first alone,
			// which needed groups times the memory bandwidth while it ran.
			var pf *uint16
			step := 128 / groups
			if r1 < n {
				pf = &a[r1*k+g*((min(n, r1+rows)-r1)*k/groups)]
			}
			sgemvF16TileRows(y[v0*ldy+r0:], ldy, a[r0*k:], k, x[v0*k:], k, r1-r0, nv, k16, pf, step)
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

// sgemvF16ChunkBytes: the F16 bytes of a chunk of rows (in L2 while the vector groups pass). With
// the next chunk prefetched, 192 KiB measured 0-10% faster than 96 (1 thread, Zen 5, B = 4-64).
var sgemvF16ChunkBytes = 192 << 10
