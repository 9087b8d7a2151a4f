package kernels

import (
	"fmt"
)

// NBitGemvBatch computes nv products of one n-bit packed matrix (as NBitGemv: N rows of
// ceil(K·bits/8) bytes, steps 1 or N) with nv int8 activation vectors q (nv x K, row v with inverse
// scale g[v]) into out (nv x N, row v the product with vector v): the int8 x n-bit GEMM of prefill and
// batched decoding. Each out row equals NBitGemv's result for that vector bit for bit (the same exact
// int32 sums and finishing). With AVX-512 VNNI, 2, 4 and 8 bits run 8 vectors at a time: each block of
// codes is read and unpacked once for all eight (nbitbatch_amd64.s); other widths, CPUs, and groups of
// fewer than 4 vectors run NBitGemv per vector.
func NBitGemvBatch(out []float32, w []byte, steps []float32, n, k, bits int, q []int8, g []float32, nv int) {
	rb := (k*bits + 7) / 8
	if nv < 0 || bits < 1 || bits > 8 || n < 0 || k < 0 || len(out) < nv*n || len(w) < n*rb || len(q) < nv*k || len(g) < nv || (len(steps) != 1 && len(steps) < n) {
		panic(fmt.Sprintf("kernels: NBitGemvBatch: nv=%d n=%d k=%d bits=%d len(out)=%d len(w)=%d len(q)=%d len(g)=%d len(steps)=%d", nv, n, k, bits, len(out), len(w), len(q), len(g), len(steps)))
	}
	if k >= 1<<15 {
		panic(fmt.Sprintf("kernels: NBitGemvBatch: k=%d too large for int32 sums", k))
	}
	kern, batch := nbitKernelFor(bits), nbitBatchFor(bits)
	for v0 := 0; v0 < nv; v0 += nbitBatchVecs {
		m := min(nbitBatchVecs, nv-v0)
		if batch == nil || kern == nil || m < 4 || k < kern.per || n == 0 {
			for v := v0; v < v0+m; v++ {
				NBitGemv(out[v*n:(v+1)*n], w, steps, n, k, bits, q[v*k:(v+1)*k], g[v])
			}
			continue
		}
		nbitBatch(out[v0*n:], w, steps, n, k, bits, q[v0*k:], g[v0:], m, kern, batch)
	}
}

// nbitBatchVecs is the number of vectors one batch kernel call multiplies.
const nbitBatchVecs = 8

// nbitBatch runs the batch kernel for m (4..8) vectors; the missing ones get zero planes and are dropped.
func nbitBatch(out []float32, w []byte, steps []float32, n, k, bits int, q []int8, g []float32, m int, kern *nbitKernel, batch func(dots *int32, w *byte, rb, rows, blocks int, planes *int8)) {
	rb := (k*bits + 7) / 8
	blocks := k / kern.per
	kc := blocks * kern.per
	var sx, off [nbitBatchVecs]int32
	bp := planePool.Get().(*[]int8)
	all := *bp
	if cap(all) < nbitBatchVecs*kc+kc {
		all = make([]int8, nbitBatchVecs*kc+kc)
	}
	all = all[:nbitBatchVecs*kc+kc]
	one, planes := all[nbitBatchVecs*kc:], all[:nbitBatchVecs*kc]
	for v := 0; v < nbitBatchVecs; v++ {
		if v >= m {
			for b := 0; b < blocks; b++ {
				clear(planes[(b*nbitBatchVecs+v)*kern.per : (b*nbitBatchVecs+v+1)*kern.per])
			}
			continue
		}
		qv := q[v*k : (v+1)*k]
		for _, x := range qv {
			sx[v] += int32(x)
		}
		off[v] = (int32(1)<<bits - 1) * sx[v]
		p := nbitPlanes(one, qv, kc, bits, kern.lanes) // one vector's planes, then interleaved block-major
		for b := 0; b < blocks; b++ {
			copy(planes[(b*nbitBatchVecs+v)*kern.per:(b*nbitBatchVecs+v+1)*kern.per], p[b*kern.per:(b+1)*kern.per])
		}
	}
	t := min(Threads(), (n+63)/64)
	parallelChunks(n, t, gemvChunks(n, t), func(lo, hi int) {
		var dots [64 * nbitBatchVecs]int32
		for r := lo; r < hi; r += 64 {
			rows := min(64, hi-r)
			batch(&dots[0], &w[r*rb], rb, rows, blocks, &planes[0])
			for v := 0; v < m; v++ {
				y, qv := out[v*n:(v+1)*n], q[v*k:(v+1)*k]
				for i := 0; i < rows; i++ {
					d := dots[i*nbitBatchVecs+v]
					if kc < k {
						nbitFinish(y, w, steps, r+i, kc, k, bits, qv, d, sx[v], g[v])
						continue
					}
					s := steps[0]
					if len(steps) > 1 {
						s = steps[r+i]
					}
					y[r+i] = s / (2 * g[v]) * float32(2*d-off[v])
				}
			}
		}
	})
	*bp = all
	planePool.Put(bp)
}
