//go:build !purego

#include "textflag.h"

// n-bit GEMV dot products (nbitgemv.go). Every kernel here has the signature
//
//	func(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
//
// and computes, for `rows` rows starting at w (rb bytes apart), dots[r] = Σ u·q over `blocks` full
// blocks of the row (u the row's unsigned codes, q the activations: in natural order, or rearranged
// into planes by nbitPlanes so that plane s lane i holds the activation of the code in bit field s of
// byte i). Rows go one at a time, front to back: the weights are one sequential stream, which the
// hardware prefetchers follow (four rows at a time, sharing the activation loads, with software
// prefetch 8 rows ahead measured 10-20% slower cold on Zen 5: the loads of the activations are L1 hits
// and cheap, the interleaved streams are not), and the 2-, 4- and 8-bit loops prefetch 4 KiB ahead in
// that stream (2 bits, 4096², one thread, cold: 202 us median against 230 without, 512 bytes ahead
// 256; measured in thread CPU time on a shared Zen 5). Several accumulators hide VPDPBUSD's latency.
//
// Fields are masked in place, not shifted down, where the products cannot overflow (AVX-512: a field
// s of b bits becomes u·2^(b·s), at most 240·128·4 per VPDPBUSD lane): the accumulator of field s then
// holds 2^(b·s)·Σ u·q exactly (every term is a multiple) and is shifted back (VPSRAD) at the end of
// the row. AVX2's VPMADDUBSW saturates at int16, so there each field is shifted down to its value and
// 8-bit codes are split into nibbles.

// HSUM adds the 16 int32 lanes of Z0 and stores the sum at (DI).
#define HSUM \
	VEXTRACTI64X4 $1, Z0, Y1    \
	VPADDD        Y1, Y0, Y0    \
	VEXTRACTI32X4 $1, Y0, X1    \
	VPADDD        X1, X0, X0    \
	VPSHUFD       $0x4e, X0, X1 \
	VPADDD        X1, X0, X0    \
	VPSHUFD       $0xb1, X0, X1 \
	VPADDD        X1, X0, X0    \
	VMOVD         X0, (DI)

// HSUMY adds the 8 int32 lanes of Y0 and stores the sum at (DI).
#define HSUMY \
	VEXTRACTI128 $1, Y0, X1    \
	VPADDD       X1, X0, X0    \
	VPSHUFD      $0x4e, X0, X1 \
	VPADDD       X1, X0, X0    \
	VPSHUFD      $0xb1, X0, X1 \
	VPADDD       X1, X0, X0    \
	VMOVD        X0, (DI)

// PROLOGUE loads the arguments: DI dots, SI w, R8 rb, R9 rows, R10 blocks, R11 planes.
#define PROLOGUE \
	MOVQ dots+0(FP), DI      \
	MOVQ w+8(FP), SI         \
	MOVQ rb+16(FP), R8       \
	MOVQ rows+24(FP), R9     \
	MOVQ blocks+32(FP), R10  \
	MOVQ planes+40(FP), R11

// ROWSTART sets AX to the row, BX to the planes, CX to blocks.
#define ROWSTART \
	MOVQ SI, AX   \
	MOVQ R11, BX  \
	MOVQ R10, CX

// ROWNEXT moves DI and SI to the next row and counts R9 down (the caller loops on JNZ).
#define ROWNEXT \
	ADDQ $4, DI   \
	ADDQ R8, SI   \
	DECQ R9

// ---- AVX-512 VNNI (VPDPBUSD: unsigned codes x signed activations, groups of four into int32)

// func nbitDots8VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Blocks of 64 codes, activations in natural order, pairs of blocks into two accumulators.
// Requires: AVX512F, AVX512BW, AVX512VL, AVX512_VNNI
TEXT ·nbitDots8VNNI(SB), NOSPLIT, $0-48
	PROLOGUE

row8:
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	ROWSTART
	SHRQ   $1, CX
	JZ     one8

pair8:
	PREFETCHT0 4096(AX)
	PREFETCHT0 4160(AX)
	VMOVDQU8 (AX), Z4
	VMOVDQU8 64(AX), Z5
	VPDPBUSD (BX), Z4, Z0
	VPDPBUSD 64(BX), Z5, Z2
	ADDQ     $128, AX
	ADDQ     $128, BX
	DECQ     CX
	JNZ      pair8

