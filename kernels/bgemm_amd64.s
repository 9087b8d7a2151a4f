//go:build !purego

// bf16 GEMM micro-kernel for amd64 (see bgemm.go): C[rows, cols] (=|+=) alpha * Apanel · Bpanel
// (+ beta*C), the structure and epilogue of sgemmKernel14x32 (sgemm_amd64.s) with VDPBF16PS in
// place of VFMADD231PS. One step is one pair of K:
//   A panel: k steps of 14 dwords, dword r = (bf16 A[r][2q] | bf16 A[r][2q+1] << 16), broadcast;
//   B panel: k steps of 32 dwords, dword j = (bf16 B[2q][j] | bf16 B[2q+1][j] << 16).
// VDPBF16PS then adds, per fp32 lane, the high pair's product and then the low pair's to the
// accumulator, each rounded (the order bgemm.go's Go paths reproduce).

#include "textflag.h"

#include "bf16_amd64.h"

// ---- AVX512_BF16: 14 x 32 tile, k pairs -------------------------------------------------------------------
// 28 accumulators Z0..Z27 (row r in Z(2r), Z(2r+1)), B pairs in Z28/Z29, A pair broadcasts in
// Z30/Z31. Per step: 2 loads of B + 14 broadcasts feed 28 VDPBF16PS (64 multiply-adds each).

#define BROW(oa, zr, z, acc0, acc1) \
	VBROADCASTSS oa(AX), zr; \
	VDPBF16PS_Z(28, z, acc0); \
	VDPBF16PS_Z(29, z, acc1)

#define BSTEP(oa, ob) \
	VMOVUPS ob(BX), Z28; \
	VMOVUPS ob+64(BX), Z29; \
	BROW(oa+0, Z30, 30, 0, 1); \
	BROW(oa+4, Z31, 31, 2, 3); \
	BROW(oa+8, Z30, 30, 4, 5); \
	BROW(oa+12, Z31, 31, 6, 7); \
	BROW(oa+16, Z30, 30, 8, 9); \
	BROW(oa+20, Z31, 31, 10, 11); \
	BROW(oa+24, Z30, 30, 12, 13); \
	BROW(oa+28, Z31, 31, 14, 15); \
	BROW(oa+32, Z30, 30, 16, 17); \
	BROW(oa+36, Z31, 31, 18, 19); \
	BROW(oa+40, Z30, 30, 20, 21); \
	BROW(oa+44, Z31, 31, 22, 23); \
	BROW(oa+48, Z30, 30, 24, 25); \
	BROW(oa+52, Z31, 31, 26, 27)

// Store one row of the tile; Z28 = alpha, Z29 = beta, K1/K2 = column masks, R8 = ldc in bytes.
#define BSTORE(acc0, acc1) \
	VMULPS  Z28, acc0, acc0; \
	VMULPS  Z28, acc1, acc1; \
	VMOVUPS acc0, K1, (DI); \
	VMOVUPS acc1, K2, 64(DI); \
	ADDQ    R8, DI; \
	DECQ    R9; \
	JZ      bdone

#define BUPDATE(acc0, acc1) \
	VMOVUPS.Z   (DI), K1, Z30; \
	VMOVUPS.Z   64(DI), K2, Z31; \
	VMULPS      Z28, acc0, acc0; \
	VMULPS      Z28, acc1, acc1; \
	VFMADD231PS Z29, Z30, acc0; \
	VFMADD231PS Z29, Z31, acc1; \
	VMOVUPS     acc0, K1, (DI); \
	VMOVUPS     acc1, K2, 64(DI); \
	ADDQ        R8, DI; \
	DECQ        R9; \
	JZ          bdone

