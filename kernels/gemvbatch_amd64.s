//go:build !purego

// Batched packed ternary GEMV (gemvbatch.go): each 64-byte block of a row is decoded once into five
// digit planes d0..d4 (Z16-Z20, bytes 0..2) and multiplied into every vector of a group of 8 (then 4)
// by VPDPBUSD with the vector's activation planes as memory operands. Planes are block-major:
// block blk, vector v, plane j at planes + (blk·bp + v)·320 + 64·j. Accumulator of vector v: Z(v) for
// even planes, Z(8+v) for odd ones (two chains per vector hide VPDPBUSD's latency), added at the end.
//
// Registers: Z0-Z15 accumulators, Z16-Z20 digits, Z21 bytes then r then P, Z22-Z23/Z30-Z31 scratch,
// Z24-Z25 P table, Z26 81s, Z27 162s, Z28 1s, Z29 0x03s; K1 tail mask, K3-K4 thresholds.
// AX acc row, SI w row, DX rows left, BX nfull, R8 rb, R9 planes, R11 block stride bp·320,
// R12 vector index of the group, R13 sums, R10 block pointer, DI plane pointer, CX counter.

#include "textflag.h"

#define DECODE(LOAD, PTR) \
	LOAD(PTR, Z21)                   \
	VPCMPUB    $5, Z26, Z21, K3      \
	VPCMPUB    $5, Z27, Z21, K4      \
	VMOVDQU8.Z Z28, K3, Z20          \
	VPADDB     Z28, Z20, K4, Z20     \
	VPSUBB     Z26, Z21, K3, Z21     \
	VPSUBB     Z26, Z21, K4, Z21     \
	VPERMI2B   Z25, Z24, Z21         \
	VPANDD     Z29, Z21, Z16         \
	VPSRLW     $2, Z21, Z17          \
	VPANDD     Z29, Z17, Z17         \
	VPSRLW     $4, Z21, Z18          \
	VPANDD     Z29, Z18, Z18         \
	VPSRLW     $6, Z21, Z19          \
	VPANDD     Z29, Z19, Z19

#define LOADFULL(PTR, R) VMOVDQU64 (PTR), R
#define LOADTAIL(PTR, R) VMOVDQU8.Z (PTR), K1, R
#define MAC8 \
	VPDPBUSD 0(DI), Z16, Z0 \
	VPDPBUSD 320(DI), Z16, Z1 \
	VPDPBUSD 640(DI), Z16, Z2 \
	VPDPBUSD 960(DI), Z16, Z3 \
	VPDPBUSD 1280(DI), Z16, Z4 \
	VPDPBUSD 1600(DI), Z16, Z5 \
	VPDPBUSD 1920(DI), Z16, Z6 \
	VPDPBUSD 2240(DI), Z16, Z7 \
	VPDPBUSD 64(DI), Z17, Z8 \
	VPDPBUSD 384(DI), Z17, Z9 \
	VPDPBUSD 704(DI), Z17, Z10 \
	VPDPBUSD 1024(DI), Z17, Z11 \
	VPDPBUSD 1344(DI), Z17, Z12 \
	VPDPBUSD 1664(DI), Z17, Z13 \
	VPDPBUSD 1984(DI), Z17, Z14 \
	VPDPBUSD 2304(DI), Z17, Z15 \
	VPDPBUSD 128(DI), Z18, Z0 \
	VPDPBUSD 448(DI), Z18, Z1 \
	VPDPBUSD 768(DI), Z18, Z2 \
	VPDPBUSD 1088(DI), Z18, Z3 \
	VPDPBUSD 1408(DI), Z18, Z4 \
	VPDPBUSD 1728(DI), Z18, Z5 \
	VPDPBUSD 2048(DI), Z18, Z6 \
	VPDPBUSD 2368(DI), Z18, Z7 \
	VPDPBUSD 192(DI), Z19, Z8 \
	VPDPBUSD 512(DI), Z19, Z9 \
	VPDPBUSD 832(DI), Z19, Z10 \
	VPDPBUSD 1152(DI), Z19, Z11 \
	VPDPBUSD 1472(DI), Z19, Z12 \
	VPDPBUSD 1792(DI), Z19, Z13 \
	VPDPBUSD 2112(DI), Z19, Z14 \
	VPDPBUSD 2432(DI), Z19, Z15 \
	VPDPBUSD 256(DI), Z20, Z0 \
	VPDPBUSD 576(DI), Z20, Z1 \
	VPDPBUSD 896(DI), Z20, Z2 \
	VPDPBUSD 1216(DI), Z20, Z3 \
	VPDPBUSD 1536(DI), Z20, Z4 \
	VPDPBUSD 1856(DI), Z20, Z5 \
	VPDPBUSD 2176(DI), Z20, Z6 \
	VPDPBUSD 2496(DI), Z20, Z7
#define MAC4 \
	VPDPBUSD 0(DI), Z16, Z0 \
	VPDPBUSD 320(DI), Z16, Z1 \
	VPDPBUSD 640(DI), Z16, Z2 \
	VPDPBUSD 960(DI), Z16, Z3 \
	VPDPBUSD 64(DI), Z17, Z8 \
	VPDPBUSD 384(DI), Z17, Z9 \
	VPDPBUSD 704(DI), Z17, Z10 \
	VPDPBUSD 1024(DI), Z17, Z11 \
	VPDPBUSD 128(DI), Z18, Z0 \
	VPDPBUSD 448(DI), Z18, Z1 \
	VPDPBUSD 768(DI), Z18, Z2 \
	VPDPBUSD 1088(DI), Z18, Z3 \
	VPDPBUSD 192(DI), Z19, Z8 \
	VPDPBUSD 512(DI), Z19, Z9 \
	VPDPBUSD 832(DI), Z19, Z10 \
	VPDPBUSD 1152(DI), Z19, Z11 \
	VPDPBUSD 256(DI), Z20, Z0 \
	VPDPBUSD 576(DI), Z20, Z1 \
	VPDPBUSD 896(DI), Z20, Z2 \
	VPDPBUSD 1216(DI), Z20, Z3

