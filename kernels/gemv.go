package kernels

import (
	"fmt"
	"sync/atomic"
)

// Packed ternary matrix-vector product for decoding: y(N) = W(N,K) · x(K), W ternary, x int8, exact
// int32 sums. W stays in its storage layout (quant/pack.go), so a mapped model file is used as is:
//
//	row r is ceil(K/5) bytes; byte j holds weights 5j..5j+4 as digits d_i = t_i + 1 ∈ {0,1,2},
//	byte = d0 + 3·d1 + 9·d2 + 27·d3 + 81·d4 (≤ 242); the tail byte's unused digits are 1 (weight 0).
//
// That is 1.6 bits per weight both on disk and in the compute loop: a 4096x4096 matrix is 3.36 MB,
// against 4.19 MB for 2-bit lanes, and decoding is memory-bound, so fewer bytes is faster.
//
// The kernel works on digits instead of trits: Σ t·x = Σ d·x − Σ x, with Σ x computed once per vector.
// A 64-byte block of a row holds 320 weights; x is rearranged once per vector (GemvVec.Set) into five
// 64-byte digit planes per block, plane i byte p = x[320·blk + 5p + i], so that digit i of every byte
// in the block meets its activation at the same byte position and VPDPBUSD (u8 digit × s8 x) sums it.
// AVX-512 (VBMI + VNNI) decodes a block in 16 vector ops per row: d4 = [b ≥ 81] + [b ≥ 162] from two
// unsigned compares, r = b − 81·d4 from two masked subtracts, one 128-entry VPERMI2B lookup of r
// gives d0..d3 as 2-bit fields, each field is masked in place and summed by VPDPBUSD into its own
// accumulator (scaled by 4^j, shifted back at the end). Rows go four at a time so the five planes
// are loaded once per block for four rows; the loop prefetches eight rows ahead. On Zen 4 that is
// ~3 ns per 64-byte row block on one core (~21 GB/s from L2), about one core's DRAM read rate, so one
// thread is compute-bound and two reach the memory (cold 4096² on 2 threads within 6-41% of only
// reading the bytes). The five VPDPBUSD per block are the floor of this scheme (320 products, 64 per
// instruction) and cost ~5 of the ~11 cycles; the other 11 operations decode base 3, which has no
// bit-field shortcut, and the alternatives tried (a blended 256-entry lookup, GF2P8AFFINEQB field
// extraction, word-multiply reciprocals on AVX2) measured slower.
// AVX2 has no byte permute across 128 entries, so it peels digits by compare and subtract (d4 from
// b, d3 from the remainder) and looks the last three up in two 16-entry VPSHUFB tables (~12 ns per
// row block: a fallback for CPUs without AVX-512 VBMI; a fixed-point reciprocal version with word
// multiplies measured 5% slower).
// The portable Go path (other architectures, -tags purego) looks each byte up in a per-vector
// table of 5-weight group sums (~56 ns per row block; decoding each byte took ~240).

// GemvBlock is the number of weights in one 64-byte block of a packed row.
const GemvBlock = 320

// GemvMaxK bounds K so that no int32 accumulator can overflow: the AVX-512 kernel's top-field
// accumulator gains at most 4·128·128 per 320 weights, 204.8·K in all, below 2^31 for K < 10.4M.
const GemvMaxK = 1 << 23

// GemvRowBytes is the packed size of a row of k weights.
func GemvRowBytes(k int) int { return (k + 4) / 5 }

// GemvVec is an int8 vector prepared for TernaryGemv. Build it once per size and refill it with Set
// for each new activation vector; one GemvVec serves one TernaryGemv call at a time.
type GemvVec struct {
	K      int
	X      []int8 // (K) the values
	Planes []int8 // (ceil(K/320), 5, 64) digit planes, zero past K
	Sum    int32  // Σ X

	// The operands of the call in progress, the next row chunk to hand out, and the worker function
	// bound once, so that TernaryGemv allocates no closure per call.
	y         []int32
	w         []byte
	n         int
	out       []float32 // TernaryGemvF32 only
	wScale, g float32
	lut       []int16 // (ceil(K/5), 256) group sums for the portable path, built on demand
	lutOK     bool    // lut matches X
	next      atomic.Int64
	chunk     int
	fn        func(lo, hi int)
}

