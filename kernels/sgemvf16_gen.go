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
// stride in bytes, SI a (tile base), R9 a's row stride in bytes, DX x, R10 x's vector stride in
// bytes, CX tiles left, R11 groups of 16 per product; in the loop AX row 0 (rows 0, 2 at (AX),
// (AX)(R9*2)), R12 row 1 (rows 1, 3), BX vector 0 (vectors 0, 1, 2, 4), R13 vector 3 (3, 5).
// Vector: Z0..Z23 accumulators, product (r, v) in Z(r·nv+v); Z24..Z27 the widened rows; Z28, Z29
// vectors; Z31 the lane-gather index (4-row kernels).
const maxV = 6

func xAddr(v int) string {
	return [...]string{"(BX)", "(BX)(R10*1)", "(BX)(R10*2)", "(R13)", "(BX)(R10*4)", "(R13)(R10*2)"}[v]
}

func aAddr(r int) string { return [...]string{"(AX)", "(R12)", "(AX)(R9*2)", "(R12)(R9*2)"}[r] }

// yAddr: where vector v's result goes, relative to DI; uses AX as a temporary for v = 3, 5.
func yAddr(v int) (setup, addr string) {
	switch v {
	case 0:
		return "", "(DI)"
	case 1:
		return "", "(DI)(R8*1)"
	case 2:
		return "", "(DI)(R8*2)"
	case 3:
		return "LEAQ (DI)(R8*2), AX", "(AX)(R8*1)"
	case 4:
		return "", "(DI)(R8*4)"
	}
	return "LEAQ (DI)(R8*4), AX", "(AX)(R8*1)"
}

