//go:build !purego

// bitgemm_pack_amd64.s: TernaryMatrix.Set's repacking with AVX-512 gathers. A panel's k-group g is
// the 4-byte group g of each of its 64 rows side by side, i.e. a 64 x (K/4) dword transpose; one
// VPGATHERDD per 16 rows fetches a group (16 loads from 16 rows, L1-resident after the first group
// of each cache line). See packColumn in bitgemm.go for the Go equivalent.

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
