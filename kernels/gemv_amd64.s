//go:build !purego

// Packed ternary GEMV micro-kernels (hand-written; see gemv.go for the layout and gemv_amd64.go for
// the Go driver). The GEMV kernels compute, for each row r, y[r] = Σ_p d(w[r][p]) · planes[p] − sum, where the
// digits d ∈ {0,1,2} are decoded from 5-trit bytes and the planes are the activations rearranged
// so that digit i of byte p of a 64-byte block meets x[320·blk + 5p + i].

#include "textflag.h"

// ---- AVX-512 VBMI + VNNI

// gemvTables layout (gemv_amd64.go): [0,128) P table, P[r] = d0 | d1<<2 | d2<<4 | d3<<6 for
// r ≤ 80; bytes 128, 129, 130: the constants 81, 162, 1.
// Decoding a byte b: d4 = [b ≥ 81] + [b ≥ 162] (two unsigned compares into K3, K4), r = b − 81·d4
// (two masked subtracts) indexes the 128-entry P table (one VPERMI2B), and field j of P, masked in
// place (P & 3<<2j, one VPANDD), goes into its own accumulator, which then holds 4^j · Σ d_j·x_j;
// the reduction shifts each back. Masking in place (instead of moving each field down with
// GF2P8AFFINEQB or shifts) keeps the multiply pipes free for VPDPBUSD: 15% faster on Zen 4, as was
// replacing a blended 256-entry lookup (2 VPERMI2B + blend) by the compares and one lookup.
//
// Registers: Z0-Z15 accumulators (row i, field j: Z(4i+j); d4 joins field 0), Z16-Z20 the block's
// five activation planes, Z21 packed bytes, Z22 r then P, Z23 d4, Z29-Z30 masked fields,
// Z24-Z25 P table, Z26 81s, Z27 162s, Z28 1s, Z31 scratch; K1 tail mask, K3-K4 thresholds.

// ROW decodes one 64-byte block of a row at PTR and adds its products into A0-A3; LOAD(PTR, R) reads
// the block: whole (LOADFULL), or, for the last block of a row, with a zeroing byte mask so nothing
// past the row is touched (LOADTAIL).
#define ROW(LOAD, PTR, A0, A1, A2, A3) \
	LOAD(PTR, Z21)                      \
	VPCMPUB        $5, Z26, Z21, K3     \
	VPCMPUB        $5, Z27, Z21, K4     \
	LOAD(PTR, Z22)                      \
	VPSUBB         Z26, Z22, K3, Z22    \
	VPSUBB         Z26, Z22, K4, Z22    \
	VPERMI2B       Z25, Z24, Z22        \
	VMOVDQU8.Z     Z28, K3, Z23         \
	VPADDB         Z28, Z23, K4, Z23    \
	VPDPBUSD       Z20, Z23, A0         \
	VPANDD.BCST    gemvMask<>+0(SB), Z22, Z29  \
	VPDPBUSD       Z16, Z29, A0         \
	VPANDD.BCST    gemvMask<>+4(SB), Z22, Z30  \
	VPDPBUSD       Z17, Z30, A1         \
	VPANDD.BCST    gemvMask<>+8(SB), Z22, Z29  \
	VPDPBUSD       Z18, Z29, A2         \
	VPANDD.BCST    gemvMask<>+12(SB), Z22, Z30 \
	VPDPBUSD       Z19, Z30, A3

#define LOADFULL(PTR, R) VMOVDQU64 (PTR), R
#define LOADTAIL(PTR, R) VMOVDQU8.Z (PTR), K1, R
#define ROWFULL(PTR, A0, A1, A2, A3) ROW(LOADFULL, PTR, A0, A1, A2, A3)
#define ROWTAIL(PTR, A0, A1, A2, A3) ROW(LOADTAIL, PTR, A0, A1, A2, A3)

DATA gemvMask<>+0(SB)/4, $0x03030303
DATA gemvMask<>+4(SB)/4, $0x0c0c0c0c
DATA gemvMask<>+8(SB)/4, $0x30303030
DATA gemvMask<>+12(SB)/4, $0xc0c0c0c0
GLOBL gemvMask<>(SB), RODATA|NOPTR, $16

