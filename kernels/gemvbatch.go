package kernels

import (
	"fmt"

	"tern/tensor"
)

// Packed ternary products for a batch of vectors: y_v(N) = W(N,K) · x_v(K) for B int8 vectors at once,
// W in TernaryGemv's packed trit5 layout. A batched decode step multiplies every projection by one
// vector per sequence; B separate TernaryGemv calls decode each 64-byte weight block B times, while
// here each block of a row is decoded once into its five digit planes (registers) and applied to
// every vector of a group of 8 (then 4) whose activation planes are read from L1/L2 as memory
// operands of VPDPBUSD. The weights are read once per call, in 1.6 bits per weight, instead of an
// unpacked byte per weight (TernaryMatrix) or B times packed.
//
// Each product is the same exact int32 sum as TernaryGemv's (Σ d·x − Σ x), so the results equal B
// TernaryGemv calls bit for bit, and TernaryGemvBatchF32 dequantizes in TernaryGemvF32's order.
// Without AVX-512 VBMI + VNNI the call loops over TernaryGemv per vector.

// GemvBatch is up to Max int8 vectors of K prepared for TernaryGemvBatch. Fill it with Set or
// SetFloat32 for each batch; one GemvBatch serves one call at a time.
type GemvBatch struct {
	K, Max int
	B      int       // vectors set
	G      []float32 // (Max) per-vector scales from SetFloat32
	vecs   []*GemvVec
	bp     int     // B rounded up to 4: the kernel's groups (padding vectors are zero)
	planes []int8  // (nblk, bp, 320): block-major, the vectors of a block side by side
	sums   []int32 // (bp)
	acc    []int32 // (N, bp) scratch
	ilOK   bool    // planes and sums match the vectors
}

// NewGemvBatch allocates room for up to max vectors of k activations.
func NewGemvBatch(k, max int) *GemvBatch {
	if k < 0 || max < 1 {
		panic(fmt.Sprintf("kernels: NewGemvBatch: k=%d max=%d", k, max))
	}
	b := &GemvBatch{K: k, Max: max, G: make([]float32, max)}
	for range max {
		b.vecs = append(b.vecs, NewGemvVec(k))
	}
	return b
}

// Set copies the n vectors x (n, K) in.
func (b *GemvBatch) Set(x []int8, n int) {
	b.check(len(x), n)
	for i := range n {
		b.vecs[i].Set(x[i*b.K : (i+1)*b.K])
	}
	b.B = n
	b.ilOK = false
}

// SetFloat32 quantizes the n vectors x (n, K) each as GemvVec.SetFloat32 does; G[i] is vector i's scale.
func (b *GemvBatch) SetFloat32(x []float32, n int) {
	b.check(len(x), n)
	for i := range n {
		b.G[i] = b.vecs[i].SetFloat32(x[i*b.K : (i+1)*b.K])
	}
	b.B = n
	b.ilOK = false
}

func (b *GemvBatch) check(lx, n int) {
	if n < 0 || n > b.Max || lx != n*b.K {
		panic(fmt.Sprintf("kernels: GemvBatch.Set: %d vectors of len %d, want at most %d of K=%d", n, lx, b.Max, b.K))
	}
}

// interleave lays the vectors' planes out block-major for the batch kernel (on its first call after Set).
func (b *GemvBatch) interleave() {
	b.bp = (b.B + 3) &^ 3
	nb := (b.K + GemvBlock - 1) / GemvBlock
	if len(b.planes) < nb*b.bp*GemvBlock {
		b.planes = make([]int8, nb*((b.Max+3)&^3)*GemvBlock)
	}
	if len(b.sums) < b.bp {
		b.sums = make([]int32, (b.Max+3)&^3)
	}
	for blk := range nb {
		dst := b.planes[blk*b.bp*GemvBlock:]
		for v := range b.bp {
			d := dst[v*GemvBlock : (v+1)*GemvBlock]
			if v < b.B {
				copy(d, b.vecs[v].Planes[blk*GemvBlock:])
			} else {
				clear(d)
			}
		}
	}
	for v := range b.bp {
		b.sums[v] = 0
		if v < b.B {
			b.sums[v] = b.vecs[v].Sum
		}
	}
	b.ilOK = true
}

