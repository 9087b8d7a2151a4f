// nbitgemv.go is the decoding product of an n-bit packed matrix (widths 1, 2, 3, 4, 8 of quant/width.go,
// quant/packbits.go's row layout) with one int8-quantized activation vector. This file holds the
// dispatcher and the plain-Go reference; nbitgemv_amd64.* hold the SIMD kernels, checked against it:
// AVX-512 VNNI for 1, 2, 4 and 8 bits, AVX-512 VBMI for 3 bits, AVX2 for 2, 4 and 8 bits (over full
// blocks; the Go code finishes each row's tail). Other widths and CPUs run the Go reference.
package kernels

import (
	"fmt"
	"sync"
)

// nbitKernel is one SIMD path for a width: the bytes of a row one block takes, the codes in them, the
// lanes of its activation planes (0: the activations in natural order), and the kernel.
type nbitKernel struct {
	name  string
	bytes int
	per   int
	lanes int
	dots  func(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
}

// NBitGemv computes y (N) for the packed codes w (N rows of ceil(K·bits/8) bytes, code j of a row at
// bits j·bits.., little-endian), steps (1 or N) and activations q (K) with inverse scale g (x ≈ q/g):
//
//	y[i] = step_i/(2g) · (2·Σ_j u_ij·q_j - (2^bits-1)·Σ_j q_j)
//
// that is Σ_j (u_ij - (2^bits-1)/2)·step_i·q_j/g, with exact int32 sums (|2·Σ u·q| <= 2·255·128·K
// fits for K < 32768; larger K panics). Rows are split across the worker pool.
func NBitGemv(y []float32, w []byte, steps []float32, n, k, bits int, q []int8, g float32) {
	rb := (k*bits + 7) / 8
	if bits < 1 || bits > 8 || n < 0 || k < 0 || len(y) < n || len(w) < n*rb || len(q) < k || (len(steps) != 1 && len(steps) < n) {
		panic(fmt.Sprintf("kernels: NBitGemv: n=%d k=%d bits=%d len(y)=%d len(w)=%d len(q)=%d len(steps)=%d", n, k, bits, len(y), len(w), len(q), len(steps)))
	}
	if k >= 1<<15 {
		panic(fmt.Sprintf("kernels: NBitGemv: k=%d too large for int32 sums", k))
	}
	var sx int32
	for _, v := range q[:k] {
		sx += int32(v)
	}
	kern := nbitKernelFor(bits)
	if kern == nil || k < kern.per || n == 0 {
		ParallelFor(n, max(1, 16384/max(rb, 1)), func(lo, hi int) {
			nbitRowsGeneric(y, w, steps, lo, hi, k, bits, q, sx, g)
		})
		return
	}
	blocks := k / kern.per
	kc, off := blocks*kern.per, (int32(1)<<bits-1)*sx
	bp := planePool.Get().(*[]int8)
	planes := nbitPlanes(*bp, q, kc, bits, kern.lanes)
	// Rows are handed out in chunks from a shared counter (as TernaryGemv does); see parallelChunks.
	t := min(Threads(), (n+63)/64)
	parallelChunks(n, t, gemvChunks(n, t), func(lo, hi int) {
		var dots [64]int32
		for r := lo; r < hi; r += 64 {
			m := min(64, hi-r)
			kern.dots(&dots[0], &w[r*rb], rb, m, blocks, &planes[0])
			if kc < k { // a tail the blocks left
				for i := 0; i < m; i++ {
					nbitFinish(y, w, steps, r+i, kc, k, bits, q, dots[i], sx, g)
				}
				continue
			}
			for i, d := range dots[:m] { // nbitFinish without a tail, in the same operations
				s := steps[0]
				if len(steps) > 1 {
					s = steps[r+i]
				}
				y[r+i] = s / (2 * g) * float32(2*d-off)
			}
		}
	})
	if kern.lanes != 0 { // planes is the pool's buffer, not q
		*bp = planes
	}
	planePool.Put(bp)
}

// NBitGemvPath names the implementation NBitGemv uses for bits (for benchmarks and logs).
func NBitGemvPath(bits int) string {
	if k := nbitKernelFor(bits); k != nil {
		return k.name
	}
	return "go"
}

// planePool holds activation-plane buffers (one per concurrent NBitGemv call).
var planePool = sync.Pool{New: func() any { return new([]int8) }}

// nbitPlanes rearranges the first kc activations (kc a multiple of a block's codes) into a SIMD kernel's
// planes: per block of `lanes` bytes of codes, plane s lane i holds the activation of code (8/bits)·i + s,
// the code that sits in bit field s of byte i. With lanes 0 the kernel reads the activations as they are.
func nbitPlanes(buf []int8, q []int8, kc, bits, lanes int) []int8 {
	if lanes == 0 {
		return q[:kc]
	}
	if cap(buf) < kc {
		buf = make([]int8, kc)
	}
	buf = buf[:kc]
	p := 8 / bits
	per := lanes * p
	for b := 0; b < kc; b += per {
		blk, src := buf[b:b+per], q[b:b+per]
		switch p {
		case 2:
			p0, p1 := blk[:lanes], blk[lanes:2*lanes]
			for i := range p0 {
				s := src[2*i : 2*i+2]
				p0[i], p1[i] = s[0], s[1]
			}
		case 4:
			p0, p1, p2, p3 := blk[:lanes], blk[lanes:2*lanes], blk[2*lanes:3*lanes], blk[3*lanes:4*lanes]
			for i := range p0 {
				s := src[4*i : 4*i+4]
				p0[i], p1[i], p2[i], p3[i] = s[0], s[1], s[2], s[3]
			}
		default:
			for i := 0; i < lanes; i++ {
				for s := 0; s < p; s++ {
					blk[s*lanes+i] = src[p*i+s]
				}
			}
		}
	}
	return buf
}

// nbitFinish adds row i's codes [from, k) to dot (the tail the SIMD blocks left) and writes y[i].
func nbitFinish(y []float32, w []byte, steps []float32, i, from, k, bits int, q []int8, dot, sx int32, g float32) {
	rb := (k*bits + 7) / 8
	row := w[i*rb : i*rb+rb]
	mask := uint16(1)<<bits - 1
	for j := from; j < k; j++ {
		bit := j * bits
		v := uint16(row[bit/8])
		if bit/8+1 < rb {
			v |= uint16(row[bit/8+1]) << 8
		}
		dot += int32(v>>(bit%8)&mask) * int32(q[j])
	}
	s := steps[0]
	if len(steps) > 1 {
		s = steps[i]
	}
	y[i] = s / (2 * g) * float32(2*dot-(int32(1)<<bits-1)*sx)
}

// nbitRowsGeneric is the reference for rows [lo, hi).
func nbitRowsGeneric(y []float32, w []byte, steps []float32, lo, hi, k, bits int, q []int8, sx int32, g float32) {
	for i := lo; i < hi; i++ {
		nbitFinish(y, w, steps, i, 0, k, bits, q, 0, sx, g)
	}
}