// gemvChunk is the fewest rows a worker takes at a time (a multiple of the kernels' 4-row groups;
// 128 rows of K = 4096 are 105 KB, ~5 us of one core). A call hands out about two chunks per thread
// (gemvChunks), not many small ones: the kernel prefetches 8 rows ahead within its rows only, so each
// chunk starts with demand misses and ends without prefetch (4096² cold, 2 threads: 1024-row chunks
// ~8% faster median than 128-row ones, the same as a static split). Workers take chunks from a shared
// counter instead of one fixed share each, so on a busy machine a thread that loses its core does not
// hold the others up; every row is still computed by one thread in a fixed order, so results do not
// depend on the thread count or the schedule.
const gemvChunk = 128

// gemvChunks is the chunk size for n rows on t threads: n/(2t) rounded up to 4 rows, at least gemvChunk.
func gemvChunks(n, t int) int { return max(gemvChunk, (n+8*t-1)/(8*t)*4) }

// NewGemvVec allocates a vector for k activations.
func NewGemvVec(k int) *GemvVec {
	if k < 0 {
		panic(fmt.Sprintf("kernels: NewGemvVec: k=%d", k))
	}
	nb := (k + GemvBlock - 1) / GemvBlock
	v := &GemvVec{K: k, X: make([]int8, k), Planes: make([]int8, nb*GemvBlock)}
	v.fn = v.rows
	return v
}

// Set copies x (K) in and rebuilds the planes and the sum, without allocating.
func (v *GemvVec) Set(x []int8) {
	if len(x) != v.K {
		panic(fmt.Sprintf("kernels: GemvVec.Set: len(x)=%d, want %d", len(x), v.K))
	}
	copy(v.X, x)
	v.prepare()
}

// SetFloat32 quantizes x (K) per vector (int8 absmax, as QuantizeRowsInt8) into v and returns the
// scale g, x ≈ X/g; a GEMV result y then dequantizes as y·wScale/g.
func (v *GemvVec) SetFloat32(x []float32) float32 {
	if len(x) != v.K {
		panic(fmt.Sprintf("kernels: GemvVec.SetFloat32: len(x)=%d, want %d", len(x), v.K))
	}
	g := 127 / max(absMax(x), quantEps) // QuantizeRowsInt8's row quantizer, so both agree bit for bit
	quantRowInt8(v.X, x, g)
	v.prepare()
	return g
}

// prepare computes Sum and scatters X into the digit planes (full blocks by gemvPlanes, the tail
// here).
func (v *GemvVec) prepare() {
	v.lutOK = false
	full := v.K / GemvBlock
	s := gemvPlanes(v, full)
	if rest := v.X[full*GemvBlock:]; len(rest) > 0 {
		dst := v.Planes[full*GemvBlock:]
		clear(dst)
		for r, q := range rest {
			dst[(r%5)*64+r/5] = q
			s += int64(q)
		}
	}
	v.Sum = int32(s)
}

// gemvPlanesGeneric moves each full 320-weight block as five strided copies and returns Σ x over them.
func gemvPlanesGeneric(v *GemvVec, full int) int64 {
	var s int64
	for blk := 0; blk < full; blk++ {
		src := (*[GemvBlock]int8)(v.X[blk*GemvBlock:])
		dst := (*[GemvBlock]int8)(v.Planes[blk*GemvBlock:])
		for p := 0; p < 64; p++ {
			dst[p], dst[64+p], dst[128+p], dst[192+p], dst[256+p] = src[5*p], src[5*p+1], src[5*p+2], src[5*p+3], src[5*p+4]
		}
		for _, q := range src {
			s += int64(q)
		}
	}
	return s
}

