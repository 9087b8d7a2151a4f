//go:build !purego

// Matrix-vector products for decoding, with the matrix in fp32 or a narrow type (the embedding/LM-head
// table of packed models): IEEE half precision (VCVTPH2PS) or int8 with a scale per row (VPMOVSXBD +
// VCVTDQ2PS, the scale applied by the caller). Each element widens exactly, so the narrow products read
// 1/2 or 1/4 of the bytes of an fp32 table; all stay memory-bound on either instruction set.
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

// Requires: AVX512F
TEXT ·sgemvF16AVX512(SB), NOSPLIT, $0-48
	NARROW512(F16, 32, 1)

// Requires: AVX, FMA, F16C
TEXT ·sgemvF16AVX2(SB), NOSPLIT, $0-48
	NARROW2(F16, 16, 1)

// Requires: AVX512F
TEXT ·sgemvI8AVX512(SB), NOSPLIT, $0-48
	NARROW512(I8, 16, 0)

// Requires: AVX2, FMA
TEXT ·sgemvI8AVX2(SB), NOSPLIT, $0-48
	NARROW2(I8, 8, 0)