// TernaryGemvBatch computes y (B, N), y[v·N + r] = Σ_c W[r][c]·x_v[c], exactly in int32 for the B
// vectors set in x, W packed as for TernaryGemv (len(w) = N·GemvRowBytes(K)).
func TernaryGemvBatch(y []int32, w []byte, n, k int, x *GemvBatch) {
	ternaryGemvBatch(nil, y, w, n, k, x, 0)
}

// TernaryGemvBatchF32 is TernaryGemvBatch followed by out[v·N + j] = float32(y)·wScale/G[v], the
// dequantization of TernaryGemvF32 (x filled by SetFloat32). y may be nil (then internal scratch).
func TernaryGemvBatchF32(out []float32, y []int32, w []byte, n, k int, x *GemvBatch, wScale float32) {
	if len(out) < x.B*n {
		panic(fmt.Sprintf("kernels: TernaryGemvBatchF32: %d vectors x n=%d but len(out)=%d", x.B, n, len(out)))
	}
	ternaryGemvBatch(out, y, w, n, k, x, wScale)
}

func ternaryGemvBatch(out []float32, y []int32, w []byte, n, k int, x *GemvBatch, wScale float32) {
	rb := GemvRowBytes(k)
	if n < 0 || len(w) < n*rb || x.K != k || (out == nil && len(y) < x.B*n) || (y != nil && len(y) < x.B*n) {
		panic(fmt.Sprintf("kernels: TernaryGemvBatch: n=%d k=%d but len(y)=%d len(w)=%d (want %d) x.K=%d B=%d", n, k, len(y), len(w), n*rb, x.K, x.B))
	}
	if k > GemvMaxK {
		panic(fmt.Sprintf("kernels: TernaryGemvBatch: k=%d exceeds %d (int32 accumulators)", k, GemvMaxK))
	}
	if x.B == 0 || n == 0 {
		return
	}
	if !gemvBatchAsm() || k == 0 {
		if y == nil {
			x.acc = tensor.Grow(x.acc, n)
		}
		for v := range x.B {
			if out != nil {
				var acc []int32
				if y != nil {
					acc = y[v*n : (v+1)*n]
				} else {
					acc = x.acc[:n]
				}
				ternaryGemv(out[v*n:(v+1)*n], acc, w, n, k, x.vecs[v], wScale, x.G[v])
			} else {
				ternaryGemv(nil, y[v*n:(v+1)*n], w, n, k, x.vecs[v], 0, 0)
			}
		}
		return
	}
	if !x.ilOK {
		x.interleave()
	}
	bp := x.bp
	x.acc = tensor.Grow(x.acc, n*bp)
	// Rows in chunks of 4 or more per thread; each row's sums come from one thread in a fixed order.
	ParallelFor((n+3)/4, 8, func(lo, hi int) {
		lo, hi = lo*4, min(hi*4, n)
		gemvBatchRows(x.acc[lo*bp:hi*bp], w[lo*rb:hi*rb], hi-lo, k, x)
		for r := lo; r < hi; r++ {
			a := x.acc[r*bp : r*bp+x.B]
			for v, s := range a {
				if y != nil {
					y[v*n+r] = s
				}
				if out != nil {
					out[v*n+r] = float32(s) * wScale / x.G[v]
				}
			}
		}
	})
}

// gemvBatchRowsGeneric is the Go statement of the batch kernel, for its tests: acc (n, bp) for the
// interleaved planes, each row's block decoded once and applied to every vector.
func gemvBatchRowsGeneric(acc []int32, w []byte, n, k int, x *GemvBatch) {
	rb := GemvRowBytes(k)
	bp := x.bp
	for r := range n {
		a := acc[r*bp : (r+1)*bp]
		clear(a)
		row := w[r*rb : (r+1)*rb]
		for blk := 0; blk*64 < rb; blk++ {
			var d [5][64]int32
			for p := 0; p < 64 && blk*64+p < rb; p++ {
				b := int(row[blk*64+p])
				for i := range 5 {
					d[i][p] = int32(b % 3)
					b /= 3
				}
			}
			pl := x.planes[blk*bp*GemvBlock:]
			for v := range bp {
				for i := range 5 {
					for p := range 64 {
						a[v] += d[i][p] * int32(pl[v*GemvBlock+i*64+p])
					}
				}
			}
		}
		for v := range bp {
			a[v] -= x.sums[v]
		}
	}
}
