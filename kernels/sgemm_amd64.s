//go:build !purego

// fp32 GEMM micro-kernels for amd64: C[rows, cols] (=|+=) alpha * Apanel · Bpanel (+ beta*C).
//
// Both kernels read packed panels written by packA/packB (sgemm_pack.go):
//   A panel: k steps of MR floats (column p of an MR-row strip of op(A)), zero padded to MR rows.
//   B panel: k steps of NR floats (row p of an NR-column strip of op(B)), zero padded to NR cols.
// The whole MR x NR tile of C lives in registers for the k loop; C is touched once at the end, with
// masks for edge tiles (rows < MR, cols < NR), so every element of C goes through the same
// instructions wherever its tile sits. That, and summing p = 0..k-1 in order, keeps results
// independent of how the driver splits the tiles across threads.
//
// load == 0: C = alpha*acc (C is never read: beta == 0 must ignore NaN in C).
// load != 0: C = fma(beta, C, alpha*acc).

#include "textflag.h"

// ---- AVX-512: 14 x 32 tile -------------------------------------------------------------------
// 28 accumulators Z0..Z27 (row r in Z(2r), Z(2r+1)), B row in Z28/Z29, A broadcasts in Z30/Z31.
// Per k step: 2 loads of B + 14 broadcasts feed 28 FMAs, so the two 256-bit FMA pipes of Zen 4
// (one zmm FMA per cycle) stay the bottleneck, not the two load ports.

#define ROW512(oa, z, acc0, acc1) \
	VBROADCASTSS oa(AX), z; \
	VFMADD231PS  Z28, z, acc0; \
	VFMADD231PS  Z29, z, acc1

#define STEP512(oa, ob) \
	VMOVUPS ob(BX), Z28; \
	VMOVUPS ob+64(BX), Z29; \
	ROW512(oa+0, Z30, Z0, Z1); \
	ROW512(oa+4, Z31, Z2, Z3); \
	ROW512(oa+8, Z30, Z4, Z5); \
	ROW512(oa+12, Z31, Z6, Z7); \
	ROW512(oa+16, Z30, Z8, Z9); \
	ROW512(oa+20, Z31, Z10, Z11); \
	ROW512(oa+24, Z30, Z12, Z13); \
	ROW512(oa+28, Z31, Z14, Z15); \
	ROW512(oa+32, Z30, Z16, Z17); \
	ROW512(oa+36, Z31, Z18, Z19); \
	ROW512(oa+40, Z30, Z20, Z21); \
	ROW512(oa+44, Z31, Z22, Z23); \
	ROW512(oa+48, Z30, Z24, Z25); \
	ROW512(oa+52, Z31, Z26, Z27)

// Store one row of the tile; Z28 = alpha, Z29 = beta, K1/K2 = column masks, R8 = ldc in bytes.
#define STORE512(acc0, acc1) \
	VMULPS  Z28, acc0, acc0; \
	VMULPS  Z28, acc1, acc1; \
	VMOVUPS acc0, K1, (DI); \
	VMOVUPS acc1, K2, 64(DI); \
	ADDQ    R8, DI; \
	DECQ    R9; \
	JZ      done

#define UPDATE512(acc0, acc1) \
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
	JZ          done

