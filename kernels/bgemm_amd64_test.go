//go:build !purego

package kernels

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unsafe"
)

// bgemmEncodingSamples are the (src2, src1, dst) register triples of vdpbf16Samples in
// bgemm_amd64.s, in order: every bit of every register field is set in one and clear in another.
var bgemmEncodingSamples = [][3]int{{28, 30, 0}, {29, 31, 27}, {0, 1, 2}, {7, 8, 15}, {16, 23, 31}, {31, 16, 8}, {15, 0, 16}, {8, 24, 7}}

// TestBgemmEncoding compares the bytes of the hand-encoded VDPBF16PS_Z and VCVTNE2PS2BF16_Z macros (Go's assembler lacks
// AVX512_BF16) with GNU as's encoding of the same instructions. The arithmetic of the instruction
// itself is checked by TestBgemmPaths (the native kernel against BgemmGeneric, bit for bit).
func TestBgemmEncoding(t *testing.T) {
	as, err := exec.LookPath("as")
	if err != nil {
		t.Skip("GNU as not installed")
	}
	objcopy, err := exec.LookPath("objcopy")
	if err != nil {
		t.Skip("objcopy not installed")
	}
	dir := t.TempDir()
	var src bytes.Buffer
	ops := []string{"vdpbf16ps", "vcvtne2ps2bf16"}
	for _, op := range ops {
		for _, s := range bgemmEncodingSamples {
			fmt.Fprintf(&src, "%s %%zmm%d, %%zmm%d, %%zmm%d\n", op, s[0], s[1], s[2])
		}
	}
	obj, bin := filepath.Join(dir, "s.o"), filepath.Join(dir, "s.bin")
	if err := os.WriteFile(filepath.Join(dir, "s.s"), src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "-o", obj, filepath.Join(dir, "s.s")).CombinedOutput(); err != nil {
		t.Skipf("as cannot assemble VDPBF16PS (too old?): %v %s", err, out)
	}
	if out, err := exec.Command(objcopy, "-O", "binary", "-j", ".text", obj, bin).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v %s", err, out)
	}
	want, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	n := len(ops) * len(bgemmEncodingSamples)
	if len(want) != 6*n {
		t.Fatalf("as made %d bytes for %d instructions, want 6 each", len(want), n)
	}
	got := unsafe.Slice(vdpbf16SamplesAddr(), len(want))
	for i := range n {
		s := bgemmEncodingSamples[i%len(bgemmEncodingSamples)]
		if g, w := got[6*i:6*i+6], want[6*i:6*i+6]; !bytes.Equal(g, w) {
			t.Errorf("%s_Z(%d, %d, %d) = % x, GNU as: % x", ops[i/len(bgemmEncodingSamples)], s[0], s[1], s[2], g, w)
		}
	}
}

// TestPairRowsBF16 checks the assembly converter (VCVTNE2PS2BF16) against bf16Bits on random bit
// patterns, a third of them zeros, denormals, infinities or NaNs, for every width and odd/even kc.
func TestPairRowsBF16(t *testing.T) {
	if !hasBF16 {
		t.Skip("no AVX512_BF16")
	}
	rng := rand.New(rand.NewSource(6))
	for _, width := range []int{1, 14, 15, 16, 17, 31, 32} {
		for _, kc := range []int{1, 2, 7, 64} {
			src := make([]uint32, kc*width)
			for i := range src {
				u := rng.Uint32()
				switch rng.Intn(9) {
				case 0:
					u &= 0x807fffff // zero or denormal
				case 1:
					u |= 0x7f800000 // Inf or NaN
				case 2:
					u = u&0x80000000 | 0x7f800000 // Inf
				}
				src[i] = u
			}
			in := make([]float32, kc*width)
			for i, u := range src {
				in[i] = math.Float32frombits(u)
			}
			kp := (kc + 1) / 2
			p := make([]float32, kp*width+1)
			p[kp*width] = 42 // a guard past the panel
			pairRowsBF16(&p[0], &in[0], width, width, kc, &bf16PairPerm[0], uint64(1)<<width-1, uint64(1)<<width-1)
			for q := 0; q < (kc+1)/2; q++ {
				for c := 0; c < width; c++ {
					lo := uint32(bf16Bits(math.Float32frombits(src[2*q*width+c])))
					var hi uint32
					if 2*q+1 < kc {
						hi = uint32(bf16Bits(math.Float32frombits(src[(2*q+1)*width+c])))
					}
					if got := math.Float32bits(p[q*width+c]); got != lo|hi<<16 {
						t.Fatalf("width %d kc %d pair %d lane %d: %#08x from %#08x, %#08x; want %#08x", width, kc, q, c, got, src[2*q*width+c], src[min(2*q+1, kc-1)*width+c], lo|hi<<16)
					}
				}
			}
			if p[kp*width] != 42 {
				t.Fatalf("width %d kc %d: wrote past the panel", width, kc)
			}
		}
	}
}

// TestPackPairsBF16 checks the one-pass assembly packers (pairRowsBF16 on an operand's rows,
// packT16BF16 on strips) against packPanelBF16's Go loop, bit for bit, on random bit patterns with
// zeros, denormals, infinities and NaNs, for ragged lane counts and odd K, with a guard after the
// panel.
func TestPackPairsBF16(t *testing.T) {
	if !hasBF16 {
		t.Skip("no AVX512_BF16")
	}
	rng := rand.New(rand.NewSource(7))
	bits := func() float32 {
		u := rng.Uint32()
		switch rng.Intn(9) {
		case 0:
			u &= 0x807fffff
		case 1:
			u |= 0x7f800000
		}
		return math.Float32frombits(u)
	}
	for _, width := range []int{1, 14, 16, 17, 32} {
		for _, n := range []int{1, width / 2, width - 1, width} {
			if n < 1 {
				continue
			}
			for _, kc := range []int{1, 2, 31, 32, 33, 64, 95} {
				for _, runs := range []bool{false, true} {
					ld := kc + 3
					if runs {
						ld = width + 5
					}
					src := make([]float32, max(n, kc)*ld+ld)
					for i := range src {
						src[i] = bits()
					}
					kp := (kc + 1) / 2
					want := make([]uint32, kp*width)
					for q := 0; q < kp; q++ {
						for c := 0; c < n; c++ {
							lo := uint32(bf16Bits(opAt(runs, src, ld, c, 2*q)))
							var hi uint32
							if 2*q+1 < kc {
								hi = uint32(bf16Bits(opAt(runs, src, ld, c, 2*q+1)))
							}
							want[q*width+c] = lo | hi<<16
						}
					}
					got := make([]float32, kp*width+1)
					for i := range got {
						got[i] = 42 // stale values the packer must overwrite (and the guard)
					}
					if !packPairsBF16(got[:kp*width], runs, src, ld, n, width, kc) {
						t.Fatalf("width %d: the assembly packer declined", width)
					}
					for i, w := range want {
						if g := math.Float32bits(got[i]); g != w {
							t.Fatalf("runs %v width %d n %d kc %d: dword %d = %#08x, want %#08x", runs, width, n, kc, i, g, w)
						}
					}
					if got[kp*width] != 42 {
						t.Fatalf("runs %v width %d n %d kc %d: wrote past the panel", runs, width, n, kc)
					}
				}
			}
		}
	}
}
