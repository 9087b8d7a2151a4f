//go:build !purego

#include "textflag.h"

// func toF16AVX512(dst *uint16, src *float32, n int)
// n a multiple of 16; VCVTPS2PH with immediate 0: round to nearest even, MXCSR not consulted.
// Requires: AVX512F
TEXT ·toF16AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   done

loop:
	VMOVUPS   (SI), Z0
	VCVTPS2PH $0, Z0, Y1
	VMOVDQU   Y1, (DI)
	ADDQ      $64, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       loop

done:
	VZEROUPPER
	RET
