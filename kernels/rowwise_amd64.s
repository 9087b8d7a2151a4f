//go:build !purego

// AVX-512 row-wise primitives for rowwise.go: each processes a length that is a multiple of 16 (the Go
// wrappers in rowwise_amd64.go hand the tail to the generic code). exp is the Cephes float32 polynomial
// of rowwise_math.go on 16 lanes; GELU's tanh form uses 0.5·(1 + tanh(u)) = e/(e+1) with e = exp(2u),
// and its erf form the Abramowitz & Stegun 7.1.26 erfc polynomial, as the Go code.

#include "textflag.h"
#include "exp_amd64.h"

DATA rowc<>+0(SB)/4, $0xc2aeac4a // expMin
DATA rowc<>+4(SB)/4, $0x42b00000 // expMax
DATA rowc<>+8(SB)/4, $0x3fb8aa3b // log2e
DATA rowc<>+12(SB)/4, $0x3f318000 // ln2Hi
DATA rowc<>+16(SB)/4, $0xb95e8083 // ln2Lo
DATA rowc<>+20(SB)/4, $0x39506967 // c0
DATA rowc<>+24(SB)/4, $0x3ab743ce // c1
DATA rowc<>+28(SB)/4, $0x3c088908 // c2
DATA rowc<>+32(SB)/4, $0x3d2aa9c1 // c3
DATA rowc<>+36(SB)/4, $0x3e2aaaaa // c4
DATA rowc<>+40(SB)/4, $0x3f000000 // c5
DATA rowc<>+44(SB)/4, $0x3f800000 // one
DATA rowc<>+48(SB)/4, $0x0000007f // i127
DATA rowc<>+52(SB)/4, $0x3f000000 // half
DATA rowc<>+56(SB)/4, $0x7fffffff // absmask
DATA rowc<>+60(SB)/4, $0x3fcc422a // twoScale
DATA rowc<>+64(SB)/4, $0x3d922279 // twoScaleCubic
DATA rowc<>+68(SB)/4, $0x3e095d4f // threeCubic
DATA rowc<>+72(SB)/4, $0x3f4c422a // geluScale
DATA rowc<>+76(SB)/4, $0x3f3504f3 // invSqrt2
DATA rowc<>+80(SB)/4, $0x3ea7ba05 // erfP
DATA rowc<>+84(SB)/4, $0x3e827906 // a1
DATA rowc<>+88(SB)/4, $0xbe91a98e // a2
DATA rowc<>+92(SB)/4, $0x3fb5f0e3 // a3
DATA rowc<>+96(SB)/4, $0xbfba00e3 // a4
DATA rowc<>+100(SB)/4, $0x3f87dc22 // a5
DATA rowc<>+104(SB)/4, $0x3ecc422a // invSqrt2Pi
DATA rowc<>+108(SB)/4, $0xbf000000 // negHalf
DATA rowc<>+112(SB)/4, $0x40000000 // two
DATA rowc<>+116(SB)/4, $0x41100000 // tanhMax 9
DATA rowc<>+120(SB)/4, $0xc1100000 // -tanhMax
DATA rowc<>+124(SB)/4, $0x80000000 // sign bit
GLOBL rowc<>(SB), RODATA|NOPTR, $128

// HSUM leaves the sum of z's 16 lanes in the low lane of X1 (fixed pairwise order).
#define HSUM(z, y) \
	VEXTRACTF64X4 $1, z, Y1; \
	VADDPS Y1, y, Y1; \
	VEXTRACTF128 $1, Y1, X2; \
	VADDPS X2, X1, X1; \
	VPERMILPS $0x4e, X1, X2; \
	VADDPS X2, X1, X1; \
	VPERMILPS $0xb1, X1, X2; \
	VADDPS X2, X1, X1

// func maxAVX512(x []float32) float32
// Requires: AVX512F, AVX512DQ
TEXT ·maxAVX512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VMOVUPS (SI), Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JZ maxdone
maxloop:
	VMAXPS (SI), Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ maxloop
maxdone:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y1, Y0, Y1
	VEXTRACTF128 $1, Y1, X2
	VMAXPS X2, X1, X1
	VPERMILPS $0x4e, X1, X2
	VMAXPS X2, X1, X1
	VPERMILPS $0xb1, X1, X2
	VMAXPS X2, X1, X1
	VMOVSS X1, ret+24(FP)
	VZEROUPPER
	RET

// func sumAVX512(x []float32) float32
// Requires: AVX512F, AVX512DQ
TEXT ·sumAVX512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VXORPS Z0, Z0, Z0
sumloop:
	VADDPS (SI), Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ sumloop
	HSUM(Z0, Y0)
	VMOVSS X1, ret+24(FP)
	VZEROUPPER
	RET

