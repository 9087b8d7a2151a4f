// AVX512_BF16 instructions as bytes, for Go's assembler (1.26), which has no AVX512_BF16 mnemonics;
// included by bgemm_amd64.s and sgemm_pack_amd64.s.

// Go's assembler (1.26) has no AVX512_BF16 mnemonics, so VDPBF16PS is written as bytes.
// VDPBF16PS_Z(src2, src1, dst) is "VDPBF16PS Zsrc2, Zsrc1, Zdst" with register numbers 0..31:
// EVEX.512.F3.0F38.W0 52 /r, ModRM.reg = dst, EVEX.vvvv = src1, ModRM.rm = src2 (register form).
//   P0 = 0x62
//   P1 = R X B R' 0 0 m m: R, R' = bits 3, 4 of dst; X, B = bits 4, 3 of src2 (all inverted); mm = 2 (0F38)
//   P2 = W vvvv 1 pp: W = 0, vvvv = low 4 bits of src1 inverted, pp = 2 (F3)
//   P3 = z L'L b V' aaa: L'L = 2 (512 bits), V' = bit 4 of src1 inverted, no mask, no broadcast
// Checked against GNU as and objdump: see TestBgemmEncoding (bgemm_amd64_test.go).
#define VDPBF16PS_Z(src2, src1, dst) \
	BYTE $0x62; \
	BYTE $((((31-(dst))>>3)&1)<<7 | (((31-(src2))>>4)&1)<<6 | (((31-(src2))>>3)&1)<<5 | (((31-(dst))>>4)&1)<<4 | 0x02); \
	BYTE $(((15-((src1)&15))<<3) | 0x06); \
	BYTE $(0x40 | (((31-(src1))>>4)&1)<<3); \
	BYTE $0x52; \
	BYTE $(0xC0 | ((dst)&7)<<3 | ((src2)&7))

// VCVTNE2PS2BF16_Z(src2, src1, dst) is "VCVTNE2PS2BF16 Zsrc2, Zsrc1, Zdst": EVEX.512.F2.0F38.W0 72 /r,
// the same fields as VDPBF16PS_Z with pp = 3 (F2). Words 0..15 of dst are src2 rounded to bf16
// (nearest even, denormals to zero), words 16..31 src1.
#define VCVTNE2PS2BF16_Z(src2, src1, dst) \
	BYTE $0x62; \
	BYTE $((((31-(dst))>>3)&1)<<7 | (((31-(src2))>>4)&1)<<6 | (((31-(src2))>>3)&1)<<5 | (((31-(dst))>>4)&1)<<4 | 0x02); \
	BYTE $(((15-((src1)&15))<<3) | 0x07); \
	BYTE $(0x40 | (((31-(src1))>>4)&1)<<3); \
	BYTE $0x72; \
	BYTE $(0xC0 | ((dst)&7)<<3 | ((src2)&7))

