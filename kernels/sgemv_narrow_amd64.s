//go:build !purego

// Matrix-vector products for decoding, with the matrix in fp32 or a narrow type (the embedding/LM-head
// table of packed models): IEEE half precision (VCVTPH2PS) or int8 with a scale per row (VPMOVSXBD +
// VCVTDQ2PS, the scale applied by the caller). Each element widens exactly, so the narrow products read
// 1/2 or 1/4 of the bytes of an fp32 table; all stay memory-bound on either instruction set. (F16 on
// AVX-512 is in sgemvf16_amd64.s: its summation order is shared with the batched head.)
//
// func sgemv<T><ISA>(y *float32, a *T, x *float32, n, k, k16 int), T float32, uint16 (F16) or int8
// y[i] = Σ_{j<k16} a[i·k+j]·x[j] for i < n; k16 is a positive multiple of 16 (the caller adds the
// rest). Four accumulators; the element order of each row is fixed.
//
// One macro per instruction set holds the loops; each kernel passes how to widen a group of
// elements at an offset of R9 into a register, and the byte sizes that follow from the element
// size (E bytes): a group of 16 (AVX-512) or 8 (AVX2) elements, and the row stride shift log2(E).

#include "textflag.h"

// FOLD_Y0: the horizontal sum of Y0's lanes into X0's low float.
#define FOLD_Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VMOVHLPS     X0, X0, X1 \
	VADDPS       X1, X0, X0 \
	VMOVSHDUP    X0, X1     \
	VADDSS       X1, X0, X0

// ARGS loads the arguments; R12 becomes the row stride in bytes (k << SHIFT).
#define ARGS(SHIFT) \
	MOVQ y+0(FP), DI    \
	MOVQ a+8(FP), SI    \
	MOVQ x+16(FP), DX   \
	MOVQ n+24(FP), CX   \
	MOVQ k+32(FP), R12  \
	SHLQ $SHIFT, R12    \
	MOVQ k16+40(FP), R8

// NARROW512: groups of 16 elements, G bytes each; 64 elements per iteration, then 16 at a time.
#define NARROW512(WIDEN, G, SHIFT) \
	ARGS(SHIFT)                            \
row:                                       \
	VXORPS      Z0, Z0, Z0                 \
	VXORPS      Z1, Z1, Z1                 \
	VXORPS      Z2, Z2, Z2                 \
	VXORPS      Z3, Z3, Z3                 \
	MOVQ        SI, R9                     \
	MOVQ        DX, R10                    \
	MOVQ        R8, R11                    \
	SHRQ        $6, R11                    \
	JZ          rest                       \
loop:                                      \
	WIDEN(0, Z4)                           \
	WIDEN(G, Z5)                           \
	WIDEN(2*G, Z6)                         \
	WIDEN(3*G, Z7)                         \
	VFMADD231PS (R10), Z4, Z0              \
	VFMADD231PS 64(R10), Z5, Z1            \
	VFMADD231PS 128(R10), Z6, Z2           \
	VFMADD231PS 192(R10), Z7, Z3           \
	ADDQ        $(4*G), R9                 \
	ADDQ        $256, R10                  \
	DECQ        R11                        \
	JNZ         loop                       \
rest:                                      \
	MOVQ        R8, R11                    \
	ANDQ        $63, R11                   \
	SHRQ        $4, R11                    \
	JZ          fold                       \
loop16:                                    \
	WIDEN(0, Z4)                           \
	VFMADD231PS (R10), Z4, Z0              \
	ADDQ        $G, R9                     \
	ADDQ        $64, R10                   \
	DECQ        R11                        \
	JNZ         loop16                     \
fold:                                      \
	VADDPS        Z1, Z0, Z0               \
	VADDPS        Z3, Z2, Z2               \
	VADDPS        Z2, Z0, Z0               \
	VEXTRACTF64X4 $1, Z0, Y1               \
	VADDPS        Y1, Y0, Y0               \
	FOLD_Y0                                \
	VMOVSS        X0, (DI)                 \
	ADDQ          $4, DI                   \
	ADDQ          R12, SI                  \
	DECQ          CX                       \
	JNZ           row                      \
	VZEROUPPER                             \
	RET

