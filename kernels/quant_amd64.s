//go:build !purego

// quant_amd64.s: AVX-512 steps of the BitNet quantizers (see quant.go for the Go equivalents, which
// these match bit for bit). Each processes whole vectors only; the Go side handles tails.

#include "textflag.h"

// func absMaxAVX512(x []float32) float32
// Requires: AVX512F
TEXT ·absMaxAVX512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	SHRQ $4, CX
	VPXORD Z0, Z0, Z0
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z2
	TESTQ CX, CX
	JZ absmax_fold
absmax_loop:
	VPANDD (SI), Z2, Z3
	VMAXPS Z3, Z0, Z0
	ADDQ $64, SI
	DECQ CX
	JNZ absmax_loop
absmax_fold:
	VEXTRACTF32X8 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func quantRowInt8AVX512(q []int8, x []float32, scale float32)
// Requires: AVX512F, AVX512BW
//
// q = saturate_int8(round_half_away(x*g)): t = trunc(p); d = p - t is exact (|p| < 2^23), and
// |d| >= 0.5 moves t one step away from zero. VPMOVSDB's signed saturation is the clamp.
TEXT ·quantRowInt8AVX512(SB), NOSPLIT, $0-52
	MOVQ q_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	SHRQ $4, CX
	JZ qrow_done
	VBROADCASTSS scale+48(FP), Z0
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z1
	MOVL $0x3f000000, AX // 0.5
	VPBROADCASTD AX, Z2
	MOVL $1, AX
	VPBROADCASTD AX, Z3
qrow_loop:
	VMULPS (SI), Z0, Z4     // p = x*g (float32, as Go's v*g)
	VCVTTPS2DQ Z4, Z5       // t = trunc(p)
	VCVTDQ2PS Z5, Z6
	VSUBPS Z6, Z4, Z6       // d = p - t
	VPANDD Z1, Z6, Z6       // |d|
	VCMPPS $13, Z2, Z6, K1  // K1 = |d| >= 0.5 (GE_OS)
	VPSRAD $31, Z4, Z7      // -1 for negative p, 0 otherwise
	VPORD Z3, Z7, Z7        // -1 or +1
	VPADDD Z7, Z5, K1, Z5   // t += sign(p) where |d| >= 0.5
	VPMOVSDB Z5, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	DECQ CX
	JNZ qrow_loop
	VZEROUPPER
qrow_done:
	RET

// func absSumAVX512(w []float32) float64
// Requires: AVX512F
//
// Four zmm accumulators hold the 32 float64 partial sums (lane l of Z0..Z3 is partial 8a+l), folded
// as absSumGeneric does: +16, +8, +4, +2, +1.
TEXT ·absSumAVX512(SB), NOSPLIT, $0-32
	MOVQ w_base+0(FP), SI
	MOVQ w_len+8(FP), CX
	SHRQ $5, CX
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	MOVQ $0x7fffffffffffffff, AX
	VPBROADCASTQ AX, Z8
	TESTQ CX, CX
	JZ asum_fold
asum_loop:
	VCVTPS2PD (SI), Z4
	VCVTPS2PD 32(SI), Z5
	VCVTPS2PD 64(SI), Z6
	VCVTPS2PD 96(SI), Z7
	VPANDQ Z8, Z4, Z4
	VPANDQ Z8, Z5, Z5
	VPANDQ Z8, Z6, Z6
	VPANDQ Z8, Z7, Z7
	VADDPD Z4, Z0, Z0
	VADDPD Z5, Z1, Z1
	VADDPD Z6, Z2, Z2
	VADDPD Z7, Z3, Z3
	ADDQ $128, SI
	DECQ CX
	JNZ asum_loop
asum_fold:
	VADDPD Z2, Z0, Z0 // s[l] += s[l+16]
	VADDPD Z3, Z1, Z1
	VADDPD Z1, Z0, Z0 // s[l] += s[l+8]
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD Y1, Y0, Y0 // s[l] += s[l+4]
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0 // s[l] += s[l+2]
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0 // s[0] += s[1]
	MOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// func quantTernaryAVX512(t []int8, w []float32, inv float32)