// func sgemmKernel14x32(k int, a, b, c *float32, ldc int, alpha, beta float32, rows int, mask uint64, load int)
// Requires: AVX512F
TEXT ·sgemmKernel14x32(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	// Start pulling the C tile (14 rows x 128 bytes) into cache while the k loop runs.
	MOVQ DI, SI
	MOVQ $14, DX
prefetch:
	PREFETCHT0 (SI)
	PREFETCHT0 64(SI)
	ADDQ       R8, SI
	DECQ       DX
	JNZ        prefetch

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
	JLT  tail

loop4:
	// 4 k steps: A advances 4*14*4 = 224 bytes, B 4*32*4 = 512 bytes.
	PREFETCHT0 1024(BX)
	STEP512(0, 0)
	PREFETCHT0 1088(BX)
	STEP512(56, 128)
	PREFETCHT0 1152(BX)
	STEP512(112, 256)
	PREFETCHT0 1216(BX)
	STEP512(168, 384)
	ADDQ $224, AX
	ADDQ $512, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop4

tail:
	TESTQ CX, CX
	JZ    store

loop1:
	STEP512(0, 0)
	ADDQ $56, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSS alpha+40(FP), Z28
	VBROADCASTSS beta+44(FP), Z29
	MOVQ         rows+48(FP), R9
	MOVQ         mask+56(FP), DX
	KMOVW        DX, K1
	SHRQ         $16, DX
	KMOVW        DX, K2
	MOVQ         load+64(FP), SI
	TESTQ        SI, SI
	JNZ          update

	STORE512(Z0, Z1)
	STORE512(Z2, Z3)
	STORE512(Z4, Z5)
	STORE512(Z6, Z7)
	STORE512(Z8, Z9)
	STORE512(Z10, Z11)
	STORE512(Z12, Z13)
	STORE512(Z14, Z15)
	STORE512(Z16, Z17)
	STORE512(Z18, Z19)
	STORE512(Z20, Z21)
	STORE512(Z22, Z23)
	STORE512(Z24, Z25)
	STORE512(Z26, Z27)
	JMP done

update:
	UPDATE512(Z0, Z1)
	UPDATE512(Z2, Z3)
	UPDATE512(Z4, Z5)
	UPDATE512(Z6, Z7)
	UPDATE512(Z8, Z9)
	UPDATE512(Z10, Z11)
	UPDATE512(Z12, Z13)
	UPDATE512(Z14, Z15)
	UPDATE512(Z16, Z17)
	UPDATE512(Z18, Z19)
	UPDATE512(Z20, Z21)
	UPDATE512(Z22, Z23)
	UPDATE512(Z24, Z25)
	UPDATE512(Z26, Z27)

done:
	VZEROUPPER
	RET

// ---- AVX2 + FMA: 6 x 16 tile ------------------------------------------------------------------
// 12 accumulators Y0..Y11 (row r in Y(2r), Y(2r+1)), B row in Y12/Y13, A broadcasts in Y14/Y15:
// all 16 ymm registers. Per k step 2 loads + 6 broadcasts feed 12 FMAs.

#define ROW256(oa, y, acc0, acc1) \
	VBROADCASTSS oa(AX), y; \
	VFMADD231PS  Y12, y, acc0; \
	VFMADD231PS  Y13, y, acc1

#define STEP256(oa, ob) \
	VMOVUPS ob(BX), Y12; \
	VMOVUPS ob+32(BX), Y13; \
	ROW256(oa+0, Y14, Y0, Y1); \
	ROW256(oa+4, Y15, Y2, Y3); \
	ROW256(oa+8, Y14, Y4, Y5); \
	ROW256(oa+12, Y15, Y6, Y7); \
	ROW256(oa+16, Y14, Y8, Y9); \
	ROW256(oa+20, Y15, Y10, Y11)

// Full-width rows (cols == 16): Y14 = alpha, Y15 = beta, Y12/Y13 scratch.
#define STORE256(acc0, acc1) \
	VMULPS  Y14, acc0, acc0; \
	VMULPS  Y14, acc1, acc1; \
	VMOVUPS acc0, (DI); \
	VMOVUPS acc1, 32(DI); \
	ADDQ    R8, DI; \
	DECQ    R9; \
	JZ      done2

#define UPDATE256(acc0, acc1) \
	VMULPS      Y14, acc0, acc0; \
	VMULPS      Y14, acc1, acc1; \
	VMOVUPS     (DI), Y12; \
	VMOVUPS     32(DI), Y13; \
	VFMADD231PS Y15, Y12, acc0; \
	VFMADD231PS Y15, Y13, acc1; \
	VMOVUPS     acc0, (DI); \
	VMOVUPS     acc1, 32(DI); \
	ADDQ        R8, DI; \
	DECQ        R9; \
	JZ          done2

// Edge rows (cols < 16): the column masks are reloaded from (DX) each row because the update
// needs Y12/Y13 for C. VMASKMOVPS never touches masked-off lanes, so no access runs past C.
#define MSTORE256(acc0, acc1) \
	VMOVUPS    (DX), Y12; \
	VMOVUPS    32(DX), Y13; \
	VMULPS     Y14, acc0, acc0; \
	VMULPS     Y14, acc1, acc1; \
	VMASKMOVPS acc0, Y12, (DI); \
	VMASKMOVPS acc1, Y13, 32(DI); \
	ADDQ       R8, DI; \
	DECQ       R9; \
	JZ         done2

#define MUPDATE256(acc0, acc1) \
	VMULPS      Y14, acc0, acc0; \
	VMULPS      Y14, acc1, acc1; \
	VMOVUPS     (DX), Y12; \
	VMASKMOVPS  (DI), Y12, Y13; \
	VFMADD231PS Y15, Y13, acc0; \
	VMASKMOVPS  acc0, Y12, (DI); \
	VMOVUPS     32(DX), Y12; \
	VMASKMOVPS  32(DI), Y12, Y13; \
	VFMADD231PS Y15, Y13, acc1; \
	VMASKMOVPS  acc1, Y12, 32(DI); \
	ADDQ        R8, DI; \
	DECQ        R9; \
	JZ          done2

// func sgemmKernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32, rows int, mask *int32, load int)
// mask points at 16 int32 lane masks (-1 keep, 0 skip); nil means all 16 columns.
// Requires: AVX, AVX2, FMA
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	MOVQ DI, SI
	MOVQ $6, DX
prefetch2:
	PREFETCHT0 (SI)
	PREFETCHT0 63(SI)
	ADDQ       R8, SI
	DECQ       DX
	JNZ        prefetch2

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	CMPQ CX, $4
	JLT  tail2

loop42:
	// 4 k steps: A advances 4*6*4 = 96 bytes, B 4*16*4 = 256 bytes.
	PREFETCHT0 512(BX)
	STEP256(0, 0)
	STEP256(24, 64)
	PREFETCHT0 576(BX)
	STEP256(48, 128)
	STEP256(72, 192)
	ADDQ $96, AX
	ADDQ $256, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop42

tail2:
	TESTQ CX, CX
	JZ    store2

loop12:
	STEP256(0, 0)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop12

store2:
	VBROADCASTSS alpha+40(FP), Y14
	VBROADCASTSS beta+44(FP), Y15
	MOVQ         rows+48(FP), R9
	MOVQ         mask+56(FP), DX
	MOVQ         load+64(FP), SI
	TESTQ        DX, DX
	JNZ          masked2
	TESTQ        SI, SI
	JNZ          update2

	STORE256(Y0, Y1)
	STORE256(Y2, Y3)
	STORE256(Y4, Y5)
	STORE256(Y6, Y7)
	STORE256(Y8, Y9)
	STORE256(Y10, Y11)
	JMP done2

update2:
	UPDATE256(Y0, Y1)
	UPDATE256(Y2, Y3)
	UPDATE256(Y4, Y5)
	UPDATE256(Y6, Y7)
	UPDATE256(Y8, Y9)
	UPDATE256(Y10, Y11)
	JMP done2

masked2:
	TESTQ SI, SI
	JNZ   mupdate2
	MSTORE256(Y0, Y1)
	MSTORE256(Y2, Y3)
	MSTORE256(Y4, Y5)
	MSTORE256(Y6, Y7)
	MSTORE256(Y8, Y9)
	MSTORE256(Y10, Y11)
	JMP done2

mupdate2:
	MUPDATE256(Y0, Y1)
	MUPDATE256(Y2, Y3)
	MUPDATE256(Y4, Y5)
	MUPDATE256(Y6, Y7)
	MUPDATE256(Y8, Y9)
	MUPDATE256(Y10, Y11)

done2:
	VZEROUPPER
	RET
