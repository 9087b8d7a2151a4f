//go:build ignore

// sgemvf16_gen.go writes sgemvf16_amd64.s, the AVX-512 kernels of SgemvF16 and SgemvF16Batch. Run
// by hand (`go generate ./kernels` or `go run sgemvf16_gen.go` in kernels/) after editing; the .s is
// committed. A plain text generator: the kernels are one loop unrolled over rows and vectors.
//
// One summation rule for every (row, vector) product, whatever the tile: a single 16-lane
// accumulator takes the 16-element groups j = 0, 16, ..., k16-16 in order (VFMADD231PS, starting
// from zero), then its lanes fold as a fixed tree: lane i + lane i+8, then i + i+4, then i + i+2,
// then 0 + 1. So SgemvF16 (tiles of 4 rows x 1 vector) and SgemvF16Batch (4 rows x up to 6 vectors)
// give the same bits, and a row's result does not depend on the rows or vectors beside it.
//
// A tile's 4 rows are rs rows apart and the next tile starts ts rows on: the drivers take rs = a
// quarter of the rows at hand and ts = 1, so the table streams from memory as 4 sequential reads.
// 4 neighbouring rows side by side (rs = 1, ts = 4) read the table from DRAM at ~60% of the speed
// (measured, Zen 5: 18 against 30 GB/s on one thread), and a row at a time waits on its one
// accumulator's FMA latency.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// Register plan. General: DI y (tile base), R8 loop counter (groups) and at the fold y's vector
// stride in bytes, SI a (tile base), R9 the byte distance of a tile's rows (rs·lda·2; 4-row
// kernels) or a's row stride in bytes (1-row kernels), DX x, R10 x's vector stride in bytes, CX
// tiles left, R11 groups of 16 per product; in the loop AX row 0 (rows 0, 2 at (AX), (AX)(R9*2)),
// R12 row 1 (rows 1, 3), BX vector 0 (vectors 0, 1, 2, 4), R13 vector 3 (3, 5).
// Vector: Z0..Z23 accumulators, product (r, v) in Z(r·nv+v); Z24..Z27 the widened rows; Z28, Z29
// vectors; Z31 the lane-gather index (4-row kernels).
const maxV = 6

func xAddr(v int) string {
	return [...]string{"(BX)", "(BX)(R10*1)", "(BX)(R10*2)", "(R13)", "(BX)(R10*4)", "(R13)(R10*2)"}[v]
}

func aAddr(r int) string { return [...]string{"(AX)", "(R12)", "(AX)(R9*2)", "(R12)(R9*2)"}[r] }