// Requires: AVX512F, AVX512BW, AVX512VL
//
// clamp(round_half_away(p), -1, 1) is +1 for p >= 0.5, -1 for p <= -0.5, else 0: two compares.
TEXT ·quantTernaryAVX512(SB), NOSPLIT, $0-52
	MOVQ t_base+0(FP), DI
	MOVQ w_base+24(FP), SI
	MOVQ w_len+32(FP), CX
	SHRQ $4, CX
	JZ qtern_done
	VBROADCASTSS inv+48(FP), Z0
	MOVL $0x3f000000, AX // 0.5
	VPBROADCASTD AX, Z1
	MOVL $0xbf000000, AX // -0.5
	VPBROADCASTD AX, Z2
qtern_loop:
	VMULPS (SI), Z0, Z3     // p = w*inv
	VCMPPS $13, Z1, Z3, K1  // p >= 0.5 (GE_OS)
	VCMPPS $2, Z2, Z3, K2   // p <= -0.5 (LE_OS)
	VPMOVM2B K1, X4         // -1 (0xFF) where positive
	VPMOVM2B K2, X5         // -1 where negative
	VPSUBB X4, X5, X5       // (-neg) - (-pos) = pos - neg
	VMOVDQU X5, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	DECQ CX
	JNZ qtern_loop
	VZEROUPPER
qtern_done:
	RET

// func absMaxAVX2(x []float32) float32
// Requires: AVX
TEXT ·absMaxAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	SHRQ $3, CX
	VXORPS Y0, Y0, Y0
	VPCMPEQD X2, X2, X2
	VPSRLD $1, X2, X2
	VINSERTF128 $1, X2, Y2, Y2 // 0x7fffffff in every lane
	TESTQ CX, CX
	JZ absmax2_fold
absmax2_loop:
	VANDPS (SI), Y2, Y3
	VMAXPS Y3, Y0, Y0
	ADDQ $32, SI
	DECQ CX
	JNZ absmax2_loop
absmax2_fold:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func quantRowInt8AVX2(q []int8, x []float32, scale float32)
// Requires: AVX, AVX2
//
// As quantRowInt8AVX512, 8 at a time; VPACKSSDW and VPACKSSWB saturate, which is the clamp.
TEXT ·quantRowInt8AVX2(SB), NOSPLIT, $0-52
	MOVQ q_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	SHRQ $3, CX
	JZ qrow2_done
	VBROADCASTSS scale+48(FP), Y0
	MOVL $0x7fffffff, AX
	MOVQ AX, X1
	VPBROADCASTD X1, Y1
	MOVL $0x3f000000, AX // 0.5
	MOVQ AX, X2
	VPBROADCASTD X2, Y2
	MOVL $1, AX
	MOVQ AX, X3
	VPBROADCASTD X3, Y3
qrow2_loop:
	VMULPS (SI), Y0, Y4     // p = x*g
	VCVTTPS2DQ Y4, Y5       // t = trunc(p)
	VCVTDQ2PS Y5, Y6
	VSUBPS Y6, Y4, Y6       // d = p - t (exact)
	VANDPS Y1, Y6, Y6       // |d|
	VCMPPS $13, Y2, Y6, Y6  // |d| >= 0.5 (GE_OS): all ones
	VPSRAD $31, Y4, Y7      // -1 for negative p
	VPOR Y3, Y7, Y7         // -1 or +1
	VPAND Y6, Y7, Y7
	VPADDD Y7, Y5, Y5       // t += sign(p) where |d| >= 0.5
	VEXTRACTI128 $1, Y5, X6
	VPACKSSDW X6, X5, X5    // 8 int16, saturated
	VPACKSSWB X5, X5, X5    // 8 int8, saturated
	MOVQ X5, (DI)
	ADDQ $32, SI
	ADDQ $8, DI
	DECQ CX
	JNZ qrow2_loop
	VZEROUPPER