// func bgemmKernel14x32(k int, a, b, c *float32, ldc int, alpha, beta float32, rows int, mask uint64, load int)
// Requires: AVX512F, AVX512_BF16
TEXT ·bgemmKernel14x32(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	// Start pulling the C tile (14 rows x 128 bytes) into cache while the k loop runs.
	MOVQ DI, SI
	MOVQ $14, DX
bprefetch:
	PREFETCHT0 (SI)
	PREFETCHT0 64(SI)
	ADDQ       R8, SI
	DECQ       DX
	JNZ        bprefetch

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27

	CMPQ CX, $4
	JLT  btail

bloop4:
	// 4 k steps: A advances 4*14*4 = 224 bytes, B 4*32*4 = 512 bytes.
	PREFETCHT0 1024(BX)
	BSTEP(0, 0)
	PREFETCHT0 1088(BX)
	BSTEP(56, 128)
	PREFETCHT0 1152(BX)
	BSTEP(112, 256)
	PREFETCHT0 1216(BX)
	BSTEP(168, 384)
	ADDQ $224, AX
	ADDQ $512, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  bloop4

btail:
	TESTQ CX, CX
	JZ    bstore

bloop1:
	BSTEP(0, 0)
	ADDQ $56, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  bloop1

bstore:
	VBROADCASTSS alpha+40(FP), Z28
	VBROADCASTSS beta+44(FP), Z29
	MOVQ         rows+48(FP), R9
	MOVQ         mask+56(FP), DX
	KMOVW        DX, K1
	SHRQ         $16, DX
	KMOVW        DX, K2
	MOVQ         load+64(FP), SI
	TESTQ        SI, SI
	JNZ          bupdate

	BSTORE(Z0, Z1)
	BSTORE(Z2, Z3)
	BSTORE(Z4, Z5)
	BSTORE(Z6, Z7)
	BSTORE(Z8, Z9)
	BSTORE(Z10, Z11)
	BSTORE(Z12, Z13)
	BSTORE(Z14, Z15)
	BSTORE(Z16, Z17)
	BSTORE(Z18, Z19)
	BSTORE(Z20, Z21)
	BSTORE(Z22, Z23)
	BSTORE(Z24, Z25)
	BSTORE(Z26, Z27)
	JMP bdone

bupdate:
	BUPDATE(Z0, Z1)
	BUPDATE(Z2, Z3)
	BUPDATE(Z4, Z5)
	BUPDATE(Z6, Z7)
	BUPDATE(Z8, Z9)
	BUPDATE(Z10, Z11)
	BUPDATE(Z12, Z13)
	BUPDATE(Z14, Z15)
	BUPDATE(Z16, Z17)
	BUPDATE(Z18, Z19)
	BUPDATE(Z20, Z21)
	BUPDATE(Z22, Z23)
	BUPDATE(Z24, Z25)
	BUPDATE(Z26, Z27)

bdone:
	VZEROUPPER
	RET


// func pairRowsBF16(dst, src *float32, lds, width, kc int, perm *uint16, loadMasks, storeMasks uint64)
// Requires: AVX512F, AVX512BW, AVX512_BF16
//
// src holds kc rows of fp32 lanes, lds floats apart; row q of dst (width dwords, 1 <= width <= 32)
// gets lane c of rows 2q and 2q+1 rounded to bf16, 2q in the low half (a missing row 2q+1 for odd
// kc reads as zero). perm: the 32 word indices 0, 16, 1, 17, ... that interleave the two converted
// rows. loadMasks: bit c set for the lanes read from src (the rest read as zero); storeMasks: bit c
// set for lanes c < width. The packers call it on an operand's rows directly (lds = ld, B in NN
// form: one pass) or on a transposed fp32 panel (lds = width).
TEXT ·pairRowsBF16(SB), NOSPLIT, $0-64
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    lds+16(FP), R9
	MOVQ    width+24(FP), R8
	MOVQ    kc+32(FP), CX
	MOVQ    perm+40(FP), AX
	VMOVDQU16 (AX), Z31
	MOVQ    loadMasks+48(FP), DX // K1, K2: lanes 0..15 and 16..31 read from src
	KMOVW   DX, K1
	SHRQ    $16, DX
	KMOVW   DX, K2
	MOVQ    storeMasks+56(FP), DX // K3, K4: lanes 0..15 and 16..31 written to dst
	KMOVW   DX, K3
	SHRQ    $16, DX
	KMOVW   DX, K4
	SHLQ    $2, R8           // dst row stride in bytes
	SHLQ    $2, R9           // src row stride in bytes; SI reads row 2q, DI writes row q
pairs:
	CMPQ    CX, $1
	JL      pdone
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	CMPQ    CX, $2
	JL      pone
	VMOVUPS.Z (SI)(R9*1), K1, Z2
	VMOVUPS.Z 64(SI)(R9*1), K2, Z3
pone:
	VCVTNE2PS2BF16_Z(0, 2, 4)       // Z4 words: row 2q lanes 0..15, row 2q+1 lanes 0..15
	VCVTNE2PS2BF16_Z(1, 3, 5)       // Z5: lanes 16..31
	VPERMW  Z4, Z31, Z4
	VPERMW  Z5, Z31, Z5
	VMOVDQU32 Z4, K3, (DI)
	VMOVDQU32 Z5, K4, 64(DI)
	ADDQ    R8, DI
	LEAQ    (SI)(R9*2), SI
	SUBQ    $2, CX
	JMP     pairs
pdone:
	VZEROUPPER
	RET

// vdpbf16Samples is never called: it holds VDPBF16PS_Z encoded for operand triples that set and
// clear every register bit, then VCVTNE2PS2BF16_Z for the same triples, so that TestBgemmEncoding
// can compare its bytes with GNU as's encoding of the same instructions (the order is
// bgemmEncodingSamples's in bgemm_amd64_test.go).
TEXT ·vdpbf16Samples(SB), NOSPLIT|NOFRAME, $0
	VDPBF16PS_Z(28, 30, 0)
	VDPBF16PS_Z(29, 31, 27)
	VDPBF16PS_Z(0, 1, 2)
	VDPBF16PS_Z(7, 8, 15)
	VDPBF16PS_Z(16, 23, 31)
	VDPBF16PS_Z(31, 16, 8)
	VDPBF16PS_Z(15, 0, 16)
	VDPBF16PS_Z(8, 24, 7)
	VCVTNE2PS2BF16_Z(28, 30, 0)
	VCVTNE2PS2BF16_Z(29, 31, 27)
	VCVTNE2PS2BF16_Z(0, 1, 2)
	VCVTNE2PS2BF16_Z(7, 8, 15)
	VCVTNE2PS2BF16_Z(16, 23, 31)
	VCVTNE2PS2BF16_Z(31, 16, 8)
	VCVTNE2PS2BF16_Z(15, 0, 16)
	VCVTNE2PS2BF16_Z(8, 24, 7)
	RET

// func vdpbf16SamplesAddr() *byte
TEXT ·vdpbf16SamplesAddr(SB), NOSPLIT, $0-8
	LEAQ ·vdpbf16Samples(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// ---- instruction peak (tern bench gemm --peak) ---------------------------------------------------
// n iterations of 24 independent accumulator chains Z0..Z23 += Z30·Z31: more chains than the
// instruction's latency times the FP pipes that can run it, so the loop runs at the instruction's
// throughput. Operands are zero (no denormals, no exceptions). 24 x 64 flops per iteration for
// VDPBF16PS (16 lanes x 2 products), 24 x 32 for VFMADD231PS.

// func peakLoopBF16(n int)
// Requires: AVX512F, AVX512_BF16
TEXT ·peakLoopBF16(SB), NOSPLIT, $0-8
	MOVQ   n+0(FP), CX
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
ploopb:
	VDPBF16PS_Z(31, 30, 0)
	VDPBF16PS_Z(31, 30, 1)
	VDPBF16PS_Z(31, 30, 2)
	VDPBF16PS_Z(31, 30, 3)
	VDPBF16PS_Z(31, 30, 4)
	VDPBF16PS_Z(31, 30, 5)
	VDPBF16PS_Z(31, 30, 6)
	VDPBF16PS_Z(31, 30, 7)
	VDPBF16PS_Z(31, 30, 8)
	VDPBF16PS_Z(31, 30, 9)
	VDPBF16PS_Z(31, 30, 10)
	VDPBF16PS_Z(31, 30, 11)
	VDPBF16PS_Z(31, 30, 12)
	VDPBF16PS_Z(31, 30, 13)
	VDPBF16PS_Z(31, 30, 14)
	VDPBF16PS_Z(31, 30, 15)
	VDPBF16PS_Z(31, 30, 16)
	VDPBF16PS_Z(31, 30, 17)
	VDPBF16PS_Z(31, 30, 18)
	VDPBF16PS_Z(31, 30, 19)
	VDPBF16PS_Z(31, 30, 20)
	VDPBF16PS_Z(31, 30, 21)
	VDPBF16PS_Z(31, 30, 22)
	VDPBF16PS_Z(31, 30, 23)
	DECQ CX
	JNZ  ploopb
	VZEROUPPER
	RET

// func peakLoopF32(n int)
// Requires: AVX512F
TEXT ·peakLoopF32(SB), NOSPLIT, $0-8
	MOVQ   n+0(FP), CX
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
ploopf:
	VFMADD231PS Z31, Z30, Z0
	VFMADD231PS Z31, Z30, Z1
	VFMADD231PS Z31, Z30, Z2
	VFMADD231PS Z31, Z30, Z3
	VFMADD231PS Z31, Z30, Z4
	VFMADD231PS Z31, Z30, Z5
	VFMADD231PS Z31, Z30, Z6
	VFMADD231PS Z31, Z30, Z7
	VFMADD231PS Z31, Z30, Z8
	VFMADD231PS Z31, Z30, Z9
	VFMADD231PS Z31, Z30, Z10
	VFMADD231PS Z31, Z30, Z11
	VFMADD231PS Z31, Z30, Z12
	VFMADD231PS Z31, Z30, Z13
	VFMADD231PS Z31, Z30, Z14
	VFMADD231PS Z31, Z30, Z15
	VFMADD231PS Z31, Z30, Z16
	VFMADD231PS Z31, Z30, Z17
	VFMADD231PS Z31, Z30, Z18
	VFMADD231PS Z31, Z30, Z19
	VFMADD231PS Z31, Z30, Z20
	VFMADD231PS Z31, Z30, Z21
	VFMADD231PS Z31, Z30, Z22
	VFMADD231PS Z31, Z30, Z23
	DECQ CX
	JNZ  ploopf
	VZEROUPPER
	RET

// func peakLoopVNNI(n int)
// Requires: AVX512F, AVX512_VNNI
TEXT ·peakLoopVNNI(SB), NOSPLIT, $0-8
	MOVQ   n+0(FP), CX
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
ploopv:
	VPDPBUSD Z31, Z30, Z0
	VPDPBUSD Z31, Z30, Z1
	VPDPBUSD Z31, Z30, Z2
	VPDPBUSD Z31, Z30, Z3
	VPDPBUSD Z31, Z30, Z4
	VPDPBUSD Z31, Z30, Z5
	VPDPBUSD Z31, Z30, Z6
	VPDPBUSD Z31, Z30, Z7
	VPDPBUSD Z31, Z30, Z8
	VPDPBUSD Z31, Z30, Z9
	VPDPBUSD Z31, Z30, Z10
	VPDPBUSD Z31, Z30, Z11
	VPDPBUSD Z31, Z30, Z12
	VPDPBUSD Z31, Z30, Z13
	VPDPBUSD Z31, Z30, Z14
	VPDPBUSD Z31, Z30, Z15
	VPDPBUSD Z31, Z30, Z16
	VPDPBUSD Z31, Z30, Z17
	VPDPBUSD Z31, Z30, Z18
	VPDPBUSD Z31, Z30, Z19
	VPDPBUSD Z31, Z30, Z20
	VPDPBUSD Z31, Z30, Z21
	VPDPBUSD Z31, Z30, Z22
	VPDPBUSD Z31, Z30, Z23
	DECQ CX
	JNZ  ploopv
	VZEROUPPER
	RET
