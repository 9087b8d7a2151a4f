//go:build !purego

package kernels

//go:generate go run attend_gen.go

// attendF16AVX512 is AttendF16 for n >= 1 and hs = 16·hs16 (attend_amd64.s): ld in values, scale
// applied to each dot product before the softmax; pf16 16-column blocks of each row are prefetched
// (hs16, or 2·hs16 to fetch the next head's columns as well).
//
//go:noescape
func attendF16AVX512(out, q *float32, k, v *uint16, ld, n, hs16, pf16 int, scale float32, scores *float32)

// attendF32AVX512 is attendF16AVX512 over fp32 rows.
//
//go:noescape
func attendF32AVX512(out, q *float32, k, v *float32, ld, n, hs16, pf16 int, scale float32, scores *float32)

// attendPf16 is the blocks of each row to prefetch: the head's, and the next head's too when the
// slices hold them (klen, vlen: the slices' lengths).
func attendPf16(klen, vlen, ld, n, hs int) int {
	if end := (n-1)*ld + 2*hs; ld >= 2*hs && klen >= end && vlen >= end {
		return hs / 8 // the columns after the head's: most likely the next head's
	}
	return hs / 16
}

func attendF16(out, q []float32, k, v []uint16, ld, n, hs int, scale float32, scores []float32) {
	if hasAVX512 && hs%16 == 0 {
		attendF16AVX512(&out[0], &q[0], &k[0], &v[0], ld, n, hs/16, attendPf16(len(k), len(v), ld, n, hs), scale, &scores[0])
		return
	}
	attendF16Composed(out, q, k, v, ld, n, hs, scale, scores)
}

func attendF32(out, q, k, v []float32, ld, n, hs int, scale float32, scores []float32) {
	if hasAVX512 && hs%16 == 0 {
		attendF32AVX512(&out[0], &q[0], &k[0], &v[0], ld, n, hs/16, attendPf16(len(k), len(v), ld, n, hs), scale, &scores[0])
		return
	}
	attendF32Composed(out, q, k, v, ld, n, hs, scale, scores)
}