qrow2_done:
	RET

// func absSumAVX2(w []float32) float64
// Requires: AVX
//
// Eight ymm accumulators hold the 32 float64 partial sums (lane j of Y_a is partial 4a+j), folded
// as absSumGeneric does: +16, +8, +4, +2, +1.
TEXT ·absSumAVX2(SB), NOSPLIT, $0-32
	MOVQ w_base+0(FP), SI
	MOVQ w_len+8(FP), CX
	SHRQ $5, CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VPCMPEQQ X9, X9, X9
	VPSRLQ $1, X9, X9
	VINSERTF128 $1, X9, Y9, Y9 // 0x7fff... in every lane
	TESTQ CX, CX
	JZ asum2_fold
asum2_loop:
	VCVTPS2PD (SI), Y8
	VANDPD Y9, Y8, Y8
	VADDPD Y8, Y0, Y0
	VCVTPS2PD 16(SI), Y8
	VANDPD Y9, Y8, Y8
	VADDPD Y8, Y1, Y1
	VCVTPS2PD 32(SI), Y8
	VANDPD Y9, Y8, Y8
	VADDPD Y8, Y2, Y2
	VCVTPS2PD 48(SI), Y8
	VANDPD Y9, Y8, Y8
	VADDPD Y8, Y3, Y3
	VCVTPS2PD 64(SI), Y8
	VANDPD Y9, Y8, Y8
	VADDPD Y8, Y4, Y4
	VCVTPS2PD 80(SI), Y8
	VANDPD Y9, Y8, Y8
	VADDPD Y8, Y5, Y5
	VCVTPS2PD 96(SI), Y8
	VANDPD Y9, Y8, Y8
	VADDPD Y8, Y6, Y6
	VCVTPS2PD 112(SI), Y8
	VANDPD Y9, Y8, Y8
	VADDPD Y8, Y7, Y7
	ADDQ $128, SI
	DECQ CX
	JNZ asum2_loop
asum2_fold:
	VADDPD Y4, Y0, Y0 // s[l] += s[l+16]
	VADDPD Y5, Y1, Y1
	VADDPD Y6, Y2, Y2
	VADDPD Y7, Y3, Y3
	VADDPD Y2, Y0, Y0 // s[l] += s[l+8]
	VADDPD Y3, Y1, Y1
	VADDPD Y1, Y0, Y0 // s[l] += s[l+4]
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0 // s[l] += s[l+2]
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0 // s[0] += s[1]
	MOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// func quantTernaryAVX2(t []int8, w []float32, inv float32)
// Requires: AVX, AVX2
TEXT ·quantTernaryAVX2(SB), NOSPLIT, $0-52
	MOVQ t_base+0(FP), DI
	MOVQ w_base+24(FP), SI
	MOVQ w_len+32(FP), CX
	SHRQ $3, CX
	JZ qtern2_done
	VBROADCASTSS inv+48(FP), Y0
	MOVL $0x3f000000, AX // 0.5
	MOVQ AX, X1
	VPBROADCASTD X1, Y1
	MOVL $0xbf000000, AX // -0.5
	MOVQ AX, X2
	VPBROADCASTD X2, Y2
qtern2_loop:
	VMULPS (SI), Y0, Y3     // p = w*inv
	VCMPPS $13, Y1, Y3, Y4  // p >= 0.5: -1
	VCMPPS $2, Y2, Y3, Y5   // p <= -0.5: -1
	VPSUBD Y4, Y5, Y5       // (-neg) - (-pos) = pos - neg
	VEXTRACTI128 $1, Y5, X6
	VPACKSSDW X6, X5, X5
	VPACKSSWB X5, X5, X5
	MOVQ X5, (DI)
	ADDQ $32, SI
	ADDQ $8, DI
	DECQ CX
	JNZ qtern2_loop
	VZEROUPPER
qtern2_done:
	RET
