package kernels

import (
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"tern/tensor"
)

// Tests of the AMX drivers (amx.go) over the Go emulation of the tile instructions (amx_emu.go):
// blocking, tile shapes, packing (pairs swapped, padding), ragged edges and epilogues, against the
// Go references, on every CPU. The assembly itself runs only on CPUs with AMX (amx_amd64_test.go).

// emuAMXBF16 is kernelAMXBF16 with each block run by a fresh emulated tile unit.
func emuAMXBF16() gemmKernel {
	k := kernelAMXBF16
	k.name = "amx-emu"
	k.run = func(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool) {
		var acc [amxMR * amxNR]float32
		e := new(amxEmu)
		e.block(e.tdpbf16ps, &amxCfg, unsafe.Pointer(a), 4*k, unsafe.Pointer(b), 4*amxNR, unsafe.Pointer(&acc[0]), k/(amxStep/4))
		amxEpilogue(&acc, c, ldc, alpha, beta, rows, cols, load)
	}
	return k
}

// TestAMXBgemmEmulated: the AMX bf16 driver gives BgemmGeneric's bits (beta 0 and 1; others
// within the bf16 bound) on Bgemm's cases, with the default blocks and with small ones that make
// many K blocks whose pairs do not fill a tile step.
func TestAMXBgemmEmulated(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	kern := emuAMXBF16()
	small := kern
	small.kc, small.mb, small.nb, small.mc, small.nc = 24, 2, 2, 2*small.mr, 3*small.nr
	cases := bgemmCases()
	for i, g := range cases {
		if i%3 != 0 && g.m*g.n*g.k > 1<<16 {
			continue // a third of the large cases: the emulation is slow
		}
		a, b, c := g.operands(rng)
		for _, k := range []*gemmKernel{&kern, &small} {
			if k == &small && i%5 != 0 {
				continue
			}
			got, want := slices.Clone(c), slices.Clone(c)
			if g.k == 0 || g.alpha == 0 {
				continue // never reaches a micro-kernel
			}
			sgemmBlocked(k, g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, got, g.ldc)
			bgemmRefBlocks(g, a, b, want, gemmBlockK(k.kc, g.k, true))
			for j := range got {
				x, y := got[j], want[j]
				same := math.Float32bits(x) == math.Float32bits(y) || (x != x && y != y)
				if bgemmBitExact(g) && !same {
					t.Fatalf("kc %d %v: C[%d] = %v (%#08x), reference %v (%#08x)", k.kc, g, j, x, math.Float32bits(x), y, math.Float32bits(y))
				}
				if !bgemmBitExact(g) && math.Abs(float64(x-y)) > 1e-6*(math.Abs(float64(y))+1) {
					t.Fatalf("kc %d %v: C[%d] = %v, reference %v", k.kc, g, j, x, y)
				}
			}
		}
	}
}

// TestAMXTernaryEmulated: the AMX int8 driver gives TernaryGemmGeneric's exact sums and
// BitLinearForwardGeneric's bits on the ternary GEMM's shapes, extremes included.
func TestAMXTernaryEmulated(t *testing.T) {
	r := tensor.NewRNG(3)
	for i, sh := range bitShapes() {
		m, n, k := sh[0], sh[1], sh[2]
		if k == 0 || (i%2 == 1 && m*n*k > 1<<18) {
			continue // K = 0 never reaches the AMX path; half of the large shapes (slow emulation)
		}
		x, wv := randInt8(r, m*k), randTernary(r, n*k)
		if i%4 == 0 { // extremes: every activation -128 or 127, every weight -1 or 1
			for j := range x {
				x[j] = int8(-128 + 255*(j%2))
			}
			for j := range wv {
				wv[j] = int8(1 - 2*(j/3%2))
			}
		}
		w := NewTernaryMatrix(wv, n, k)
		want := make([]int32, m*n)
		TernaryGemmGeneric(want, x, w, m)
		got := make([]int32, m*n)
		amxTernary(true, got, nil, x, nil, w, 0, m)
		if !slices.Equal(got, want) {
			t.Fatalf("m=%d n=%d k=%d: AMX int8 sums differ from the reference", m, n, k)
		}
		xscale := make([]float32, m)
		for j := range xscale {
			xscale[j] = 0.1 + 50*r.Float32()
		}
		wscale := 0.01 + r.Float32()
		wantF := make([]float32, m*n)
		BitLinearForwardGeneric(wantF, x, xscale, w, wscale, m)
		gotF := make([]float32, m*n)
		amxTernary(true, nil, gotF, x, xscale, w, wscale, m)
		for j := range gotF {
			if math.Float32bits(gotF[j]) != math.Float32bits(wantF[j]) {
				t.Fatalf("m=%d n=%d k=%d: out[%d] = %v, reference %v", m, n, k, j, gotF[j], wantF[j])
			}
		}
	}
}

