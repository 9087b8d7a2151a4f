//go:build !purego

#include "textflag.h"

// n-bit batch GEMV dot products (nbitbatch.go): 8 activation vectors at once. For each of `rows` rows
// starting at w (rb bytes apart), dots[8r+v] = Σ over `blocks` full 64-byte blocks of Σ u·q_v, with the
// vectors' planes interleaved block-major (block b of vector v at planes + (8b+v)·per, each as
// nbitPlanes lays out one vector's block). Each block of codes is loaded and its fields are unpacked
// once, shifted down to their values (one accumulator per vector, so the fields must share a scale),
// and multiplied with all eight vectors by VPDPBUSD on memory operands (L1-resident planes).

// BATCHPROLOGUE loads the arguments: DI dots, SI w, R8 rb, R9 rows, R10 blocks, R11 planes.
#define BATCHPROLOGUE \
	MOVQ dots+0(FP), DI      \
	MOVQ w+8(FP), SI         \
	MOVQ rb+16(FP), R8       \
	MOVQ rows+24(FP), R9     \
	MOVQ blocks+32(FP), R10  \
	MOVQ planes+40(FP), R11

#define ZERO8 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7

// REDUCE8 adds the 16 lanes of each of Z0..Z7 (one vector each) and stores the eight sums at (DI).
#define REDUCE8 \
	VEXTRACTI64X4 $1, Z0, Y16 \
	VPADDD        Y16, Y0, Y0 \
	VEXTRACTI64X4 $1, Z1, Y17 \
	VPADDD        Y17, Y1, Y1 \
	VEXTRACTI64X4 $1, Z2, Y18 \
	VPADDD        Y18, Y2, Y2 \
	VEXTRACTI64X4 $1, Z3, Y19 \
	VPADDD        Y19, Y3, Y3 \
	VEXTRACTI64X4 $1, Z4, Y16 \
	VPADDD        Y16, Y4, Y4 \
	VEXTRACTI64X4 $1, Z5, Y17 \
	VPADDD        Y17, Y5, Y5 \
	VEXTRACTI64X4 $1, Z6, Y18 \
	VPADDD        Y18, Y6, Y6 \
	VEXTRACTI64X4 $1, Z7, Y19 \
	VPADDD        Y19, Y7, Y7 \
	VPHADDD       Y1, Y0, Y0  \
	VPHADDD       Y3, Y2, Y2  \
	VPHADDD       Y5, Y4, Y4  \
	VPHADDD       Y7, Y6, Y6  \
	VPHADDD       Y2, Y0, Y0  \
	VPHADDD       Y6, Y4, Y4  \
	VEXTRACTI128  $1, Y0, X1  \
	VPADDD        X1, X0, X0  \
	VMOVDQU       X0, (DI)    \
	VEXTRACTI128  $1, Y4, X5  \
	VPADDD        X5, X4, X4  \
	VMOVDQU       X4, 16(DI)

// F8(F, OFF) multiplies field register F with the 8 vectors' plane at OFF within each vector's block
// (the vectors' blocks PER bytes apart) into Z0..Z7.
#define F8(F, OFF, PER) \
	VPDPBUSD (OFF+0*PER)(BX), F, Z0 \
	VPDPBUSD (OFF+1*PER)(BX), F, Z1 \
	VPDPBUSD (OFF+2*PER)(BX), F, Z2 \
	VPDPBUSD (OFF+3*PER)(BX), F, Z3 \
	VPDPBUSD (OFF+4*PER)(BX), F, Z4 \
	VPDPBUSD (OFF+5*PER)(BX), F, Z5 \
	VPDPBUSD (OFF+6*PER)(BX), F, Z6 \
	VPDPBUSD (OFF+7*PER)(BX), F, Z7

// func nbitBatch8VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Requires: AVX512F, AVX512BW, AVX512VL, AVX512_VNNI
TEXT ·nbitBatch8VNNI(SB), NOSPLIT, $0-48
	BATCHPROLOGUE

rowb8:
	ZERO8
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R10, CX

blkb8:
	VMOVDQU8 (AX), Z20
	F8(Z20, 0, 64)
	ADDQ     $64, AX
	ADDQ     $512, BX
	DECQ     CX
	JNZ      blkb8
	REDUCE8
	ADDQ     $32, DI
	ADDQ     R8, SI
	DECQ     R9
	JNZ      rowb8
	VZEROUPPER
	RET

// func nbitBatch4VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Requires: AVX512F, AVX512BW, AVX512VL, AVX512_VNNI
TEXT ·nbitBatch4VNNI(SB), NOSPLIT, $0-48
	BATCHPROLOGUE
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z28

rowb4:
	ZERO8
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R10, CX

blkb4:
	VMOVDQU8 (AX), Z20
	VPSRLW   $4, Z20, Z21
	VPANDD   Z28, Z20, Z20
	VPANDD   Z28, Z21, Z21
	F8(Z20, 0, 128)
	F8(Z21, 64, 128)
	ADDQ     $64, AX
	ADDQ     $1024, BX
	DECQ     CX
	JNZ      blkb4
	REDUCE8
	ADDQ     $32, DI
	ADDQ     R8, SI
	DECQ     R9
	JNZ      rowb4
	VZEROUPPER
	RET

// func nbitBatch2VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Requires: AVX512F, AVX512BW, AVX512VL, AVX512_VNNI
TEXT ·nbitBatch2VNNI(SB), NOSPLIT, $0-48
	BATCHPROLOGUE
	MOVL         $0x03030303, AX
	VPBROADCASTD AX, Z28

rowb2:
	ZERO8
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R10, CX

blkb2:
	VMOVDQU8 (AX), Z20
	VPSRLW   $2, Z20, Z21
	VPSRLW   $4, Z20, Z22
	VPSRLW   $6, Z20, Z23
	VPANDD   Z28, Z20, Z20
	VPANDD   Z28, Z21, Z21
	VPANDD   Z28, Z22, Z22
	VPANDD   Z28, Z23, Z23
	F8(Z20, 0, 256)
	F8(Z21, 64, 256)
	F8(Z22, 128, 256)
	F8(Z23, 192, 256)
	ADDQ     $64, AX
	ADDQ     $2048, BX
	DECQ     CX
	JNZ      blkb2
	REDUCE8
	ADDQ     $32, DI
	ADDQ     R8, SI
	DECQ     R9
	JNZ      rowb2
	VZEROUPPER
	RET
