//go:build ignore

// tgemm_gen.go writes tgemm_amd64.s, the micro-kernels of the batched 2-bit ternary product
// (tgemm.go). Run by hand (`go run tgemm_gen.go` in kernels/) after editing; the .s is committed.
//
// One kernel computes mr rows (1..16) x 16 columns (one strip): per block of 16 inputs it loads the
// strip's 64 code bytes once, decodes them into four VPDPBUSD operands (16 columns x 4 inputs each)
// with a shift and a mask, and multiplies each by every row's 4 activation bytes, broadcast straight
// from the row-major int8 activations (a memory operand of VPDPBUSD). Row r is addressed as
// x + r·K through eight index registers holding K, 3K, ..., 15K and the scales 1, 2, 4, 8, so no
// row pointers and no repacking of the activations are needed. The wide kernels (tgVNNIW, below)
// compute 5..12 rows x 32 columns, two strips at once, sharing each broadcast between them.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// Offsets into tgArgs (tgemm_amd64.go); TestTGArgsLayout checks them with unsafe.Offsetof.
const (
	offX      = 0   // unsafe.Pointer: row 0 of the tile, input 0
	offLd     = 8   // int: K, the row stride in bytes
	offW      = 16  // unsafe.Pointer: the strip's first block
	offKB     = 24  // int: blocks of 16 inputs
	offOut    = 32  // unsafe.Pointer: row 0's first output of the strip
	offLdo    = 40  // int: output row stride in bytes (4N)
	offMask   = 48  // uint64: the strip's columns present (16 bits)
	offWScale = 56  // float32
	offXScale = 60  // [16]float32
	offRowSum = 124 // [16]int32: Σ_k x[r][k]
)

// The wide kernels' row counts (tgemm_amd64.go has the same bounds).
const tgWideMin, tgWideMax = 5, 12

// tgPrefetch is how far ahead of the current block (bytes) the kernel prefetches the strip.
const tgPrefetch = 2048

// Index registers holding odd multiples of K: row r = odd·2^e is (SI)(reg(odd)*2^e).
var oddRegs = map[int]string{1: "R8", 3: "R9", 5: "R10", 7: "R11", 9: "R12", 11: "R13", 13: "BX", 15: "DX"}

// rowAddr is the address of row r's activations at byte disp of the current block.
func rowAddr(r, disp int) string {
	if r == 0 {
		return fmt.Sprintf("%d(SI)", disp)
	}
	odd, scale := r, 1
	for odd%2 == 0 {
		odd, scale = odd/2, scale*2
	}
	return fmt.Sprintf("%d(SI)(%s*%d)", disp, oddRegs[odd], scale)
}

