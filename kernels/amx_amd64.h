// AMX (Advanced Matrix Extensions) instructions as bytes, for Go's assembler (1.26), which has no
// AMX mnemonics. All are VEX-encoded (C4, map 0F38, W0, L0):
//
//   C4 | R̄ X̄ B̄ 00010 | 0 v̄v̄v̄v̄ 0 pp | opcode | ModRM [| SIB]
//
// R̄, X̄, B̄: bit 3 of ModRM.reg, SIB.index and the base (ModRM.rm or SIB.base), inverted; tiles
// are 0..7, so R̄ is always 1. v̄v̄v̄v̄: the third tile operand of TDP*, inverted (1111 when unused).
// pp: the implied prefix: 0 none, 1 66, 2 F3, 3 F2.
//
// Operands are numbers: tiles 0..7 (tmm0..tmm7), general registers 0..15 in encoding order (AX=0,
// CX=1, DX=2, BX=3, SP=4, BP=5, SI=6, DI=7, R8..R15=8..15). Memory operands take no displacement:
// a base register (ModRM mod 00), so the base must not be BP or R13 (that encoding means
// RIP/disp32), nor SP or R12 for LDTILECFG (that means a SIB byte); TILELOADD and TILESTORED use a
// SIB byte [base + index*1] (the index is the row stride in bytes), whose index must not be SP.
// Checked against GNU as and objdump: TestAMXEncoding (amx_amd64_test.go).
//
// Tile state is per OS thread and Go moves goroutines between threads between calls, so every
// assembly function that uses tiles loads its configuration (LDTILECFG) first and releases it
// (TILERELEASE) before returning.

#define AMX_VEX1(reg, index, base) (0x02 | (((15-(reg))>>3)&1)<<7 | (((15-(index))>>3)&1)<<6 | (((15-(base))>>3)&1)<<5)
#define AMX_VEX2(v, pp) ((((15-(v))&15)<<3) | (pp))

// LDTILECFG (base): load the 64-byte tile configuration at [base] (VEX.128.NP.0F38.W0 49 /0).
#define LDTILECFG(base) \
	BYTE $0xC4; BYTE $AMX_VEX1(0, 0, base); BYTE $AMX_VEX2(0, 0); BYTE $0x49; BYTE $((base)&7)

// TILERELEASE: return the tiles to their initial state (VEX.128.NP.0F38.W0 49 C0).
#define TILERELEASE \
	BYTE $0xC4; BYTE $0xE2; BYTE $0x78; BYTE $0x49; BYTE $0xC0

// TILEZERO(t): zero tile t (VEX.128.F2.0F38.W0 49 11:t:000).
#define TILEZERO(t) \
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $(0xC0 | (t)<<3)

// TILELOADD(t, base, index): load tile t's rows from [base + k*index], k = 0..rows-1
// (VEX.128.F2.0F38.W0 4B !(11):t:100, SIB 00:index:base).
#define TILELOADD(t, base, index) \
	BYTE $0xC4; BYTE $AMX_VEX1(t, index, base); BYTE $AMX_VEX2(0, 3); BYTE $0x4B; \
	BYTE $((t)<<3 | 0x04); BYTE $(((index)&7)<<3 | ((base)&7))

// TILESTORED(base, index, t): store tile t's rows to [base + k*index] (VEX.128.F3.0F38.W0 4B
// !(11):t:100, SIB 00:index:base).
#define TILESTORED(base, index, t) \
	BYTE $0xC4; BYTE $AMX_VEX1(t, index, base); BYTE $AMX_VEX2(0, 2); BYTE $0x4B; \
	BYTE $((t)<<3 | 0x04); BYTE $(((index)&7)<<3 | ((base)&7))

// TDPBF16PS(c, a, b): tile c (fp32) += a (bf16 pairs) · b (bf16 pairs, VNNI layout)
// (VEX.128.F3.0F38.W0 5C 11:c:a, vvvv = b). Intel syntax "tdpbf16ps tmm_c, tmm_a, tmm_b".
#define TDPBF16PS(c, a, b) \
	BYTE $0xC4; BYTE $0xE2; BYTE $AMX_VEX2(b, 2); BYTE $0x5C; BYTE $(0xC0 | (c)<<3 | (a))

// TDPBSSD(c, a, b): tile c (int32) += a (int8 quads) · b (int8 quads, VNNI layout), both signed
// (VEX.128.F2.0F38.W0 5E 11:c:a, vvvv = b).
#define TDPBSSD(c, a, b) \
	BYTE $0xC4; BYTE $0xE2; BYTE $AMX_VEX2(b, 3); BYTE $0x5E; BYTE $(0xC0 | (c)<<3 | (a))