#define PLANES \
	VMOVDQU64 (DI), Z16    \
	VMOVDQU64 64(DI), Z17  \
	VMOVDQU64 128(DI), Z18 \
	VMOVDQU64 192(DI), Z19 \
	VMOVDQU64 256(DI), Z20

// REDUCE combines a row's field accumulators (A0 + A1>>2 + A2>>4 + A3>>6, exact: each Aj is a
// multiple of 4^j), sums the 16 dword lanes, subtracts Σx and stores the int32 at OUT.
#define REDUCE(A0, A1, A2, A3, Y, X, OUT) \
	VPSRAD        $2, A1, A1    \
	VPSRAD        $4, A2, A2    \
	VPSRAD        $6, A3, A3    \
	VPADDD        A1, A0, A0    \
	VPADDD        A3, A2, A2    \
	VPADDD        A2, A0, A0    \
	VEXTRACTI64X4 $1, A0, Y31   \
	VPADDD        Y31, Y, Y     \
	VEXTRACTI32X4 $1, Y, X31    \
	VPADDD        X31, X, X     \
	VPSHUFD       $0x4e, X, X31 \
	VPADDD        X31, X, X     \
	VPSHUFD       $0xb1, X, X31 \
	VPADDD        X31, X, X     \
	VMOVD         X, CX         \
	SUBL          sum+56(FP), CX \
	MOVL          CX, OUT

#define ZERO4(A0, A1, A2, A3) \
	VPXORD A0, A0, A0 \
	VPXORD A1, A1, A1 \
	VPXORD A2, A2, A2 \
	VPXORD A3, A3, A3

// BLOCK4: one 64-byte block of four rows, then advance; leaves the flags of DECQ CX.
#define BLOCK4 \
	PLANES                           \
	ROWFULL(R10, Z0, Z1, Z2, Z3)     \
	ROWFULL(R11, Z4, Z5, Z6, Z7)     \
	ROWFULL(R12, Z8, Z9, Z10, Z11)   \
	ROWFULL(R13, Z12, Z13, Z14, Z15) \
	ADDQ $64, R10                    \
	ADDQ $64, R11                    \
	ADDQ $64, R12                    \
	ADDQ $64, R13                    \
	ADDQ $320, DI                    \
	DECQ CX

// func gemvVBMI(y *int32, w *byte, n, nfull, rb int, tail uint64, planes *int8, sum int32, tab *gemvTables)
// Rows of rb bytes: nfull full 64-byte blocks, then a partial block selected by the byte mask tail
// (0 when rb is a multiple of 64). Rows go four at a time, then one at a time.
// Requires: AVX512F, AVX512BW, AVX512VBMI, AVX512VNNI
TEXT ·gemvVBMI(SB), NOSPLIT, $0-72
	MOVQ  y+0(FP), AX
	MOVQ  w+8(FP), SI
	MOVQ  n+16(FP), DX
	MOVQ  nfull+24(FP), BX
	MOVQ  rb+32(FP), R8
	KMOVQ tail+40(FP), K1
	MOVQ  planes+48(FP), R9
	MOVQ  tab+64(FP), CX

	VMOVDQU64    (CX), Z24
	VMOVDQU64    64(CX), Z25
	VPBROADCASTB 128(CX), Z26
	VPBROADCASTB 129(CX), Z27
	VPBROADCASTB 130(CX), Z28

	// The block loop prefetches 8 rows ahead, so rows 4-7 of this call would only be demand-loaded:
	// prefetch them (4·rb contiguous bytes) before starting.
	CMPQ DX, $8
	JLT  rows4
	LEAQ (SI)(R8*4), R10
	LEAQ (R10)(R8*4), R11

prefetch:
	PREFETCHT1 (R10)
	ADDQ       $64, R10
	CMPQ       R10, R11
	JLT        prefetch

