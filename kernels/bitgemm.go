// bitgemm.go is the int8-activation x ternary-weight GEMM, BitLinear's forward product
// (https://arxiv.org/abs/2402.17764): c(M,N) = x(M,K)·wᵀ with x int8, w ∈ {-1,0,1}, exact int32
// sums, plus the fused rescale to fp32 that BitLinear needs. This file holds the weight layout, the
// dispatcher and the plain-Go reference; bitgemm_amd64.go drives the assembly micro-kernels.
// It is not the packed-weight GEMV of decoding (5 trits per byte, memory-bound): here the weights
// are 1 byte each, laid out for VPDPBUSD, because training re-packs them every step and the
// product is compute-bound.
//
// Layout. Weights are stored in panels of 64 output columns (rows of w). Within a panel, k-group g
// (inputs 4g..4g+3) is 256 bytes: column c's four weights at bytes 4c..4c+3, so one 64-byte vector
// holds 16 columns x 4 inputs, exactly one VPDPBUSD operand (16 int32 lanes, 4 byte products each):
//
//	packed[((p*KG + g)*64 + c)*4 + b] = w[64p+c][4g+b]   KG = ceil(K/4)
//
// Bytes past N or K are 0, so tails need no special case in the inner loop.
//
// Offset trick. VPDPBUSD multiplies unsigned by signed bytes. We feed the activations as
// u = x+128 ∈ [0,255] (x XOR 0x80) and the weights as signed, so
//
//	Σ_k u_k·w_k = Σ_k x_k·w_k + 128·Σ_k w_k
//
// and subtract corr[j] = 128·Σ_k w[j][k], precomputed by Set, once per output. The activation side
// stays a plain int8 row (no pre-pass over x), and the edge values are exact: x = -128 -> u = 0,
// x = 127 -> u = 255. Int32 sums cannot overflow for K < 2^31/(255+128) ≈ 5.6M.
package kernels

import (
	"fmt"
	"unsafe"
)

// bitPanel is the number of output columns in one weight panel (one zmm VPDPBUSD per 16).
const bitPanel = 64

// TernaryMatrix is an (N,K) matrix of ternary weights {-1,0,+1} in the layout the int8 x ternary GEMM
// wants. Build it once and refresh it with Set when the latent weights change (every training step).
type TernaryMatrix struct {
	N, K int
	kg   int     // ceil(K/4): 4-byte k-groups per column
	w    []int8  // (ceil(N/64), KG, 64, 4) packed panels, 64-byte aligned, zero padding
	corr []int32 // (ceil(N/64)*64): 128·Σ_k w[j][k], 0 past N
}

// NewTernaryMatrix copies w (N,K) into a new matrix.
func NewTernaryMatrix(w []int8, n, k int) *TernaryMatrix {
	if n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: NewTernaryMatrix: negative size n=%d k=%d", n, k))
	}
	np, kg := (n+bitPanel-1)/bitPanel, (k+3)/4
	size := np * kg * bitPanel * 4
	buf := make([]int8, size+64+amxOverread)                         // alignment slack; zeros the AMX tiles may read past the panels
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(buf))) & 63) // align panels to cache lines
	t := &TernaryMatrix{N: n, K: k, kg: kg, w: buf[off : off+size : off+size], corr: make([]int32, np*bitPanel)}
	t.Set(w)
	return t
}

