//go:build ignore

// attend_gen.go writes attend_amd64.s, the AVX-512 decode-attention kernels of AttendF16 and
// AttendF32 (attend.go): one plan, F16 rows widened by VCVTPH2PS, fp32 rows as the FMAs' memory
// operands. Run by hand (`go generate ./kernels` or `go run attend_gen.go` in kernels/) after editing; the .s
// is committed. A plain text generator: the kernel is three loops unrolled over positions and
// column blocks.
//
//  1. Scores, 16 positions at a time: position r's key row widens (VCVTPH2PS) one 16-column block
//     at a time into its own accumulator (the first block a product, then FMAs in block order), so
//     16 rows keep 16 independent FMA chains busy; then one transpose-add fold (4 stages of two
//     shuffles and an add per pair: 45 instructions for 16 positions, against a full horizontal sum
//     per row) leaves position r's dot product in lane r. Every accumulator is folded by the same
//     tree (lane i + i+8, then + i+4, + i+2, + i+1), so a position's score does not depend on the
//     positions beside it. The fold's lane order is fixed by which accumulator takes which row
//     (accReg). A last group of m < 16 positions takes its rows' addresses from a table in the
//     frame, rows m..15 repeating row m-1, and keeps its scores in the frame until its weights are
//     copied out: nothing past position n is read or written. (Masked loads would not fault there,
//     but masked-off lanes on pages not yet mapped seem to cost Zen 5 an assist each: with them a
//     16-slot 700M step over a fresh cache took 54 ms instead of 37, one thread.)
//  2. Softmax weights: the scores' max (a running lane-wise max), then e_t = exp(s_t - max) in place
//     (exp_amd64.h) and Σ e_t in one 16-lane accumulator folded by a fixed tree.
//  3. out = (Σ_t e_t·V_t)/Σ e_t over chunks of 4, 2 or 1 column blocks (6 blocks, hs = 96, in one
//     chunk of 24 accumulators: one pass over the positions instead of two, 8-10% faster at 64
//     positions): four position streams (t mod 4; the last n mod 4 positions go to stream 0) each with
//     its own accumulators, so even a one-block chunk has four FMA chains; the streams add as
//     (0+1)+(2+3), then the scale 1/Σ e_t.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// Register plan. BX a row's stride in bytes, R13 three rows; phase 1: SI the group's first key
// row, R8, R10, R11, R12 rows 0, 4, 8, 12 of the group (rows r..r+3 at (R)(0, BX, BX*2, R13)), DX q,
// DI q's block, R9 blocks left, CX positions left, AX the scores (the last group: R12 the block's
// byte offset, R10 a row's address; frame bytes 0..127 the row table, 128..191 the scores, 192..199
// v - k in bytes for the prefetches);
// Z0..Z15 accumulators, Z16 q's block, Z17..Z20 widened rows, Z21 scale, Z22 the running max.
// Phase 3: SI the chunk's first value column, R8 position t's row, DI out's chunk, R9 blocks left.

// elem is the cache's element type: F16 (2 bytes, widened by VCVTPH2PS into a register first) or
// fp32 (4 bytes, an FMA's memory operand).
type elem struct {
	name  string // F16 or F32
	size  int    // bytes
	shift int    // log2(size)
	goTyp string
}

var el elem

// bb is the bytes of a 16-column block.
func bb() int { return 16 * el.size }

// fmaRow emits acc += row·Z(q) (or acc = row·Z(q) when first) for the block at addr, widening F16
// into Z(t).
func fmaRow(addr string, q, t, acc int, first bool) {
	op := "VFMADD231PS"
	if first {
		op = "VMULPS"
	}
	if el.size == 2 {
		p("\tVCVTPH2PS %s, Z%d", addr, t)
		p("\t%s Z%d, Z%d, Z%d", op, q, t, acc)
		return
	}
	p("\t%s %s, Z%d, Z%d", op, addr, q, acc)
}