one8:
	TESTQ    $1, R10
	JZ       done8
	VMOVDQU8 (AX), Z4
	VPDPBUSD (BX), Z4, Z0

done8:
	VPADDD Z2, Z0, Z0
	HSUM
	ROWNEXT
	JNZ    row8
	VZEROUPPER
	RET

// func nbitDots4VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Blocks of 64 bytes (128 codes): low nibbles times plane 0, high nibbles in place (16·u) times plane 1.
// Requires: AVX512F, AVX512BW, AVX512VL, AVX512_VNNI
TEXT ·nbitDots4VNNI(SB), NOSPLIT, $0-48
	PROLOGUE
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z28
	MOVL         $0xf0f0f0f0, AX
	VPBROADCASTD AX, Z29

row4:
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	ROWSTART

blk4:
	PREFETCHT0 4096(AX)
	VMOVDQU8 (AX), Z4
	VPANDD   Z28, Z4, Z5
	VPANDD   Z29, Z4, Z6
	VPDPBUSD (BX), Z5, Z0
	VPDPBUSD 64(BX), Z6, Z2
	ADDQ     $64, AX
	ADDQ     $128, BX
	DECQ     CX
	JNZ      blk4
	VPSRAD   $4, Z2, Z2
	VPADDD   Z2, Z0, Z0
	HSUM
	ROWNEXT
	JNZ      row4
	VZEROUPPER
	RET

// func nbitDots2VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Blocks of 64 bytes (256 codes): field s masked in place (4^s·u) times plane s into accumulator s.
// Requires: AVX512F, AVX512BW, AVX512VL, AVX512_VNNI
TEXT ·nbitDots2VNNI(SB), NOSPLIT, $0-48
	PROLOGUE
	MOVL         $0x03030303, AX
	VPBROADCASTD AX, Z28
	MOVL         $0x0c0c0c0c, AX
	VPBROADCASTD AX, Z29
	MOVL         $0x30303030, AX
	VPBROADCASTD AX, Z30
	MOVL         $0xc0c0c0c0, AX
	VPBROADCASTD AX, Z31

row2:
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	ROWSTART

blk2:
	PREFETCHT0 4096(AX)
	VMOVDQU8 (AX), Z20
	VPANDD   Z28, Z20, Z21
	VPANDD   Z29, Z20, Z22
	VPANDD   Z30, Z20, Z23
	VPANDD   Z31, Z20, Z24
	VPDPBUSD (BX), Z21, Z0
	VPDPBUSD 64(BX), Z22, Z2
	VPDPBUSD 128(BX), Z23, Z3
	VPDPBUSD 192(BX), Z24, Z4
	ADDQ     $64, AX
	ADDQ     $256, BX
	DECQ     CX
	JNZ      blk2
	VPSRAD   $2, Z2, Z2
	VPSRAD   $4, Z3, Z3
	VPSRAD   $6, Z4, Z4
	VPADDD   Z2, Z0, Z0
	VPADDD   Z3, Z0, Z0
	VPADDD   Z4, Z0, Z0
	HSUM
	ROWNEXT
	JNZ      row2
	VZEROUPPER
	RET

// ONE1 adds the 64 1-bit codes at OFF(AX) (a 64-bit mask, bit j = code j) into A: the activations
// at OFF·8(BX) where the bit is set (zero elsewhere) times ones (Z31).
#define ONE1(OFF, POFF, K, R, A) \
	KMOVQ      OFF(AX), K            \
	VMOVDQU8.Z POFF(BX), K, R        \
	VPDPBUSD   R, Z31, A

// func nbitDots1VNNI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Blocks of 32 bytes (256 codes, four 64-bit masks into four accumulators), activations in natural order.
// Requires: AVX512F, AVX512BW, AVX512VL, AVX512_VNNI
TEXT ·nbitDots1VNNI(SB), NOSPLIT, $0-48
	PROLOGUE
	MOVL         $0x01010101, AX
	VPBROADCASTD AX, Z31

row1:
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	ROWSTART

