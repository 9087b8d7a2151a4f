//go:build !purego

// Matrix-vector kernels for products with a few rows (M <= 4), where packing B would cost as much
// as the product: each row of C is one pass over B. AVX-512.

#include "textflag.h"

// func sgemvN(k, n int, x *float32, incx int, b *float32, ldb int, y *float32)
// y[j] = sum_{p<k} x[p*incx] * b[p*ldb+j] for j < n (overwrites y; k >= 1, n >= 1). Columns go
// 128 at a time (8 zmm sums, enough independent FMAs to cover their 4-cycle latency), each walking
// down all k rows of B; p runs in order for every j.
// Requires: AVX512F
TEXT ·sgemvN(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), R9
	MOVQ n+8(FP), BX
	MOVQ x+16(FP), R8
	MOVQ incx+24(FP), R10
	SHLQ $2, R10
	MOVQ b+32(FP), SI
	MOVQ ldb+40(FP), R11
	SHLQ $2, R11
	MOVQ y+48(FP), DI

wide:
	CMPQ BX, $128
	JLT  narrow
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ R8, AX  // x
	MOVQ SI, DX  // b column block
	MOVQ R9, CX
wloop:
	VBROADCASTSS (AX), Z8
	VFMADD231PS  (DX), Z8, Z0
	VFMADD231PS  64(DX), Z8, Z1
	VFMADD231PS  128(DX), Z8, Z2
	VFMADD231PS  192(DX), Z8, Z3
	VFMADD231PS  256(DX), Z8, Z4
	VFMADD231PS  320(DX), Z8, Z5
	VFMADD231PS  384(DX), Z8, Z6
	VFMADD231PS  448(DX), Z8, Z7
	ADDQ R10, AX
	ADDQ R11, DX
	DECQ CX
	JNZ  wloop
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	ADDQ $512, SI
	ADDQ $512, DI
	SUBQ $128, BX
	JMP  wide

narrow:
	// Fewer than 128 columns left: 16 at a time, the last one masked.
	TESTQ BX, BX
	JZ    done
	MOVQ  $16, R12
	CMPQ  BX, R12
	CMOVQLT BX, R12
	MOVQ  $1, R13
	MOVQ  R12, CX
	SHLQ  CX, R13
	DECQ  R13
	KMOVW R13, K1
	VPXORD Z0, Z0, Z0
	MOVQ R8, AX
	MOVQ SI, DX
	MOVQ R9, CX
	// One sum per column, p in order, exactly as in the wide loop: a column's result must not
	// depend on whether a thread's share put it in a wide or a narrow block.
nloop:
	VBROADCASTSS (AX), Z8
	VMOVUPS.Z    (DX), K1, Z9
	VFMADD231PS  Z9, Z8, Z0
	ADDQ         R10, AX
	ADDQ         R11, DX
	DECQ         CX
	JNZ          nloop
	VMOVUPS Z0, K1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    R12, BX
	JMP     narrow

done:
	VZEROUPPER
	RET

// func sdotN(k, n int, x, b *float32, ldb int, y *float32)
// y[j] = dot(x[0:k], b[j*ldb : j*ldb+k]) for j < n (k >= 1). Four zmm partial sums over 64-float
// steps, then a masked 16-float tail, then a fixed reduction tree: the order depends only on k.
// Requires: AVX512F
TEXT ·sdotN(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), R9
	MOVQ n+8(FP), BX
	MOVQ x+16(FP), R8
	MOVQ b+24(FP), SI
	MOVQ ldb+32(FP), R11
	SHLQ $2, R11
	MOVQ y+40(FP), DI

	// K1 masks the last partial 16-float step: (k mod 16) lanes, or 16.
	MOVQ  R9, CX
	ANDQ  $15, CX
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	TESTQ CX, CX
	JNZ   maskok
	MOVQ  $0xffff, AX
maskok:
	KMOVW AX, K1

row:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ R8, AX
	MOVQ SI, DX
	MOVQ R9, CX
	CMPQ CX, $64
	JLE  d16
d64:
	VMOVUPS     (AX), Z4
	VMOVUPS     64(AX), Z5
	VMOVUPS     128(AX), Z6
	VMOVUPS     192(AX), Z7
	VFMADD231PS (DX), Z4, Z0
	VFMADD231PS 64(DX), Z5, Z1
	VFMADD231PS 128(DX), Z6, Z2
	VFMADD231PS 192(DX), Z7, Z3
	ADDQ        $256, AX
	ADDQ        $256, DX
	SUBQ        $64, CX
	CMPQ        CX, $64
	JG          d64
d16:
	CMPQ CX, $16
	JLE  dlast
	VMOVUPS     (AX), Z4
	VFMADD231PS (DX), Z4, Z0
	ADDQ        $64, AX
	ADDQ        $64, DX
	SUBQ        $16, CX
	JMP         d16
dlast:
	// 1..16 floats left (k >= 1, and CX = k mod 16 or 16): masked by K1.
	VMOVUPS.Z   (AX), K1, Z4
	VMOVUPS.Z   (DX), K1, Z5
	VFMADD231PS Z5, Z4, Z1
	VADDPS      Z2, Z0, Z0
	VADDPS      Z3, Z1, Z1
	VADDPS      Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS      Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS      X1, X0, X0
	VMOVHLPS    X0, X0, X1
	VADDPS      X1, X0, X0
	VMOVSHDUP   X0, X1
	VADDSS      X1, X0, X0
	VMOVSS      X0, (DI)
	ADDQ        R11, SI
	ADDQ        $4, DI
	DECQ        BX
	JNZ         row
	VZEROUPPER
	RET