// pfAhead: the kernel prefetches the first pfAhead rows of keys and values on entry, and each group
// of 16 the keys and values pfAhead rows further on, each row's pf16 blocks: the head's, and when the
// caller allows, the next head's too. The caches of a batch's slots are far larger than the CPU's, and
// the rows of one head are lines 1.5 or 3 KB apart, which the hardware prefetcher does not fetch
// ahead; issuing them all at once (the values too, while the keys are summed) and the next head's
// columns with them (a step runs a slot's heads in order on one thread, so the reads become one
// stream per thread) took the per-head attention of a 16-slot 100M step from 400 to 230 ns, 2
// threads (BenchmarkAttendF16Stream). Bounded so that a long context does not evict its own first
// rows before they are read.
const pfAhead = 64

func log2(x int) int {
	n := 0
	for x > 1 {
		x >>= 1
		n++
	}
	return n
}

// rowAddr is the address of row r (0..15) of a group at byte offset off.
func rowAddr(r, off int) string {
	base := [...]string{"R8", "R10", "R11", "R12"}[r/4]
	idx := [...]string{"", "(BX*1)", "(BX*2)", "(R13*1)"}[r%4]
	o := ""
	if off != 0 {
		o = fmt.Sprint(off)
	}
	return fmt.Sprintf("%s(%s)%s", o, base, idx)
}

// accReg is the accumulator of row r: the one that the fold below leaves in lane r (its four stages
// pair accumulators i, i+8, then i, i+4, then 0, 2 and 1, 3, then 0, 1).
var accReg = [16]int{0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15}

// qkBlock emits one column block of the 16 rows: (widen, then) multiply (first) or FMA into the
// row's accumulator. The last group (tail) reads row r's address from the frame's table (rows past n
// repeat the last row) and the block's byte offset from R12.
func qkBlock(first, tail bool) {
	p("\tVMOVUPS (DI), Z16")
	for r := range 16 {
		t := 17 + r%4
		addr := rowAddr(r, 0)
		if tail {
			p("\tMOVQ %d(SP), R10", 8*r)
			addr = "(R10)(R12*1)"
		}
		fmaRow(addr, 16, t, accReg[r], first)
	}
	if tail {
		p("\tADDQ $%d, R12", bb())
	} else {
		for _, r := range []string{"R8", "R10", "R11", "R12"} {
			p("\tADDQ $%d, %s", bb(), r)
		}
	}
	p("\tADDQ $64, DI")
}

// fold transposes and adds Z0..Z15 into Z0 (lane r: row r's dot product), with temporaries
// that avoid Z21 (scale) and Z22 (max).
func fold() {
	tmp := []int{16, 17, 18, 19, 20, 23, 24, 25, 26, 27, 28, 29, 30, 31}
	k := 0
	pair := func() (int, int) {
		a, b := tmp[k%len(tmp)], tmp[(k+1)%len(tmp)]
		k += 2
		return a, b
	}
	p("\t// fold: 256-bit halves (accumulators i, i+8 -> i)")
	for i := range 8 {
		a, b := pair()
		p("\tVSHUFF32X4 $0x44, Z%d, Z%d, Z%d", i+8, i, a)
		p("\tVSHUFF32X4 $0xee, Z%d, Z%d, Z%d", i+8, i, b)
		p("\tVADDPS Z%d, Z%d, Z%d", b, a, i)
	}
	p("\t// 128-bit quarters (i, i+4 -> i)")
	for i := range 4 {
		a, b := pair()
		p("\tVSHUFF32X4 $0x88, Z%d, Z%d, Z%d", i+4, i, a)
		p("\tVSHUFF32X4 $0xdd, Z%d, Z%d, Z%d", i+4, i, b)
		p("\tVADDPS Z%d, Z%d, Z%d", b, a, i)
	}
	p("\t// 64-bit pairs (i, i+2 -> i)")
	for i := range 2 {
		a, b := pair()
		p("\tVUNPCKLPD Z%d, Z%d, Z%d", i+2, i, a)
		p("\tVUNPCKHPD Z%d, Z%d, Z%d", i+2, i, b)
		p("\tVADDPS Z%d, Z%d, Z%d", b, a, i)
	}
	p("\t// single lanes (0, 1 -> 0)")
	a, b := pair()
	p("\tVSHUFPS $0x88, Z1, Z0, Z%d", a)
	p("\tVSHUFPS $0xdd, Z1, Z0, Z%d", b)
	p("\tVADDPS Z%d, Z%d, Z0", b, a)
}

