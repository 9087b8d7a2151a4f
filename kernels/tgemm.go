// tgemm.go is the batched product of int8 activation rows with a ternary matrix kept in 2 bits per
// weight (0.25 byte), for decoding several sequences at once: out(M,N) = x(M,K)·Wᵀ, rescaled as
// BitLinearForward. A one-row packed GEMV (gemv.go, 5 trits per byte) is bound by memory; B rows of
// a matrix cost B times the arithmetic but the weights can be read once. TernaryMatrix (one byte per
// weight) makes the arithmetic free of decoding but streams 4x more bytes and doubles the resident
// memory of a served model; TernaryGemvBatch reads 1.6 bits but spends its time in trit decoding and
// per-output horizontal sums. This layout decodes with one shift and one mask per VPDPBUSD operand,
// and its operands land directly in the accumulators' lanes, so the product runs near VPDPBUSD's peak
// from about 5 rows while reading 0.25 byte per weight.
//
// Layout. Codes c = w+1 ∈ {0,1,2} (0 also pads). Output columns (rows of W) come in strips of 16; a
// strip is KB = ceil(K/16) blocks of 64 bytes, one per 16 inputs. In a block, the 4-byte word i
// belongs to column 16s+i and byte b of it holds, in bit pairs 2q..2q+1, the codes of inputs
// 16·blk + 4q + b for q = 0..3:
//
//	w2[((s·KB + blk)·16 + i)·4 + b] = Σ_q c(16s+i, 16·blk+4q+b) << 2q
//
// so (block >> 2q) & 3 is exactly one VPDPBUSD operand: 16 columns x 4 inputs (4q..4q+3 of the
// block), multiplied by one row's 4 activation bytes broadcast. The codes are the unsigned side
// and the int8 activations the signed one, so Σ_k c·x = Σ_k w·x + Σ_k x: the correction is one row
// sum of the activations per row, subtracted before the rescale. Sums are exact int32 (|Σ| <= 2·128·K),
// so every implementation and split gives the same bits as BitLinearForward and TernaryGemvBatchF32.
package kernels

import (
	"fmt"
	"unsafe"
)

// tgStrip is the number of output columns per strip (one zmm of int32 sums).
const tgStrip = 16

// TernaryPanels is an (N,K) ternary matrix in the 2-bit layout above, for TernaryPanelForward.
type TernaryPanels struct {
	N, K int
	kb   int    // ceil(K/16): blocks per strip
	w    []byte // (ceil(N/16), KB, 16, 4) codes
}

// NewTernaryPanels returns an (n,k) matrix with every code 0 (not a valid weight): fill it with
// SetRows before use.
func NewTernaryPanels(n, k int) *TernaryPanels {
	if n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: NewTernaryPanels: negative size n=%d k=%d", n, k))
	}
	kb := (k + 15) / 16
	return &TernaryPanels{N: n, K: k, kb: kb, w: make([]byte, (n+tgStrip-1)/tgStrip*kb*64)}
}

// Bytes is the size of the codes in memory: 0.25 byte per weight plus the padding of N to 16 and K
// to 16.
func (p *TernaryPanels) Bytes() int { return len(p.w) }

// SetRows writes the rows j0, j0+1, ... of W from w (len(w)/K rows of K values in {-1,0,1}, row-major).
// Rows are independent, so disjoint ranges may be set concurrently. It panics on any other value.
func (p *TernaryPanels) SetRows(j0 int, w []int8) {
	k := p.K
	if k == 0 {
		return
	}
	if len(w)%k != 0 || j0 < 0 || j0+len(w)/k > p.N {
		panic(fmt.Sprintf("kernels: TernaryPanels.SetRows: rows %d+%d/%d of a (%d,%d) matrix", j0, len(w), k, p.N, k))
	}
	const lo7, one = 0x7F7F7F7F7F7F7F7F, 0x0101010101010101
	var bad uint64
	var tail [16]int8
	for r := 0; r < len(w)/k; r++ {
		j := j0 + r
		row := w[r*k : (r+1)*k]
		dst := p.w[(j/tgStrip)*p.kb*64+(j%tgStrip)*4:]
		for blk := 0; blk < p.kb; blk++ {
			src := row[min(16*blk, k):]
			if len(src) < 16 {
				for i := range tail {
					tail[i] = -1 // code 0: no contribution
				}
				copy(tail[:], src)
				src = tail[:]
			}
			v0 := *(*uint64)(unsafe.Pointer(&src[0]))
			v1 := *(*uint64)(unsafe.Pointer(&src[8]))
			// Bytewise v+1 without carries: 0xFF -> 0, 0 -> 1, 1 -> 2.
			c0 := ((v0 & lo7) + one) ^ (v0 &^ lo7)
			c1 := ((v1 & lo7) + one) ^ (v1 &^ lo7)
			bad |= c0&^(3*one) | c0&(c0>>1)&one | c1&^(3*one) | c1&(c1>>1)&one
			word := uint32(c0) | uint32(c0>>32)<<2 | uint32(c1)<<4 | uint32(c1>>32)<<6
			*(*uint32)(unsafe.Pointer(&dst[blk*64])) = word
		}
	}
	if bad != 0 {
		for i, v := range w {
			if v < -1 || v > 1 {
				panic(fmt.Sprintf("kernels: TernaryPanels.SetRows: weight %d of row %d is %d, want -1, 0 or 1", i%k, j0+i/k, v))
			}
		}
	}
}

