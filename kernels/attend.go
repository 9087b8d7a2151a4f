package kernels

import "fmt"

// Decode attention: one query row against the n cached positions of one head (F16 or fp32 cache),
// out = softmax(scale·q·Kᵀ)·V, in one call. A decoding step runs it once per (sequence, head) with n
// up to the context, so the pieces that a GEMV-shaped composition pays per position (a full
// horizontal sum per key row, a pass over the scores for the scale, a softmax call, a single FMA
// chain per output block in Σ p_t·V_t) are most of its cost at the short contexts of serving. The
// AVX-512 kernel (attend_amd64.s, written by attend_gen.go) fuses them: q·K for 16 positions at a
// time, each position's FMAs into its own accumulator and one transpose-add fold of the 16 into a
// vector of scores; a vector max/exp/sum; and Σ e_t·V_t over four position streams, scaled by
// 1/Σ e_t at the end. It prefetches its rows (and the next head's columns of them): a batch's caches
// outgrow the CPU's, and serving's attention waits on memory more than on arithmetic. Other CPUs (and heads whose size is not a multiple of 16) run the composition
// of the existing kernels, attendF16Composed. Each result depends only on the inputs (one thread,
// a fixed order for every sum), so a sequence decodes the same bits alone or in a batch.

// AttendF16 computes out (hs) = softmax(scale·q·Kᵀ)·V for one query q (hs) against n cached keys and
// values in IEEE half precision (binary16 bits): position t's key is k[t·ld : t·ld+hs], its value
// v[t·ld : t·ld+hs] (ld >= hs: a head's columns of a cache with ld values per position). scores is
// scratch of at least n values; on return it holds the unnormalized weights exp(s_t - max s) (the
// AVX-512 kernel) or the probabilities (the composition). With n = 0, out is zeros.
func AttendF16(out, q []float32, k, v []uint16, ld, n, hs int, scale float32, scores []float32) {
	if n < 0 || hs < 0 || len(out) < hs || len(q) < hs || len(scores) < n ||
		(n > 0 && (ld < hs || len(k) < (n-1)*ld+hs || len(v) < (n-1)*ld+hs)) {
		panic(fmt.Sprintf("kernels: AttendF16: n=%d hs=%d ld=%d but len(out)=%d len(q)=%d len(k)=%d len(v)=%d len(scores)=%d",
			n, hs, ld, len(out), len(q), len(k), len(v), len(scores)))
	}
	if n == 0 || hs == 0 {
		clear(out[:hs])
		return
	}
	attendF16(out, q, k, v, ld, n, hs, scale, scores)
}

// AttendF32 is AttendF16 over an fp32 cache (the Llama family's): the same kernel with the rows read
// as they are; other CPUs run two one-row Sgemm products around a softmax.
func AttendF32(out, q, k, v []float32, ld, n, hs int, scale float32, scores []float32) {
	if n < 0 || hs < 0 || len(out) < hs || len(q) < hs || len(scores) < n ||
		(n > 0 && (ld < hs || len(k) < (n-1)*ld+hs || len(v) < (n-1)*ld+hs)) {
		panic(fmt.Sprintf("kernels: AttendF32: n=%d hs=%d ld=%d but len(out)=%d len(q)=%d len(k)=%d len(v)=%d len(scores)=%d",
			n, hs, ld, len(out), len(q), len(k), len(v), len(scores)))
	}
	if n == 0 || hs == 0 {
		clear(out[:hs])
		return
	}
	attendF32(out, q, k, v, ld, n, hs, scale, scores)
}

// attendF32Composed is AttendF32 as the separate kernels: q·Kᵀ and p·V as one-row Sgemm products.
func attendF32Composed(out, q, k, v []float32, ld, n, hs int, scale float32, scores []float32) {
	s := scores[:n]
	Sgemm(false, true, 1, n, hs, scale, q, hs, k, ld, 0, s, n)
	softmaxRow(s, s)
	Sgemm(false, false, 1, hs, n, 1, s, n, v, ld, 0, out, hs)
}

// attendF16Composed is AttendF16 as the separate kernels: the scores as a strided F16 GEMV, scaled,
// a softmax, then the weighted sum of the value rows.
func attendF16Composed(out, q []float32, k, v []uint16, ld, n, hs int, scale float32, scores []float32) {
	s := scores[:n]
	sgemvF16Rows(s, k, ld, q, n, hs)
	for j := range s {
		s[j] *= scale
	}
	softmaxRow(s, s)
	sgemvTF16(out, v, ld, s, n, hs)
}
