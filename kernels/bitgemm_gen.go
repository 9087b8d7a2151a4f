//go:build ignore

// bitgemm_gen.go writes bitgemm_amd64.s, the int8 x ternary GEMM micro-kernels. Run by hand
// (`go generate ./kernels` or `go run bitgemm_gen.go` in kernels/) after editing; the .s is committed.
// It is a plain text generator (no avo) because the kernels are one loop unrolled over rows and
// vectors, which is all the generator adds over hand-written assembly.
//
// See bitgemm.go for the layout, the offset trick and the Go equivalent (bitTileGeneric).
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// Offsets into bitArgs (bitgemm_amd64.go); TestBitArgsLayout checks them with unsafe.Offsetof.
const (
	offX      = 0   // [6]unsafe.Pointer
	offC      = 48  // [6]unsafe.Pointer
	offW      = 96  // unsafe.Pointer
	offKG     = 104 // int
	offCorr   = 112 // unsafe.Pointer
	offMode   = 120 // int
	offWScale = 128 // float32
	offXScale = 132 // [6]float32
)

var rowRegs = []string{"R8", "R9", "R10", "R11", "R12", "R13"}

// zmm kernels: mr rows x 4 vectors of 16 int32 lanes = mr x 64 outputs.
// Registers: Z0..Z23 accumulators (row r, vector v -> Z(4r+v)), Z24..Z27 weights, Z28 broadcast
// activations, Z29 0x80 bytes, Z30 int16 ones (non-VNNI), Z31 temporary (non-VNNI).
func zmmKernel(name string, mr int, vnni bool) {
	req := "AVX512F, AVX512BW, AVX512VNNI"
	if !vnni {
		req = "AVX512F, AVX512BW"
	}
	p("")
	p("// func %s(a *bitArgs)", name)
	p("// Requires: %s", req)
	p("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	p("\tMOVQ a+0(FP), DI")
	for r := 0; r < mr; r++ {
		p("\tMOVQ %d(DI), %s", offX+8*r, rowRegs[r])
	}
	p("\tMOVQ %d(DI), SI", offW)
	p("\tMOVQ %d(DI), CX", offKG)
	p("\tXORQ AX, AX")
	for r := 0; r < mr*4; r++ {
		p("\tVPXORD Z%d, Z%d, Z%d", r, r, r)
	}
	p("\tMOVL $0x80808080, DX")
	p("\tVPBROADCASTD DX, Z29")
	if !vnni {
		p("\tMOVL $0x00010001, DX")
		p("\tVPBROADCASTD DX, Z30")
	}
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", name)
	p("%s_loop:", name)
	for v := 0; v < 4; v++ {
		p("\tVMOVDQU64 %d(SI), Z%d", 64*v, 24+v)
	}
	for r := 0; r < mr; r++ {
		// 4 activation bytes of row r, broadcast to every lane and offset to u8 (x+128 = x^0x80).
		p("\tVPXORD.BCST (%s)(AX*1), Z29, Z28", rowRegs[r])
		for v := 0; v < 4; v++ {
			acc := 4*r + v
			if vnni {
				p("\tVPDPBUSD Z%d, Z28, Z%d", 24+v, acc)
			} else {
				// u8 (x+128) * s8 w summed in pairs: |pair| <= 2*255*1 = 510, no int16 saturation.
				p("\tVPMADDUBSW Z%d, Z28, Z31", 24+v)
				p("\tVPMADDWD Z30, Z31, Z31")
				p("\tVPADDD Z31, Z%d, Z%d", acc, acc)
			}
		}
	}
	p("\tADDQ $4, AX")
	p("\tADDQ $256, SI")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("%s_done:", name)
	epilogue(name, mr, 4, "Z", 64, "Z24", "Z28")
	p("\tVZEROUPPER")
	p("\tRET")
}

// ymm kernels (AVX2): mr rows (<= 4) x 2 vectors of 8 int32 lanes = mr x 16 outputs, reading a
// 16-column strip of a 64-column panel (weights stride 256 bytes per k-group).
// Registers: Y0..Y7 accumulators (row r, vector v -> Y(2r+v)), Y8, Y9 weights, Y10 broadcast
// activations, Y11 0x80 bytes, Y12 int16 ones, Y13 temporary.
func ymmKernel(name string, mr int) {
	p("")
	p("// func %s(a *bitArgs)", name)
	p("// Requires: AVX, AVX2")
	p("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	p("\tMOVQ a+0(FP), DI")
	for r := 0; r < mr; r++ {
		p("\tMOVQ %d(DI), %s", offX+8*r, rowRegs[r])
	}
	p("\tMOVQ %d(DI), SI", offW)
	p("\tMOVQ %d(DI), CX", offKG)
	p("\tXORQ AX, AX")
	for r := 0; r < mr*2; r++ {
		p("\tVPXOR Y%d, Y%d, Y%d", r, r, r)
	}
	p("\tMOVL $0x80808080, DX")
	p("\tMOVQ DX, X11")
	p("\tVPBROADCASTD X11, Y11")
	p("\tMOVL $0x00010001, DX")
	p("\tMOVQ DX, X12")
	p("\tVPBROADCASTD X12, Y12")
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", name)
	p("%s_loop:", name)
	p("\tVMOVDQU (SI), Y8")
	p("\tVMOVDQU 32(SI), Y9")
	for r := 0; r < mr; r++ {
		p("\tVPBROADCASTD (%s)(AX*1), Y10", rowRegs[r])
		p("\tVPXOR Y11, Y10, Y10")
		for v := 0; v < 2; v++ {
			acc := 2*r + v
			// u8 (x+128) * s8 w summed in pairs: |pair| <= 2*255*1 = 510, no int16 saturation.
			p("\tVPMADDUBSW Y%d, Y10, Y13", 8+v)
			p("\tVPMADDWD Y12, Y13, Y13")
			p("\tVPADDD Y13, Y%d, Y%d", acc, acc)
		}
	}
	p("\tADDQ $4, AX")
	p("\tADDQ $256, SI")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("%s_done:", name)
	epilogue(name, mr, 2, "Y", 32, "Y8", "Y10")
	p("\tVZEROUPPER")
	p("\tRET")
}

// epilogue subtracts the offset correction and stores int32 (mode 0) or
// float32(acc)*wscale/xscale[r] (mode 1). t1 and t2 are free registers.
func epilogue(name string, mr, nv int, reg string, vbytes int, t1, t2 string) {
	p("\tMOVQ %d(DI), SI", offCorr)
	for v := 0; v < nv; v++ {
		p("\tVMOVDQU%s %d(SI), %s", movSuffix(reg), vbytes*v, t1)
		for r := 0; r < mr; r++ {
			acc := fmt.Sprintf("%s%d", reg, nv*r+v)
			p("\tVPSUBD %s, %s, %s", t1, acc, acc)
		}
	}
	p("\tCMPQ %d(DI), $0", offMode)
	p("\tJNE %s_float", name)
	for r := 0; r < mr; r++ {
		p("\tMOVQ %d(DI), SI", offC+8*r)
		for v := 0; v < nv; v++ {
			p("\tVMOVDQU%s %s%d, %d(SI)", movSuffix(reg), reg, nv*r+v, vbytes*v)
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("%s_float:", name)
	p("\tVBROADCASTSS %d(DI), %s", offWScale, t1)
	for r := 0; r < mr; r++ {
		p("\tVBROADCASTSS %d(DI), %s", offXScale+4*r, t2)
		p("\tMOVQ %d(DI), SI", offC+8*r)
		for v := 0; v < nv; v++ {
			acc := fmt.Sprintf("%s%d", reg, nv*r+v)
			// out = (float32(acc) * wscale) / xscale[r], the order BitLinearForward documents.
			p("\tVCVTDQ2PS %s, %s", acc, acc)
			p("\tVMULPS %s, %s, %s", t1, acc, acc)
			p("\tVDIVPS %s, %s, %s", t2, acc, acc)
			p("\tVMOVUPS %s, %d(SI)", acc, vbytes*v)
		}
	}
}

func movSuffix(reg string) string {
	if reg == "Z" {
		return "32"
	}
	return ""
}

func main() {
	p("// Code generated by command: go run bitgemm_gen.go. DO NOT EDIT.")
	p("")
	p("//go:build !purego")
	p("")
	p("#include \"textflag.h\"")
	for mr := 1; mr <= 6; mr++ {
		zmmKernel(fmt.Sprintf("bitVNNI%d", mr), mr, true)
	}
	for mr := 1; mr <= 6; mr++ {
		zmmKernel(fmt.Sprintf("bitAVX512%d", mr), mr, false)
	}
	for mr := 1; mr <= 4; mr++ {
		ymmKernel(fmt.Sprintf("bitAVX2%d", mr), mr)
	}
	if err := os.WriteFile("bitgemm_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