// kernel writes sgemvF16T<nr>x<nv>AVX512: count tiles of nr (1 or 4) rows against nv vectors.
func kernel(nr, nv int) {
	name := fmt.Sprintf("sgemvF16T%dx%dAVX512", nr, nv)
	l := fmt.Sprintf("t%dx%d", nr, nv)
	p("")
	p("// func %s(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)", name)
	p("// Requires: AVX512F, AVX512DQ, AVX512VL")
	p("TEXT ·%s(SB), NOSPLIT, $0-64", name)
	p("\tMOVQ y+0(FP), DI")
	p("\tMOVQ a+16(FP), SI")
	p("\tMOVQ lda+24(FP), R9")
	p("\tSHLQ $1, R9")
	p("\tMOVQ x+32(FP), DX")
	p("\tMOVQ ldx+40(FP), R10")
	p("\tSHLQ $2, R10")
	p("\tMOVQ count+48(FP), CX")
	p("\tMOVQ k16+56(FP), R11")
	p("\tSHRQ $4, R11")
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", l)
	if nr == 4 {
		p("\tVMOVDQU32 ·sgemvF16Gather(SB), Z31")
	}
	p("%s_tile:", l)
	for i := 0; i < nr*nv; i++ {
		p("\tVXORPS Z%d, Z%d, Z%d", i, i, i)
	}
	p("\tMOVQ SI, AX")
	if nr == 4 {
		p("\tLEAQ (SI)(R9*1), R12")
	}
	p("\tMOVQ DX, BX")
	if nv > 3 {
		p("\tLEAQ (DX)(R10*2), R13")
		p("\tADDQ R10, R13")
	}
	p("\tMOVQ R11, R8")
	p("%s_loop:", l)
	if nr == 4 {
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
	p("\tMOVQ ldy+8(FP), R8")
	p("\tSHLQ $2, R8")
	for v := 0; v < nv; v++ {
		setup, addr := yAddr(v)
		if nr == 4 {
			fold4(v, nv)
			if setup != "" {
				p("\t%s", setup)
			}
			p("\tVMOVUPS X24, %s", addr)
		} else {
			fold1(v)
			if setup != "" {
				p("\t%s", setup)
			}
			p("\tVMOVSS X24, %s", addr)
		}
	}
	if nr == 4 {
		p("\tLEAQ (SI)(R9*4), SI")
		p("\tADDQ $16, DI")
	} else {
		p("\tADDQ R9, SI")
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

// spaced writes sgemvF16S4AVX512(y *float32, ys int, a *uint16, rs, lda int, x *float32, count, k16 int):
// SgemvF16's kernel. Tile t < count takes the rows t, t+rs, t+2rs, t+3rs of a (rows lda values
// apart) against one vector and writes y[t + r·ys]. Four rows far apart are four sequential
// streams through memory; four neighbouring rows read side by side run at ~60% of the bandwidth
// from DRAM (measured, Zen 5), and one row at a time waits on its one accumulator.
func spaced() {
	name := "sgemvF16S4AVX512"
	l := "s4"
	p("")
	p("// func %s(y *float32, ys int, a *uint16, rs, lda int, x *float32, count, k16 int)", name)
	p("// Requires: AVX512F, AVX512DQ, AVX512VL")
	p("TEXT ·%s(SB), NOSPLIT, $0-64", name)
	p("\tMOVQ y+0(FP), DI")
	p("\tMOVQ a+16(FP), SI")
	p("\tMOVQ rs+24(FP), R9")
	p("\tIMULQ lda+32(FP), R9")
	p("\tSHLQ $1, R9")
	p("\tMOVQ lda+32(FP), R10")
	p("\tSHLQ $1, R10")
	p("\tMOVQ x+40(FP), DX")
	p("\tMOVQ count+48(FP), CX")
	p("\tMOVQ k16+56(FP), R11")
	p("\tSHRQ $4, R11")
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", l)
	p("\tVMOVDQU32 ·sgemvF16Gather(SB), Z31")
	p("%s_tile:", l)
	for i := 0; i < 4; i++ {
		p("\tVXORPS Z%d, Z%d, Z%d", i, i, i)
	}
	p("\tMOVQ SI, AX")
	p("\tLEAQ (SI)(R9*1), R12")
	p("\tMOVQ DX, BX")
	p("\tMOVQ R11, R8")
	p("%s_loop:", l)
	p("\tVMOVUPS (BX), Z28")
	for r := 0; r < 4; r++ {
		p("\tVCVTPH2PS %s, Z%d", aAddr(r), 24+r)
		p("\tVFMADD231PS Z28, Z%d, Z%d", 24+r, r)
	}
	p("\tADDQ $32, AX")
	p("\tADDQ $32, R12")
	p("\tADDQ $64, BX")
	p("\tDECQ R8")
	p("\tJNZ %s_loop", l)
	p("\tMOVQ ys+8(FP), R8")
	p("\tSHLQ $2, R8")
	fold4(0, 1)
	p("\tVMOVSS X24, (DI)")
	p("\tVEXTRACTPS $1, X24, (DI)(R8*1)")
	p("\tVEXTRACTPS $2, X24, (DI)(R8*2)")
	p("\tLEAQ (DI)(R8*2), AX")
	p("\tVEXTRACTPS $3, X24, (AX)(R8*1)")
	p("\tADDQ R10, SI")
	p("\tADDQ $4, DI")
	p("\tDECQ CX")
	p("\tJNZ %s_tile", l)
	p("%s_done:", l)
	p("\tVZEROUPPER")
	p("\tRET")
}

func main() {
	p("// Code generated by command: go run sgemvf16_gen.go. DO NOT EDIT.")
	p("")
	p("//go:build !purego")
	p("")
	p("// The AVX-512 kernels of SgemvF16 and SgemvF16Batch (see sgemvf16_gen.go for the summation rule).")
	p("// func sgemvF16T<R>x<V>AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, ldx, count, k16 int)")
	p("// y[v·ldy + t·R + r] = Σ_{j<k16} a[(t·R+r)·lda + j]·x[v·ldx + j] for tiles t < count, rows r < R,")
	p("// vectors v < V; k16 is a positive multiple of 16 (the Go driver adds the rest).")
	p("")
	p("#include \"textflag.h\"")
	p("")
	p("// Float 4r of a zmm to float r (the 4-row fold's last step).")
	for i := 0; i < 16; i++ {
		p("DATA ·sgemvF16Gather+%d(SB)/4, $%d", 4*i, (4*i)%16)
	}
	p("GLOBL ·sgemvF16Gather(SB), RODATA|NOPTR, $64")
	for _, nr := range []int{4, 1} {
		for nv := 1; nv <= maxV; nv++ {
			kernel(nr, nv)
		}
	}
	spaced()
	if err := os.WriteFile("sgemvf16_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
