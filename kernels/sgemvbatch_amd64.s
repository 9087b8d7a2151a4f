//go:build !purego

// The AVX-512 F16 batch head kernels (see sgemvbatch.go): y[v·ldy + r] = Σ_{j<k16} a[r·lda + j]·x[v·lda + j].
// Each (row, vector) product is summed exactly as NARROW512 (sgemv_narrow_amd64.s) sums a row of
// sgemvF16AVX512: four accumulators over the 64-element blocks (element group q of a block into
// accumulator q), the 16-element groups past the last block into accumulator 0, then
// (a0 + a1) + (a2 + a3) and the lane fold 0-7 + 8-15, 0-3 + 4-7, 0-1 + 2-3, 0 + 1. So the products
// equal SgemvF16's bit for bit, whichever kernel (tile) a product falls into.

#include "textflag.h"

// FOLD4 folds the accumulators A..D of one product (YA: A's low half) and stores the float at DST.
// Uses Z24, Z25.
#define FOLD4(A, B, C, D, YA, DST) \
	VADDPS        B, A, A       \
	VADDPS        D, C, C       \
	VADDPS        C, A, A       \
	VEXTRACTF64X4 $1, A, Y24    \
	VADDPS        Y24, YA, Y24  \
	VEXTRACTF32X4 $1, Y24, X25  \
	VADDPS        X25, X24, X24 \
	VMOVHLPS      X24, X24, X25 \
	VADDPS        X25, X24, X24 \
	VMOVSHDUP     X24, X25      \
	VADDSS        X25, X24, X24 \
	VMOVSS        X24, DST

// ARGS: DI y, R8 y's vector stride in bytes, SI a, R9 a's row stride in bytes, DX x, R10 x's vector
// stride in bytes, CX count, R11 64-element blocks, R12 16-element groups after them.
#define ARGS \
	MOVQ y+0(FP), DI      \
	MOVQ ldy+8(FP), R8    \
	SHLQ $2, R8           \
	MOVQ a+16(FP), SI     \
	MOVQ lda+24(FP), R9   \
	MOVQ R9, R10          \
	SHLQ $1, R9           \
	SHLQ $2, R10          \
	MOVQ x+32(FP), DX     \
	MOVQ count+40(FP), CX \
	MOVQ k16+48(FP), R11  \
	MOVQ R11, R12         \
	SHRQ $6, R11          \
	ANDQ $63, R12         \
	SHRQ $4, R12

// func sgemvF16B2x2AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, count, k16 int)
// Rows 0-1 against vectors 2·g, 2·g+1 for each g < count; product (row r, vector v) in
// Z[4d .. 4d+3], d = 2v + r.
// Requires: AVX512F, AVX512VL, AVX512DQ
TEXT ·sgemvF16B2x2AVX512(SB), NOSPLIT, $0-56
	ARGS
outer22:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	MOVQ SI, AX
	MOVQ DX, BX
	MOVQ R11, R13
	TESTQ R13, R13
	JZ rest22
