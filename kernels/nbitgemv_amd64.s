//go:build !purego

#include "textflag.h"

// n-bit GEMV dot products (nbitgemv.go): for each of rows rows starting at w (rb bytes apart),
// dots[r] = Σ over blocks full 64-byte blocks of Σ u·q, with u the row's codes and q the activations
// rearranged into planes (nbitPlanes): 64 bytes of 8-bit codes are 64 codes (one plane), 64 bytes of
// 4-bit codes are 128 (two planes: low and high nibbles), 64 bytes of 2-bit codes 256 (four planes).
// VPDPBUSD multiplies the unsigned codes by the signed activations and adds groups of four into int32
// lanes; two accumulators alternate so consecutive VPDPBUSDs do not wait on each other.

// HSUM adds the 16 dword lanes of Z0 and Z1 into the low dword of X0.
#define HSUM \
	VPADDD        Z1, Z0, Z0    \
	VEXTRACTI64X4 $1, Z0, Y1    \
	VPADDD        Y1, Y0, Y0    \
	VEXTRACTI32X4 $1, Y0, X1    \
	VPADDD        X1, X0, X0    \
	VPSHUFD       $0x4e, X0, X1 \
	VPADDD        X1, X0, X0    \
	VPSHUFD       $0xb1, X0, X1 \
	VPADDD        X1, X0, X0

// func nbitDots8VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Requires: AVX512F, AVX512BW, AVX512_VNNI
TEXT ·nbitDots8VNNI(SB), NOSPLIT, $0-48
	MOVQ dots+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rb+16(FP), R8
	MOVQ rows+24(FP), R9
	MOVQ blocks+32(FP), R10
	MOVQ planes+40(FP), R11

row8:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ   SI, AX
	MOVQ   R11, BX
	MOVQ   R10, CX
	SHRQ   $1, CX
	JZ     one8

pair8:
	VMOVDQU8 (AX), Z2
	VMOVDQU8 64(AX), Z3
	VPDPBUSD (BX), Z2, Z0
	VPDPBUSD 64(BX), Z3, Z1
	ADDQ     $128, AX
	ADDQ     $128, BX
	DECQ     CX
	JNZ      pair8

one8:
	TESTQ    $1, R10
	JZ       done8
	VMOVDQU8 (AX), Z2
	VPDPBUSD (BX), Z2, Z0

done8:
	HSUM
	VMOVD X0, (DI)
	ADDQ  $4, DI
	ADDQ  R8, SI
	DECQ  R9
	JNZ   row8
	VZEROUPPER
	RET

// func nbitDots4VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Requires: AVX512F, AVX512BW, AVX512_VNNI
TEXT ·nbitDots4VNNI(SB), NOSPLIT, $0-48
	MOVQ         dots+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         rb+16(FP), R8
	MOVQ         rows+24(FP), R9
	MOVQ         blocks+32(FP), R10
	MOVQ         planes+40(FP), R11
	MOVL         $0x0f0f0f0f, DX
	VPBROADCASTD DX, Z31

row4:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ   SI, AX
	MOVQ   R11, BX
	MOVQ   R10, CX

blk4:
	VMOVDQU8 (AX), Z2
	VPSRLW   $4, Z2, Z3
	VPANDD   Z31, Z2, Z2
	VPANDD   Z31, Z3, Z3
	VPDPBUSD (BX), Z2, Z0
	VPDPBUSD 64(BX), Z3, Z1
	ADDQ     $64, AX
	ADDQ     $128, BX
	DECQ     CX
	JNZ      blk4
	HSUM
	VMOVD    X0, (DI)
	ADDQ     $4, DI
	ADDQ     R8, SI
	DECQ     R9
	JNZ      row4
	VZEROUPPER
	RET

// func nbitDots2VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Requires: AVX512F, AVX512BW, AVX512_VNNI
TEXT ·nbitDots2VNNI(SB), NOSPLIT, $0-48
	MOVQ         dots+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         rb+16(FP), R8
	MOVQ         rows+24(FP), R9
	MOVQ         blocks+32(FP), R10
	MOVQ         planes+40(FP), R11
	MOVL         $0x03030303, DX
	VPBROADCASTD DX, Z31

row2:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ   SI, AX
	MOVQ   R11, BX
	MOVQ   R10, CX

blk2:
	VMOVDQU8 (AX), Z2
	VPSRLW   $2, Z2, Z3
	VPSRLW   $4, Z2, Z4
	VPSRLW   $6, Z2, Z5
	VPANDD   Z31, Z2, Z2
	VPANDD   Z31, Z3, Z3
	VPANDD   Z31, Z4, Z4
	VPANDD   Z31, Z5, Z5
	VPDPBUSD (BX), Z2, Z0
	VPDPBUSD 64(BX), Z3, Z1
	VPDPBUSD 128(BX), Z4, Z0
	VPDPBUSD 192(BX), Z5, Z1
	ADDQ     $64, AX
	ADDQ     $256, BX
	DECQ     CX
	JNZ      blk2
	HSUM
	VMOVD    X0, (DI)
	ADDQ     $4, DI
	ADDQ     R8, SI
	DECQ     R9
	JNZ      row2
	VZEROUPPER
	RET
