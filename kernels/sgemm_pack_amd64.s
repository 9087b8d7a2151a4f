//go:build !purego

// Transposing pack for the AVX-512 GEMM: the strided cases of packA (A not transposed) and packB
// (B transposed) read a strip of up to 16 source rows and write it column by column. Done 16x16
// at a time in registers: 16 row loads, 64 shuffles, 16 column stores, instead of 256 scalar
// moves with a strided store each (~3x faster; packing was ~12% of a 1024^3 product).

#include "textflag.h"
#include "bf16_amd64.h"

// 4x4 transposes inside each 128-bit lane for rows a..d (t0..t3 scratch): afterwards lane l of a,
// b, c, d holds columns 4l, 4l+1, 4l+2, 4l+3 of the four rows.
#define LANE4X4(a, b, c, d) \
	VUNPCKLPS b, a, Z16; \
	VUNPCKHPS b, a, Z17; \
	VUNPCKLPS d, c, Z18; \
	VUNPCKHPS d, c, Z19; \
	VUNPCKLPD Z18, Z16, a; \
	VUNPCKHPD Z18, Z16, b; \
	VUNPCKLPD Z19, Z17, c; \
	VUNPCKHPD Z19, Z17, d

// 4x4 transpose of 128-bit lanes across u0..u3 (the same column slot of row groups 0..3).
#define LANES(u0, u1, u2, u3) \
	VSHUFF32X4 $0x44, u1, u0, Z20; \
	VSHUFF32X4 $0xEE, u1, u0, Z21; \
	VSHUFF32X4 $0x44, u3, u2, Z22; \
	VSHUFF32X4 $0xEE, u3, u2, Z23; \
	VSHUFF32X4 $0x88, Z22, Z20, u0; \
	VSHUFF32X4 $0xDD, Z22, Z20, u1; \
	VSHUFF32X4 $0x88, Z23, Z21, u2; \
	VSHUFF32X4 $0xDD, Z23, Z21, u3

#define LOADROW(z) \
	VMOVUPS.Z (SI), K2, z; \
	ADDQ      R10, SI; \
	DECQ      DX; \
	JZ        loaded

#define STORECOL(z) \
	VMOVUPS z, K1, (DI); \
	ADDQ    R11, DI; \
	DECQ    DX; \
	JZ      stored