blk1:
	ONE1(0, 0, K1, Z20, Z0)
	ONE1(8, 64, K2, Z21, Z2)
	ONE1(16, 128, K3, Z22, Z3)
	ONE1(24, 192, K4, Z23, Z4)
	ADDQ $32, AX
	ADDQ $256, BX
	DECQ CX
	JNZ  blk1
	VPADDD Z2, Z0, Z0
	VPADDD Z4, Z3, Z3
	VPADDD Z3, Z0, Z0
	HSUM
	ROWNEXT
	JNZ    row1
	VZEROUPPER
	RET

// nbit3Tab: bytes 0-63 the VPERMB index that puts bytes 3i, 3i+1, 3i+2 of a 24-byte block into the
// low bytes of qword i (8 codes of 3 bits); bytes 64-127 the VPMULTISHIFTQB control that moves code
// c of each qword (bits 3c..3c+2) to the low bits of byte c.
DATA nbit3Tab<>+0(SB)/8, $0x0202020202020100
DATA nbit3Tab<>+8(SB)/8, $0x0505050505050403
DATA nbit3Tab<>+16(SB)/8, $0x0808080808080706
DATA nbit3Tab<>+24(SB)/8, $0x0b0b0b0b0b0b0a09
DATA nbit3Tab<>+32(SB)/8, $0x0e0e0e0e0e0e0d0c
DATA nbit3Tab<>+40(SB)/8, $0x111111111111100f
DATA nbit3Tab<>+48(SB)/8, $0x1414141414141312
DATA nbit3Tab<>+56(SB)/8, $0x1717171717171615
DATA nbit3Tab<>+64(SB)/8, $0x15120f0c09060300
DATA nbit3Tab<>+72(SB)/8, $0x15120f0c09060300
DATA nbit3Tab<>+80(SB)/8, $0x15120f0c09060300
DATA nbit3Tab<>+88(SB)/8, $0x15120f0c09060300
DATA nbit3Tab<>+96(SB)/8, $0x15120f0c09060300
DATA nbit3Tab<>+104(SB)/8, $0x15120f0c09060300
DATA nbit3Tab<>+112(SB)/8, $0x15120f0c09060300
DATA nbit3Tab<>+120(SB)/8, $0x15120f0c09060300
GLOBL nbit3Tab<>(SB), RODATA|NOPTR, $128

// ONE3 adds the 64 3-bit codes at OFF(AX) (24 bytes, read with the byte mask K1 so nothing past them
// is touched) times the activations at POFF(BX) into A.
#define ONE3(OFF, POFF, R, A) \
	VMOVDQU8.Z     OFF(AX), K1, R  \
	VPERMB         R, Z30, R       \
	VPMULTISHIFTQB R, Z29, R       \
	VPANDD         Z28, R, R       \
	VPDPBUSD       POFF(BX), R, A

// func nbitDots3VBMI(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Blocks of 48 bytes (128 codes, two halves into two accumulators), activations in natural order.
// Requires: AVX512F, AVX512BW, AVX512VL, AVX512_VNNI, AVX512_VBMI
TEXT ·nbitDots3VBMI(SB), NOSPLIT, $0-48
	PROLOGUE
	MOVL         $0x07070707, AX
	VPBROADCASTD AX, Z28
	VMOVDQU64    nbit3Tab<>+64(SB), Z29
	VMOVDQU64    nbit3Tab<>+0(SB), Z30
	MOVL         $0xffffff, AX
	KMOVQ        AX, K1

row3:
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	ROWSTART

blk3:
	ONE3(0, 0, Z20, Z0)
	ONE3(24, 64, Z21, Z2)
	ADDQ $48, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  blk3
	VPADDD Z2, Z0, Z0
	HSUM
	ROWNEXT
	JNZ    row3
	VZEROUPPER
	RET

// ---- AVX2 (VPMADDUBSW: unsigned x signed bytes, pairs into saturating int16; VPMADDWD by ones
// into int32). Blocks are 32 bytes; Y15 holds the field mask, Y14 int16 ones, Y13 int16 sixteens.

#define BCAST(V, X, Y) \
	MOVL         V, AX  \
	MOVQ         AX, X  \
	VPBROADCASTD X, Y