// Set replaces the weights with w (N,K), values in {-1,0,1}, in place (no new buffers). It panics on any
// other value: the AVX2 kernel's int16 pair sums are only exact for |w| <= 1. Cost: one pass over w
// (AVX-512 gathers, or 8 weights at a time in Go), panels split over the worker pool.
func (t *TernaryMatrix) Set(w []int8) {
	if len(w) != t.N*t.K {
		panic(fmt.Sprintf("kernels: TernaryMatrix.Set: want %d weights, got %d", t.N*t.K, len(w)))
	}
	n, k, kg := t.N, t.K, t.kg
	if k == 0 {
		return // corr stays 0
	}
	np := (n + bitPanel - 1) / bitPanel
	ParallelFor(np, max(1, (1<<16)/(k*bitPanel)), func(lo, hi int) {
		var sums [bitPanel]int32
		for p := lo; p < hi; p++ {
			panel := t.w[p*kg*bitPanel*4 : (p+1)*kg*bitPanel*4]
			cols := min(bitPanel, n-p*bitPanel)
			rows := w[p*bitPanel*k : (p*bitPanel+cols)*k]
			clear(sums[:])
			full := k / 4
			if ok, bad := packPanelRows(panel, rows, k, full, cols, &sums); ok {
				if bad {
					panicNotTernary(rows)
				}
				for c := 0; c < cols && k%4 != 0; c++ { // the last, partial k-group
					sums[c] += packColumn(panel[(full*bitPanel+c)*4:], rows[c*k+4*full:c*k+k])
				}
			} else {
				// Blocks of setBlock k-groups (whole columns thrashed L1: 3x slower at K=1024).
				for g0 := 0; g0 < kg; g0 += setBlock {
					k0, k1 := 4*g0, min(4*(g0+setBlock), k)
					for c := 0; c < cols; c++ {
						sums[c] += packColumn(panel[(g0*bitPanel+c)*4:], rows[c*k+k0:c*k+k1])
					}
				}
			}
			for c := 0; c < cols; c++ {
				t.corr[p*bitPanel+c] = 128 * sums[c]
			}
		}
	})
}

// setBlock is the number of k-groups per pass over a panel's columns in Set's Go path: the 8 KiB
// of panel being written and the 64 row pieces being read stay in L1.
const setBlock = 32

// quantBlock is QuantizeFrom's block of k-groups: 64 rows x 1 KiB of scratch (64 KiB, L2). Larger
// blocks amortize the per-call cost of the vector quantizer: 1M weights took 233 us with 64-group
// blocks (16 KiB), 199 us with 256 (one Zen 4 core).
const quantBlock = 256

// QuantizeFrom quantizes latent weights w (N,K) with BitNet's absmean rule straight into the matrix
// and returns the scale s = mean|w|: the same weights and scale as QuantizeTernary(tmp, w) followed
// by Set(tmp), without the (N,K) int8 slab. Each panel is quantized quantBlock k-groups at a time
// into a scratch block and packed from there. It costs about what QuantizeTernary+Set cost (both
// read w twice: once for mean|w|, once to quantize) and saves the slab.
func (t *TernaryMatrix) QuantizeFrom(w []float32) float32 {
	if len(w) != t.N*t.K {
		panic(fmt.Sprintf("kernels: TernaryMatrix.QuantizeFrom: want %d weights, got %d", t.N*t.K, len(w)))
	}
	s := ternaryScale(w)
	inv := 1 / s
	n, k, kg := t.N, t.K, t.kg
	if k == 0 {
		return s
	}
	np := (n + bitPanel - 1) / bitPanel
	ParallelFor(np, max(1, (1<<16)/(k*bitPanel)), func(lo, hi int) {
		const ld = 4 * quantBlock // scratch row stride
		var sums [bitPanel]int32
		var scratch [bitPanel * ld]int8
		for p := lo; p < hi; p++ {
			panel := t.w[p*kg*bitPanel*4 : (p+1)*kg*bitPanel*4]
			cols := min(bitPanel, n-p*bitPanel)
			clear(sums[:])
			for k0 := 0; k0 < k; k0 += ld {
				k1 := min(k0+ld, k)
				groups := (k1 - k0 + 3) / 4
				for c := 0; c < cols; c++ {
					j := p*bitPanel + c
					piece := scratch[c*ld : c*ld+4*groups]
					quantTernary(piece[:k1-k0], w[j*k+k0:j*k+k1], inv)
					clear(piece[k1-k0:]) // a partial last group packs as zeros
				}
				dst := panel[(k0/4)*bitPanel*4:]
				if ok, _ := packPanelRows(dst, scratch[:], ld, groups, cols, &sums); !ok {
					for c := 0; c < cols; c++ {
						sums[c] += packColumn(dst[c*4:], scratch[c*ld:c*ld+k1-k0])
					}
				}
			}
			for c := 0; c < cols; c++ {
				t.corr[p*bitPanel+c] = 128 * sums[c]
			}
		}
	})
	return s
}