rows4:
	CMPQ DX, $4
	JLT  rows1
	MOVQ SI, R10
	LEAQ (SI)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	MOVQ R9, DI
	MOVQ BX, CX
	TESTQ CX, CX
	JZ   tail4

	CMPQ DX, $12
	JLT  loop4

	// Prefetch the same block two row groups (8 rows) ahead: a group's rows are only 13 lines
	// long each for K = 4096, too short for the hardware stream prefetcher to ramp up. Only rows
	// of this call are prefetched (DX >= 12), so a chunk's end does not pull in another thread's rows.
	// PREFETCHT1 (into L2) measured ~20% faster cold than PREFETCHT0 (into L1) on Zen 4, one thread.
	// Rows are ceil(K/5) bytes (820 for K = 4096), not a multiple of 64, so a block of a row usually
	// straddles two cache lines: prefetch its first and its last byte (cold 4096² on 2 threads went
	// from ~220 to ~170 µs median).
loop4pf:
	PREFETCHT1 (R10)(R8*8)
	PREFETCHT1 63(R10)(R8*8)
	PREFETCHT1 (R11)(R8*8)
	PREFETCHT1 63(R11)(R8*8)
	PREFETCHT1 (R12)(R8*8)
	PREFETCHT1 63(R12)(R8*8)
	PREFETCHT1 (R13)(R8*8)
	PREFETCHT1 63(R13)(R8*8)
	BLOCK4
	JNZ  loop4pf
	JMP  tail4

loop4:
	BLOCK4
	JNZ  loop4

tail4:
	KORTESTQ K1, K1
	JZ       done4
	PLANES
	ROWTAIL(R10, Z0, Z1, Z2, Z3)
	ROWTAIL(R11, Z4, Z5, Z6, Z7)
	ROWTAIL(R12, Z8, Z9, Z10, Z11)
	ROWTAIL(R13, Z12, Z13, Z14, Z15)

done4:
	REDUCE(Z0, Z1, Z2, Z3, Y0, X0, (AX))
	REDUCE(Z4, Z5, Z6, Z7, Y4, X4, 4(AX))
	REDUCE(Z8, Z9, Z10, Z11, Y8, X8, 8(AX))
	REDUCE(Z12, Z13, Z14, Z15, Y12, X12, 12(AX))
	ADDQ $16, AX
	LEAQ (SI)(R8*4), SI
	SUBQ $4, DX
	JMP  rows4

rows1:
	TESTQ DX, DX
	JZ    end
	MOVQ  SI, R10
	ZERO4(Z0, Z1, Z2, Z3)
	MOVQ  R9, DI
	MOVQ  BX, CX
	TESTQ CX, CX
	JZ    tail1

loop1:
	PLANES
	ROWFULL(R10, Z0, Z1, Z2, Z3)
	ADDQ $64, R10
	ADDQ $320, DI
	DECQ CX
	JNZ  loop1

tail1:
	KORTESTQ K1, K1
	JZ       done1
	PLANES
	ROWTAIL(R10, Z0, Z1, Z2, Z3)

done1:
	REDUCE(Z0, Z1, Z2, Z3, Y0, X0, (AX))
	ADDQ $4, AX
	ADDQ R8, SI
	DECQ DX
	JMP  rows1

end:
	VZEROUPPER
	RET

// ---- AVX2

// Compare-and-subtract digit extraction on bytes (no multiplies, which AVX2 has only for words):
// d4 = [b ≥ 81] + [b ≥ 162] from two signed compares of b^0x80, r = b − 81·d4 (81·d4 by VPSHUFB),
// d3 likewise from r ≤ 80 against 26 and 53, r2 = r − 27·d3 ≤ 26, and d0 | d1<<2 | d2<<4 from two
// 16-entry VPSHUFB tables (r2 < 16 and r2 ≥ 16; an index with bit 7 set yields 0). The fields are
// masked in place: VPMADDUBSW of field j gives 4^j times its pair sums, shifted back in 16 bits.
// 16-bit sums stay within ±2560 (5 digits · 2 · 2 · 128), far from saturation.