// func sumSqDevAVX512(x []float32, m float32) float32
// Requires: AVX512F, AVX512DQ
TEXT ·sumSqDevAVX512(SB), NOSPLIT, $0-36
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS m+24(FP), Z3
	VXORPS Z0, Z0, Z0
sqloop:
	VMOVUPS (SI), Z4
	VSUBPS Z3, Z4, Z4
	VFMADD231PS Z4, Z4, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ sqloop
	HSUM(Z0, Y0)
	VMOVSS X1, ret+32(FP)
	VZEROUPPER
	RET

// func expSubSumAVX512(dst, src []float32, m float32, store bool) float32
// dst[j] = exp(src[j] - m) when store; returns the sum.
// Requires: AVX512F, AVX512DQ
TEXT ·expSubSumAVX512(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	VBROADCASTSS m+48(FP), Z15
	MOVBLZX store+52(FP), DX
	EXPCONST
	VXORPS Z14, Z14, Z14
exploop:
	VMOVUPS (SI), Z0
	VSUBPS Z15, Z0, Z0
	EXP16(Z0, Z5, Z6)
	VADDPS Z0, Z14, Z14
	TESTQ DX, DX
	JZ expnostore
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
expnostore:
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ exploop
	HSUM(Z14, Y14)
	VMOVSS X1, ret+56(FP)
	VZEROUPPER
	RET

// func scaleAVX512(x []float32, s float32)
// Requires: AVX512F, AVX512DQ
TEXT ·scaleAVX512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS s+24(FP), Z3
scaleloop:
	VMULPS (SI), Z3, Z0
	VMOVUPS Z0, (SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ scaleloop
	VZEROUPPER
	RET

// func lnApplyAVX512(out, x, g, b []float32, m, r float32)
// out = (x - m)·r·g + b
// Requires: AVX512F, AVX512DQ
TEXT ·lnApplyAVX512(SB), NOSPLIT, $0-104
	MOVQ out_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ g_base+48(FP), R8
	MOVQ b_base+72(FP), R9
	VBROADCASTSS m+96(FP), Z3
	VBROADCASTSS r+100(FP), Z4
applyloop:
	VMOVUPS (SI), Z0
	VSUBPS Z3, Z0, Z0
	VMULPS Z4, Z0, Z0
	VMULPS (R8), Z0, Z0
	VADDPS (R9), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JNZ applyloop
	VZEROUPPER
	RET

// func mulScaleAVX512(out, x, g []float32, r float32)
// out = x·r·g (RMSNorm, LayerNorm without bias after centering)
// Requires: AVX512F, AVX512DQ
TEXT ·mulScaleAVX512(SB), NOSPLIT, $0-76
	MOVQ out_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ g_base+48(FP), R8
	VBROADCASTSS r+72(FP), Z4
mulscaleloop:
	VMULPS (SI), Z4, Z0
	VMULPS (R8), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	SUBQ $16, CX
	JNZ mulscaleloop
	VZEROUPPER
	RET

// func lnBwdSumsAVX512(dout, x, g []float32, m, r float32) (sd, sdx float32)
// sd = Σ dout·g, sdx = Σ dout·g·(x - m)·r
// Requires: AVX512F, AVX512DQ
TEXT ·lnBwdSumsAVX512(SB), NOSPLIT, $0-88
	MOVQ dout_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ g_base+48(FP), R8
	VBROADCASTSS m+72(FP), Z3
	VBROADCASTSS r+76(FP), Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
bsumloop:
	VMOVUPS (DI), Z0
	VMULPS (R8), Z0, Z0
	VADDPS Z0, Z5, Z5
	VMOVUPS (SI), Z7
	VSUBPS Z3, Z7, Z7
	VMULPS Z4, Z7, Z7
	VFMADD231PS Z7, Z0, Z6
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R8
	SUBQ $16, CX
	JNZ bsumloop
	HSUM(Z5, Y5)
	VMOVSS X1, sd+80(FP)
	HSUM(Z6, Y6)
	VMOVSS X1, sdx+84(FP)
	VZEROUPPER
	RET

// func lnBwdApplyAVX512(dinp, dout, x, g []float32, m, r, sd, sdx float32)
// dinp = r·(dout·g - sd - (x - m)·r·sdx)
// Requires: AVX512F, AVX512DQ
TEXT ·lnBwdApplyAVX512(SB), NOSPLIT, $0-112
	MOVQ dinp_base+0(FP), DX
	MOVQ dout_base+24(FP), DI
	MOVQ x_base+48(FP), SI
	MOVQ x_len+56(FP), CX
	MOVQ g_base+72(FP), R8
	VBROADCASTSS m+96(FP), Z3
	VBROADCASTSS r+100(FP), Z4
	VBROADCASTSS sd+104(FP), Z5
	VBROADCASTSS sdx+108(FP), Z6
bapplyloop:
	VMOVUPS (DI), Z0
	VMULPS (R8), Z0, Z0
	VSUBPS Z5, Z0, Z0
	VMOVUPS (SI), Z7
	VSUBPS Z3, Z7, Z7
	VMULPS Z4, Z7, Z7
	VFNMADD231PS Z6, Z7, Z0
	VMULPS Z4, Z0, Z0
	VMOVUPS Z0, (DX)
	ADDQ $64, DX
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R8
	SUBQ $16, CX
	JNZ bapplyloop
	VZEROUPPER
	RET

// func normParamAccAVX512(dg, db, d, x []float32, m, r float32)
// dg += d·(x - m)·r, db += d (db_len 0: no bias)
// Requires: AVX512F, AVX512DQ
TEXT ·normParamAccAVX512(SB), NOSPLIT, $0-104
	MOVQ dg_base+0(FP), DX
	MOVQ db_base+24(FP), R9
	MOVQ db_len+32(FP), R10
	MOVQ d_base+48(FP), DI
	MOVQ x_base+72(FP), SI
	MOVQ x_len+80(FP), CX
	VBROADCASTSS m+96(FP), Z3
	VBROADCASTSS r+100(FP), Z4
paccloop:
	VMOVUPS (DI), Z0
	VMOVUPS (SI), Z7
	VSUBPS Z3, Z7, Z7
	VMULPS Z4, Z7, Z7
	VMULPS Z0, Z7, Z7
	VADDPS (DX), Z7, Z7
	VMOVUPS Z7, (DX)
	TESTQ R10, R10
	JZ paccnob
	VADDPS (R9), Z0, Z0
	VMOVUPS Z0, (R9)
	ADDQ $64, R9
paccnob:
	ADDQ $64, DX
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ paccloop
	VZEROUPPER
	RET

// func geluTanhFwdAVX512(out, inp []float32)
// out = x·e/(e+1), e = exp(2u), u = √(2/π)·(x + 0.044715·x³)
// Requires: AVX512F, AVX512DQ
TEXT ·geluTanhFwdAVX512(SB), NOSPLIT, $0-48
	MOVQ out_base+0(FP), DI
	MOVQ inp_base+24(FP), SI
	MOVQ inp_len+32(FP), CX
	EXPCONST
	VBROADCASTSS rowc<>+60(SB), Z29
	VBROADCASTSS rowc<>+64(SB), Z30
gtfloop:
	VMOVUPS (SI), Z0
	VMULPS Z0, Z0, Z1
	VMOVAPS Z30, Z2
	VFMADD213PS Z29, Z1, Z2
	VMULPS Z0, Z2, Z2
	EXP16(Z2, Z5, Z6)
	VADDPS Z27, Z2, Z2
	VDIVPS Z2, Z27, Z3
	VFNMADD231PS Z3, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ gtfloop
	VZEROUPPER
	RET

// func geluTanhBwdAVX512(dinp, inp, dout []float32)
// with q = 1/(e+1): dinp = dout·(1-q)·(1 + x·q·2u'), 2u' = 2√(2/π)·(1 + 3·0.044715·x²)
// Requires: AVX512F, AVX512DQ
TEXT ·geluTanhBwdAVX512(SB), NOSPLIT, $0-72
	MOVQ dinp_base+0(FP), DX
	MOVQ inp_base+24(FP), SI
	MOVQ inp_len+32(FP), CX
	MOVQ dout_base+48(FP), DI
	EXPCONST
	VBROADCASTSS rowc<>+60(SB), Z29
	VBROADCASTSS rowc<>+64(SB), Z30
	VBROADCASTSS rowc<>+68(SB), Z31
gtbloop:
	VMOVUPS (SI), Z0
	VMULPS Z0, Z0, Z1
	VMOVAPS Z30, Z2
	VFMADD213PS Z29, Z1, Z2
	VMULPS Z0, Z2, Z2
	EXP16(Z2, Z5, Z6)
	VADDPS Z27, Z2, Z2
	VDIVPS Z2, Z27, Z3
	VMOVAPS Z31, Z4
	VFMADD213PS Z27, Z1, Z4
	VMULPS Z29, Z4, Z4
	VMULPS Z3, Z0, Z7
	VFMADD213PS Z27, Z7, Z4
	VSUBPS Z3, Z27, Z3
	VMULPS Z3, Z4, Z4
	VMULPS (DI), Z4, Z4
	VMOVUPS Z4, (DX)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JNZ gtbloop
	VZEROUPPER
	RET

// ERFCDF16 leaves Φ(x) in Z3 and exp(-x²/2) in Z2 for x in Z0 (Z8-Z15, Z29-Z31 hold the constants).
#define ERFCDF16 \
	VANDPS Z8, Z0, Z1; \
	VMULPS Z9, Z1, Z1; \
	VMOVAPS Z10, Z2; \
	VFMADD213PS Z27, Z1, Z2; \
	VDIVPS Z2, Z27, Z1; \
	VMOVAPS Z15, Z3; \
	VFMADD213PS Z14, Z1, Z3; \
	VFMADD213PS Z13, Z1, Z3; \
	VFMADD213PS Z12, Z1, Z3; \
	VFMADD213PS Z11, Z1, Z3; \
	VMULPS Z1, Z3, Z3; \
	VMULPS Z0, Z0, Z2; \
	VMULPS Z29, Z2, Z2; \
	EXP16(Z2, Z5, Z6); \
	VMULPS Z30, Z3, Z3; \
	VMULPS Z2, Z3, Z3; \
	VXORPS Z4, Z4, Z4; \
	VCMPPS $13, Z4, Z0, K2; \
	VSUBPS Z3, Z27, K2, Z3

#define ERFCONST \
	EXPCONST; \
	VBROADCASTSS rowc<>+56(SB), Z8; \
	VBROADCASTSS rowc<>+76(SB), Z9; \
	VBROADCASTSS rowc<>+80(SB), Z10; \
	VBROADCASTSS rowc<>+84(SB), Z11; \
	VBROADCASTSS rowc<>+88(SB), Z12; \
	VBROADCASTSS rowc<>+92(SB), Z13; \
	VBROADCASTSS rowc<>+96(SB), Z14; \
	VBROADCASTSS rowc<>+100(SB), Z15; \
	VBROADCASTSS rowc<>+108(SB), Z29; \
	VBROADCASTSS rowc<>+52(SB), Z30; \
	VBROADCASTSS rowc<>+104(SB), Z31

// func geluErfFwdAVX512(out, inp []float32)
// out = x·Φ(x)
// Requires: AVX512F, AVX512DQ
TEXT ·geluErfFwdAVX512(SB), NOSPLIT, $0-48
	MOVQ out_base+0(FP), DI
	MOVQ inp_base+24(FP), SI
	MOVQ inp_len+32(FP), CX
	ERFCONST
gefloop:
	VMOVUPS (SI), Z0
	ERFCDF16
	VMULPS Z3, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ gefloop
	VZEROUPPER
	RET

// func geluErfBwdAVX512(dinp, inp, dout []float32)
// dinp = dout·(Φ(x) + x·φ(x))
// Requires: AVX512F, AVX512DQ
TEXT ·geluErfBwdAVX512(SB), NOSPLIT, $0-72
	MOVQ dinp_base+0(FP), DX
	MOVQ inp_base+24(FP), SI
	MOVQ inp_len+32(FP), CX
	MOVQ dout_base+48(FP), DI
	ERFCONST
gebloop:
	VMOVUPS (SI), Z0
	ERFCDF16
	VMULPS Z31, Z2, Z2
	VFMADD231PS Z2, Z0, Z3
	VMULPS (DI), Z3, Z3
	VMOVUPS Z3, (DX)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JNZ gebloop
	VZEROUPPER
	RET

// func sigmoidAVX512(x []float32)
// x = 1/(1 + exp(-x)) in place
// Requires: AVX512F, AVX512DQ
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-24
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	EXPCONST
	VBROADCASTSS rowc<>+124(SB), Z29
sigloop:
	VMOVUPS (SI), Z0
	VXORPS Z29, Z0, Z0
	EXP16(Z0, Z5, Z6)
	VADDPS Z27, Z0, Z0
	VDIVPS Z0, Z27, Z0
	VMOVUPS Z0, (SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ sigloop
	VZEROUPPER
	RET

// func tanhAVX512(x []float32)
// x = (e-1)/(e+1), e = exp(2·clamp(x, -9, 9)), in place
// Requires: AVX512F, AVX512DQ
TEXT ·tanhAVX512(SB), NOSPLIT, $0-24
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	EXPCONST
	VBROADCASTSS rowc<>+116(SB), Z29
	VBROADCASTSS rowc<>+120(SB), Z30
tanhloop:
	VMOVUPS (SI), Z0
	VMINPS Z29, Z0, Z0
	VMAXPS Z30, Z0, Z0
	VADDPS Z0, Z0, Z0
	EXP16(Z0, Z5, Z6)
	VSUBPS Z27, Z0, Z1
	VADDPS Z27, Z0, Z0
	VDIVPS Z0, Z1, Z0
	VMOVUPS Z0, (SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ tanhloop
	VZEROUPPER
	RET
