//go:build !purego

// bitgemm_pack_amd64.s: TernaryMatrix.Set's repacking with AVX-512. A panel's k-group g is the
// 4-byte group g of each of its 64 rows side by side, i.e. a 64 x (K/4) dword transpose.
// bitPackTAVX512 does whole 16x16 dword tiles in registers; bitPackAVX512 does leftover groups with
// one VPGATHERDD per 16 rows (simple, but about 6x slower per byte on Zen 4). See packColumn in
// bitgemm.go for the Go equivalent.

#include "textflag.h"

// func bitPackAVX512(a *packArgs)
// Requires: AVX512F, AVX512BW
//
// For g in [0, kg): dst[g*256 + 4c .. +3] = src[idx[c] + 4g .. +3] for the rows c whose mask bit is
// set (0 for the others), sums[c] += Σ (byte+1) over the four bytes (u = v+1 ∈ {0,1,2} for ternary
// v; the caller subtracts 4 per group), and bad = 1 if any u > 2 (a weight outside -1..1).
TEXT ·bitPackAVX512(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	MOVQ 0(DI), R8            // dst
	MOVQ 8(DI), SI            // src
	MOVQ 16(DI), CX           // kg
	MOVQ 24(DI), R9           // sums
	VMOVDQU32 48(DI), Z0      // row offsets, 16 rows per register
	VMOVDQU32 112(DI), Z1
	VMOVDQU32 176(DI), Z2
	VMOVDQU32 240(DI), Z3
	KMOVW 32(DI), K4          // valid rows
	KMOVW 34(DI), K5
	KMOVW 36(DI), K6
	KMOVW 38(DI), K7
	VMOVDQU32 0(R9), Z4       // running sums
	VMOVDQU32 64(R9), Z5
	VMOVDQU32 128(R9), Z6
	VMOVDQU32 192(R9), Z7
	VPXORD Z8, Z8, Z8         // max u seen
	MOVL $0x01010101, AX
	VPBROADCASTD AX, Z9       // bytes 1
	MOVL $0x00010001, AX
	VPBROADCASTD AX, Z10      // words 1
	MOVL $0x02020202, AX
	VPBROADCASTD AX, Z13      // bytes 2
	TESTQ CX, CX
	JZ pack_done

pack_loop:
	KMOVW K4, K1
	VPXORD Z11, Z11, Z11
	VPGATHERDD (SI)(Z0*1), K1, Z11
	VMOVDQU32 Z11, 0(R8)
	VPADDB Z9, Z11, Z12       // u = v+1
	VPMAXUB Z12, Z8, Z8
	VPMADDUBSW Z9, Z12, Z12   // u*1 in pairs (<= 510, no saturation)
	VPMADDWD Z10, Z12, Z12    // 4-byte sums per row
	VPADDD Z12, Z4, Z4

	KMOVW K5, K1
	VPXORD Z11, Z11, Z11
	VPGATHERDD (SI)(Z1*1), K1, Z11
	VMOVDQU32 Z11, 64(R8)
	VPADDB Z9, Z11, Z12
	VPMAXUB Z12, Z8, Z8
	VPMADDUBSW Z9, Z12, Z12
	VPMADDWD Z10, Z12, Z12
	VPADDD Z12, Z5, Z5

	KMOVW K6, K1
	VPXORD Z11, Z11, Z11
	VPGATHERDD (SI)(Z2*1), K1, Z11
	VMOVDQU32 Z11, 128(R8)
	VPADDB Z9, Z11, Z12
	VPMAXUB Z12, Z8, Z8
	VPMADDUBSW Z9, Z12, Z12
	VPMADDWD Z10, Z12, Z12
	VPADDD Z12, Z6, Z6

	KMOVW K7, K1
	VPXORD Z11, Z11, Z11
	VPGATHERDD (SI)(Z3*1), K1, Z11
	VMOVDQU32 Z11, 192(R8)
	VPADDB Z9, Z11, Z12
	VPMAXUB Z12, Z8, Z8
	VPMADDUBSW Z9, Z12, Z12
	VPMADDWD Z10, Z12, Z12
	VPADDD Z12, Z7, Z7

	ADDQ $4, SI
	ADDQ $256, R8
	DECQ CX
	JNZ pack_loop

pack_done:
	VMOVDQU32 Z4, 0(R9)
	VMOVDQU32 Z5, 64(R9)
	VMOVDQU32 Z6, 128(R9)
	VMOVDQU32 Z7, 192(R9)
	VPCMPUB $6, Z13, Z8, K1   // u > 2 anywhere (unsigned NLE)
	KMOVQ K1, AX
	MOVQ AX, 40(DI)
	VZEROUPPER
	RET

// PACKT_TILE packs one 16-row tile T (0-3) of the 64-row panel for a block of 16 k-groups: skip to
// SKIP when masks[T] has no rows; load each present row's 64 bytes (idx, rowMask), transpose the
// 16x16 dword tile, store one 64-byte vector per k-group with the byte checks (u = v+1 > 2 sets K3),
// and add the tile's byte sums, widened, to sums[16T:16T+16]. Z16/Z17 hold bytes 1 and 2, Z18 the sums.
#define PACKT_TILE(T, SKIP) \
	MOVWLZX 32+2*T(DI), AX \
	TESTQ AX, AX \
	JZ SKIP \
	MOVLQSX 48+64*T+4*0(DI), R11 \
	KMOVW 304+32*T+2*0(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z0 \
	MOVLQSX 48+64*T+4*1(DI), R11 \
	KMOVW 304+32*T+2*1(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z1 \
	MOVLQSX 48+64*T+4*2(DI), R11 \
	KMOVW 304+32*T+2*2(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z2 \
	MOVLQSX 48+64*T+4*3(DI), R11 \
	KMOVW 304+32*T+2*3(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z3 \
	MOVLQSX 48+64*T+4*4(DI), R11 \
	KMOVW 304+32*T+2*4(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z4 \
	MOVLQSX 48+64*T+4*5(DI), R11 \
	KMOVW 304+32*T+2*5(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z5 \
	MOVLQSX 48+64*T+4*6(DI), R11 \
	KMOVW 304+32*T+2*6(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z6 \
	MOVLQSX 48+64*T+4*7(DI), R11 \
	KMOVW 304+32*T+2*7(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z7 \
	MOVLQSX 48+64*T+4*8(DI), R11 \
	KMOVW 304+32*T+2*8(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z8 \
	MOVLQSX 48+64*T+4*9(DI), R11 \
	KMOVW 304+32*T+2*9(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z9 \
	MOVLQSX 48+64*T+4*10(DI), R11 \
	KMOVW 304+32*T+2*10(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z10 \
	MOVLQSX 48+64*T+4*11(DI), R11 \
	KMOVW 304+32*T+2*11(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z11 \
	MOVLQSX 48+64*T+4*12(DI), R11 \
	KMOVW 304+32*T+2*12(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z12 \
	MOVLQSX 48+64*T+4*13(DI), R11 \
	KMOVW 304+32*T+2*13(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z13 \
	MOVLQSX 48+64*T+4*14(DI), R11 \
	KMOVW 304+32*T+2*14(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z14 \
	MOVLQSX 48+64*T+4*15(DI), R11 \
	KMOVW 304+32*T+2*15(DI), K1 \
	VMOVDQU32.Z (SI)(R11*1), K1, Z15 \
	VPUNPCKLDQ Z1, Z0, Z16 \
	VPUNPCKHDQ Z1, Z0, Z17 \
	VPUNPCKLDQ Z3, Z2, Z18 \
	VPUNPCKHDQ Z3, Z2, Z19 \
	VPUNPCKLDQ Z5, Z4, Z20 \
	VPUNPCKHDQ Z5, Z4, Z21 \
	VPUNPCKLDQ Z7, Z6, Z22 \
	VPUNPCKHDQ Z7, Z6, Z23 \
	VPUNPCKLDQ Z9, Z8, Z24 \
	VPUNPCKHDQ Z9, Z8, Z25 \
	VPUNPCKLDQ Z11, Z10, Z26 \
	VPUNPCKHDQ Z11, Z10, Z27 \
	VPUNPCKLDQ Z13, Z12, Z28 \
	VPUNPCKHDQ Z13, Z12, Z29 \
	VPUNPCKLDQ Z15, Z14, Z30 \
	VPUNPCKHDQ Z15, Z14, Z31 \
	VPUNPCKLQDQ Z18, Z16, Z0 \
	VPUNPCKHQDQ Z18, Z16, Z1 \
	VPUNPCKLQDQ Z19, Z17, Z2 \
	VPUNPCKHQDQ Z19, Z17, Z3 \
	VPUNPCKLQDQ Z22, Z20, Z4 \
	VPUNPCKHQDQ Z22, Z20, Z5 \
	VPUNPCKLQDQ Z23, Z21, Z6 \
	VPUNPCKHQDQ Z23, Z21, Z7 \
	VPUNPCKLQDQ Z26, Z24, Z8 \
	VPUNPCKHQDQ Z26, Z24, Z9 \
	VPUNPCKLQDQ Z27, Z25, Z10 \
	VPUNPCKHQDQ Z27, Z25, Z11 \
	VPUNPCKLQDQ Z30, Z28, Z12 \
	VPUNPCKHQDQ Z30, Z28, Z13 \
	VPUNPCKLQDQ Z31, Z29, Z14 \
	VPUNPCKHQDQ Z31, Z29, Z15 \
	VSHUFI32X4 $0x44, Z4, Z0, Z16 \
	VSHUFI32X4 $0xee, Z4, Z0, Z17 \
	VSHUFI32X4 $0x44, Z12, Z8, Z18 \
	VSHUFI32X4 $0xee, Z12, Z8, Z19 \
	VSHUFI32X4 $0x44, Z5, Z1, Z20 \
	VSHUFI32X4 $0xee, Z5, Z1, Z21 \
	VSHUFI32X4 $0x44, Z13, Z9, Z22 \
	VSHUFI32X4 $0xee, Z13, Z9, Z23 \
	VSHUFI32X4 $0x44, Z6, Z2, Z24 \
	VSHUFI32X4 $0xee, Z6, Z2, Z25 \
	VSHUFI32X4 $0x44, Z14, Z10, Z26 \
	VSHUFI32X4 $0xee, Z14, Z10, Z27 \
	VSHUFI32X4 $0x44, Z7, Z3, Z28 \
	VSHUFI32X4 $0xee, Z7, Z3, Z29 \
	VSHUFI32X4 $0x44, Z15, Z11, Z30 \
	VSHUFI32X4 $0xee, Z15, Z11, Z31 \
	VSHUFI32X4 $0x88, Z18, Z16, Z0 \
	VSHUFI32X4 $0xdd, Z18, Z16, Z4 \
	VSHUFI32X4 $0x88, Z19, Z17, Z8 \
	VSHUFI32X4 $0xdd, Z19, Z17, Z12 \
	VSHUFI32X4 $0x88, Z22, Z20, Z1 \
	VSHUFI32X4 $0xdd, Z22, Z20, Z5 \
	VSHUFI32X4 $0x88, Z23, Z21, Z9 \
	VSHUFI32X4 $0xdd, Z23, Z21, Z13 \
	VSHUFI32X4 $0x88, Z26, Z24, Z2 \
	VSHUFI32X4 $0xdd, Z26, Z24, Z6 \
	VSHUFI32X4 $0x88, Z27, Z25, Z10 \
	VSHUFI32X4 $0xdd, Z27, Z25, Z14 \
	VSHUFI32X4 $0x88, Z30, Z28, Z3 \
	VSHUFI32X4 $0xdd, Z30, Z28, Z7 \
	VSHUFI32X4 $0x88, Z31, Z29, Z11 \
	VSHUFI32X4 $0xdd, Z31, Z29, Z15 \
	MOVL $0x01010101, AX \
	VPBROADCASTD AX, Z16 \
	MOVL $0x02020202, AX \
	VPBROADCASTD AX, Z17 \
	VPXORD Z18, Z18, Z18 \
	VMOVDQU32 Z0, 64*T+256*0(R8) \
	VPADDB Z16, Z0, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z1, 64*T+256*1(R8) \
	VPADDB Z16, Z1, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z2, 64*T+256*2(R8) \
	VPADDB Z16, Z2, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z3, 64*T+256*3(R8) \
	VPADDB Z16, Z3, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z4, 64*T+256*4(R8) \
	VPADDB Z16, Z4, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z5, 64*T+256*5(R8) \
	VPADDB Z16, Z5, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z6, 64*T+256*6(R8) \
	VPADDB Z16, Z6, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z7, 64*T+256*7(R8) \
	VPADDB Z16, Z7, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z8, 64*T+256*8(R8) \
	VPADDB Z16, Z8, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z9, 64*T+256*9(R8) \
	VPADDB Z16, Z9, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z10, 64*T+256*10(R8) \
	VPADDB Z16, Z10, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z11, 64*T+256*11(R8) \
	VPADDB Z16, Z11, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z12, 64*T+256*12(R8) \
	VPADDB Z16, Z12, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z13, 64*T+256*13(R8) \
	VPADDB Z16, Z13, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z14, 64*T+256*14(R8) \
	VPADDB Z16, Z14, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	VMOVDQU32 Z15, 64*T+256*15(R8) \
	VPADDB Z16, Z15, Z19 \
	VPCMPUB $6, Z17, Z19, K1 \
	KORQ K1, K3, K3 \
	VPADDB Z19, Z18, Z18 \
	MOVL $0x00010001, AX \
	VPBROADCASTD AX, Z20 \
	VPMADDUBSW Z16, Z18, Z18 \
	VPMADDWD Z20, Z18, Z18 \
	VPADDD 64*T(R9), Z18, Z18 \
	VMOVDQU32 Z18, 64*T(R9)

// func bitPackTAVX512(a *packArgs)
// Requires: AVX512F, AVX512BW
//
// The same contract as bitPackAVX512 for kg a multiple of 16, by in-register transposes instead of
// gathers: per block of 16 k-groups and 16 rows, load each row's 64 bytes (16 dwords), transpose the
// 16x16 dword tile (unpack dwords, unpack qwords, two rounds of 128-bit shuffles: 64 shuffles), and
// store one 64-byte vector per k-group. Rows that are absent load as zeros (zeroing-masked loads
// with rowMask). Byte sums of u = v+1 accumulate per block in bytes (<= 2*16 per byte) and are
// widened once per block.
TEXT ·bitPackTAVX512(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	MOVQ 0(DI), R8            // dst
	MOVQ 8(DI), SI            // src
	MOVQ 16(DI), CX           // kg (a multiple of 16)
	MOVQ 24(DI), R9           // sums
	KXORQ K3, K3, K3          // any u > 2
	SHRQ $4, CX
	JZ packt_done

packt_block:
	PACKT_TILE(0, packt_skip0)
packt_skip0:
	PACKT_TILE(1, packt_skip1)
packt_skip1:
	PACKT_TILE(2, packt_skip2)
packt_skip2:
	PACKT_TILE(3, packt_skip3)
packt_skip3:
	ADDQ $64, SI
	ADDQ $4096, R8
	DECQ CX
	JNZ packt_block

packt_done:
	KMOVQ K3, AX
	MOVQ AX, 40(DI)
	VZEROUPPER
	RET