// NARROW2: groups of 8 elements, G bytes each; 32 elements per iteration, then a last 16.
#define NARROW2(WIDEN, G, SHIFT) \
	ARGS(SHIFT)                            \
row:                                       \
	VXORPS      Y0, Y0, Y0                 \
	VXORPS      Y1, Y1, Y1                 \
	VXORPS      Y2, Y2, Y2                 \
	VXORPS      Y3, Y3, Y3                 \
	MOVQ        SI, R9                     \
	MOVQ        DX, R10                    \
	MOVQ        R8, R11                    \
	SHRQ        $5, R11                    \
	JZ          rest                       \
loop:                                      \
	WIDEN(0, Y4)                           \
	WIDEN(G, Y5)                           \
	WIDEN(2*G, Y6)                         \
	WIDEN(3*G, Y7)                         \
	VFMADD231PS (R10), Y4, Y0              \
	VFMADD231PS 32(R10), Y5, Y1            \
	VFMADD231PS 64(R10), Y6, Y2            \
	VFMADD231PS 96(R10), Y7, Y3            \
	ADDQ        $(4*G), R9                 \
	ADDQ        $128, R10                  \
	DECQ        R11                        \
	JNZ         loop                       \
rest:                                      \
	TESTQ       $16, R8                    \
	JZ          fold                       \
	WIDEN(0, Y4)                           \
	WIDEN(G, Y5)                           \
	VFMADD231PS (R10), Y4, Y0              \
	VFMADD231PS 32(R10), Y5, Y1            \
fold:                                      \
	VADDPS      Y1, Y0, Y0                 \
	VADDPS      Y3, Y2, Y2                 \
	VADDPS      Y2, Y0, Y0                 \
	FOLD_Y0                                \
	VMOVSS      X0, (DI)                   \
	ADDQ        $4, DI                     \
	ADDQ        R12, SI                    \
	DECQ        CX                         \
	JNZ         row                        \
	VZEROUPPER                             \
	RET

#define F32(OFF, R) VMOVUPS OFF(R9), R
#define F16(OFF, R) VCVTPH2PS OFF(R9), R
#define I8(OFF, R) VPMOVSXBD OFF(R9), R; VCVTDQ2PS R, R

// Requires: AVX512F
TEXT ·sgemvF32AVX512(SB), NOSPLIT, $0-48
	NARROW512(F32, 64, 2)

// Requires: AVX, FMA
TEXT ·sgemvF32AVX2(SB), NOSPLIT, $0-48
	NARROW2(F32, 32, 2)

// Requires: AVX, FMA, F16C
TEXT ·sgemvF16AVX2(SB), NOSPLIT, $0-48
	NARROW2(F16, 16, 1)

// Requires: AVX512F
TEXT ·sgemvI8AVX512(SB), NOSPLIT, $0-48
	NARROW512(I8, 16, 0)

// Requires: AVX2, FMA
TEXT ·sgemvI8AVX2(SB), NOSPLIT, $0-48
	NARROW2(I8, 8, 0)

// func sgemvTF16AVX512(y *float32, a *uint16, lda int, x *float32, n, k64, k16 int)
// y[e] = Σ_{j<n} x[j]·a[j·lda+e] for e < k16 (y overwritten): the transposed product, e.g. attention's
// Σ_j p_j·V_j over an F16 value cache. Columns go 64 at a time (four accumulators), then 16 at a time;
// j runs in order for every column. k64 = k16 &^ 63; n >= 1.
// Requires: AVX512F
TEXT ·sgemvTF16AVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R12
	SHLQ $1, R12
	MOVQ x+24(FP), DX
	MOVQ n+32(FP), CX
	MOVQ k64+40(FP), R8
	MOVQ k16+48(FP), BX
	XORQ R13, R13 // column offset in elements
