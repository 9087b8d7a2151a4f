//go:build !purego

package kernels

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// amxEncodingSamples are the instructions of amxSamples (amx_amd64.s), in order, as GNU as and
// objdump write them (AT&T syntax: operands reversed from Intel's).
var amxEncodingSamples = func() []string {
	r := []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
	var s []string
	for _, b := range []int{0, 9, 7} {
		s = append(s, fmt.Sprintf("ldtilecfg (%%%s)", r[b]))
	}
	s = append(s, "tilerelease")
	for _, t := range []int{0, 7, 5} {
		s = append(s, fmt.Sprintf("tilezero %%tmm%d", t))
	}
	for _, l := range [][3]int{{4, 6, 2}, {5, 8, 2}, {6, 3, 10}, {7, 9, 10}, {0, 15, 12}, {3, 0, 7}} { // tile, base, index
		s = append(s, fmt.Sprintf("tileloadd (%%%s,%%%s,1),%%tmm%d", r[l[1]], r[l[2]], l[0]))
	}
	for _, st := range [][3]int{{7, 11, 0}, {6, 11, 1}, {14, 1, 7}, {3, 9, 4}} { // base, index, tile
		s = append(s, fmt.Sprintf("tilestored %%tmm%d,(%%%s,%%%s,1)", st[2], r[st[0]], r[st[1]]))
	}
	for _, op := range []string{"tdpbf16ps", "tdpbssd"} {
		for _, d := range [][3]int{{0, 4, 6}, {3, 5, 7}, {7, 0, 1}, {1, 2, 0}} { // c, a, b
			s = append(s, fmt.Sprintf("%s %%tmm%d,%%tmm%d,%%tmm%d", op, d[2], d[1], d[0]))
		}
	}
	return s
}()

// TestAMXEncoding checks the hand-encoded AMX macros (amx_amd64.h) two ways, where GNU binutils
// are installed: GNU objdump disassembles the bytes Go's assembler made from them into the intended
// mnemonic and operands, one instruction per sample, and GNU as assembles those texts into the
// same bytes.
func TestAMXEncoding(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("GNU objdump not installed (apt install binutils)")
	}
	dir := t.TempDir()
	// Go's bytes: the samples up to the RET that ends them (sizes vary: 5 or 6 bytes).
	got := unsafe.Slice(amxSamplesAddr(), 6*len(amxEncodingSamples)+1)
	bin := filepath.Join(dir, "go.bin")
	if err := os.WriteFile(bin, got, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(objdump, "-D", "-b", "binary", "-m", "i386:x86-64", bin).CombinedOutput()
	if err != nil {
		t.Skipf("objdump cannot disassemble x86-64: %v %s", err, out)
	}
	var insns []string
	var size int
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || !strings.HasSuffix(strings.TrimSpace(f[0]), ":") {
			continue
		}
		insns = append(insns, strings.Join(strings.Fields(f[2]), " "))
		size += len(strings.Fields(f[1]))
		if len(insns) == len(amxEncodingSamples) {
			break
		}
	}
	for i, want := range amxEncodingSamples {
		if i >= len(insns) || insns[i] != want {
			t.Fatalf("sample %d: objdump reads %q, want %q (all: %q)", i, at(insns, i), want, insns)
		}
	}
	as, err := exec.LookPath("as")
	if err != nil {
		t.Skip("GNU as not installed: objdump check only")
	}
	src := strings.Join(amxEncodingSamples, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "s.s"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	obj, raw := filepath.Join(dir, "s.o"), filepath.Join(dir, "s.bin")
	if out, err := exec.Command(as, "-o", obj, filepath.Join(dir, "s.s")).CombinedOutput(); err != nil {
		t.Skipf("as cannot assemble AMX (binutils older than 2.36?): %v %s", err, out)
	}
	if out, err := exec.Command("objcopy", "-O", "binary", "-j", ".text", obj, raw).CombinedOutput(); err != nil {
		t.Skipf("objcopy: %v %s", err, out)
	}
	want, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:size], want) {
		t.Fatalf("Go's bytes\n% x\nGNU as\n% x", got[:size], want)
	}
	t.Logf("%d AMX instructions: objdump's text and GNU as's %d bytes match", len(amxEncodingSamples), size)
}