// packColumn writes a piece of one row of w (starting at a k-group) into its column of a panel (stride 256 bytes per
// k-group) and returns its sum; it panics on a non-ternary value. Eight weights at a time in a
// uint64 (SWAR): for bytes in {0x00, 0x01, 0xFF}, bit 0 marks a nonzero and bit 7 a -1, so
// sum = count(nonzero) - 2·count(negative).
func packColumn(dst []int8, row []int8) int32 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	var sum int
	var bad uint64
	g := 0
	for ; 4*g+8 <= len(row); g += 2 {
		v := *(*uint64)(unsafe.Pointer(&row[4*g]))
		neg := v & hi
		negMask := (neg >> 7) * 0xFF // 0xFF in each negative byte
		t := v ^ negMask             // valid bytes: 0x00 (was -1 or 0) or 0x01 (was 1)
		bad |= t & (^uint64(lo) | negMask&lo)
		sum += int((v&lo)*lo>>56) - 2*int((neg>>7)*lo>>56) // byte sums by multiply: each <= 8
		_ = dst[256*g+256+3]
		*(*uint32)(unsafe.Pointer(&dst[256*g])) = uint32(v)
		*(*uint32)(unsafe.Pointer(&dst[256*g+256])) = uint32(v >> 32)
	}
	for b := 4 * g; b < len(row); b++ {
		v := row[b]
		if v < -1 || v > 1 {
			bad = 1
		}
		sum += int(v)
		dst[256*(b/4)+b%4] = v
	}
	if bad != 0 {
		panicNotTernary(row)
	}
	return int32(sum)
}

// panicNotTernary panics naming the first weight of w outside {-1,0,1}.
func panicNotTernary(w []int8) {
	for i, v := range w {
		if v < -1 || v > 1 {
			panic(fmt.Sprintf("kernels: TernaryMatrix.Set: weight %d of a panel is %d, want -1, 0 or 1", i, v))
		}
	}
	panic("kernels: TernaryMatrix.Set: weight outside {-1,0,1}")
}

// At returns w[i][j] (output i, input j).
func (t *TernaryMatrix) At(i, j int) int8 {
	if i < 0 || i >= t.N || j < 0 || j >= t.K {
		panic(fmt.Sprintf("kernels: TernaryMatrix.At(%d, %d) out of range (%d, %d)", i, j, t.N, t.K))
	}
	return t.w[t.index(i, j)]
}

func (t *TernaryMatrix) index(i, j int) int {
	p, c := i/bitPanel, i%bitPanel
	return ((p*t.kg+j/4)*bitPanel+c)*4 + j%4
}

// Unpack writes the weights back as a row-major (N,K) int8 matrix into dst.
func (t *TernaryMatrix) Unpack(dst []int8) {
	if len(dst) < t.N*t.K {
		panic(fmt.Sprintf("kernels: TernaryMatrix.Unpack: want %d weights, got len %d", t.N*t.K, len(dst)))
	}
	for i := 0; i < t.N; i++ {
		for j := 0; j < t.K; j++ {
			dst[i*t.K+j] = t.w[t.index(i, j)]
		}
	}
}

