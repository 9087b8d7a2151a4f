// The AVX-512 exp of rowwise_math.go's Exp32 (the Cephes float32 polynomial, 16 lanes), with its
// constants; included by rowwise_amd64.s and attend_amd64.s (each gets its own copy of expc<>).

DATA expc<>+0(SB)/4, $0xc2aeac4a // expMin
DATA expc<>+4(SB)/4, $0x42b00000 // expMax
DATA expc<>+8(SB)/4, $0x3fb8aa3b // log2e
DATA expc<>+12(SB)/4, $0x3f318000 // ln2Hi
DATA expc<>+16(SB)/4, $0xb95e8083 // ln2Lo
DATA expc<>+20(SB)/4, $0x39506967 // c0
DATA expc<>+24(SB)/4, $0x3ab743ce // c1
DATA expc<>+28(SB)/4, $0x3c088908 // c2
DATA expc<>+32(SB)/4, $0x3d2aa9c1 // c3
DATA expc<>+36(SB)/4, $0x3e2aaaaa // c4
DATA expc<>+40(SB)/4, $0x3f000000 // c5
DATA expc<>+44(SB)/4, $0x3f800000 // one
DATA expc<>+48(SB)/4, $0x0000007f // i127
GLOBL expc<>(SB), RODATA|NOPTR, $52

// EXPCONST loads exp's constants into Z16-Z28.
#define EXPCONST \
	VBROADCASTSS expc<>+0(SB), Z16; \
	VBROADCASTSS expc<>+4(SB), Z17; \
	VBROADCASTSS expc<>+8(SB), Z18; \
	VBROADCASTSS expc<>+12(SB), Z19; \
	VBROADCASTSS expc<>+16(SB), Z20; \
	VBROADCASTSS expc<>+20(SB), Z21; \
	VBROADCASTSS expc<>+24(SB), Z22; \
	VBROADCASTSS expc<>+28(SB), Z23; \
	VBROADCASTSS expc<>+32(SB), Z24; \
	VBROADCASTSS expc<>+36(SB), Z25; \
	VBROADCASTSS expc<>+40(SB), Z26; \
	VBROADCASTSS expc<>+44(SB), Z27; \
	VPBROADCASTD expc<>+48(SB), Z28

// EXP16 replaces x by exp(x) on 16 lanes (0 where x < -87.34); n and r are scratch, K1 is clobbered.
#define EXP16(x, n, r) \
	VCMPPS $13, Z16, x, K1; \
	VMINPS Z17, x, x; \
	VMULPS Z18, x, n; \
	VRNDSCALEPS $0, n, n; \
	VMOVAPS x, r; \
	VFNMADD231PS Z19, n, r; \
	VFNMADD231PS Z20, n, r; \
	VMOVAPS Z21, x; \
	VFMADD213PS Z22, r, x; \
	VFMADD213PS Z23, r, x; \
	VFMADD213PS Z24, r, x; \
	VFMADD213PS Z25, r, x; \
	VFMADD213PS Z26, r, x; \
	VMULPS r, x, x; \
	VFMADD213PS r, r, x; \
	VADDPS Z27, x, x; \
	VCVTPS2DQ n, n; \
	VPADDD Z28, n, n; \
	VPSLLD $23, n, n; \
	VMULPS.Z n, x, K1, x