cols64:
	CMPQ R13, R8
	JGE  cols16
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	LEAQ   (SI)(R13*2), R9
	MOVQ   DX, R10
	MOVQ   CX, R11
t64:
	VBROADCASTSS (R10), Z8
	VCVTPH2PS    (R9), Z4
	VCVTPH2PS    32(R9), Z5
	VCVTPH2PS    64(R9), Z6
	VCVTPH2PS    96(R9), Z7
	VFMADD231PS  Z8, Z4, Z0
	VFMADD231PS  Z8, Z5, Z1
	VFMADD231PS  Z8, Z6, Z2
	VFMADD231PS  Z8, Z7, Z3
	ADDQ         $4, R10
	ADDQ         R12, R9
	DECQ         R11
	JNZ          t64
	VMOVUPS Z0, (DI)(R13*4)
	VMOVUPS Z1, 64(DI)(R13*4)
	VMOVUPS Z2, 128(DI)(R13*4)
	VMOVUPS Z3, 192(DI)(R13*4)
	ADDQ    $64, R13
	JMP     cols64
cols16:
	CMPQ R13, BX
	JGE  tdone
	VXORPS Z0, Z0, Z0
	LEAQ   (SI)(R13*2), R9
	MOVQ   DX, R10
	MOVQ   CX, R11
t16:
	VBROADCASTSS (R10), Z8
	VCVTPH2PS    (R9), Z4
	VFMADD231PS  Z8, Z4, Z0
	ADDQ         $4, R10
	ADDQ         R12, R9
	DECQ         R11
	JNZ          t16
	VMOVUPS Z0, (DI)(R13*4)
	ADDQ    $16, R13
	JMP     cols16
tdone:
	VZEROUPPER
	RET

// func sgemvTF16AVX2(y *float32, a *uint16, lda int, x *float32, n, k64, k16 int)
// The same with 8-lane registers (32 columns per pass, then 8).
// Requires: AVX, FMA, F16C
TEXT ·sgemvTF16AVX2(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R12
	SHLQ $1, R12
	MOVQ x+24(FP), DX
	MOVQ n+32(FP), CX
	MOVQ k64+40(FP), R8
	MOVQ k16+48(FP), BX
	ANDQ $-32, R8 // the AVX2 wide pass takes 32 columns
	XORQ R13, R13
cols32:
	CMPQ R13, R8
	JGE  cols8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	LEAQ   (SI)(R13*2), R9
	MOVQ   DX, R10
	MOVQ   CX, R11
t32:
	VBROADCASTSS (R10), Y8
	VCVTPH2PS    (R9), Y4
	VCVTPH2PS    16(R9), Y5
	VCVTPH2PS    32(R9), Y6
	VCVTPH2PS    48(R9), Y7
	VFMADD231PS  Y8, Y4, Y0
	VFMADD231PS  Y8, Y5, Y1
	VFMADD231PS  Y8, Y6, Y2
	VFMADD231PS  Y8, Y7, Y3
	ADDQ         $4, R10
	ADDQ         R12, R9
	DECQ         R11
	JNZ          t32
	VMOVUPS Y0, (DI)(R13*4)
	VMOVUPS Y1, 32(DI)(R13*4)
	VMOVUPS Y2, 64(DI)(R13*4)
	VMOVUPS Y3, 96(DI)(R13*4)
	ADDQ    $32, R13
	JMP     cols32
cols8:
	CMPQ R13, BX
	JGE  tdone2
	VXORPS Y0, Y0, Y0
	LEAQ   (SI)(R13*2), R9
	MOVQ   DX, R10
	MOVQ   CX, R11
t8:
	VBROADCASTSS (R10), Y8
	VCVTPH2PS    (R9), Y4
	VFMADD231PS  Y8, Y4, Y0
	ADDQ         $4, R10
	ADDQ         R12, R9
	DECQ         R11
	JNZ          t8
	VMOVUPS Y0, (DI)(R13*4)
	ADDQ    $8, R13
	JMP     cols8
tdone2:
	VZEROUPPER
	RET
