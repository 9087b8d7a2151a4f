//go:build !purego

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasGemvVBMI adds the byte permute (VPERMI2B) the AVX-512 GEMV decoder needs to hasVNNI (Ice Lake,
// Zen 4 and later have it).
var hasGemvVBMI = cpu.X86.HasAVX512VBMI

// gemvTables is what gemvVBMI reads (offsets fixed in gemv_amd64.s; TestGemvTablesLayout checks).
type gemvTables struct {
	p    [128]byte // p[r] = d0 | d1<<2 | d2<<4 | d3<<6 for r = b - 81·d4 ≤ 80
	c81  byte      // at 128: the d4 thresholds and the digit 1, broadcast by the kernel
	c162 byte      // at 129
	one  byte      // at 130
}

var gemvTab = func() (t gemvTables) {
	for r := range 81 {
		v := r
		var d [4]byte
		for i := range d {
			d[i] = byte(v % 3)
			v /= 3
		}
		t.p[r] = d[0] | d[1]<<2 | d[2]<<4 | d[3]<<6
	}
	t.c81, t.c162, t.one = 81, 162, 1
	return
}()

//go:noescape
func gemvVBMI(y *int32, w *byte, n, nfull, rb int, tail uint64, planes *int8, sum int32, tab *gemvTables)

//go:noescape
func gemvAVX2(y *int32, w *byte, n, nblk, rb int, planes *int8, sum int32)

// gemvPlaneTables drives gemvPlanesAVX512 (offsets fixed in gemv_amd64.s; TestGemvTablesLayout).
type gemvPlaneTables struct {
	ab   [5][2][64]byte // plane j: VPERMI2B indices into x[0:128] and x[128:256]
	c    [5][64]byte    // plane j: VPERMB indices into x[256:320]
	x80  [8]byte        // 0x80 (sign flip for the sum)
	mask [5][2]uint64   // plane j: lanes taken from x[128:256], lanes taken from x[256:320]
}

var gemvPlaneTab = func() (t gemvPlaneTables) {
	for j := range 5 {
		for p := range 64 {
			i := 5*p + j // source byte of plane j, lane p
			switch {
			case i < 128:
				t.ab[j][0][p] = byte(i)
			case i < 256:
				t.ab[j][1][p] = byte(i - 128)
				t.mask[j][0] |= 1 << p
			default:
				t.c[j][p] = byte(i - 256)
				t.mask[j][1] |= 1 << p
			}
		}
	}
	t.x80[0] = 0x80
	return
}()

//go:noescape
func gemvPlanesAVX512(planes *int8, x *int8, nblk int, tab *gemvPlaneTables) int64

// gemvPlanes fills the planes of the full blocks of v and returns their Σ x.
func gemvPlanes(v *GemvVec, full int) int64 {
	if hasAVX512 && hasGemvVBMI && full > 0 {
		return gemvPlanesAVX512(&v.Planes[0], &v.X[0], full, &gemvPlaneTab)
	}
	return gemvPlanesGeneric(v, full)
}

// gemvRows computes y[:n] for the n rows at the start of w (row stride GemvRowBytes(k)).
func gemvRows(y []int32, w []byte, n, k int, x *GemvVec) {
	rb := GemvRowBytes(k)
	if n == 0 || k == 0 {
		gemvRowsGeneric(y, w, n, k, x)
		return
	}
	switch {
	case hasVNNI && hasGemvVBMI:
		nfull, tail := rb/64, uint64(0)
		if r := rb % 64; r != 0 {
			tail = 1<<r - 1
		}
		gemvVBMI(&y[0], &w[0], n, nfull, rb, tail, &x.Planes[0], x.Sum, &gemvTab)
	case hasAVX2:
		// gemvAVX2 reads whole 64-byte blocks; rows whose last block would run past the end of w's
		// backing array go to the reference (usually just the matrix's last row).
		nblk := (rb + 63) / 64
		safe := 0 // rows r with r·rb + nblk·64 <= cap(w)
		if c := cap(w) - nblk*64; c >= 0 {
			safe = min(n, c/rb+1)
		}
		if safe > 0 {
			gemvAVX2(&y[0], unsafe.SliceData(w), safe, nblk, rb, &x.Planes[0], x.Sum)
		}
		gemvRowsGeneric(y[safe:], w[safe*rb:], n-safe, k, x)
	default:
		gemvRowsGeneric(y, w, n, k, x)
	}
}

// gemvPortable reports whether TernaryGemv runs the portable Go path.
func gemvPortable() bool { return !(hasVNNI && hasGemvVBMI) && !hasAVX2 }

// gemvPath names the GEMV implementation in use, for benchmark output.
func gemvPath() string {
	switch {
	case hasVNNI && hasGemvVBMI:
		return "avx512-vbmi-vnni"
	case hasAVX2:
		return "avx2"
	}
	return "generic"
}

//go:noescape
func gemvBatchVBMI(acc *int32, w *byte, n, nfull, rb int, tail uint64, planes *int8, bp int, sums *int32, tab *gemvTables, nv int)

// gemvBatchAsm reports whether TernaryGemvBatch runs its own kernel (else it loops over TernaryGemv).
func gemvBatchAsm() bool { return hasVNNI && hasGemvVBMI && hasAVX512 }

// gemvBatchRows computes acc (n, bp) for the n rows at the start of w: rows in tiles of
// gemvBatchTile (their packed bytes stay in L1), each tile against the vectors 8 at a time, so that
// the group's planes (8·K bytes) stay in L1 across the tile's rows whatever B is.
func gemvBatchRows(acc []int32, w []byte, n, k int, x *GemvBatch) {
	rb := GemvRowBytes(k)
	if n == 0 {
		return
	}
	nfull, tail := rb/64, uint64(0)
	if r := rb % 64; r != 0 {
		tail = 1<<r - 1
	}
	bp := x.bp
	for lo := 0; lo < n; lo += gemvBatchTile {
		m := min(gemvBatchTile, n-lo)
		for g := 0; g < bp; g += 8 {
			gemvBatchVBMI(&acc[lo*bp+g], &w[lo*rb], m, nfull, rb, tail, &x.planes[g*GemvBlock], bp, &x.sums[g], &gemvTab, min(8, bp-g))
		}
	}
}

// gemvBatchTile is the rows of one tile of gemvBatchRows (16 rows of K = 4096 are 13 KB).
const gemvBatchTile = 16
