package kernels

// AMX paths (Intel Advanced Matrix Extensions: Sapphire Rapids and later): the bf16 GEMM on
// TDPBF16PS and the int8 x ternary GEMM on TDPBSSD. Both run the same assembly block (amx_amd64.s):
// a 32 x 32 block of fp32 or int32 sums in tiles 0-3, from two 16-row tiles of A (tiles 4, 5) and
// two 16-column tiles of B (tiles 6, 7) per step of 64 bytes of K (16 bf16 pairs, or 16 groups of
// 4 int8). This file holds everything around that block in plain Go: the tile configuration, the
// packing, the drivers and their epilogues, so that tests can run the drivers over a Go emulation
// of the tile instructions (amx_emu_test.go) on CPUs without AMX.
//
// bf16 (kernelAMXBF16, through Sgemm's driver, sgemm_blocked.go): A panels are row-major pairs
// (row r's pair q at dword r*kq+q; TILELOADD reads rows), B panels are packBF16's pair rows (pair
// q of column c at dword q*32+c: the "VNNI" layout TDPBF16PS wants). Intel's pseudo-code for
// TDPBF16PS adds a pair's even (low) product before its odd one, each rounded like an FMA; VDPBF16PS
// adds the odd one first (and the other paths follow it, bgemm.go). So both AMX panels hold each
// pair swapped, p+1 low and p high, and the sums are the other paths' bit for bit. K is padded
// with zeros to whole steps of 16 pairs: adding +0 leaves every sum unchanged, since a sum that
// starts at +0 is never -0 under round-to-nearest. An odd K's last pair has +0 x +0 in the missing
// slot, as the other paths have.
//
// int8 x ternary (amxTernary): the weight panels of TernaryMatrix already are VNNI layout (k-group
// g of column c at bytes ((p*KG+g)*64+c)*4), so B tiles read them in place, 256 bytes a row. The
// activations are copied once per call into rows padded with zeros to whole steps (64 bytes) and
// whole 32-row blocks, so the tiles never read past them and the B tiles' rows past K (the next
// panel's, or NewTernaryMatrix's slack after the last) meet zeros. TDPBSSD multiplies signed by
// signed bytes, so no offset correction is needed; the int32 sums are exact.

import (
	"fmt"
	"sync"
	"unsafe"
)

const (
	amxRows = 16 // rows of a tile
	amxStep = 64 // bytes of K per step: one tile row
	amxMR   = 32 // rows of the block one assembly call computes
	amxNR   = 32 // columns
)

// amxConfig is LDTILECFG's 64-byte operand: byte 0 the palette, bytes 16+2t the bytes per row of
// tile t (uint16), byte 48+t its rows.
type amxConfig [64]byte

// amxCfg: palette 1, all eight tiles 16 rows x 64 bytes (the largest palette 1 allows).
var amxCfg = func() (c amxConfig) {
	c[0] = 1
	for t := range 8 {
		c[16+2*t] = amxStep
		c[48+t] = amxRows
	}
	return c
}()

// amxOverread is how far past a TernaryMatrix's last panel the B tiles may read (a step's 16
// k-group rows of 256 bytes): NewTernaryMatrix allocates it, zero, after the panels.
const amxOverread = amxRows * bitPanel * 4

// kernelAMXBF16 is the AMX bf16 micro-kernel for Sgemm's driver: 32 x 32 blocks, k = pairs of the
// panel (a multiple of 16).
var kernelAMXBF16 = gemmKernel{name: "amx", mr: amxMR, nr: amxNR, kc: bgemmKC, mb: 4, nb: 8, mc: amxMR * 4 * 8, nc: 2048, pack: packBF16AMX, run: runAMXBF16}

func runAMXBF16(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool) {
	var acc [amxMR * amxNR]float32
	amxBlockBF16(&amxCfg, unsafe.Pointer(a), 4*k, unsafe.Pointer(b), 4*amxNR, unsafe.Pointer(&acc[0]), k/(amxStep/4))
	amxEpilogue(&acc, c, ldc, alpha, beta, rows, cols, load)
}

// amxEpilogue writes the block's sums into C as every bf16 path does: C = alpha*acc, or with load
// C = alpha*acc + beta*C (two roundings; for beta 0 and 1 the same bits as the fused assembly
// epilogues).
func amxEpilogue(acc *[amxMR * amxNR]float32, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool) {
	cs := unsafe.Slice(c, (rows-1)*ldc+cols)
	for r := range rows {
		cr := cs[r*ldc : r*ldc+cols]
		for j := range cr {
			t := alpha * acc[r*amxNR+j]
			if load {
				t += beta * cr[j]
			}
			cr[j] = t
		}
	}
}

// amxPairs is the number of pairs in an AMX panel of depth kc: whole pairs, padded to whole steps.
func amxPairs(kc int) int {
	const perStep = amxStep / 4
	return ((kc+1)/2 + perStep - 1) / perStep * perStep
}

