//go:build !purego

// Matrix-vector products with the matrix in a narrow type, for the embedding/LM-head table of packed
// models: IEEE half precision (VCVTPH2PS) or int8 with a scale per row (VPMOVSXBD + VCVTDQ2PS). Each
// element widens exactly, so the product reads 1/2 or 1/4 of the bytes of an fp32 table and stays
// memory-bound on either instruction set.

#include "textflag.h"

// Horizontal sum of Z0 (AVX-512) or Y0 (AVX2) lanes into X0's low float.
#define FOLD_Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VMOVHLPS     X0, X0, X1 \
	VADDPS       X1, X0, X0 \
	VMOVSHDUP    X0, X1     \
	VADDSS       X1, X0, X0

// func sgemvF16AVX512(y *float32, a *uint16, x *float32, n, k, k16 int)
// y[i] = Σ_{j<k16} a[i·k+j]·x[j] for i < n; k16 is a positive multiple of 16 (the caller adds the rest).
// Four accumulators of 16 lanes; the element order of each row is fixed.
// Requires: AVX512F
TEXT ·sgemvF16AVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), R12
	SHLQ $1, R12              // row stride in bytes
	MOVQ k16+40(FP), R8
row512:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ   SI, R9
	MOVQ   DX, R10
	MOVQ   R8, R11
	SHRQ   $6, R11            // groups of 64
	JZ     rest512
loop512:
	VCVTPH2PS   (R9), Z4
	VCVTPH2PS   32(R9), Z5
	VCVTPH2PS   64(R9), Z6
	VCVTPH2PS   96(R9), Z7
	VFMADD231PS (R10), Z4, Z0
	VFMADD231PS 64(R10), Z5, Z1
	VFMADD231PS 128(R10), Z6, Z2
	VFMADD231PS 192(R10), Z7, Z3
	ADDQ        $128, R9
	ADDQ        $256, R10
	DECQ        R11
	JNZ         loop512
rest512:
	MOVQ R8, R11
	ANDQ $63, R11
	SHRQ $4, R11              // groups of 16 left
	JZ   fold512
loop16:
	VCVTPH2PS   (R9), Z4
	VFMADD231PS (R10), Z4, Z0
	ADDQ        $32, R9
	ADDQ        $64, R10
	DECQ        R11
	JNZ         loop16
fold512:
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	FOLD_Y0
	VMOVSS        X0, (DI)
	ADDQ          $4, DI
	ADDQ          R12, SI
	DECQ          CX
	JNZ           row512
	VZEROUPPER
	RET

// func sgemvF16AVX2(y *float32, a *uint16, x *float32, n, k, k16 int)
// The same with 8-lane accumulators.
// Requires: AVX, FMA, F16C
TEXT ·sgemvF16AVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), R12
	SHLQ $1, R12
	MOVQ k16+40(FP), R8
row2:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, R9
	MOVQ   DX, R10
	MOVQ   R8, R11
	SHRQ   $5, R11            // groups of 32
	JZ     rest2
loop2:
	VCVTPH2PS   (R9), Y4
	VCVTPH2PS   16(R9), Y5
	VCVTPH2PS   32(R9), Y6
	VCVTPH2PS   48(R9), Y7
	VFMADD231PS (R10), Y4, Y0
	VFMADD231PS 32(R10), Y5, Y1
	VFMADD231PS 64(R10), Y6, Y2
	VFMADD231PS 96(R10), Y7, Y3
	ADDQ        $64, R9
	ADDQ        $128, R10
	DECQ        R11
	JNZ         loop2
rest2:
	TESTQ       $16, R8           // one group of 16 left
	JZ          fold2
	VCVTPH2PS   (R9), Y4
	VCVTPH2PS   16(R9), Y5
	VFMADD231PS (R10), Y4, Y0
	VFMADD231PS 32(R10), Y5, Y1
fold2:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	FOLD_Y0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R12, SI
	DECQ   CX
	JNZ    row2
	VZEROUPPER
	RET

// func sgemvI8AVX512(y *float32, a *int8, x *float32, n, k, k16 int)
// y[i] = Σ_{j<k16} a[i·k+j]·x[j] for i < n (int8 widened exactly: VPMOVSXBD, VCVTDQ2PS); k16 a
// positive multiple of 16. The row scale is applied by the caller.
// Requires: AVX512F
TEXT ·sgemvI8AVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), R12
	MOVQ k16+40(FP), R8
rowi8:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ   SI, R9
	MOVQ   DX, R10
	MOVQ   R8, R11
	SHRQ   $6, R11
	JZ     resti8
loopi8:
	VPMOVSXBD   (R9), Z4
	VPMOVSXBD   16(R9), Z5
	VPMOVSXBD   32(R9), Z6
	VPMOVSXBD   48(R9), Z7
	VCVTDQ2PS   Z4, Z4
	VCVTDQ2PS   Z5, Z5
	VCVTDQ2PS   Z6, Z6
	VCVTDQ2PS   Z7, Z7
	VFMADD231PS (R10), Z4, Z0
	VFMADD231PS 64(R10), Z5, Z1
	VFMADD231PS 128(R10), Z6, Z2
	VFMADD231PS 192(R10), Z7, Z3
	ADDQ        $64, R9
	ADDQ        $256, R10
	DECQ        R11
	JNZ         loopi8
resti8:
	MOVQ R8, R11
	ANDQ $63, R11
	SHRQ $4, R11
	JZ   foldi8
loopi8x16:
	VPMOVSXBD   (R9), Z4
	VCVTDQ2PS   Z4, Z4
	VFMADD231PS (R10), Z4, Z0
	ADDQ        $16, R9
	ADDQ        $64, R10
	DECQ        R11
	JNZ         loopi8x16
foldi8:
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	FOLD_Y0
	VMOVSS        X0, (DI)
	ADDQ          $4, DI
	ADDQ          R12, SI
	DECQ          CX
	JNZ           rowi8
	VZEROUPPER
	RET

// func sgemvI8AVX2(y *float32, a *int8, x *float32, n, k, k16 int)
// The same with 8-lane accumulators.
// Requires: AVX2, FMA
TEXT ·sgemvI8AVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), R12
	MOVQ k16+40(FP), R8
rowi82:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, R9
	MOVQ   DX, R10
	MOVQ   R8, R11
	SHRQ   $5, R11
	JZ     resti82
loopi82:
	VPMOVSXBD   (R9), Y4
	VPMOVSXBD   8(R9), Y5
	VPMOVSXBD   16(R9), Y6
	VPMOVSXBD   24(R9), Y7
	VCVTDQ2PS   Y4, Y4
	VCVTDQ2PS   Y5, Y5
	VCVTDQ2PS   Y6, Y6
	VCVTDQ2PS   Y7, Y7
	VFMADD231PS (R10), Y4, Y0
	VFMADD231PS 32(R10), Y5, Y1
	VFMADD231PS 64(R10), Y6, Y2
	VFMADD231PS 96(R10), Y7, Y3
	ADDQ        $32, R9
	ADDQ        $128, R10
	DECQ        R11
	JNZ         loopi82
resti82:
	TESTQ       $16, R8
	JZ          foldi82
	VPMOVSXBD   (R9), Y4
	VPMOVSXBD   8(R9), Y5
	VCVTDQ2PS   Y4, Y4
	VCVTDQ2PS   Y5, Y5
	VFMADD231PS (R10), Y4, Y0
	VFMADD231PS 32(R10), Y5, Y1
foldi82:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	FOLD_Y0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R12, SI
	DECQ   CX
	JNZ    rowi82
	VZEROUPPER
	RET