// qkGroup emits a group of 16 positions (label prefix l): rows, blocks, fold, scale.
func qkGroup(l string, tail bool) {
	if tail {
		p("\tXORQ R12, R12")
	} else {
		p("\t// prefetch rows %d..%d ahead, those below n", pfAhead, pfAhead+15)
		p("\tMOVQ CX, R11")
		p("\tSUBQ $%d, R11", pfAhead)
		p("\tJLE %spfdone", l)
		p("\tCMPQ R11, $16")
		p("\tJLE %spfn", l)
		p("\tMOVQ $16, R11")
		p("%spfn:", l)
		p("\tMOVQ BX, R8")
		p("\tSHLQ $%d, R8", log2(pfAhead))
		p("\tADDQ SI, R8")
		p("\tMOVQ 192(SP), R10")
		pfRows(l)
		p("%spfdone:", l)
		p("\tMOVQ SI, R8")
		p("\tLEAQ (SI)(BX*4), R10")
		p("\tLEAQ (R10)(BX*4), R11")
		p("\tLEAQ (R11)(BX*4), R12")
	}
	p("\tMOVQ DX, DI")
	p("\tMOVQ hs16+48(FP), R9")
	qkBlock(true, tail)
	p("\tDECQ R9")
	p("\tJZ %sfold", l)
	p("%sloop:", l)
	qkBlock(false, tail)
	p("\tDECQ R9")
	p("\tJNZ %sloop", l)
	p("%sfold:", l)
	fold()
	p("\tVMULPS Z21, Z0, Z0")
}

// pvChunk emits Σ e_t·V_t for a chunk of nb column blocks at SI into out at DI (label prefix l).
// Stream s, block b accumulates in Z(s·nb + b); the four streams' weights in the four registers after
// the accumulators (from Z16), widened rows in those after them up to Z30 (Z31: 1/Σ e_t).
func pvChunk(l string, nb int) {
	acc := func(s, b int) int { return s*nb + b }
	pw := max(16, 4*nb)
	tmp := func(i int) int { return pw + 4 + i%(31-pw-4) }
	for i := range 4 * nb {
		p("\tVXORPS Z%d, Z%d, Z%d", i, i, i)
	}
	p("\tMOVQ SI, R8")
	p("\tMOVQ scores+72(FP), AX")
	p("\tMOVQ n+40(FP), CX")
	p("\tCMPQ CX, $4")
	p("\tJLT %sone", l)
	p("%squad:", l)
	for s := range 4 {
		p("\tVBROADCASTSS %d(AX), Z%d", 4*s, pw+s)
	}
	i := 0
	for s := range 4 {
		for b := range nb {
			t := tmp(i)
			i++
			fmaRow(rowAddr(s, bb()*b), pw+s, t, acc(s, b), false)
		}
	}
	p("\tLEAQ (R8)(BX*4), R8")
	p("\tADDQ $16, AX")
	p("\tSUBQ $4, CX")
	p("\tCMPQ CX, $4")
	p("\tJGE %squad", l)
	p("%sone:", l)
	p("\tTESTQ CX, CX")
	p("\tJZ %ssum", l)
	p("%soneloop:", l)
	p("\tVBROADCASTSS (AX), Z%d", pw)
	for b := range nb {
		fmaRow(rowAddr(0, bb()*b), pw, tmp(b), acc(0, b), false)
	}
	p("\tADDQ BX, R8")
	p("\tADDQ $4, AX")
	p("\tDECQ CX")
	p("\tJNZ %soneloop", l)
	p("%ssum:", l)
	for b := range nb {
		p("\tVADDPS Z%d, Z%d, Z%d", acc(1, b), acc(0, b), acc(0, b))
		p("\tVADDPS Z%d, Z%d, Z%d", acc(3, b), acc(2, b), acc(2, b))
		p("\tVADDPS Z%d, Z%d, Z%d", acc(2, b), acc(0, b), acc(0, b))
		p("\tVMULPS Z31, Z%d, Z%d", acc(0, b), acc(0, b))
		p("\tVMOVUPS Z%d, %d(DI)", acc(0, b), 64*b)
	}
}