blk22:
	VMOVUPS 0(BX), Z18
	VMOVUPS 0(BX)(R10*1), Z19
	VCVTPH2PS 0(AX), Z16
	VCVTPH2PS 0(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z0
	VFMADD231PS Z18, Z17, Z4
	VFMADD231PS Z19, Z16, Z8
	VFMADD231PS Z19, Z17, Z12
	VMOVUPS 64(BX), Z18
	VMOVUPS 64(BX)(R10*1), Z19
	VCVTPH2PS 32(AX), Z16
	VCVTPH2PS 32(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z1
	VFMADD231PS Z18, Z17, Z5
	VFMADD231PS Z19, Z16, Z9
	VFMADD231PS Z19, Z17, Z13
	VMOVUPS 128(BX), Z18
	VMOVUPS 128(BX)(R10*1), Z19
	VCVTPH2PS 64(AX), Z16
	VCVTPH2PS 64(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z2
	VFMADD231PS Z18, Z17, Z6
	VFMADD231PS Z19, Z16, Z10
	VFMADD231PS Z19, Z17, Z14
	VMOVUPS 192(BX), Z18
	VMOVUPS 192(BX)(R10*1), Z19
	VCVTPH2PS 96(AX), Z16
	VCVTPH2PS 96(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z3
	VFMADD231PS Z18, Z17, Z7
	VFMADD231PS Z19, Z16, Z11
	VFMADD231PS Z19, Z17, Z15
	ADDQ $128, AX
	ADDQ $256, BX
	DECQ R13
	JNZ blk22
rest22:
	MOVQ R12, R13
	TESTQ R13, R13
	JZ fold22
g1622:
	VMOVUPS 0(BX), Z18
	VMOVUPS 0(BX)(R10*1), Z19
	VCVTPH2PS 0(AX), Z16
	VCVTPH2PS 0(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z0
	VFMADD231PS Z18, Z17, Z4
	VFMADD231PS Z19, Z16, Z8
	VFMADD231PS Z19, Z17, Z12
	ADDQ $32, AX
	ADDQ $64, BX
	DECQ R13
	JNZ g1622
fold22:
	FOLD4(Z0, Z1, Z2, Z3, Y0, 0(DI))
	FOLD4(Z4, Z5, Z6, Z7, Y4, 4(DI))
	FOLD4(Z8, Z9, Z10, Z11, Y8, 0(DI)(R8*1))
	FOLD4(Z12, Z13, Z14, Z15, Y12, 4(DI)(R8*1))
	LEAQ (DI)(R8*2), DI
	LEAQ (DX)(R10*2), DX
	DECQ CX
	JNZ outer22
	VZEROUPPER
	RET

// func sgemvF16B2x1AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, count, k16 int)
// Rows 0-1 against vectors 0 .. count-1, one at a time.
// Requires: AVX512F, AVX512VL, AVX512DQ
TEXT ·sgemvF16B2x1AVX512(SB), NOSPLIT, $0-56
	ARGS
outer21:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	MOVQ SI, AX
	MOVQ DX, BX
	MOVQ R11, R13
	TESTQ R13, R13
	JZ rest21
blk21:
	VMOVUPS 0(BX), Z18
	VCVTPH2PS 0(AX), Z16
	VCVTPH2PS 0(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z0
	VFMADD231PS Z18, Z17, Z4
	VMOVUPS 64(BX), Z18
	VCVTPH2PS 32(AX), Z16
	VCVTPH2PS 32(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z1
	VFMADD231PS Z18, Z17, Z5
	VMOVUPS 128(BX), Z18
	VCVTPH2PS 64(AX), Z16
	VCVTPH2PS 64(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z2
	VFMADD231PS Z18, Z17, Z6
	VMOVUPS 192(BX), Z18
	VCVTPH2PS 96(AX), Z16
	VCVTPH2PS 96(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z3
	VFMADD231PS Z18, Z17, Z7
	ADDQ $128, AX
	ADDQ $256, BX
	DECQ R13
	JNZ blk21
rest21:
	MOVQ R12, R13
	TESTQ R13, R13
	JZ fold21
g1621:
	VMOVUPS 0(BX), Z18
	VCVTPH2PS 0(AX), Z16
	VCVTPH2PS 0(AX)(R9*1), Z17
	VFMADD231PS Z18, Z16, Z0
	VFMADD231PS Z18, Z17, Z4
	ADDQ $32, AX
	ADDQ $64, BX
	DECQ R13
	JNZ g1621
fold21:
	FOLD4(Z0, Z1, Z2, Z3, Y0, 0(DI))
	FOLD4(Z4, Z5, Z6, Z7, Y4, 4(DI))
	ADDQ R8, DI
	ADDQ R10, DX
	DECQ CX
	JNZ outer21
	VZEROUPPER
	RET

// func sgemvF16B1x1AVX512(y *float32, ldy int, a *uint16, lda int, x *float32, count, k16 int)
// Row 0 against vectors 0 .. count-1, one at a time.
// Requires: AVX512F, AVX512VL, AVX512DQ
TEXT ·sgemvF16B1x1AVX512(SB), NOSPLIT, $0-56
	ARGS
outer11:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ SI, AX
	MOVQ DX, BX
	MOVQ R11, R13
	TESTQ R13, R13
	JZ rest11
blk11:
	VMOVUPS 0(BX), Z18
	VCVTPH2PS 0(AX), Z16
	VFMADD231PS Z18, Z16, Z0
	VMOVUPS 64(BX), Z18
	VCVTPH2PS 32(AX), Z16
	VFMADD231PS Z18, Z16, Z1
	VMOVUPS 128(BX), Z18
	VCVTPH2PS 64(AX), Z16
	VFMADD231PS Z18, Z16, Z2
	VMOVUPS 192(BX), Z18
	VCVTPH2PS 96(AX), Z16
	VFMADD231PS Z18, Z16, Z3
	ADDQ $128, AX
	ADDQ $256, BX
	DECQ R13
	JNZ blk11
rest11:
	MOVQ R12, R13
	TESTQ R13, R13
	JZ fold11
g1611:
	VMOVUPS 0(BX), Z18
	VCVTPH2PS 0(AX), Z16
	VFMADD231PS Z18, Z16, Z0
	ADDQ $32, AX
	ADDQ $64, BX
	DECQ R13
	JNZ g1611
fold11:
	FOLD4(Z0, Z1, Z2, Z3, Y0, 0(DI))
	ADDQ R8, DI
	ADDQ R10, DX
	DECQ CX
	JNZ outer11
	VZEROUPPER
	RET