// At returns w[i][j] (output i, input j).
func (p *TernaryPanels) At(i, j int) int8 {
	if i < 0 || i >= p.N || j < 0 || j >= p.K {
		panic(fmt.Sprintf("kernels: TernaryPanels.At(%d, %d) out of range (%d, %d)", i, j, p.N, p.K))
	}
	return int8(p.code(i, j)) - 1
}

func (p *TernaryPanels) code(i, j int) byte {
	blk, q, b := j/16, j%16/4, j%4
	return p.w[((i/tgStrip*p.kb+blk)*tgStrip+i%tgStrip)*4+b] >> (2 * q) & 3
}

// TernaryPanelForward is BitLinearForward over a TernaryPanels matrix:
//
//	out[i][j] = (float32(acc_ij) * wscale) / xscale[i],   acc_ij = Σ_k x[i][k]·w[j][k] (exact int32)
//
// bit for bit the result of BitLinearForward with the same weights in a TernaryMatrix. Without
// AVX-512 VNNI it runs in plain Go (slow: callers should prefer the other kernels, see
// TernaryPanelsFast).
func TernaryPanelForward(out []float32, x []int8, xscale []float32, p *TernaryPanels, wscale float32, m int) {
	if m < 0 || len(out) < m*p.N || len(x) < m*p.K || len(xscale) < m {
		panic(fmt.Sprintf("kernels: TernaryPanelForward: m=%d n=%d k=%d but len(out)=%d len(x)=%d len(xscale)=%d",
			m, p.N, p.K, len(out), len(x), len(xscale)))
	}
	if m == 0 || p.N == 0 {
		return
	}
	if !tgemmAsm(out, x, xscale, p, wscale, m) {
		tgemmGeneric(out, x, xscale, p, wscale, m)
	}
}

// TernaryPanelsFast reports whether TernaryPanelForward has its vector kernel on this CPU and
// implementation (AVX-512 VNNI).
func TernaryPanelsFast() bool { return tgemmFast() }

// rowSum returns Σ x[k], eight bytes at a time: bytes offset to unsigned (x^0x80 = x+128) are summed
// in 16-bit lanes, flushed before they can overflow.
func rowSum(x []int8) int32 {
	const lanes = 0x00FF00FF00FF00FF
	var s int64
	i := 0
	for i+8 <= len(x) {
		var acc uint64
		for n := 0; n < 128 && i+8 <= len(x); n, i = n+1, i+8 {
			u := *(*uint64)(unsafe.Pointer(&x[i])) ^ 0x8080808080808080
			acc += u&lanes + u>>8&lanes // each 16-bit lane gains at most 510: 128 steps fit
		}
		acc = acc&0x0000FFFF0000FFFF + acc>>16&0x0000FFFF0000FFFF
		s += int64(acc&0xFFFFFFFF + acc>>32)
	}
	s -= 128 * int64(i) // the lanes held x+128
	for ; i < len(x); i++ {
		s += int64(x[i])
	}
	return int32(s)
}

// tgemmGeneric is the plain-Go TernaryPanelForward: the same codes, the same correction and rescale,
// one strip and row at a time (rows split over the worker pool).
func tgemmGeneric(out []float32, x []int8, xscale []float32, p *TernaryPanels, wscale float32, m int) {
	n, k, kb := p.N, p.K, p.kb
	ParallelFor(m, max(1, (1<<14)/max(n*k, 1)), func(lo, hi int) {
		var acc [tgStrip]int32
		for i := lo; i < hi; i++ {
			xi := x[i*k : i*k+k]
			sum := rowSum(xi)
			for s := 0; s*tgStrip < n; s++ {
				clear(acc[:])
				for blk := 0; blk < kb; blk++ {
					words := p.w[(s*kb+blk)*64 : (s*kb+blk+1)*64]
					for kk := 16 * blk; kk < min(16*blk+16, k); kk++ {
						q, b, xv := uint(kk%16/4), kk%4, int32(xi[kk])
						for c := range acc {
							acc[c] += int32(words[4*c+b]>>(2*q)&3) * xv
						}
					}
				}
				for c := 0; c < tgStrip && s*tgStrip+c < n; c++ {
					out[i*n+s*tgStrip+c] = float32(acc[c]-sum) * wscale / xscale[i]
				}
			}
		}
	})
}