// TernaryGemm computes c(M,N) = x(M,K) · wᵀ with int8 activations and ternary weights, int32 sums.
// Outputs are split across the worker pool; integer sums make the result exact and independent of
// the thread count.
func TernaryGemm(c []int32, x []int8, w *TernaryMatrix, m int) {
	if m < 0 || len(c) < m*w.N || len(x) < m*w.K {
		panic(fmt.Sprintf("kernels: TernaryGemm: m=%d n=%d k=%d but len(c)=%d len(x)=%d", m, w.N, w.K, len(c), len(x)))
	}
	if m == 0 || w.N == 0 {
		return
	}
	bitGemm(c, nil, x, nil, w, 0, m)
}

// BitLinearForward is BitLinear's forward product with the rescale fused in:
//
//	out[i][j] = (float32(acc_ij) * wscale) / xscale[i],   acc_ij = Σ_k x[i][k]·w[j][k] (exact int32)
//
// in exactly that float32 order (convert, multiply, divide, each rounded to nearest even), so a
// reference that evaluates the same expression in Go matches bit for bit. out is (M,N), x (M,K) is
// the int8 activation (x_q = round(x·xscale[i]), QuantizeRowsInt8), w ≈ W/wscale (QuantizeTernary's
// return value). No int32 slab is used: each tile is rescaled in registers.
func BitLinearForward(out []float32, x []int8, xscale []float32, w *TernaryMatrix, wscale float32, m int) {
	if m < 0 || len(out) < m*w.N || len(x) < m*w.K || len(xscale) < m {
		panic(fmt.Sprintf("kernels: BitLinearForward: m=%d n=%d k=%d but len(out)=%d len(x)=%d len(xscale)=%d",
			m, w.N, w.K, len(out), len(x), len(xscale)))
	}
	if m == 0 || w.N == 0 {
		return
	}
	bitGemm(nil, out, x, xscale, w, wscale, m)
}

// TernaryGemmGeneric is the plain-Go version of TernaryGemm (the fallback and test oracle).
func TernaryGemmGeneric(c []int32, x []int8, w *TernaryMatrix, m int) {
	bitGemmGeneric(c, nil, x, nil, w, 0, m)
}

// BitLinearForwardGeneric is the plain-Go version of BitLinearForward.
func BitLinearForwardGeneric(out []float32, x []int8, xscale []float32, w *TernaryMatrix, wscale float32, m int) {
	bitGemmGeneric(nil, out, x, xscale, w, wscale, m)
}

// bitGemmGeneric writes int32 sums to ci, or, when ci is nil, the rescaled sums to cf. Rows are
// split across threads; each sum runs over k in order. It walks the packed layout one k-group
// (4 inputs x 64 columns) at a time, the same order the assembly uses.
func bitGemmGeneric(ci []int32, cf []float32, x []int8, xscale []float32, w *TernaryMatrix, wscale float32, m int) {
	n, k, kg := w.N, w.K, w.kg
	ParallelFor(m, max(1, (1<<14)/max(n*k, 1)), func(lo, hi int) {
		var acc [bitPanel]int32
		var xg [4]int32
		for i := lo; i < hi; i++ {
			xi := x[i*k : i*k+k]
			for p := 0; p*bitPanel < n; p++ {
				clear(acc[:])
				for g := 0; g < kg; g++ {
					clear(xg[:])
					for b := 0; b < 4 && 4*g+b < k; b++ {
						xg[b] = int32(xi[4*g+b])
					}
					grp := (*[bitPanel * 4]int8)(w.w[((p*kg+g)*bitPanel)*4:])
					for c := range acc {
						acc[c] += xg[0]*int32(grp[4*c]) + xg[1]*int32(grp[4*c+1]) + xg[2]*int32(grp[4*c+2]) + xg[3]*int32(grp[4*c+3])
					}
				}
				for c := 0; c < bitPanel && p*bitPanel+c < n; c++ {
					j := p*bitPanel + c
					if ci != nil {
						ci[i*n+j] = acc[c]
					} else {
						cf[i*n+j] = float32(acc[c]) * wscale / xscale[i]
					}
				}
			}
		}
	})
}