// HALF(OFF): decode the 32 bytes at OFF(R10) against the planes' bytes OFF..OFF+31, into Y7 (int32).
#define HALF(OFF) \
	VMOVDQU    OFF(R10), Y0            \
	VPXOR      gemvA2<>+0(SB), Y0, Y1  \
	VPCMPGTB   gemvA2<>+32(SB), Y1, Y2 \
	VPCMPGTB   gemvA2<>+64(SB), Y1, Y3 \
	VPADDB     Y3, Y2, Y2              \
	VPABSB     Y2, Y2                  \
	VPSHUFB    Y2, Y11, Y3             \
	VPSUBB     Y3, Y0, Y0              \
	VPMADDUBSW 256+OFF(DI), Y2, Y4     \
	VPCMPGTB   gemvA2<>+96(SB), Y0, Y2 \
	VPCMPGTB   gemvA2<>+128(SB), Y0, Y3 \
	VPADDB     Y3, Y2, Y2              \
	VPABSB     Y2, Y2                  \
	VPSHUFB    Y2, Y14, Y3             \
	VPSUBB     Y3, Y0, Y0              \
	VPMADDUBSW 192+OFF(DI), Y2, Y2     \
	VPADDW     Y2, Y4, Y4              \
	VPADDB     gemvA2<>+160(SB), Y0, Y1 \
	VPSHUFB    Y1, Y12, Y1             \
	VPSUBB     gemvA2<>+192(SB), Y0, Y0 \
	VPSHUFB    Y0, Y13, Y0             \
	VPOR       Y1, Y0, Y0              \
	VPAND      gemvA2<>+224(SB), Y0, Y1 \
	VPMADDUBSW OFF(DI), Y1, Y1         \
	VPADDW     Y1, Y4, Y4              \
	VPAND      gemvA2<>+256(SB), Y0, Y1 \
	VPMADDUBSW 64+OFF(DI), Y1, Y1      \
	VPSRAW     $2, Y1, Y1              \
	VPADDW     Y1, Y4, Y4              \
	VPAND      gemvA2<>+288(SB), Y0, Y1 \
	VPMADDUBSW 128+OFF(DI), Y1, Y1     \
	VPSRAW     $4, Y1, Y1              \
	VPADDW     Y1, Y4, Y4              \
	VPMADDWD   Y15, Y4, Y4             \
	VPADDD     Y4, Y7, Y7