// packAMXBF16 packs an AMX bf16 panel (see the top of this file): with rows, A's layout (lane c's
// pair q at dword c*kq+q), else B's (at q*width+c); lanes c < n of kc steps of the operand (opAt),
// each pair swapped, zero padded.
func packAMXBF16(rows bool, dst []float32, runs bool, src []float32, ld, n, width, kc int) {
	kq := amxPairs(kc)
	d := unsafe.Slice((*uint32)(unsafe.Pointer(&dst[0])), kq*width)
	for c := range width {
		for q := range kq {
			var v uint32
			if c < n && 2*q < kc {
				v = uint32(bf16Bits(opAt(runs, src, ld, c, 2*q))) << 16
				if 2*q+1 < kc {
					v |= uint32(bf16Bits(opAt(runs, src, ld, c, 2*q+1)))
				}
			}
			if rows {
				d[c*kq+q] = v
			} else {
				d[q*width+c] = v
			}
		}
	}
}

// amxTernary is TernaryGemm (cf nil) or BitLinearForward (ci nil) on AMX-INT8 blocks. emulate, for
// tests, runs the Go emulation of the tile instructions (one amxEmu per thread) instead of the
// hardware.
func amxTernary(emulate bool, ci []int32, cf []float32, x []int8, xscale []float32, w *TernaryMatrix, wscale float32, m int) {
	n, k, kg := w.N, w.K, w.kg
	steps := (kg + amxRows - 1) / amxRows
	kp := steps * amxStep
	rowBlocks := (m + amxMR - 1) / amxMR
	cols := (n + amxNR - 1) / amxNR
	xb := getAMXBuf(rowBlocks * amxMR * kp)
	defer putAMXBuf(xb)
	ParallelFor(rowBlocks*amxMR, max(1, 1<<16/kp), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := xb.b[i*kp : (i+1)*kp]
			if i < m {
				copy(row, x[i*k:i*k+k])
				clear(row[k:])
			} else {
				clear(row)
			}
		}
	})
	// Tiles are strip-major (as bitGemmTiled's): consecutive blocks on a thread share a weight strip.
	ParallelFor(rowBlocks*cols, max(1, (1<<20)/(amxMR*amxNR*max(k, 1))), func(lo, hi int) {
		var acc [amxMR * amxNR]int32
		var emu *amxEmu
		if emulate {
			emu = new(amxEmu)
		}
		for t := lo; t < hi; t++ {
			s, rb := t/rowBlocks, t%rowBlocks
			r0, c0 := rb*amxMR, s*amxNR
			a := unsafe.Pointer(&xb.b[r0*kp])
			b := unsafe.Pointer(unsafe.SliceData(w.w))
			b = unsafe.Add(b, ((c0/bitPanel)*kg*bitPanel+c0%bitPanel)*4)
			if emu != nil {
				emu.block(emu.tdpbssd, &amxCfg, a, kp, b, bitPanel*4, unsafe.Pointer(&acc[0]), steps)
			} else {
				amxBlockInt8(&amxCfg, a, kp, b, bitPanel*4, unsafe.Pointer(&acc[0]), steps)
			}
			for r := range min(amxMR, m-r0) {
				i := r0 + r
				for j := range min(amxNR, n-c0) {
					v := acc[r*amxNR+j]
					if ci != nil {
						ci[i*n+c0+j] = v
					} else {
						cf[i*n+c0+j] = float32(v) * wscale / xscale[i]
					}
				}
			}
		}
	})
}

// amxBuf is a reusable activation buffer (a free list, like gemmStates, so steady-state calls do
// not allocate).
type amxBuf struct{ b []int8 }

var amxBufs struct {
	sync.Mutex
	free []*amxBuf
}

func getAMXBuf(n int) *amxBuf {
	amxBufs.Lock()
	var b *amxBuf
	if l := len(amxBufs.free); l > 0 {
		b = amxBufs.free[l-1]
		amxBufs.free = amxBufs.free[:l-1]
	}
	amxBufs.Unlock()
	if b == nil {
		b = new(amxBuf)
	}
	if cap(b.b) < n {
		b.b = make([]int8, n)
	}
	b.b = b.b[:n]
	return b
}

func putAMXBuf(b *amxBuf) {
	amxBufs.Lock()
	amxBufs.free = append(amxBufs.free, b)
	amxBufs.Unlock()
}

// AMXStatus says whether the AMX kernels run here and, if not, why (for logs and test skips).
func AMXStatus() string {
	if hasAMX {
		return "amx: in use (AMX-TILE, AMX-BF16, AMX-INT8; tile data granted by the OS)"
	}
	if detected.amx {
		return "amx: available, not in use (implementation " + Impl() + " pinned)"
	}
	if amxWhyNot == "" {
		return "amx: not available: assembly disabled (TERN_NOASM) or no AVX512_BF16"
	}
	return fmt.Sprintf("amx: not available: %s", amxWhyNot)
}
