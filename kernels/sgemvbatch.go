package kernels

import "fmt"

// F16 table times a batch of vectors: y (B, N) = x (B, K) · A(N,K)ᵀ with A in IEEE half precision, the
// LM head of a batched decoding step (a packed model's F16 token table, 32000 x 768 for the 100M
// preset). B SgemvF16 calls read the table B times from memory; an fp32 GEMM needs an fp32 copy of it
// and repacks the whole copy every call (the head is Sgemm's B side, packed per call). Here the rows
// go in L2-sized chunks, and each chunk meets the vectors in groups of up to 6 while its 4-row tiles
// pass (AVX-512: VCVTPH2PS widens 4 rows once per 16 columns, 24 VFMADD231PS use them against 6
// vectors held in L1, one accumulator per product; sgemvf16_gen.go).
//
// Every (row, vector) product is summed by the rule SgemvF16 uses on the same implementation (AVX-512:
// one accumulator over the 16-column groups in order, a fixed lane tree, then the tail; AVX2 and Go:
// SgemvF16's own kernel), so y[v] equals SgemvF16(A, x_v) bit for bit on every path, whatever B: a
// sequence's logits do not depend on its batch, and a batch of one is the single-sequence decoder.
// Without AVX-512 the rows go in L2-sized chunks, each chunk through SgemvF16's kernel for every
// vector (the table still leaves memory once).

// SgemvF16Batch computes y[v·ldy+i] = Σ_j A[i·k+j]·x[v·k+j] for rows i < n and vectors v < b. Rows
// are split between threads.
func SgemvF16Batch(y []float32, ldy int, a []uint16, x []float32, n, k, b int) {
	if n < 0 || k < 0 || b < 0 || ldy < n || len(a) < n*k || len(x) < b*k || b > 0 && len(y) < (b-1)*ldy+n {
		panic(fmt.Sprintf("kernels: SgemvF16Batch: n=%d k=%d b=%d ldy=%d but len(y)=%d len(a)=%d len(x)=%d", n, k, b, ldy, len(y), len(a), len(x)))
	}
	if n == 0 || b == 0 {
		return
	}
	ParallelFor(n, 64, func(lo, hi int) {
		sgemvF16BatchRows(y[lo:], ldy, a[lo*k:], x, hi-lo, k, b)
	})
}

// sgemvF16BatchChunks is the product through SgemvF16's row kernel: rows in chunks of about 128 KiB
// of F16 (they stay in L2), each chunk times every vector.
func sgemvF16BatchChunks(y []float32, ldy int, a []uint16, x []float32, n, k, b int) {
	rows := max(16, (128<<10)/(2*max(k, 1)))
	for r0 := 0; r0 < n; r0 += rows {
		r1 := min(n, r0+rows)
		for v := range b {
			sgemvF16Rows(y[v*ldy+r0:], a[r0*k:], k, x[v*k:v*k+k], r1-r0, k)
		}
	}
}