// pfRows emits prefetches of the lines of R11 (> 0) key rows from R8, pf16 16-column blocks each
// (a line per two F16 blocks, per fp32 block), and of the value rows R10 bytes further (label suffix l); clobbers R8, R9, R11,
// R12, DI.
func pfRows(l string) {
	p("pfrow%s:", l)
	p("\tLEAQ (R8)(R10*1), R12")
	p("\tMOVQ R8, DI")
	p("\tMOVQ pf16+56(FP), R9")
	p("pfline%s:", l)
	p("\tPREFETCHT0 (DI)")
	p("\tPREFETCHT0 (R12)")
	p("\tADDQ $64, DI")
	p("\tADDQ $64, R12")
	p("\tSUBQ $%d, R9", 64/bb())
	p("\tJGT pfline%s", l)
	p("\tADDQ BX, R8")
	p("\tDECQ R11")
	p("\tJNZ pfrow%s", l)
}

func main() {
	p("// Code generated by attend_gen.go; DO NOT EDIT.")
	p("")
	p("//go:build !purego")
	p("")
	p("// The AVX-512 decode-attention kernels of AttendF16 and AttendF32: see attend_gen.go for the plan.")
	p("")
	p("#include \"textflag.h\"")
	p("#include \"exp_amd64.h\"")
	p("")
	p("DATA attc<>+0(SB)/4, $0xff800000 // -Inf")
	p("DATA attc<>+4(SB)/4, $0x3f800000 // 1")
	p("GLOBL attc<>(SB), RODATA|NOPTR, $8")
	for _, e := range []elem{{"F16", 2, 1, "uint16"}, {"F32", 4, 2, "float32"}} {
		el = e
		kernel()
	}
	if err := os.WriteFile("attend_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// kernel writes attend<F16|F32>AVX512.
func kernel() {
	p("")
	p("// func attend%sAVX512(out, q *float32, k, v *%s, ld, n, hs16, pf16 int, scale float32, scores *float32)", el.name, el.goTyp)
	p("// Requires: AVX512F, AVX512DQ, AVX512VL")
	p("TEXT ·attend%sAVX512(SB), NOSPLIT, $200-80", el.name)
	p("\tMOVQ q+8(FP), DX")
	p("\tMOVQ k+16(FP), SI")
	p("\tMOVQ ld+32(FP), BX")
	p("\tSHLQ $%d, BX", el.shift)
	p("\tLEAQ (BX)(BX*2), R13")
	p("\tMOVQ n+40(FP), CX")
	p("\tMOVQ scores+72(FP), AX")
	p("\tVBROADCASTSS scale+64(FP), Z21")
	p("\tVBROADCASTSS attc<>+0(SB), Z22")
	p("\t// prefetch the first pfAhead rows of keys and values; R10, and the frame at 192: v - k in bytes")
	p("\tMOVQ v+24(FP), R10")
	p("\tSUBQ SI, R10")
	p("\tMOVQ R10, 192(SP)")
	p("\tMOVQ SI, R8")
	p("\tMOVQ CX, R11")
	p("\tCMPQ R11, $%d", pfAhead)
	p("\tJLE pf0")
	p("\tMOVQ $%d, R11", pfAhead)
	p("pf0:")
	pfRows("0")
	p("\tCMPQ CX, $16")
	p("\tJLT qktail")
	p("qkgroup:")
	qkGroup("qk", false)
	p("\tVMOVUPS Z0, (AX)")
	p("\tVMAXPS Z0, Z22, Z22")
	p("\tADDQ $64, AX")
	p("\tLEAQ (SI)(BX*8), SI")
	p("\tLEAQ (SI)(BX*8), SI")
	p("\tSUBQ $16, CX")
	p("\tCMPQ CX, $16")
	p("\tJGE qkgroup")
	p("qktail:")
	p("\tTESTQ CX, CX")
	p("\tJZ softmax")
	p("\t// K2: the last group's m = CX lanes; the frame's table: row r's address, r < m, else row m-1's")
	p("\tMOVL $1, R9")
	p("\tSHLL CX, R9")
	p("\tDECL R9")
	p("\tKMOVW R9, K2")
	p("\tMOVQ SI, R8")
	p("\tXORQ R10, R10")
	p("rowptr:")
	p("\tMOVQ R8, (SP)(R10*8)")
	p("\tINCQ R10")
	p("\tCMPQ R10, CX")
	p("\tJGE rowsame")
	p("\tADDQ BX, R8")
	p("rowsame:")
	p("\tCMPQ R10, $16")
	p("\tJLT rowptr")
	qkGroup("qkt", true)
	p("\tVMOVUPS Z0, 128(SP)")
	p("\tVMAXPS Z0, Z22, K2, Z22")
	p("softmax:")
	p("\t// Z29: the max, broadcast")
	p("\tVEXTRACTF64X4 $1, Z22, Y0")
	p("\tVMAXPS Y0, Y22, Y0")
	p("\tVEXTRACTF128 $1, Y0, X1")
	p("\tVMAXPS X1, X0, X0")
	p("\tVPERMILPS $0x4e, X0, X1")
	p("\tVMAXPS X1, X0, X0")
	p("\tVPERMILPS $0xb1, X0, X1")
	p("\tVMAXPS X1, X0, X0")
	p("\tVBROADCASTSS X0, Z29")
	p("\tEXPCONST")
	p("\tVXORPS Z30, Z30, Z30")
	p("\tMOVQ scores+72(FP), AX")
	p("\tMOVQ n+40(FP), CX")
	p("\tCMPQ CX, $16")
	p("\tJLT exptail")
	p("exploop:")
	p("\tVMOVUPS (AX), Z0")
	p("\tVSUBPS Z29, Z0, Z0")
	p("\tEXP16(Z0, Z1, Z2)")
	p("\tVADDPS Z0, Z30, Z30")
	p("\tVMOVUPS Z0, (AX)")
	p("\tADDQ $64, AX")
	p("\tSUBQ $16, CX")
	p("\tCMPQ CX, $16")
	p("\tJGE exploop")
	p("exptail:")
	p("\tTESTQ CX, CX")
	p("\tJZ expsum")
	p("\tVMOVUPS 128(SP), Z0")
	p("\tVSUBPS Z29, Z0, Z0")
	p("\tEXP16(Z0, Z1, Z2)")
	p("\tVADDPS Z0, Z30, K2, Z30")
	p("\tVMOVUPS Z0, 128(SP)")
	p("\tXORQ R10, R10")
	p("expcopy:")
	p("\tMOVL 128(SP)(R10*4), R11")
	p("\tMOVL R11, (AX)(R10*4)")
	p("\tINCQ R10")
	p("\tCMPQ R10, CX")
	p("\tJLT expcopy")
	p("expsum:")
	p("\t// Z31: 1/Σ e_t, broadcast (the lanes folded i + i+8, + i+4, + i+2, + i+1)")
	p("\tVEXTRACTF64X4 $1, Z30, Y0")
	p("\tVADDPS Y0, Y30, Y0")
	p("\tVEXTRACTF128 $1, Y0, X1")
	p("\tVADDPS X1, X0, X0")
	p("\tVPERMILPS $0x4e, X0, X1")
	p("\tVADDPS X1, X0, X0")
	p("\tVPERMILPS $0xb1, X0, X1")
	p("\tVADDPS X1, X0, X0")
	p("\tVMOVSS attc<>+4(SB), X1")
	p("\tVDIVSS X0, X1, X1")
	p("\tVBROADCASTSS X1, Z31")
	p("\tMOVQ v+24(FP), SI")
	p("\tMOVQ out+0(FP), DI")
	p("\tMOVQ hs16+48(FP), R9")
	p("\t// six blocks (hs = 96) in one pass: 24 accumulators")
	p("\tCMPQ R9, $6")
	p("\tJNE pv4")
	pvChunk("pv6", 6)
	p("\tJMP done")
	p("pv4:")
	p("\tCMPQ R9, $4")
	p("\tJLT pv2")
	pvChunk("pv4", 4)
	p("\tADDQ $%d, SI", 4*bb())
	p("\tADDQ $256, DI")
	p("\tSUBQ $4, R9")
	p("\tJMP pv4")
	p("pv2:")
	p("\tCMPQ R9, $2")
	p("\tJLT pv1")
	pvChunk("pv2", 2)
	p("\tADDQ $%d, SI", 2*bb())
	p("\tADDQ $128, DI")
	p("\tSUBQ $2, R9")
	p("pv1:")
	p("\tTESTQ R9, R9")
	p("\tJZ done")
	pvChunk("pv1", 1)
	p("done:")
	p("\tVZEROUPPER")
	p("\tRET")
}
