//go:build !purego

#include "textflag.h"

// func addAVX512(x, y *float32, n int)
// x[i] += y[i] for i < n, n a multiple of 16 (64 values per iteration while they last).
// Requires: AVX512F
TEXT ·addAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ CX, DX
	SHRQ $6, DX
	JZ   tail
loop64:
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VADDPS  (SI), Z0, Z0
	VADDPS  64(SI), Z1, Z1
	VADDPS  128(SI), Z2, Z2
	VADDPS  192(SI), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, DI
	ADDQ    $256, SI
	DECQ    DX
	JNZ     loop64
tail:
	ANDQ $63, CX
	SHRQ $4, CX
	JZ   done
loop16:
	VMOVUPS (DI), Z0
	VADDPS  (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	DECQ    CX
	JNZ     loop16
done:
	VZEROUPPER
	RET

// func addAVX2(x, y *float32, n int)
// x[i] += y[i] for i < n, n a multiple of 16.
// Requires: AVX
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   done2
loop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VADDPS  (SI), Y0, Y0
	VADDPS  32(SI), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	DECQ    CX
	JNZ     loop
done2:
	VZEROUPPER
	RET