// RED4(A, B, C, D, OFF): the four accumulators' dword sums minus sums[R12 + OFF/4 ..], stored at
// OFF(AX)(R12*4).
#define RED4(A, B, C, D, OFF) \
	VPUNPCKLDQ    B, A, Z22          \
	VPUNPCKHDQ    B, A, Z23          \
	VPADDD        Z23, Z22, Z22      \
	VPUNPCKLDQ    D, C, Z23          \
	VPUNPCKHDQ    D, C, Z30          \
	VPADDD        Z30, Z23, Z23      \
	VPUNPCKLQDQ   Z23, Z22, Z30      \
	VPUNPCKHQDQ   Z23, Z22, Z31      \
	VPADDD        Z31, Z30, Z30      \
	VEXTRACTI64X4 $1, Z30, Y31       \
	VPADDD        Y31, Y30, Y30      \
	VEXTRACTI32X4 $1, Y30, X31       \
	VPADDD        X31, X30, X30      \
	VPSUBD        OFF(R13)(R12*4), X30, X30 \
	VMOVDQU32     X30, OFF(AX)(R12*4)

#define ZERO16 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7 \
	VPXORD Z8, Z8, Z8 \
	VPXORD Z9, Z9, Z9 \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15

// func gemvBatchVBMI(acc *int32, w *byte, n, nfull, rb int, tail uint64, planes *int8, bp int, sums *int32, tab *gemvTables, nv int)
// acc rows of stride bp: acc[r·bp + v] = Σ d(w[r])·planes_v − sums[v] for v < nv (a multiple of 4);
// bp (vectors per block of planes) is the row stride of acc and of the planes.
// Requires: AVX512F, AVX512BW, AVX512VL, AVX512VBMI, AVX512VNNI
TEXT ·gemvBatchVBMI(SB), NOSPLIT, $0-88
	MOVQ  acc+0(FP), AX
	MOVQ  w+8(FP), SI
	MOVQ  n+16(FP), DX
	MOVQ  nfull+24(FP), BX
	MOVQ  rb+32(FP), R8
	KMOVQ tail+40(FP), K1
	MOVQ  planes+48(FP), R9
	MOVQ  bp+56(FP), R11
	IMULQ $320, R11
	MOVQ  sums+64(FP), R13
	MOVQ  tab+72(FP), CX

	VMOVDQU64    (CX), Z24
	VMOVDQU64    64(CX), Z25
	VPBROADCASTB 128(CX), Z26
	VPBROADCASTB 129(CX), Z27
	VPBROADCASTB 130(CX), Z28
	VPBROADCASTD gemvBMask<>+0(SB), Z29

row:
	TESTQ DX, DX
	JZ    end
	XORQ  R12, R12

group:
	MOVQ nv+80(FP), CX
	SUBQ R12, CX
	JZ   rowdone
	CMPQ CX, $8
	JLT  group4

	ZERO16
	MOVQ  R12, DI
	IMULQ $320, DI
	ADDQ  R9, DI
	MOVQ  SI, R10
	MOVQ  BX, CX
	TESTQ CX, CX
	JZ    tail8

loop8:
	PREFETCHT0 (R10)(R8*1)
	DECODE(LOADFULL, R10)
	MAC8
	ADDQ $64, R10
	ADDQ R11, DI
	DECQ CX
	JNZ  loop8

tail8:
	KORTESTQ K1, K1
	JZ       done8
	DECODE(LOADTAIL, R10)
	MAC8

done8:
	VPADDD Z8, Z0, Z0
	VPADDD Z9, Z1, Z1
	VPADDD Z10, Z2, Z2
	VPADDD Z11, Z3, Z3
	VPADDD Z12, Z4, Z4
	VPADDD Z13, Z5, Z5
	VPADDD Z14, Z6, Z6
	VPADDD Z15, Z7, Z7
	RED4(Z0, Z1, Z2, Z3, 0)
	RED4(Z4, Z5, Z6, Z7, 16)
	ADDQ $8, R12
	JMP  group

group4:
	ZERO16
	MOVQ  R12, DI
	IMULQ $320, DI
	ADDQ  R9, DI
	MOVQ  SI, R10
	MOVQ  BX, CX
	TESTQ CX, CX
	JZ    tail4

loop4:
	DECODE(LOADFULL, R10)
	MAC4
	ADDQ $64, R10
	ADDQ R11, DI
	DECQ CX
	JNZ  loop4

tail4:
	KORTESTQ K1, K1
	JZ       done4
	DECODE(LOADTAIL, R10)
	MAC4

done4:
	VPADDD Z8, Z0, Z0
	VPADDD Z9, Z1, Z1
	VPADDD Z10, Z2, Z2
	VPADDD Z11, Z3, Z3
	RED4(Z0, Z1, Z2, Z3, 0)
	ADDQ $4, R12
	JMP  group

rowdone:
	MOVQ bp+56(FP), CX
	LEAQ (AX)(CX*4), AX
	ADDQ R8, SI
	DECQ DX
	JMP  row

end:
	VZEROUPPER
	RET

DATA gemvBMask<>+0(SB)/4, $0x03030303
GLOBL gemvBMask<>(SB), RODATA|NOPTR, $4