// TernaryGemv computes y(N) = W(N,K) · x(K) exactly in int32, W in the packed layout above
// (len(w) = N·GemvRowBytes(K)). Rows are shared out to the worker pool in chunks (gemvChunks); each
// y[r] is computed by one thread in a fixed order, so the result does not depend on the thread count.
// Bytes above 242 (which no packer writes; quant.PackedTernary.Validate rejects them) give
// unspecified sums, never a crash.
func TernaryGemv(y []int32, w []byte, n, k int, x *GemvVec) {
	ternaryGemv(nil, y, w, n, k, x, 0, 0)
}

// TernaryGemvF32 is TernaryGemv followed by dequantization, out[j] = float32(y[j])·wScale/g, with g
// the scale SetFloat32 returned: the conversion runs on each chunk of rows right after its sums,
// while they are in cache and on the same thread. y (N) receives the int32 sums as well.
func TernaryGemvF32(out []float32, y []int32, w []byte, n, k int, x *GemvVec, wScale, g float32) {
	if len(out) < n {
		panic(fmt.Sprintf("kernels: TernaryGemvF32: n=%d but len(out)=%d", n, len(out)))
	}
	ternaryGemv(out, y, w, n, k, x, wScale, g)
}

func ternaryGemv(out []float32, y []int32, w []byte, n, k int, x *GemvVec, wScale, g float32) {
	rb := GemvRowBytes(k)
	if n < 0 || len(y) < n || len(w) < n*rb || x.K != k {
		panic(fmt.Sprintf("kernels: TernaryGemv: n=%d k=%d but len(y)=%d len(w)=%d (want %d) x.K=%d", n, k, len(y), len(w), n*rb, x.K))
	}
	if k > GemvMaxK {
		panic(fmt.Sprintf("kernels: TernaryGemv: k=%d exceeds %d (int32 accumulators)", k, GemvMaxK))
	}
	if x.fn == nil {
		x.fn = x.rows
	}
	if n >= gemvLUTMinRows && gemvPortable() && !x.lutOK {
		x.buildLUT()
	}
	if t := min(Threads(), (n+gemvChunk-1)/gemvChunk); t <= 1 {
		gemvRows(y, w, n, k, x) // one pass: the kernel's prefetch runs on across chunk boundaries
		if out != nil {
			gemvDequant(out[:n], y[:n], wScale, g)
		}
	} else {
		x.y, x.w, x.n, x.out, x.wScale, x.g = y, w, n, out, wScale, g
		x.chunk = gemvChunks(n, t)
		x.next.Store(0)
		ParallelFor(t, 1, x.fn) // one call per worker; each takes chunks until none are left
		x.y, x.w, x.out = nil, nil, nil
	}
}

// gemvDequant is out[j] = float32(y[j])·wScale/g, in that order of operations (infer's order).
func gemvDequant(out []float32, y []int32, wScale, g float32) {
	for j, a := range y {
		out[j] = float32(a) * wScale / g
	}
}

// rows is one worker of TernaryGemv: it computes row chunks until all are taken.
func (x *GemvVec) rows(_, _ int) {
	rb := GemvRowBytes(x.K)
	for {
		lo := int(x.next.Add(1)-1) * x.chunk
		if lo >= x.n {
			return
		}
		hi := min(lo+x.chunk, x.n)
		gemvRows(x.y[lo:hi], x.w[lo*rb:hi*rb], hi-lo, x.K, x)
		if x.out != nil {
			gemvDequant(x.out[lo:hi], x.y[lo:hi], x.wScale, x.g)
		}
	}
}

// TernaryGemvGeneric is the plain-Go reference: it decodes every byte and sums t·x row by row.
func TernaryGemvGeneric(y []int32, w []byte, n, k int, x []int8) {
	rb := GemvRowBytes(k)
	if n < 0 || len(y) < n || len(w) < n*rb || len(x) != k {
		panic(fmt.Sprintf("kernels: TernaryGemvGeneric: n=%d k=%d but len(y)=%d len(w)=%d (want %d) len(x)=%d", n, k, len(y), len(w), n*rb, len(x)))
	}
	ParallelFor(n, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			y[r] = gemvRowGeneric(w[r*rb:(r+1)*rb], x)
		}
	})
}