// +0: 0x80 (flip to signed)
DATA gemvA2<>+0(SB)/8, $0x8080808080808080
DATA gemvA2<>+8(SB)/8, $0x8080808080808080
DATA gemvA2<>+16(SB)/8, $0x8080808080808080
DATA gemvA2<>+24(SB)/8, $0x8080808080808080
// +32: -48: b-128 > -48 iff b >= 81
DATA gemvA2<>+32(SB)/8, $0xd0d0d0d0d0d0d0d0
DATA gemvA2<>+40(SB)/8, $0xd0d0d0d0d0d0d0d0
DATA gemvA2<>+48(SB)/8, $0xd0d0d0d0d0d0d0d0
DATA gemvA2<>+56(SB)/8, $0xd0d0d0d0d0d0d0d0
// +64: 33: b-128 > 33 iff b >= 162
DATA gemvA2<>+64(SB)/8, $0x2121212121212121
DATA gemvA2<>+72(SB)/8, $0x2121212121212121
DATA gemvA2<>+80(SB)/8, $0x2121212121212121
DATA gemvA2<>+88(SB)/8, $0x2121212121212121
// +96: 26
DATA gemvA2<>+96(SB)/8, $0x1a1a1a1a1a1a1a1a
DATA gemvA2<>+104(SB)/8, $0x1a1a1a1a1a1a1a1a
DATA gemvA2<>+112(SB)/8, $0x1a1a1a1a1a1a1a1a
DATA gemvA2<>+120(SB)/8, $0x1a1a1a1a1a1a1a1a
// +128: 53
DATA gemvA2<>+128(SB)/8, $0x3535353535353535
DATA gemvA2<>+136(SB)/8, $0x3535353535353535
DATA gemvA2<>+144(SB)/8, $0x3535353535353535
DATA gemvA2<>+152(SB)/8, $0x3535353535353535
// +160: 0x70 (low-table index bias)
DATA gemvA2<>+160(SB)/8, $0x7070707070707070
DATA gemvA2<>+168(SB)/8, $0x7070707070707070
DATA gemvA2<>+176(SB)/8, $0x7070707070707070
DATA gemvA2<>+184(SB)/8, $0x7070707070707070
// +192: 16
DATA gemvA2<>+192(SB)/8, $0x1010101010101010
DATA gemvA2<>+200(SB)/8, $0x1010101010101010
DATA gemvA2<>+208(SB)/8, $0x1010101010101010
DATA gemvA2<>+216(SB)/8, $0x1010101010101010
// +224: field 0 mask
DATA gemvA2<>+224(SB)/8, $0x0303030303030303
DATA gemvA2<>+232(SB)/8, $0x0303030303030303
DATA gemvA2<>+240(SB)/8, $0x0303030303030303
DATA gemvA2<>+248(SB)/8, $0x0303030303030303
// +256: field 1 mask
DATA gemvA2<>+256(SB)/8, $0x0c0c0c0c0c0c0c0c
DATA gemvA2<>+264(SB)/8, $0x0c0c0c0c0c0c0c0c
DATA gemvA2<>+272(SB)/8, $0x0c0c0c0c0c0c0c0c
DATA gemvA2<>+280(SB)/8, $0x0c0c0c0c0c0c0c0c
// +288: field 2 mask
DATA gemvA2<>+288(SB)/8, $0x3030303030303030
DATA gemvA2<>+296(SB)/8, $0x3030303030303030
DATA gemvA2<>+304(SB)/8, $0x3030303030303030
DATA gemvA2<>+312(SB)/8, $0x3030303030303030
// +320: 81·d4 for d4 = 0, 1, 2
DATA gemvA2<>+320(SB)/8, $0x0000000000a25100
DATA gemvA2<>+328(SB)/8, $0x0000000000000000
DATA gemvA2<>+336(SB)/8, $0x0000000000a25100
DATA gemvA2<>+344(SB)/8, $0x0000000000000000
// +352: 27·d3
DATA gemvA2<>+352(SB)/8, $0x0000000000361b00
DATA gemvA2<>+360(SB)/8, $0x0000000000000000
DATA gemvA2<>+368(SB)/8, $0x0000000000361b00
DATA gemvA2<>+376(SB)/8, $0x0000000000000000
// +384: P3 for r2 = 0..15
DATA gemvA2<>+384(SB)/8, $0x0908060504020100
DATA gemvA2<>+392(SB)/8, $0x181615141211100a
DATA gemvA2<>+400(SB)/8, $0x0908060504020100
DATA gemvA2<>+408(SB)/8, $0x181615141211100a
// +416: P3 for r2 = 16..26
DATA gemvA2<>+416(SB)/8, $0x2625242221201a19
DATA gemvA2<>+424(SB)/8, $0x00000000002a2928
DATA gemvA2<>+432(SB)/8, $0x2625242221201a19
DATA gemvA2<>+440(SB)/8, $0x00000000002a2928
// +448: 1 in each int16
DATA gemvA2<>+448(SB)/8, $0x0001000100010001
DATA gemvA2<>+456(SB)/8, $0x0001000100010001
DATA gemvA2<>+464(SB)/8, $0x0001000100010001
DATA gemvA2<>+472(SB)/8, $0x0001000100010001
GLOBL gemvA2<>(SB), RODATA|NOPTR, $480

// func gemvAVX2(y *int32, w *byte, n, nblk, rb int, planes *int8, sum int32)
// Every row is read as nblk whole 64-byte blocks, so up to 63 bytes past a row's end are read (the
// next row, or padding the caller guarantees); they meet zero activations and add nothing.
// Requires: AVX2
TEXT ·gemvAVX2(SB), NOSPLIT, $0-52
	MOVQ y+0(FP), AX
	MOVQ w+8(FP), SI
	MOVQ n+16(FP), DX
	MOVQ nblk+24(FP), BX
	MOVQ rb+32(FP), R8
	MOVQ planes+40(FP), R9
	VMOVDQU gemvA2<>+320(SB), Y11
	VMOVDQU gemvA2<>+352(SB), Y14
	VMOVDQU gemvA2<>+384(SB), Y12
	VMOVDQU gemvA2<>+416(SB), Y13
	VMOVDQU gemvA2<>+448(SB), Y15

avx2row:
	TESTQ DX, DX
	JZ    avx2end
	MOVQ  SI, R10
	MOVQ  R9, DI
	MOVQ  BX, CX
	VPXOR Y7, Y7, Y7

