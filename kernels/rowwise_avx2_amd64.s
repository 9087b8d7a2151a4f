//go:build !purego

// AVX2+FMA twins of the AVX-512 row primitives in rowwise_amd64.s, 8 lanes; lengths are multiples of 8
// (the Go wrappers hand tails to the generic code). Constants are 32-byte vectors used as memory
// operands, because AVX2 has only 16 vector registers. Same formulas as rowwise_amd64.s.

#include "textflag.h"

DATA rowv<>+0(SB)/8, $0xc2aeac4ac2aeac4a // expMin
DATA rowv<>+8(SB)/8, $0xc2aeac4ac2aeac4a
DATA rowv<>+16(SB)/8, $0xc2aeac4ac2aeac4a
DATA rowv<>+24(SB)/8, $0xc2aeac4ac2aeac4a
DATA rowv<>+32(SB)/8, $0x42b0000042b00000 // expMax
DATA rowv<>+40(SB)/8, $0x42b0000042b00000
DATA rowv<>+48(SB)/8, $0x42b0000042b00000
DATA rowv<>+56(SB)/8, $0x42b0000042b00000
DATA rowv<>+64(SB)/8, $0x3fb8aa3b3fb8aa3b // log2e
DATA rowv<>+72(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA rowv<>+80(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA rowv<>+88(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA rowv<>+96(SB)/8, $0x3f3180003f318000 // ln2Hi
DATA rowv<>+104(SB)/8, $0x3f3180003f318000
DATA rowv<>+112(SB)/8, $0x3f3180003f318000
DATA rowv<>+120(SB)/8, $0x3f3180003f318000
DATA rowv<>+128(SB)/8, $0xb95e8083b95e8083 // ln2Lo
DATA rowv<>+136(SB)/8, $0xb95e8083b95e8083
DATA rowv<>+144(SB)/8, $0xb95e8083b95e8083
DATA rowv<>+152(SB)/8, $0xb95e8083b95e8083
DATA rowv<>+160(SB)/8, $0x3950696739506967 // c0
DATA rowv<>+168(SB)/8, $0x3950696739506967
DATA rowv<>+176(SB)/8, $0x3950696739506967
DATA rowv<>+184(SB)/8, $0x3950696739506967
DATA rowv<>+192(SB)/8, $0x3ab743ce3ab743ce // c1
DATA rowv<>+200(SB)/8, $0x3ab743ce3ab743ce
DATA rowv<>+208(SB)/8, $0x3ab743ce3ab743ce
DATA rowv<>+216(SB)/8, $0x3ab743ce3ab743ce
DATA rowv<>+224(SB)/8, $0x3c0889083c088908 // c2
DATA rowv<>+232(SB)/8, $0x3c0889083c088908
DATA rowv<>+240(SB)/8, $0x3c0889083c088908
DATA rowv<>+248(SB)/8, $0x3c0889083c088908
DATA rowv<>+256(SB)/8, $0x3d2aa9c13d2aa9c1 // c3
DATA rowv<>+264(SB)/8, $0x3d2aa9c13d2aa9c1
DATA rowv<>+272(SB)/8, $0x3d2aa9c13d2aa9c1
DATA rowv<>+280(SB)/8, $0x3d2aa9c13d2aa9c1
DATA rowv<>+288(SB)/8, $0x3e2aaaaa3e2aaaaa // c4
DATA rowv<>+296(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA rowv<>+304(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA rowv<>+312(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA rowv<>+320(SB)/8, $0x3f0000003f000000 // c5
DATA rowv<>+328(SB)/8, $0x3f0000003f000000
DATA rowv<>+336(SB)/8, $0x3f0000003f000000
DATA rowv<>+344(SB)/8, $0x3f0000003f000000
DATA rowv<>+352(SB)/8, $0x3f8000003f800000 // one
DATA rowv<>+360(SB)/8, $0x3f8000003f800000
DATA rowv<>+368(SB)/8, $0x3f8000003f800000
DATA rowv<>+376(SB)/8, $0x3f8000003f800000
DATA rowv<>+384(SB)/8, $0x0000007f0000007f // i127
DATA rowv<>+392(SB)/8, $0x0000007f0000007f
DATA rowv<>+400(SB)/8, $0x0000007f0000007f
DATA rowv<>+408(SB)/8, $0x0000007f0000007f
DATA rowv<>+416(SB)/8, $0x3f0000003f000000 // half
DATA rowv<>+424(SB)/8, $0x3f0000003f000000
DATA rowv<>+432(SB)/8, $0x3f0000003f000000
DATA rowv<>+440(SB)/8, $0x3f0000003f000000
DATA rowv<>+448(SB)/8, $0x7fffffff7fffffff // absmask
DATA rowv<>+456(SB)/8, $0x7fffffff7fffffff
DATA rowv<>+464(SB)/8, $0x7fffffff7fffffff
DATA rowv<>+472(SB)/8, $0x7fffffff7fffffff
DATA rowv<>+480(SB)/8, $0x3fcc422a3fcc422a // twoScale
DATA rowv<>+488(SB)/8, $0x3fcc422a3fcc422a
DATA rowv<>+496(SB)/8, $0x3fcc422a3fcc422a
DATA rowv<>+504(SB)/8, $0x3fcc422a3fcc422a
DATA rowv<>+512(SB)/8, $0x3d9222793d922279 // twoScaleCubic
DATA rowv<>+520(SB)/8, $0x3d9222793d922279
DATA rowv<>+528(SB)/8, $0x3d9222793d922279
DATA rowv<>+536(SB)/8, $0x3d9222793d922279
DATA rowv<>+544(SB)/8, $0x3e095d4f3e095d4f // threeCubic
DATA rowv<>+552(SB)/8, $0x3e095d4f3e095d4f
DATA rowv<>+560(SB)/8, $0x3e095d4f3e095d4f
DATA rowv<>+568(SB)/8, $0x3e095d4f3e095d4f
DATA rowv<>+576(SB)/8, $0x3f4c422a3f4c422a // geluScale
DATA rowv<>+584(SB)/8, $0x3f4c422a3f4c422a
DATA rowv<>+592(SB)/8, $0x3f4c422a3f4c422a
DATA rowv<>+600(SB)/8, $0x3f4c422a3f4c422a
DATA rowv<>+608(SB)/8, $0x3f3504f33f3504f3 // invSqrt2
DATA rowv<>+616(SB)/8, $0x3f3504f33f3504f3
DATA rowv<>+624(SB)/8, $0x3f3504f33f3504f3
DATA rowv<>+632(SB)/8, $0x3f3504f33f3504f3
DATA rowv<>+640(SB)/8, $0x3ea7ba053ea7ba05 // erfP
DATA rowv<>+648(SB)/8, $0x3ea7ba053ea7ba05
DATA rowv<>+656(SB)/8, $0x3ea7ba053ea7ba05
DATA rowv<>+664(SB)/8, $0x3ea7ba053ea7ba05
DATA rowv<>+672(SB)/8, $0x3e8279063e827906 // a1
DATA rowv<>+680(SB)/8, $0x3e8279063e827906
DATA rowv<>+688(SB)/8, $0x3e8279063e827906
DATA rowv<>+696(SB)/8, $0x3e8279063e827906
DATA rowv<>+704(SB)/8, $0xbe91a98ebe91a98e // a2
DATA rowv<>+712(SB)/8, $0xbe91a98ebe91a98e
DATA rowv<>+720(SB)/8, $0xbe91a98ebe91a98e
DATA rowv<>+728(SB)/8, $0xbe91a98ebe91a98e
DATA rowv<>+736(SB)/8, $0x3fb5f0e33fb5f0e3 // a3
DATA rowv<>+744(SB)/8, $0x3fb5f0e33fb5f0e3
DATA rowv<>+752(SB)/8, $0x3fb5f0e33fb5f0e3
DATA rowv<>+760(SB)/8, $0x3fb5f0e33fb5f0e3
DATA rowv<>+768(SB)/8, $0xbfba00e3bfba00e3 // a4
DATA rowv<>+776(SB)/8, $0xbfba00e3bfba00e3
DATA rowv<>+784(SB)/8, $0xbfba00e3bfba00e3
DATA rowv<>+792(SB)/8, $0xbfba00e3bfba00e3
DATA rowv<>+800(SB)/8, $0x3f87dc223f87dc22 // a5
DATA rowv<>+808(SB)/8, $0x3f87dc223f87dc22
DATA rowv<>+816(SB)/8, $0x3f87dc223f87dc22
DATA rowv<>+824(SB)/8, $0x3f87dc223f87dc22
DATA rowv<>+832(SB)/8, $0x3ecc422a3ecc422a // invSqrt2Pi
DATA rowv<>+840(SB)/8, $0x3ecc422a3ecc422a
DATA rowv<>+848(SB)/8, $0x3ecc422a3ecc422a
DATA rowv<>+856(SB)/8, $0x3ecc422a3ecc422a
DATA rowv<>+864(SB)/8, $0xbf000000bf000000 // negHalf
DATA rowv<>+872(SB)/8, $0xbf000000bf000000
DATA rowv<>+880(SB)/8, $0xbf000000bf000000
DATA rowv<>+888(SB)/8, $0xbf000000bf000000
DATA rowv<>+896(SB)/8, $0x4000000040000000 // two
DATA rowv<>+904(SB)/8, $0x4000000040000000
DATA rowv<>+912(SB)/8, $0x4000000040000000
DATA rowv<>+920(SB)/8, $0x4000000040000000
DATA rowv<>+928(SB)/8, $0x4110000041100000 // tanhMax 9
DATA rowv<>+936(SB)/8, $0x4110000041100000
DATA rowv<>+944(SB)/8, $0x4110000041100000
DATA rowv<>+952(SB)/8, $0x4110000041100000
DATA rowv<>+960(SB)/8, $0xc1100000c1100000 // -tanhMax
DATA rowv<>+968(SB)/8, $0xc1100000c1100000
DATA rowv<>+976(SB)/8, $0xc1100000c1100000
DATA rowv<>+984(SB)/8, $0xc1100000c1100000
DATA rowv<>+992(SB)/8, $0x8000000080000000 // sign bit
DATA rowv<>+1000(SB)/8, $0x8000000080000000
DATA rowv<>+1008(SB)/8, $0x8000000080000000
DATA rowv<>+1016(SB)/8, $0x8000000080000000
GLOBL rowv<>(SB), RODATA|NOPTR, $1024

// EXP8 replaces x by exp(x) on 8 lanes (0 where x < -87.34); n, r, k are scratch.
#define EXP8(x, n, r, k) \
	VCMPPS $13, rowv<>+0(SB), x, k; \
	VMINPS rowv<>+32(SB), x, x; \
	VMULPS rowv<>+64(SB), x, n; \
	VROUNDPS $0, n, n; \
	VMOVAPS x, r; \
	VFNMADD231PS rowv<>+96(SB), n, r; \
	VFNMADD231PS rowv<>+128(SB), n, r; \
	VMOVUPS rowv<>+160(SB), x; \
	VFMADD213PS rowv<>+192(SB), r, x; \
	VFMADD213PS rowv<>+224(SB), r, x; \
	VFMADD213PS rowv<>+256(SB), r, x; \
	VFMADD213PS rowv<>+288(SB), r, x; \
	VFMADD213PS rowv<>+320(SB), r, x; \
	VMULPS r, x, x; \
	VFMADD213PS r, r, x; \
	VADDPS rowv<>+352(SB), x, x; \
	VCVTPS2DQ n, n; \
	VPADDD rowv<>+384(SB), n, n; \
	VPSLLD $23, n, n; \
	VMULPS n, x, x; \
	VANDPS k, x, x

// HSUM8 leaves the sum of y's 8 lanes (low half xl) in the low lane of X1.
#define HSUM8(y, xl) \
	VEXTRACTF128 $1, y, X1; \
	VADDPS X1, xl, X1; \
	VPERMILPS $0x4e, X1, X2; \
	VADDPS X2, X1, X1; \
	VPERMILPS $0xb1, X1, X2; \
	VADDPS X2, X1, X1

// func maxAVX2(x []float32) float32
// Requires: AVX
TEXT ·maxAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VMOVUPS (SI), Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JZ maxdone
maxloop:
	VMAXPS (SI), Y0, Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ maxloop
maxdone:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X1
	VPERMILPS $0x4e, X1, X2
	VMAXPS X2, X1, X1
	VPERMILPS $0xb1, X1, X2
	VMAXPS X2, X1, X1
	VMOVSS X1, ret+24(FP)
	VZEROUPPER
	RET

// func sumAVX2(x []float32) float32
// Requires: AVX
TEXT ·sumAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VXORPS Y0, Y0, Y0
sumloop:
	VADDPS (SI), Y0, Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ sumloop
	HSUM8(Y0, X0)
	VMOVSS X1, ret+24(FP)
	VZEROUPPER
	RET

// func sumSqDevAVX2(x []float32, m float32) float32
// Requires: AVX, FMA
TEXT ·sumSqDevAVX2(SB), NOSPLIT, $0-36
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS m+24(FP), Y3
	VXORPS Y0, Y0, Y0
sqloop:
	VMOVUPS (SI), Y4
	VSUBPS Y3, Y4, Y4
	VFMADD231PS Y4, Y4, Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ sqloop
	HSUM8(Y0, X0)
	VMOVSS X1, ret+32(FP)
	VZEROUPPER
	RET

// func expSubSumAVX2(dst, src []float32, m float32, store bool) float32
// Requires: AVX, AVX2, FMA
TEXT ·expSubSumAVX2(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	VBROADCASTSS m+48(FP), Y15
	MOVBLZX store+52(FP), DX
	VXORPS Y14, Y14, Y14
exploop:
	VMOVUPS (SI), Y0
	VSUBPS Y15, Y0, Y0
	EXP8(Y0, Y5, Y6, Y7)
	VADDPS Y0, Y14, Y14
	TESTQ DX, DX
	JZ expnostore
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
expnostore:
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ exploop
	HSUM8(Y14, X14)
	VMOVSS X1, ret+56(FP)
	VZEROUPPER
	RET

// func scaleAVX2(x []float32, s float32)
// Requires: AVX
TEXT ·scaleAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS s+24(FP), Y3
scaleloop:
	VMULPS (SI), Y3, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ scaleloop
	VZEROUPPER
	RET

// func lnApplyAVX2(out, x, g, b []float32, m, r float32)
// Requires: AVX
TEXT ·lnApplyAVX2(SB), NOSPLIT, $0-104
	MOVQ out_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ g_base+48(FP), R8
	MOVQ b_base+72(FP), R9
	VBROADCASTSS m+96(FP), Y3
	VBROADCASTSS r+100(FP), Y4
applyloop:
	VMOVUPS (SI), Y0
	VSUBPS Y3, Y0, Y0
	VMULPS Y4, Y0, Y0
	VMULPS (R8), Y0, Y0
	VADDPS (R9), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	SUBQ $8, CX
	JNZ applyloop
	VZEROUPPER
	RET

// func mulScaleAVX2(out, x, g []float32, r float32)
// Requires: AVX
TEXT ·mulScaleAVX2(SB), NOSPLIT, $0-76
	MOVQ out_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ g_base+48(FP), R8
	VBROADCASTSS r+72(FP), Y4
mulscaleloop:
	VMULPS (SI), Y4, Y0
	VMULPS (R8), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	SUBQ $8, CX
	JNZ mulscaleloop
	VZEROUPPER
	RET

// func lnBwdSumsAVX2(dout, x, g []float32, m, r float32) (sd, sdx float32)
// Requires: AVX, FMA
TEXT ·lnBwdSumsAVX2(SB), NOSPLIT, $0-88
	MOVQ dout_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	MOVQ g_base+48(FP), R8
	VBROADCASTSS m+72(FP), Y3
	VBROADCASTSS r+76(FP), Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
bsumloop:
	VMOVUPS (DI), Y0
	VMULPS (R8), Y0, Y0
	VADDPS Y0, Y5, Y5
	VMOVUPS (SI), Y7
	VSUBPS Y3, Y7, Y7
	VMULPS Y4, Y7, Y7
	VFMADD231PS Y7, Y0, Y6
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	SUBQ $8, CX
	JNZ bsumloop
	HSUM8(Y5, X5)
	VMOVSS X1, sd+80(FP)
	HSUM8(Y6, X6)
	VMOVSS X1, sdx+84(FP)
	VZEROUPPER
	RET

// func lnBwdApplyAVX2(dinp, dout, x, g []float32, m, r, sd, sdx float32)
// Requires: AVX, FMA
TEXT ·lnBwdApplyAVX2(SB), NOSPLIT, $0-112
	MOVQ dinp_base+0(FP), DX
	MOVQ dout_base+24(FP), DI
	MOVQ x_base+48(FP), SI
	MOVQ x_len+56(FP), CX
	MOVQ g_base+72(FP), R8
	VBROADCASTSS m+96(FP), Y3
	VBROADCASTSS r+100(FP), Y4
	VBROADCASTSS sd+104(FP), Y5
	VBROADCASTSS sdx+108(FP), Y6
bapplyloop:
	VMOVUPS (DI), Y0
	VMULPS (R8), Y0, Y0
	VSUBPS Y5, Y0, Y0
	VMOVUPS (SI), Y7
	VSUBPS Y3, Y7, Y7
	VMULPS Y4, Y7, Y7
	VFNMADD231PS Y6, Y7, Y0
	VMULPS Y4, Y0, Y0
	VMOVUPS Y0, (DX)
	ADDQ $32, DX
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	SUBQ $8, CX
	JNZ bapplyloop
	VZEROUPPER
	RET

// func normParamAccAVX2(dg, db, d, x []float32, m, r float32)
// Requires: AVX
TEXT ·normParamAccAVX2(SB), NOSPLIT, $0-104
	MOVQ dg_base+0(FP), DX
	MOVQ db_base+24(FP), R9
	MOVQ db_len+32(FP), R10
	MOVQ d_base+48(FP), DI
	MOVQ x_base+72(FP), SI
	MOVQ x_len+80(FP), CX
	VBROADCASTSS m+96(FP), Y3
	VBROADCASTSS r+100(FP), Y4
paccloop:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y7
	VSUBPS Y3, Y7, Y7
	VMULPS Y4, Y7, Y7
	VMULPS Y0, Y7, Y7
	VADDPS (DX), Y7, Y7
	VMOVUPS Y7, (DX)
	TESTQ R10, R10
	JZ paccnob
	VADDPS (R9), Y0, Y0
	VMOVUPS Y0, (R9)
	ADDQ $32, R9
paccnob:
	ADDQ $32, DX
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ paccloop
	VZEROUPPER
	RET

// func geluTanhFwdAVX2(out, inp []float32)
// Requires: AVX, AVX2, FMA
TEXT ·geluTanhFwdAVX2(SB), NOSPLIT, $0-48
	MOVQ out_base+0(FP), DI
	MOVQ inp_base+24(FP), SI
	MOVQ inp_len+32(FP), CX
	VMOVUPS rowv<>+352(SB), Y15
gtfloop:
	VMOVUPS (SI), Y0
	VMULPS Y0, Y0, Y1
	VMOVUPS rowv<>+512(SB), Y2
	VFMADD213PS rowv<>+480(SB), Y1, Y2
	VMULPS Y0, Y2, Y2
	EXP8(Y2, Y5, Y6, Y7)
	VADDPS Y15, Y2, Y2
	VDIVPS Y2, Y15, Y3
	VFNMADD231PS Y3, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ gtfloop
	VZEROUPPER
	RET

// func geluTanhBwdAVX2(dinp, inp, dout []float32)
// Requires: AVX, AVX2, FMA
TEXT ·geluTanhBwdAVX2(SB), NOSPLIT, $0-72
	MOVQ dinp_base+0(FP), DX
	MOVQ inp_base+24(FP), SI
	MOVQ inp_len+32(FP), CX
	MOVQ dout_base+48(FP), DI
	VMOVUPS rowv<>+352(SB), Y15
gtbloop:
	VMOVUPS (SI), Y0
	VMULPS Y0, Y0, Y1
	VMOVUPS rowv<>+512(SB), Y2
	VFMADD213PS rowv<>+480(SB), Y1, Y2
	VMULPS Y0, Y2, Y2
	EXP8(Y2, Y5, Y6, Y7)
	VADDPS Y15, Y2, Y2
	VDIVPS Y2, Y15, Y3
	VMOVUPS rowv<>+544(SB), Y4
	VFMADD213PS Y15, Y1, Y4
	VMULPS rowv<>+480(SB), Y4, Y4
	VMULPS Y3, Y0, Y7
	VFMADD213PS Y15, Y7, Y4
	VSUBPS Y3, Y15, Y3
	VMULPS Y3, Y4, Y4
	VMULPS (DI), Y4, Y4
	VMOVUPS Y4, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, CX
	JNZ gtbloop
	VZEROUPPER
	RET

// ERFCDF8 leaves Φ(x) in Y3 and exp(-x²/2) in Y2 for x in Y0 (Y15 = 1).
#define ERFCDF8 \
	VANDPS rowv<>+448(SB), Y0, Y1; \
	VMULPS rowv<>+608(SB), Y1, Y1; \
	VMOVUPS rowv<>+640(SB), Y2; \
	VFMADD213PS Y15, Y1, Y2; \
	VDIVPS Y2, Y15, Y1; \
	VMOVUPS rowv<>+800(SB), Y3; \
	VFMADD213PS rowv<>+768(SB), Y1, Y3; \
	VFMADD213PS rowv<>+736(SB), Y1, Y3; \
	VFMADD213PS rowv<>+704(SB), Y1, Y3; \
	VFMADD213PS rowv<>+672(SB), Y1, Y3; \
	VMULPS Y1, Y3, Y3; \
	VMULPS Y0, Y0, Y2; \
	VMULPS rowv<>+864(SB), Y2, Y2; \
	EXP8(Y2, Y5, Y6, Y7); \
	VMULPS rowv<>+416(SB), Y3, Y3; \
	VMULPS Y2, Y3, Y3; \
	VSUBPS Y3, Y15, Y4; \
	VXORPS Y5, Y5, Y5; \
	VCMPPS $13, Y5, Y0, Y6; \
	VBLENDVPS Y6, Y4, Y3, Y3

// func geluErfFwdAVX2(out, inp []float32)
// Requires: AVX, AVX2, FMA
TEXT ·geluErfFwdAVX2(SB), NOSPLIT, $0-48
	MOVQ out_base+0(FP), DI
	MOVQ inp_base+24(FP), SI
	MOVQ inp_len+32(FP), CX
	VMOVUPS rowv<>+352(SB), Y15
gefloop:
	VMOVUPS (SI), Y0
	ERFCDF8
	VMULPS Y3, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ gefloop
	VZEROUPPER
	RET

// func geluErfBwdAVX2(dinp, inp, dout []float32)
// Requires: AVX, AVX2, FMA
TEXT ·geluErfBwdAVX2(SB), NOSPLIT, $0-72
	MOVQ dinp_base+0(FP), DX
	MOVQ inp_base+24(FP), SI
	MOVQ inp_len+32(FP), CX
	MOVQ dout_base+48(FP), DI
	VMOVUPS rowv<>+352(SB), Y15
gebloop:
	VMOVUPS (SI), Y0
	ERFCDF8
	VMULPS rowv<>+832(SB), Y2, Y2
	VFMADD231PS Y2, Y0, Y3
	VMULPS (DI), Y3, Y3
	VMOVUPS Y3, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, CX
	JNZ gebloop
	VZEROUPPER
	RET

// func sigmoidAVX2(x []float32)
// Requires: AVX, AVX2, FMA
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VMOVUPS rowv<>+352(SB), Y15
sigloop:
	VMOVUPS (SI), Y0
	VXORPS rowv<>+992(SB), Y0, Y0
	EXP8(Y0, Y5, Y6, Y7)
	VADDPS Y15, Y0, Y0
	VDIVPS Y0, Y15, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ sigloop
	VZEROUPPER
	RET

// func tanhAVX2(x []float32)
// Requires: AVX, AVX2, FMA
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VMOVUPS rowv<>+352(SB), Y15
tanhloop:
	VMOVUPS (SI), Y0
	VMINPS rowv<>+928(SB), Y0, Y0
	VMAXPS rowv<>+960(SB), Y0, Y0
	VADDPS Y0, Y0, Y0
	EXP8(Y0, Y5, Y6, Y7)
	VSUBPS Y15, Y0, Y1
	VADDPS Y15, Y0, Y0
	VDIVPS Y0, Y1, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ tanhloop
	VZEROUPPER
	RET