// gemvRowGeneric is one row of the reference: Σ_j Σ_i (d_i(w[j]) − 1)·x[5j+i].
func gemvRowGeneric(row []byte, x []int8) int32 {
	k := len(x)
	var s int32
	full := k / 5
	for j := 0; j < full; j++ {
		t := &gemvTrits[row[j]]
		xs := x[5*j : 5*j+5 : 5*j+5]
		s += int32(t[0])*int32(xs[0]) + int32(t[1])*int32(xs[1]) + int32(t[2])*int32(xs[2]) +
			int32(t[3])*int32(xs[3]) + int32(t[4])*int32(xs[4])
	}
	for i := 5 * full; i < k; i++ {
		s += int32(gemvTrits[row[full]][i-5*full]) * int32(x[i])
	}
	return s
}

// gemvRowsGeneric is the fallback used where no assembly applies: with the vector's lookup table
// when TernaryGemv built one (many rows), else decoding every byte.
func gemvRowsGeneric(y []int32, w []byte, n, k int, x *GemvVec) {
	rb := GemvRowBytes(k)
	if x.lutOK {
		for r := 0; r < n; r++ {
			y[r] = gemvRowLUT(w[r*rb:(r+1)*rb], x.lut)
		}
		return
	}
	for r := 0; r < n; r++ {
		y[r] = gemvRowGeneric(w[r*rb:(r+1)*rb], x.X)
	}
}

// The portable path's lookup table: for 5-weight group j, lut[256·j + b] = Σ_i t_i(b)·x[5j+i], the
// whole group's contribution for packed byte b (|sum| ≤ 640 fits int16; x past K is 0; entries
// 243-255, bytes no packer writes, are 0). A row then costs one load and one add per byte, ~4x less
// than decoding, and the table (ceil(K/5)·512 bytes, 420 KB for K = 4096) is built once per vector
// in ~0.3 ms, so it is used from gemvLUTMinRows rows on.
const gemvLUTMinRows = 128

func (v *GemvVec) buildLUT() {
	groups := GemvRowBytes(v.K)
	if len(v.lut) != groups*256 {
		v.lut = make([]int16, groups*256)
	}
	for j := 0; j < groups; j++ {
		l := (*[256]int16)(v.lut[256*j:])
		l[0] = 0
		for i, p := 0, 1; i < 5; i, p = i+1, p*3 {
			var xi int16
			if c := 5*j + i; c < v.K {
				xi = int16(v.X[c])
			}
			// Level i: entries [0, p) hold digits 0..i-1; extend to [0, 3p) with digit i = 2, 1, 0
			// (weight +1, 0, -1), writing the copies before overwriting the originals.
			for r := 0; r < p; r++ {
				l[2*p+r] = l[r] + xi
				l[p+r] = l[r]
				l[r] -= xi
			}
		}
		clear(l[243:])
	}
	v.lutOK = true
}

func gemvRowLUT(row []byte, lut []int16) int32 {
	var s0, s1 int32
	j := 0
	for ; j+1 < len(row); j += 2 {
		s0 += int32(lut[256*j+int(row[j])])
		s1 += int32(lut[256*(j+1)+int(row[j+1])])
	}
	if j < len(row) {
		s0 += int32(lut[256*j+int(row[j])])
	}
	return s0 + s1
}

// gemvTrits[b] is byte b's five weights; bytes above 242 decode as their base-3 digits mod 3 minus 1
// (anything finite will do: such bytes are invalid).
var gemvTrits = func() (t [256][5]int8) {
	for b := range 256 {
		v := b
		for i := range 5 {
			t[b][i] = int8(v%3 - 1)
			v /= 3
		}
	}
	return
}()

// GemvPath names the TernaryGemv implementation the current feature flags select.
func GemvPath() string { return gemvPath() }