// kernel writes sgemvF16R<nr>x<nv>AVX512, count tiles of nr (1 or 4) rows against nv vectors.
func kernel(nr, nv int) {
	name := fmt.Sprintf("sgemvF16R%dx%dAVX512", nr, nv)
	l := fmt.Sprintf("r%dx%d", nr, nv)
	p("")
	args, frame := "ldx, count, k16 int", 64
	if nr == 4 {
		args, frame = "ldx, rs, ts, count, k16 int, pf *uint16, pfstep int", 96
	}
	p("// func %s(y *float32, ldy int, a *uint16, lda int, x *float32, %s)", name, args)
	p("// Requires: AVX512F, AVX512DQ, AVX512VL")
	p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
	p("\tMOVQ y+0(FP), DI")
	p("\tMOVQ a+16(FP), SI")
	p("\tMOVQ lda+24(FP), R9")
	p("\tSHLQ $1, R9")
	if nr == 4 {
		p("\tIMULQ rs+48(FP), R9")
	}
	if nr == 4 {
		p("\tMOVQ pf+80(FP), DX")
	} else {
		p("\tMOVQ x+32(FP), DX")
	}
	p("\tMOVQ ldx+40(FP), R10")
	p("\tSHLQ $2, R10")
	p("\tMOVQ count+%d(FP), CX", map[int]int{1: 48, 4: 64}[nr])
	p("\tMOVQ k16+%d(FP), R11", map[int]int{1: 56, 4: 72}[nr])
	p("\tSHRQ $4, R11")
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", l)
	if nr == 4 {
		p("\tVMOVDQU32 sgemvF16Gather<>(SB), Z31")
	}
	p("%s_tile:", l)
	for i := 0; i < nr*nv; i++ {
		p("\tVXORPS Z%d, Z%d, Z%d", i, i, i)
	}
	p("\tMOVQ SI, AX")
	if nr == 4 {
		p("\tLEAQ (SI)(R9*1), R12")
	}
	if nr == 4 {
		// DX: the prefetch pointer, two lines per group of 16 columns; x from the arguments.
		p("\tMOVQ x+32(FP), BX")
	} else {
		p("\tMOVQ DX, BX")
	}
	if nv > 3 {
		p("\tLEAQ (BX)(R10*2), R13")
		p("\tADDQ R10, R13")
	}
	p("\tMOVQ R11, R8")
	p("%s_loop:", l)
	if nr == 4 {
		p("\tPREFETCHT0 (DX)")
		p("\tPREFETCHT0 64(DX)")
		p("\tADDQ pfstep+88(FP), DX")
		for r := 0; r < 4; r++ {
			p("\tVCVTPH2PS %s, Z%d", aAddr(r), 24+r)
		}
		for v := 0; v < nv; v++ {
			xr := 28 + v%2
			p("\tVMOVUPS %s, Z%d", xAddr(v), xr)
			for r := 0; r < 4; r++ {
				p("\tVFMADD231PS Z%d, Z%d, Z%d", xr, 24+r, r*nv+v)
			}
		}
		p("\tADDQ $32, R12")
	} else {
		p("\tVCVTPH2PS (AX), Z24")
		for v := 0; v < nv; v++ {
			p("\tVFMADD231PS %s, Z24, Z%d", xAddr(v), v)
		}
	}
	p("\tADDQ $32, AX")
	p("\tADDQ $64, BX")
	if nv > 3 {
		p("\tADDQ $64, R13")
	}
	p("\tDECQ R8")
	p("\tJNZ %s_loop", l)
	// Results: vector v's at BX = DI + v·ldy; a 4-row tile's row r rs floats further on (R13 = rs·4).
	p("\tMOVQ ldy+8(FP), R8")
	p("\tSHLQ $2, R8")
	p("\tMOVQ DI, BX")
	if nr == 4 {
		p("\tMOVQ rs+48(FP), R13")
		p("\tSHLQ $2, R13")
	}
	for v := 0; v < nv; v++ {
		if v > 0 {
			p("\tADDQ R8, BX")
		}
		if nr == 4 {
			fold4(v, nv)
			p("\tVMOVSS X24, (BX)")
			p("\tVEXTRACTPS $1, X24, (BX)(R13*1)")
			p("\tVEXTRACTPS $2, X24, (BX)(R13*2)")
			p("\tLEAQ (BX)(R13*2), AX")
			p("\tVEXTRACTPS $3, X24, (AX)(R13*1)")
		} else {
			fold1(v)
			p("\tVMOVSS X24, (BX)")
		}
	}
	if nr == 4 {
		// The next tile: ts rows on.
		p("\tMOVQ ts+56(FP), AX")
		p("\tLEAQ (DI)(AX*4), DI")
		p("\tIMULQ lda+24(FP), AX")
		p("\tLEAQ (SI)(AX*2), SI")
	} else {
		p("\tMOVQ lda+24(FP), AX")
		p("\tLEAQ (SI)(AX*2), SI")
		p("\tADDQ $4, DI")
	}
	p("\tDECQ CX")
	p("\tJNZ %s_tile", l)
	p("%s_done:", l)
	p("\tVZEROUPPER")
	p("\tRET")
}