// func packT16(dst *float32, ldd int, src *float32, lds int, rows, width, k int)
// For p < k and r < width: dst[p*ldd+r] = src[r*lds+p] for r < rows, 0 for rows <= r < width.
// 1 <= rows <= width <= 16.
// Requires: AVX512F
TEXT ·packT16(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R11
	SHLQ $2, R11
	MOVQ src+16(FP), R8
	MOVQ lds+24(FP), R10
	SHLQ $2, R10
	MOVQ width+40(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1          // store lanes: width
	MOVQ k+48(FP), BX     // columns left

chunk:
	MOVQ  $16, R9
	CMPQ  BX, R9
	CMOVQLT BX, R9        // R9 = columns in this chunk
	MOVQ  $1, AX
	MOVQ  R9, CX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K2          // load lanes

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	MOVQ R8, SI
	MOVQ rows+32(FP), DX
	LOADROW(Z0)
	LOADROW(Z1)
	LOADROW(Z2)
	LOADROW(Z3)
	LOADROW(Z4)
	LOADROW(Z5)
	LOADROW(Z6)
	LOADROW(Z7)
	LOADROW(Z8)
	LOADROW(Z9)
	LOADROW(Z10)
	LOADROW(Z11)
	LOADROW(Z12)
	LOADROW(Z13)
	LOADROW(Z14)
	LOADROW(Z15)

loaded:
	LANE4X4(Z0, Z1, Z2, Z3)
	LANE4X4(Z4, Z5, Z6, Z7)
	LANE4X4(Z8, Z9, Z10, Z11)
	LANE4X4(Z12, Z13, Z14, Z15)
	LANES(Z0, Z4, Z8, Z12)
	LANES(Z1, Z5, Z9, Z13)
	LANES(Z2, Z6, Z10, Z14)
	LANES(Z3, Z7, Z11, Z15)

	// Zj now holds column j of the strip.
	MOVQ R9, DX
	STORECOL(Z0)
	STORECOL(Z1)
	STORECOL(Z2)
	STORECOL(Z3)
	STORECOL(Z4)
	STORECOL(Z5)
	STORECOL(Z6)
	STORECOL(Z7)
	STORECOL(Z8)
	STORECOL(Z9)
	STORECOL(Z10)
	STORECOL(Z11)
	STORECOL(Z12)
	STORECOL(Z13)
	STORECOL(Z14)
	STORECOL(Z15)

stored:
	ADDQ $64, R8
	SUBQ R9, BX
	JNZ  chunk
	VZEROUPPER
	RET

// func packN32(dst *float32, ldd int, src *float32, lds int, cols, width, k int)
// For p < k: dst[p*ldd+c] = src[p*lds+c] for c < cols, 0 for cols <= c < width; 1 <= cols <= width <= 32.
// The contiguous cases (A transposed, B not): one masked load and store pair per 16 floats, where
// copy() paid a memmove call for every 56- or 128-byte run.
// Requires: AVX512F
TEXT ·packN32(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R11
	SHLQ $2, R11
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R10
	SHLQ $2, R10
	MOVQ cols+32(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1          // load lanes 0..15
	SHRQ $16, AX
	KMOVW AX, K2          // load lanes 16..31
	MOVQ width+40(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K3          // store lanes 0..15
	SHRQ $16, AX
	KMOVW AX, K4          // store lanes 16..31
	MOVQ k+48(FP), CX

loopn:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS   Z0, K3, (DI)
	VMOVUPS   Z1, K4, 64(DI)
	ADDQ      R10, SI
	ADDQ      R11, DI
	DECQ      CX
	JNZ       loopn
	VZEROUPPER
	RET

// ---- AVX2 packers (used with the 6x16 kernel) --------------------------------------------------

#define LOADROW8(y) \
	VMOVUPS (SI), y; \
	ADDQ    R10, SI; \
	DECQ    DX; \
	JZ      loaded8

#define STORECOL8(y) \
	VMASKMOVPS y, Y0, (DI); \
	ADDQ       R11, DI

// func packT8(dst *float32, ldd int, src *float32, lds int, rows, width, k int, mask *int32)
// For p < k (k a multiple of 8) and r < width: dst[p*ldd+r] = src[r*lds+p] for r < rows, 0 for
// rows <= r < width; 1 <= rows <= width <= 8. mask points at 8 lane masks for width.
// 8x8 transposes in registers: unpack pairs, shuffle quads, swap 128-bit halves.
// Requires: AVX
TEXT ·packT8(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R11
	SHLQ $2, R11
	MOVQ src+16(FP), R8
	MOVQ lds+24(FP), R10
	SHLQ $2, R10
	MOVQ k+48(FP), BX
	MOVQ mask+56(FP), R9

chunk8:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   R8, SI
	MOVQ   rows+32(FP), DX
	LOADROW8(Y0)
	LOADROW8(Y1)
	LOADROW8(Y2)
	LOADROW8(Y3)
	LOADROW8(Y4)
	LOADROW8(Y5)
	LOADROW8(Y6)
	LOADROW8(Y7)

loaded8:
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS   $0x44, Y10, Y8, Y0
	VSHUFPS   $0xEE, Y10, Y8, Y1
	VSHUFPS   $0x44, Y11, Y9, Y2
	VSHUFPS   $0xEE, Y11, Y9, Y3
	VSHUFPS   $0x44, Y14, Y12, Y4
	VSHUFPS   $0xEE, Y14, Y12, Y5
	VSHUFPS   $0x44, Y15, Y13, Y6
	VSHUFPS   $0xEE, Y15, Y13, Y7
	// Yq (q < 4) holds column q of rows 0-3 | column q+4 of rows 0-3; Y(q+4) the same for rows 4-7.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS    (R9), Y0       // store lanes
	STORECOL8(Y8)
	STORECOL8(Y9)
	STORECOL8(Y10)
	STORECOL8(Y11)
	STORECOL8(Y12)
	STORECOL8(Y13)
	STORECOL8(Y14)
	STORECOL8(Y15)
	ADDQ $32, R8
	SUBQ $8, BX
	JNZ  chunk8
	VZEROUPPER
	RET

// func packN16(dst *float32, ldd int, src *float32, lds int, k int, lmask, smask *int32)
// For p < k: dst[p*ldd+c] = src[p*lds+c] where lmask (16 lane masks) is set, 0 where it is not
// and smask is; smask nil stores all 16 lanes with plain moves (masked stores are slow on AMD).
// Requires: AVX
TEXT ·packN16(SB), NOSPLIT, $0-56
	MOVQ    dst+0(FP), DI
	MOVQ    ldd+8(FP), R11
	SHLQ    $2, R11
	MOVQ    src+16(FP), SI
	MOVQ    lds+24(FP), R10
	SHLQ    $2, R10
	MOVQ    k+32(FP), CX
	MOVQ    lmask+40(FP), AX
	VMOVUPS (AX), Y4
	VMOVUPS 32(AX), Y5
	MOVQ    smask+48(FP), AX
	TESTQ   AX, AX
	JZ      full16
	VMOVUPS (AX), Y6
	VMOVUPS 32(AX), Y7

masked16:
	VMASKMOVPS (SI), Y4, Y0
	VMASKMOVPS 32(SI), Y5, Y1
	VMASKMOVPS Y0, Y6, (DI)
	VMASKMOVPS Y1, Y7, 32(DI)
	ADDQ       R10, SI
	ADDQ       R11, DI
	DECQ       CX
	JNZ        masked16
	VZEROUPPER
	RET

full16:
	VMASKMOVPS (SI), Y4, Y0
	VMASKMOVPS 32(SI), Y5, Y1
	VMOVUPS    Y0, (DI)
	VMOVUPS    Y1, 32(DI)
	ADDQ       R10, SI
	ADDQ       R11, DI
	DECQ       CX
	JNZ        full16
	VZEROUPPER
	RET

// Row z (register number) of a bf16 strip: 32 fp32 values (K2, K3: the columns left) rounded to 16
// pair dwords, K 2q in the low half of dword q.
#define LOADROWB(z) \
	VMOVUPS.Z (SI), K2, Z24; \
	VMOVUPS.Z 64(SI), K3, Z25; \
	VCVTNE2PS2BF16_Z(24, 25, z); \
	ADDQ      R10, SI; \
	DECQ      DX; \
	JZ        bloaded

#define STORECOLB(z) \
	VMOVUPS z, K1, (DI); \
	ADDQ    R11, DI; \
	DECQ    DX; \
	JZ      bstored

// func packT16BF16(dst *float32, ldd int, src *float32, lds int, rows, width, k int)
// The bf16 pair form of packT16, in one pass: for q < ceil(k/2) and r < width, dword dst[q*ldd+r]
// = bf16(src[r*lds+2q]) | bf16(src[r*lds+2q+1]) << 16 (a missing 2q+1 is zero) for r < rows, 0 for
// rows <= r < width. Each 32 columns of a row round into one register of 16 pairs (VCVTNE2PS2BF16
// keeps K order, so a pair is one dword), and the 16 x 16 dword transpose makes the pairs columns.
// 1 <= rows <= width <= 16.
// Requires: AVX512F, AVX512_BF16
TEXT ·packT16BF16(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R11
	SHLQ $2, R11
	MOVQ src+16(FP), R8
	MOVQ lds+24(FP), R10
	SHLQ $2, R10
	MOVQ width+40(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1          // store lanes: width
	MOVQ k+48(FP), BX     // columns left

chunkb:
	MOVQ  $32, R9
	CMPQ  BX, R9
	CMOVQLT BX, R9        // R9 = columns in this chunk
	MOVQ  $1, AX
	MOVQ  R9, CX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K2          // load lanes 0..15
	SHRQ  $16, AX
	KMOVW AX, K3          // load lanes 16..31

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	MOVQ R8, SI
	MOVQ rows+32(FP), DX
	LOADROWB(0)
	LOADROWB(1)
	LOADROWB(2)
	LOADROWB(3)
	LOADROWB(4)
	LOADROWB(5)
	LOADROWB(6)
	LOADROWB(7)
	LOADROWB(8)
	LOADROWB(9)
	LOADROWB(10)
	LOADROWB(11)
	LOADROWB(12)
	LOADROWB(13)
	LOADROWB(14)
	LOADROWB(15)

bloaded:
	LANE4X4(Z0, Z1, Z2, Z3)
	LANE4X4(Z4, Z5, Z6, Z7)
	LANE4X4(Z8, Z9, Z10, Z11)
	LANE4X4(Z12, Z13, Z14, Z15)
	LANES(Z0, Z4, Z8, Z12)
	LANES(Z1, Z5, Z9, Z13)
	LANES(Z2, Z6, Z10, Z14)
	LANES(Z3, Z7, Z11, Z15)

	// Zj now holds pair j of the strip; store the chunk's ceil(R9/2) pairs.
	MOVQ R9, DX
	INCQ DX
	SHRQ $1, DX
	STORECOLB(Z0)
	STORECOLB(Z1)
	STORECOLB(Z2)
	STORECOLB(Z3)
	STORECOLB(Z4)
	STORECOLB(Z5)
	STORECOLB(Z6)
	STORECOLB(Z7)
	STORECOLB(Z8)
	STORECOLB(Z9)
	STORECOLB(Z10)
	STORECOLB(Z11)
	STORECOLB(Z12)
	STORECOLB(Z13)
	STORECOLB(Z14)
	STORECOLB(Z15)

bstored:
	ADDQ $128, R8
	SUBQ R9, BX
	JNZ  chunkb
	VZEROUPPER
	RET