avx2blk:
	HALF(0)
	HALF(32)
	ADDQ $64, R10
	ADDQ $320, DI
	DECQ CX
	JNZ  avx2blk

	VEXTRACTI128 $1, Y7, X0
	VPADDD       X0, X7, X7
	VPSHUFD      $0x4e, X7, X0
	VPADDD       X0, X7, X7
	VPSHUFD      $0xb1, X7, X0
	VPADDD       X0, X7, X7
	VMOVD        X7, CX
	SUBL         sum+48(FP), CX
	MOVL         CX, (AX)
	ADDQ         $4, AX
	ADDQ         R8, SI
	DECQ         DX
	JMP          avx2row

avx2end:
	VZEROUPPER
	RET

// ---- activation planes for GemvVec.prepare

// func gemvPlanesAVX512(planes *int8, x *int8, nblk int, tab *gemvPlaneTables) int64
// For each of nblk 320-byte blocks, plane j byte p = x[5p + j] (j < 5, p < 64); returns Σ x as int64.
// Plane j gathers from the whole block: bytes below 128 with one two-source VPERMI2B over x[0:128],
// bytes in [128, 256) with another over x[128:256] blended in on mask kB_j, bytes from 256 with
// VPERMB over x[256:320] merged in on mask kC_j. Σ x: VPSADBW of x^0x80 against zero gives
// Σ (x+128) per qword; the caller's 128·len offset is taken off here.
// Requires: AVX512F, AVX512BW, AVX512VBMI
TEXT ·gemvPlanesAVX512(SB), NOSPLIT, $0-40
	MOVQ         planes+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         nblk+16(FP), CX
	MOVQ         tab+24(FP), DX
	MOVQ         CX, R8
	VPXORQ       Z20, Z20, Z20 // Σ accumulator (qwords)
	VPXORQ       Z21, Z21, Z21 // zero for VPSADBW
	VPBROADCASTB 960(DX), Z22 // 0x80

planeblk:
	VMOVDQU64 (SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 128(SI), Z2
	VMOVDQU64 192(SI), Z3
	VMOVDQU64 256(SI), Z4

#define PLANE(J) \
	VMOVDQU64 (J*128)(DX), Z5       \
	VPERMI2B  Z1, Z0, Z5            \
	VMOVDQU64 (J*128+64)(DX), Z6    \
	VPERMI2B  Z3, Z2, Z6            \
	KMOVQ     (968+J*16)(DX), K1    \
	KMOVQ     (976+J*16)(DX), K2    \
	VPBLENDMB Z6, Z5, K1, Z5        \
	VMOVDQU64 (640+J*64)(DX), Z7    \
	VPERMB    Z4, Z7, K2, Z5        \
	VMOVDQU64 Z5, (J*64)(DI)

	PLANE(0)
	PLANE(1)
	PLANE(2)
	PLANE(3)
	PLANE(4)

	VPXORQ  Z22, Z0, Z0
	VPSADBW Z21, Z0, Z0
	VPADDQ  Z0, Z20, Z20
	VPXORQ  Z22, Z1, Z1
	VPSADBW Z21, Z1, Z1
	VPADDQ  Z1, Z20, Z20
	VPXORQ  Z22, Z2, Z2
	VPSADBW Z21, Z2, Z2
	VPADDQ  Z2, Z20, Z20
	VPXORQ  Z22, Z3, Z3
	VPSADBW Z21, Z3, Z3
	VPADDQ  Z3, Z20, Z20
	VPXORQ  Z22, Z4, Z4
	VPSADBW Z21, Z4, Z4
	VPADDQ  Z4, Z20, Z20

	ADDQ $320, SI
	ADDQ $320, DI
	DECQ CX
	JNZ  planeblk

	VEXTRACTI64X4 $1, Z20, Y0
	VPADDQ        Y0, Y20, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDQ        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDQ        X1, X0, X0
	VMOVQ         X0, AX
	IMULQ         $40960, R8 // 128 · 320 per block
	SUBQ          R8, AX
	MOVQ          AX, ret+32(FP)
	VZEROUPPER
	RET