// fold1 folds accumulator Z(v) into X24's low float (the lane tree; Z24, Z25 temporaries).
func fold1(v int) {
	p("\tVEXTRACTF64X4 $1, Z%d, Y24", v)
	p("\tVADDPS Y24, Y%d, Y24", v)
	p("\tVEXTRACTF32X4 $1, Y24, X25")
	p("\tVADDPS X25, X24, X24")
	p("\tVPERMILPS $0x4e, X24, X25")
	p("\tVADDPS X25, X24, X24")
	p("\tVPERMILPS $0xb1, X24, X25")
	p("\tVADDSS X25, X24, X24")
}

// fold4 folds the accumulators of rows 0-3 against vector v into X24 (row r in float r), each by
// the same lane tree as fold1, four at a time. Z24..Z27 temporaries.
func fold4(v, nv int) {
	a, b, c, d := v, nv+v, 2*nv+v, 3*nv+v
	// Lanes i + i+8: rows 0|1 into Z24 (row 0 in floats 0-7, row 1 in 8-15), rows 2|3 into Z26.
	p("\tVSHUFF64X2 $0x44, Z%d, Z%d, Z24", b, a)
	p("\tVSHUFF64X2 $0xee, Z%d, Z%d, Z25", b, a)
	p("\tVADDPS Z25, Z24, Z24")
	p("\tVSHUFF64X2 $0x44, Z%d, Z%d, Z26", d, c)
	p("\tVSHUFF64X2 $0xee, Z%d, Z%d, Z27", d, c)
	p("\tVADDPS Z27, Z26, Z26")
	// Lanes i + i+4: row r in the 128-bit lane r.
	p("\tVSHUFF32X4 $0x88, Z26, Z24, Z25")
	p("\tVSHUFF32X4 $0xdd, Z26, Z24, Z27")
	p("\tVADDPS Z27, Z25, Z25")
	// i + i+2, then 0 + 1, in each 128-bit lane; then float 0 of each lane to floats 0-3.
	p("\tVPERMILPS $0x4e, Z25, Z27")
	p("\tVADDPS Z27, Z25, Z25")
	p("\tVPERMILPS $0xb1, Z25, Z27")
	p("\tVADDPS Z27, Z25, Z25")
	p("\tVPERMPS Z25, Z31, Z24")
}

func main() {
	p("// Code generated by command: go run sgemvf16_gen.go. DO NOT EDIT.")
	p("")
	p("//go:build !purego")
	p("")
	p("// The AVX-512 kernels of SgemvF16 and SgemvF16Batch (see sgemvf16_gen.go for the summation rule).")
	p("// func sgemvF16R4x<V>AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, rs, ts, count, k16 int, pf *uint16, pfstep int)")
	p("// y[v·ldy + i] = Σ_{j<k16} a[i·lda + j]·x[v·ldx + j] for the rows i = t·ts + r·rs, tiles t < count,")
	p("// r < 4, and vectors v < V; per 16 columns it prefetches the 128 bytes at pf, which then moves")
	p("// pfstep bytes on (128: the driver's next chunk of rows; 0: nothing new). sgemvF16R1x<V>AVX512")
	p("// (no rs, ts, pf, pfstep): rows i < count one at a time.")
	p("// k16 is a positive multiple of 16 (the Go driver adds the rest).")
	p("")
	p("#include \"textflag.h\"")
	p("")
	p("// Float 4r of a zmm to float r (the 4-row fold's last step).")
	for i := 0; i < 16; i++ {
		p("DATA sgemvF16Gather<>+%d(SB)/4, $%d", 4*i, (4*i)%16)
	}
	p("GLOBL sgemvF16Gather<>(SB), RODATA|NOPTR, $64")
	for _, nr := range []int{4, 1} {
		for nv := 1; nv <= maxV; nv++ {
			kernel(nr, nv)
		}
	}
	if err := os.WriteFile("sgemvf16_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
