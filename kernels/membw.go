package kernels

import (
	"fmt"
	"slices"
	"time"
)

// Memory read bandwidth: the floor for decoding, where every weight byte is read once per token.
// MemReadBandwidth streams through a buffer the way TernaryGemv streams through a matrix: the
// worker pool splits it into one contiguous share per thread, and each share is read front to back
// with wide loads. Use a buffer far larger than the last-level cache (>= 512 MiB) to measure DRAM.

// MemReadBandwidth reads buf reps times (after one warm-up pass) and returns the median and best
// rates in GB/s (1e9 bytes per second). buf should be written beforehand: untouched pages of a
// fresh allocation all map the kernel's zero page and read from cache.
func MemReadBandwidth(buf []byte, reps int) (median, best float64) {
	if reps < 1 || len(buf) < 1<<20 {
		panic(fmt.Sprintf("kernels: MemReadBandwidth: reps=%d len(buf)=%d (want >= 1 and >= 1 MiB)", reps, len(buf)))
	}
	MemRead(buf) // warm-up
	rates := make([]float64, reps)
	for i := range rates {
		t0 := time.Now()
		MemRead(buf)
		rates[i] = float64(len(buf)) / time.Since(t0).Seconds() / 1e9
	}
	slices.Sort(rates)
	return rates[reps/2], rates[reps-1]
}

// MemRead reads buf once, split between the pool's threads in contiguous 64-byte-aligned shares, and
// returns a sum of its words (so the reads cannot be optimized away). Timed on a matrix's bytes, it is
// what a matrix-vector product over them costs without its arithmetic: the per-call floor, start-up
// and all, that `tern bench gemv` compares its kernel with (the tail past a multiple of 8 bytes is not read).
func MemRead(buf []byte) uint64 {
	t := max(1, min(Threads(), len(buf)/4096))
	var sums [64]uint64
	t = min(t, len(sums))
	ParallelFor(t, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			a, b := i*len(buf)/t&^63, (i+1)*len(buf)/t&^63
			if i == t-1 {
				b = len(buf)
			}
			sums[i] = readSum(buf[a:b])
		}
	})
	var s uint64
	for _, v := range sums[:t] {
		s += v
	}
	return s
}

// readSumGeneric adds b as little-endian uint64 words (a tail of len(b)%8 bytes is ignored).
func readSumGeneric(b []byte) uint64 {
	var s0, s1, s2, s3 uint64
	i := 0
	for ; i+32 <= len(b); i += 32 {
		s0 += le64(b[i:])
		s1 += le64(b[i+8:])
		s2 += le64(b[i+16:])
		s3 += le64(b[i+24:])
	}
	for ; i+8 <= len(b); i += 8 {
		s0 += le64(b[i:])
	}
	return s0 + s1 + s2 + s3
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
