//go:build !purego

#include "textflag.h"

// func maxNotNaNAVX512(x *float32, n int) float32
// The largest non-NaN value of x[:n] (-Inf if none), n a multiple of 16 and > 0. VMAXPS returns its
// second source when either is NaN, so a NaN value leaves the running maximum as it was.
// Requires: AVX512F
TEXT ·maxNotNaNAVX512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0xff800000, AX // -Inf
	VPBROADCASTD AX, Z0
	VMOVAPS      Z0, Z1
	VMOVAPS      Z0, Z2
	VMOVAPS      Z0, Z3
	MOVQ         CX, DX
	SHRQ         $6, DX
	JZ           tail
loop64:
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	VMAXPS  Z0, Z4, Z0 // Intel: vmaxps z0, z4(x), z0(acc): acc when x is NaN
	VMAXPS  Z1, Z5, Z1
	VMAXPS  Z2, Z6, Z2
	VMAXPS  Z3, Z7, Z3
	ADDQ    $256, SI
	DECQ    DX
	JNZ     loop64
tail:
	ANDQ $63, CX
	SHRQ $4, CX
	JZ   reduce
loop16:
	VMOVUPS (SI), Z4
	VMAXPS  Z0, Z4, Z0
	ADDQ    $64, SI
	DECQ    CX
	JNZ     loop16
reduce:
	VMAXPS        Z1, Z0, Z0
	VMAXPS        Z3, Z2, Z2
	VMAXPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0x4e, X0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0xb1, X0, X1
	VMAXPS        X1, X0, X0
	MOVSS         X0, ret+16(FP)
	VZEROUPPER
	RET

// func firstEqualAVX512(x *float32, n int, v float32) int
// The first i < n with x[i] == v (ordered compare: +0 equals -0, NaN equals nothing), or -1; n a
// multiple of 16.
// Requires: AVX512F, BMI1
TEXT ·firstEqualAVX512(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS v+16(FP), Z1
	XORQ         AX, AX
loop:
	CMPQ    AX, CX
	JGE     none
	VCMPPS  $0, (SI)(AX*4), Z1, K1 // EQ_OQ
	KMOVW   K1, DX
	TESTL   DX, DX
	JNZ     found
	ADDQ    $16, AX
	JMP     loop
found:
	TZCNTL DX, DX
	ADDQ   DX, AX
	MOVQ   AX, ret+24(FP)
	VZEROUPPER
	RET
none:
	MOVQ $-1, ret+24(FP)
	VZEROUPPER
	RET