// kernel writes tgVNNI<mr>. Registers: Z0..Z15 accumulators (row r, operand q -> Z(r + mr·(q mod
// sets)): rows below 9 use 2 or 4 sets so that at least 8 independent sums hide VPDPBUSD's latency),
// Z24..Z27 decoded operands, Z28 the raw codes, Z29 0x03 bytes.
func kernel(mr int) {
	name := fmt.Sprintf("tgVNNI%d", mr)
	sets := 1
	switch {
	case mr <= 4:
		sets = 4
	case mr <= 8:
		sets = 2
	}
	acc := func(r, q int) int { return r + mr*(q%sets) }
	p("")
	p("// func %s(a *tgArgs)", name)
	p("// Requires: AVX512F, AVX512BW, AVX512VNNI")
	p("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	p("\tMOVQ a+0(FP), DI")
	p("\tMOVQ %d(DI), SI", offX)
	p("\tMOVQ %d(DI), R8", offLd)
	// Odd multiples of K that rows below mr need.
	for odd := 3; odd < mr; odd += 2 {
		if odd == 3 {
			p("\tLEAQ (R8)(R8*2), %s", oddRegs[3])
			continue
		}
		p("\tLEAQ (%s)(R8*2), %s", oddRegs[odd-2], oddRegs[odd])
	}
	p("\tMOVL $0x03030303, AX")
	p("\tVPBROADCASTD AX, Z29")
	p("\tMOVQ %d(DI), CX", offW)
	p("\tMOVQ %d(DI), AX", offKB)
	for z := 0; z < mr*sets; z++ {
		p("\tVPXORD Z%d, Z%d, Z%d", z, z, z)
	}
	p("\tTESTQ AX, AX")
	p("\tJZ %s_done", name)
	p("%s_loop:", name)
	// 32 blocks ahead (into the next strip at the end: a prefetch never faults). Without it the weights
	// of a cold matrix arrived late: 16 rows of 4096 x 1536 ran at 259 against 374 G MAC/s hot; with
	// it 417 and 418 (one thread, Zen 5; 1024 bytes ahead: 391, 4096: 409).
	p("\tPREFETCHT0 %d(CX)", tgPrefetch)
	p("\tVMOVDQU64 (CX), Z28")
	p("\tVPANDD Z28, Z29, Z24")
	for q := 1; q < 4; q++ {
		p("\tVPSRLW $%d, Z28, Z%d", 2*q, 24+q)
		p("\tVPANDD Z%d, Z29, Z%d", 24+q, 24+q)
	}
	for q := 0; q < 4; q++ {
		for r := 0; r < mr; r++ {
			// codes (u8, w+1) · x (s8, 4 inputs broadcast to every column)
			p("\tVPDPBUSD.BCST %s, Z%d, Z%d", rowAddr(r, 4*q), 24+q, acc(r, q))
		}
	}
	p("\tADDQ $16, SI")
	p("\tADDQ $64, CX")
	p("\tDECQ AX")
	p("\tJNZ %s_loop", name)
	p("%s_done:", name)
	for s := 1; s < sets; s++ {
		for r := 0; r < mr; r++ {
			p("\tVPADDD Z%d, Z%d, Z%d", r+mr*s, r, r)
		}
	}
	p("\tKMOVW %d(DI), K1", offMask)
	p("\tMOVQ %d(DI), SI", offOut)
	p("\tMOVQ %d(DI), AX", offLdo)
	for r := 0; r < mr; r++ {
		// Σ (w+1)·x − Σ x = Σ w·x, then (float32(acc) · wscale) / xscale[r] as BitLinearForward.
		p("\tVPSUBD.BCST %d(DI), Z%d, Z%d", offRowSum+4*r, r, r)
		p("\tVCVTDQ2PS Z%d, Z%d", r, r)
		p("\tVMULPS.BCST %d(DI), Z%d, Z%d", offWScale, r, r)
		p("\tVDIVPS.BCST %d(DI), Z%d, Z%d", offXScale+4*r, r, r)
		p("\tVMOVUPS Z%d, K1, (SI)", r)
		if r+1 < mr {
			p("\tADDQ AX, SI")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
}

// wide writes tgVNNIW<mr>: mr rows (5..12) x 32 columns, two neighbouring strips (the second KB·64
// bytes after the first: DX). Per block it loads both strips' codes and decodes them per operand q
// just before q's products; each row's 4 activation bytes are broadcast once into a register
// (VPBROADCASTD) and feed both strips' VPDPBUSD. That halves the loads per VPDPBUSD of the 16-column
// kernel (whose 64 memory broadcasts per block kept it at ~85% of the instruction's register-only
// rate on Zen 5: two memory broadcasts per register operand here ran no faster than the 16-column
// kernel, one broadcast per register ~5-10% faster at 8 and 12 rows). Registers: Z0..Z(2mr-1)
// accumulators (row r, strip c -> Z(r + mr·c)), Z24/Z25 raw codes, Z26/Z27 decoded operands, Z29
// 0x03 bytes, Z28, Z30, Z31 broadcasts (rotated so neighbouring rows do not wait on one register).
// Rows below 5 would leave too few independent sums (2·mr) to hide VPDPBUSD's latency: the driver
// uses the 16-column kernels there.
func wide(mr int) {
	name := fmt.Sprintf("tgVNNIW%d", mr)
	acc := func(r, c int) int { return r + mr*c }
	p("")
	p("// func %s(a *tgArgs)", name)
	p("// Requires: AVX512F, AVX512BW, AVX512VNNI")
	p("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	p("\tMOVQ a+0(FP), DI")
	p("\tMOVQ %d(DI), SI", offX)
	p("\tMOVQ %d(DI), R8", offLd)
	for odd := 3; odd < mr; odd += 2 {
		if odd == 3 {
			p("\tLEAQ (R8)(R8*2), %s", oddRegs[3])
			continue
		}
		p("\tLEAQ (%s)(R8*2), %s", oddRegs[odd-2], oddRegs[odd])
	}
	p("\tMOVL $0x03030303, AX")
	p("\tVPBROADCASTD AX, Z29")
	p("\tMOVQ %d(DI), CX", offW)
	p("\tMOVQ %d(DI), AX", offKB)
	p("\tMOVQ AX, DX") // mr <= 12: DX (row 15's register) is free
	p("\tSHLQ $6, DX")
	p("\tLEAQ (DX)(DX*1), BX") // mr <= 12: BX (row 13's register) is free; CX+BX walks the next pair
	for z := 0; z < 2*mr; z++ {
		p("\tVPXORD Z%d, Z%d, Z%d", z, z, z)
	}
	p("\tTESTQ AX, AX")
	p("\tJZ %s_done", name)
	p("%s_loop:", name)
	// The strips 2 KiB ahead into L1 (as the 16-column kernels), and the next pair of strips (they
	// follow this pair in memory) into L2, two lines per block: one tile walks the whole next pair.
	// Without the second, a tile's second strip started cold from memory (its predecessor's
	// prefetch runs into the first strip only): 16 rows of 4608 x 1536 from memory ran at ~340 G MAC/s
	// (one thread, Zen 5)
	// against the 16-column kernels' ~400; prefetching both next strips at this block's offset
	// (CX + 2·DX, CX + 3·DX) instead of walking them in order ran at ~385-395.
	p("\tPREFETCHT0 %d(CX)", tgPrefetch)
	p("\tPREFETCHT0 %d(CX)(DX*1)", tgPrefetch)
	p("\tPREFETCHT1 (CX)(BX*1)")
	p("\tPREFETCHT1 64(CX)(BX*1)")
	p("\tADDQ $64, BX")
	p("\tVMOVDQU64 (CX), Z24")
	p("\tVMOVDQU64 (CX)(DX*1), Z25")
	bregs := []int{28, 30, 31}
	bi := 0
	for q := 0; q < 4; q++ {
		if q == 0 {
			p("\tVPANDD Z24, Z29, Z26")
			p("\tVPANDD Z25, Z29, Z27")
		} else {
			p("\tVPSRLW $%d, Z24, Z26", 2*q)
			p("\tVPANDD Z26, Z29, Z26")
			p("\tVPSRLW $%d, Z25, Z27", 2*q)
			p("\tVPANDD Z27, Z29, Z27")
		}
		for r := 0; r < mr; r++ {
			b := bregs[bi%len(bregs)]
			bi++
			p("\tVPBROADCASTD %s, Z%d", rowAddr(r, 4*q), b)
			p("\tVPDPBUSD Z%d, Z26, Z%d", b, acc(r, 0))
			p("\tVPDPBUSD Z%d, Z27, Z%d", b, acc(r, 1))
		}
	}
	p("\tADDQ $16, SI")
	p("\tADDQ $64, CX")
	p("\tDECQ AX")
	p("\tJNZ %s_loop", name)
	p("%s_done:", name)
	p("\tKMOVD %d(DI), K1", offMask) // 32 columns: the low 16 bits for the first strip
	p("\tKSHIFTRD $16, K1, K2")
	p("\tMOVQ %d(DI), SI", offOut)
	p("\tMOVQ %d(DI), AX", offLdo)
	for r := 0; r < mr; r++ {
		for c := 0; c < 2; c++ {
			z := acc(r, c)
			p("\tVPSUBD.BCST %d(DI), Z%d, Z%d", offRowSum+4*r, z, z)
			p("\tVCVTDQ2PS Z%d, Z%d", z, z)
			p("\tVMULPS.BCST %d(DI), Z%d, Z%d", offWScale, z, z)
			p("\tVDIVPS.BCST %d(DI), Z%d, Z%d", offXScale+4*r, z, z)
			p("\tVMOVUPS Z%d, K%d, %d(SI)", z, c+1, 64*c)
		}
		if r+1 < mr {
			p("\tADDQ AX, SI")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
}

func main() {
	p("// Code generated by command: go run tgemm_gen.go. DO NOT EDIT.")
	p("")
	p("//go:build !purego")
	p("")
	p("#include \"textflag.h\"")
	for mr := 1; mr <= 16; mr++ {
		kernel(mr)
	}
	for mr := tgWideMin; mr <= tgWideMax; mr++ {
		wide(mr)
	}
	if err := os.WriteFile("tgemm_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