// func nbitDots8AVX2(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Blocks of 32 codes, activations in natural order: low nibbles (u & 15) and high nibbles (u >> 4)
// separately (each product pair at most 2·15·128 in int16), the high ones weighted 16 by VPMADDWD.
// Requires: AVX2
TEXT ·nbitDots8AVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	BCAST($0x0f0f0f0f, X15, Y15)
	BCAST($0x00010001, X14, Y14)
	BCAST($0x00100010, X13, Y13)

row8y:
	VPXOR Y0, Y0, Y0
	VPXOR Y2, Y2, Y2
	ROWSTART

blk8y:
	PREFETCHT0 4096(AX)
	VMOVDQU    (AX), Y4
	VPAND      Y15, Y4, Y5
	VPSRLW     $4, Y4, Y6
	VPAND      Y15, Y6, Y6
	VPMADDUBSW (BX), Y5, Y5
	VPMADDUBSW (BX), Y6, Y6
	VPMADDWD   Y14, Y5, Y5
	VPMADDWD   Y13, Y6, Y6
	VPADDD     Y5, Y0, Y0
	VPADDD     Y6, Y2, Y2
	ADDQ       $32, AX
	ADDQ       $32, BX
	DECQ       CX
	JNZ        blk8y
	VPADDD     Y2, Y0, Y0
	HSUMY
	ROWNEXT
	JNZ        row8y
	VZEROUPPER
	RET

// func nbitDots4AVX2(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Blocks of 32 bytes (64 codes): low nibbles times plane 0, high nibbles times plane 1 (the two
// int16 pair sums together at most 2·2·15·128).
// Requires: AVX2
TEXT ·nbitDots4AVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	BCAST($0x0f0f0f0f, X15, Y15)
	BCAST($0x00010001, X14, Y14)

row4y:
	VPXOR Y0, Y0, Y0
	ROWSTART

blk4y:
	PREFETCHT0 4096(AX)
	VMOVDQU    (AX), Y4
	VPAND      Y15, Y4, Y5
	VPSRLW     $4, Y4, Y6
	VPAND      Y15, Y6, Y6
	VPMADDUBSW (BX), Y5, Y5
	VPMADDUBSW 32(BX), Y6, Y6
	VPADDW     Y6, Y5, Y5
	VPMADDWD   Y14, Y5, Y5
	VPADDD     Y5, Y0, Y0
	ADDQ       $32, AX
	ADDQ       $64, BX
	DECQ       CX
	JNZ        blk4y
	HSUMY
	ROWNEXT
	JNZ        row4y
	VZEROUPPER
	RET

// func nbitDots2AVX2(dots *int32, w *byte, rb, rows, blocks int, planes *int8)
// Blocks of 32 bytes (128 codes): field s shifted down (at most 3) times plane s; the four int16 pair
// sums together are at most 4·2·3·128.
// Requires: AVX2
TEXT ·nbitDots2AVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	BCAST($0x03030303, X15, Y15)
	BCAST($0x00010001, X14, Y14)

row2y:
	VPXOR Y0, Y0, Y0
	ROWSTART

blk2y:
	PREFETCHT0 4096(AX)
	VMOVDQU    (AX), Y4
	VPAND      Y15, Y4, Y5
	VPSRLW     $2, Y4, Y6
	VPSRLW     $4, Y4, Y7
	VPSRLW     $6, Y4, Y8
	VPAND      Y15, Y6, Y6
	VPAND      Y15, Y7, Y7
	VPAND      Y15, Y8, Y8
	VPMADDUBSW (BX), Y5, Y5
	VPMADDUBSW 32(BX), Y6, Y6
	VPMADDUBSW 64(BX), Y7, Y7
	VPMADDUBSW 96(BX), Y8, Y8
	VPADDW     Y6, Y5, Y5
	VPADDW     Y8, Y7, Y7
	VPADDW     Y7, Y5, Y5
	VPMADDWD   Y14, Y5, Y5
	VPADDD     Y5, Y0, Y0
	ADDQ       $32, AX
	ADDQ       $128, BX
	DECQ       CX
	JNZ        blk2y
	HSUMY
	ROWNEXT
	JNZ        row2y
	VZEROUPPER
	RET