// TestAMXKernelDisassembly has GNU objdump disassemble the two AMX kernels' bytes, as Go's
// assembler made them, up to their RET, and checks their tile instructions, in order, against the
// sequence amx_amd64.s means (and that nothing reads as "(bad)").
func TestAMXKernelDisassembly(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("GNU objdump not installed (apt install binutils)")
	}
	bf16, int8 := amxBlockAddrs()
	for _, fn := range []struct {
		name, tdp string
		addr      *byte
	}{{"amxBlockBF16", "tdpbf16ps", bf16}, {"amxBlockInt8", "tdpbssd", int8}} {
		want := []string{"ldtilecfg (%rax)", "tilezero %tmm0", "tilezero %tmm1", "tilezero %tmm2", "tilezero %tmm3",
			"tileloadd (%rsi,%rdx,1),%tmm4", "tileloadd (%r8,%rdx,1),%tmm5", "tileloadd (%rbx,%r10,1),%tmm6", "tileloadd (%r9,%r10,1),%tmm7",
			fn.tdp + " %tmm6,%tmm4,%tmm0", fn.tdp + " %tmm7,%tmm4,%tmm1", fn.tdp + " %tmm6,%tmm5,%tmm2", fn.tdp + " %tmm7,%tmm5,%tmm3",
			"tilestored %tmm0,(%rdi,%r11,1)", "tilestored %tmm1,(%rsi,%r11,1)", "tilestored %tmm2,(%rdi,%r11,1)", "tilestored %tmm3,(%rsi,%r11,1)",
			"tilerelease"}
		bin := filepath.Join(t.TempDir(), fn.name+".bin")
		if err := os.WriteFile(bin, unsafe.Slice(fn.addr, 256), 0o644); err != nil { // the kernel is ~200 bytes
			t.Fatal(err)
		}
		out, err := exec.Command(objdump, "-D", "-b", "binary", "-m", "i386:x86-64", "--no-show-raw-insn", bin).CombinedOutput()
		if err != nil {
			t.Skipf("objdump cannot disassemble x86-64: %v %s", err, out)
		}
		var got []string
		ret := false
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.SplitN(line, "\t", 2)
			if len(f) < 2 || !strings.HasSuffix(strings.TrimSpace(f[0]), ":") {
				continue
			}
			insn := strings.Join(strings.Fields(f[1]), " ")
			if strings.Contains(insn, "(bad)") {
				t.Fatalf("%s: objdump reads %q", fn.name, line)
			}
			if strings.HasPrefix(insn, "ldtilecfg") || strings.HasPrefix(insn, "tile") || strings.HasPrefix(insn, "tdp") {
				got = append(got, insn)
			}
			if insn == "ret" {
				ret = true
				break
			}
		}
		if !ret || !slices.Equal(got, want) {
			t.Errorf("%s: objdump reads the tile instructions (RET found: %v)\n%q\nwant\n%q", fn.name, ret, got, want)
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(nothing)"
}

// TestAMXHardware runs the assembly blocks against the emulation, bit for bit, on random data;
// the full kernels run under Use("amx") in every all-implementations test. Without AMX it skips.
func TestAMXHardware(t *testing.T) {
	if !detected.amx {
		t.Skipf("AMX kernels not run on this CPU: %s", AMXStatus())
	}
	rng := rand.New(rand.NewSource(9))
	for _, steps := range []int{1, 2, 5} {
		lda, ldb := steps*amxStep+8, 4*amxNR+12
		a := make([]byte, 2*amxRows*lda)
		b := make([]byte, steps*amxRows*ldb+amxStep)
		for i := range a {
			a[i] = byte(rng.Intn(256))
		}
		for i := range b {
			b[i] = byte(rng.Intn(256))
		}
		for _, bf := range []bool{true, false} {
			if bf { // bf16 pairs with small exponents (no Inf/NaN)
				for i := 1; i < len(a); i += 2 {
					a[i] = 0x3c + a[i]&3 | a[i]&0x80
				}
				for i := 1; i < len(b); i += 2 {
					b[i] = 0x3c + b[i]&3 | b[i]&0x80
				}
			}
			hw, em := make([]uint32, amxMR*amxNR), make([]uint32, amxMR*amxNR)
			e := new(amxEmu)
			pa, pb := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
			if bf {
				amxBlockBF16(&amxCfg, pa, lda, pb, ldb, unsafe.Pointer(&hw[0]), steps)
				e.block(e.tdpbf16ps, &amxCfg, pa, lda, pb, ldb, unsafe.Pointer(&em[0]), steps)
			} else {
				amxBlockInt8(&amxCfg, pa, lda, pb, ldb, unsafe.Pointer(&hw[0]), steps)
				e.block(e.tdpbssd, &amxCfg, pa, lda, pb, ldb, unsafe.Pointer(&em[0]), steps)
			}
			if !slices.Equal(hw, em) {
				t.Errorf("bf16 %v steps %d: the AMX block differs from its emulation", bf, steps)
			}
		}
	}
}