// TestAMXEmulation checks the emulated instructions themselves: TDPBF16PS adds a pair's low
// product first (Intel's pseudo-code), TDPBSSD multiplies signed bytes, and the faults the SDM
// specifies are raised.
func TestAMXEmulation(t *testing.T) {
	var e amxEmu
	e.ldtilecfg(&amxCfg)
	// c = 2^24, then the pair (-1)·1 and 1·1: low first, 2^24 - 1 is exact and + 1 gives 2^24;
	// high first, 2^24 + 1 rounds to 2^24 (tie to even) and - 1 gives 2^24 - 1.
	put := func(tl, r, i int, v uint32) {
		e.tile[tl][r][4*i], e.tile[tl][r][4*i+1], e.tile[tl][r][4*i+2], e.tile[tl][r][4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	bf := func(f float32) uint32 { return uint32(bf16Bits(f)) }
	put(0, 0, 0, math.Float32bits(1<<24))
	put(4, 0, 0, bf(-1)|bf(1)<<16) // A pair: low -1, high 1
	put(6, 0, 0, bf(1)|bf(1)<<16)  // B pair: 1, 1
	e.tdpbf16ps(0, 4, 6)
	if got := math.Float32frombits(e.dword(0, 0, 0)); got != 1<<24 {
		t.Errorf("TDPBF16PS: 2^24 + (-1) + 1 = %v, want 2^24 (low product first)", got)
	}
	put(1, 0, 0, 0)
	put(5, 0, 0, 0x80ff7f01) // bytes 1, 127, -1, -128
	put(7, 0, 0, 0x7f80ff02) // bytes 2, -1, -128, 127
	e.tdpbssd(1, 5, 7)
	if got, want := int32(e.dword(1, 0, 0)), int32(1*2+127*-1+-1*-128+-128*127); got != want {
		t.Errorf("TDPBSSD: %d, want %d", got, want)
	}
	faults := map[string]func(){
		"#GP":                                func() { bad := amxCfg; bad[0] = 2; new(amxEmu).ldtilecfg(&bad) },
		"rows":                               func() { bad := amxCfg; bad[48] = 17; new(amxEmu).ldtilecfg(&bad) },
		"without a tile configuration":       func() { new(amxEmu).tilezero(0) },
		"do not fit":                         func() { f := e; f.colsb[6] = 32; f.tdpbf16ps(0, 4, 6) },
		"without a tile configuration (#UD)": func() { f := e; f.tilerelease(); f.tdpbssd(0, 4, 6) },
	}
	for want, f := range faults {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), want) {
					t.Errorf("fault %q: got %v", want, r)
				}
			}()
			f()
		}()
	}
}

// TestAMXStatus: the status line names why AMX is not used where it is not.
func TestAMXStatus(t *testing.T) {
	s := AMXStatus()
	if !strings.HasPrefix(s, "amx: ") || (!hasAMX && !strings.Contains(s, "not")) {
		t.Errorf("AMXStatus() = %q", s)
	}
	t.Log(s)
}
