//go:build !purego

// AMX kernels (see amx.go): one 32 x 32 block per call, on tiles configured and released inside
// the call (tile state is per OS thread, and Go may move the goroutine to another thread between
// calls). Register numbers in the AMX macros: AX=0 CX=1 DX=2 BX=3 SI=6 DI=7 R8..R11=8..11.

#include "textflag.h"
#include "amx_amd64.h"

// AMX_BLOCK(TDP) is the body of both block kernels below, which differ only in the tile product:
// the 32 x 32 sums of steps steps, A tiles of 16 rows x 64 bytes at a and a+16*lda (rows lda bytes
// apart), B tiles of 16 rows x 64 bytes at b and b+64 (rows ldb bytes apart), each step 64 bytes
// further along A's rows and 16 rows down B; stored to acc, rows 128 bytes apart. Registers on
// entry: AX cfg, SI a, DX lda, BX b, R10 ldb, DI acc, CX steps (>= 1). amxEmu.block (amx_emu.go) is
// this sequence in Go.
#define AMX_BLOCK(TDP) \
	LDTILECFG(0)             /* (AX): all 8 tiles 16 x 64 bytes */ \
	MOVQ DX, R8; SHLQ $4, R8; ADDQ SI, R8 /* R8: A rows 16-31 */ \
	LEAQ 64(BX), R9          /* R9: B columns 16-31 */ \
	MOVQ R10, R11; SHLQ $4, R11 /* R11: 16 rows of B */ \
	TILEZERO(0); TILEZERO(1); TILEZERO(2); TILEZERO(3) \
loop: \
	TILELOADD(4, 6, 2)       /* tmm4 = A rows 0-15:  [SI + r*DX] */ \
	TILELOADD(5, 8, 2)       /* tmm5 = A rows 16-31: [R8 + r*DX] */ \
	TILELOADD(6, 3, 10)      /* tmm6 = B columns 0-15:  [BX + r*R10] */ \
	TILELOADD(7, 9, 10)      /* tmm7 = B columns 16-31: [R9 + r*R10] */ \
	TDP(0, 4, 6); TDP(1, 4, 7); TDP(2, 5, 6); TDP(3, 5, 7) \
	ADDQ $64, SI; ADDQ $64, R8; ADDQ R11, BX; ADDQ R11, R9 \
	DECQ CX; JNZ loop \
	MOVQ $128, R11           /* acc row stride */ \
	TILESTORED(7, 11, 0)     /* [DI + r*128]: rows 0-15, columns 0-15 */ \
	LEAQ 64(DI), SI \
	TILESTORED(6, 11, 1)     /* columns 16-31 */ \
	ADDQ $2048, DI \
	TILESTORED(7, 11, 2)     /* rows 16-31 */ \
	ADDQ $2048, SI \
	TILESTORED(6, 11, 3) \
	TILERELEASE

#define AMX_ARGS \
	MOVQ cfg+0(FP), AX; MOVQ a+8(FP), SI; MOVQ lda+16(FP), DX; MOVQ b+24(FP), BX \
	MOVQ ldb+32(FP), R10; MOVQ acc+40(FP), DI; MOVQ steps+48(FP), CX

// func amxBlockBF16(cfg *amxConfig, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, acc unsafe.Pointer, steps int)
// Requires: AMX-TILE, AMX-BF16; steps >= 1. The 32 x 32 fp32 sums (AMX_BLOCK).
TEXT ·amxBlockBF16(SB), NOSPLIT, $0-56
	AMX_ARGS
	AMX_BLOCK(TDPBF16PS)
	RET

// func amxBlockInt8(cfg *amxConfig, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, acc unsafe.Pointer, steps int)
// Requires: AMX-TILE, AMX-INT8; steps >= 1. The 32 x 32 int32 sums (AMX_BLOCK).
TEXT ·amxBlockInt8(SB), NOSPLIT, $0-56
	AMX_ARGS
	AMX_BLOCK(TDPBSSD)
	RET

// func cpuidex(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuidex(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// func xgetbv0() (eax, edx uint32)
// XCR0, the state components the OS enabled (requires CPUID.1:ECX.OSXSAVE).
TEXT ·xgetbv0(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// amxSamples is never called: the AMX macros with operands that set and clear every encoded
// register bit, for TestAMXEncoding (amx_amd64_test.go: amxEncodingSamples lists them in order).
TEXT ·amxSamples(SB), NOSPLIT|NOFRAME, $0
	LDTILECFG(0)
	LDTILECFG(9)
	LDTILECFG(7)
	TILERELEASE
	TILEZERO(0)
	TILEZERO(7)
	TILEZERO(5)
	TILELOADD(4, 6, 2)
	TILELOADD(5, 8, 2)
	TILELOADD(6, 3, 10)
	TILELOADD(7, 9, 10)
	TILELOADD(0, 15, 12)
	TILELOADD(3, 0, 7)
	TILESTORED(7, 11, 0)
	TILESTORED(6, 11, 1)
	TILESTORED(14, 1, 7)
	TILESTORED(3, 9, 4)
	TDPBF16PS(0, 4, 6)
	TDPBF16PS(3, 5, 7)
	TDPBF16PS(7, 0, 1)
	TDPBF16PS(1, 2, 0)
	TDPBSSD(0, 4, 6)
	TDPBSSD(3, 5, 7)
	TDPBSSD(7, 0, 1)
	TDPBSSD(1, 2, 0)
	RET

// func amxSamplesAddr() *byte
TEXT ·amxSamplesAddr(SB), NOSPLIT, $0-8
	LEAQ ·amxSamples(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// func amxBlockAddrs() (bf16, int8 *byte)
// The entry addresses of the two kernels, so that TestAMXKernelDisassembly can read their bytes
// (test binaries have no symbol table).
TEXT ·amxBlockAddrs(SB), NOSPLIT, $0-16
	LEAQ ·amxBlockBF16(SB), AX
	MOVQ AX, bf16+0(FP)
	LEAQ ·amxBlockInt8(SB), AX
	MOVQ AX, int8+8(FP)
	RET
