//go:build !purego

package kernels

import (
	"testing"
	"unsafe"
)

// TestGemvTablesLayout pins the offsets gemv_amd64.s reads.
func TestGemvTablesLayout(t *testing.T) {
	var g gemvTables
	if o := [3]uintptr{unsafe.Offsetof(g.c81), unsafe.Offsetof(g.c162), unsafe.Offsetof(g.one)}; o != [3]uintptr{128, 129, 130} {
		t.Errorf("gemvTables offsets %v, gemv_amd64.s expects 128, 129, 130", o)
	}
}

func TestGemvPlaneTablesLayout(t *testing.T) {
	var g gemvPlaneTables
	if o := [3]uintptr{unsafe.Offsetof(g.c), unsafe.Offsetof(g.x80), unsafe.Offsetof(g.mask)}; o != [3]uintptr{640, 960, 968} {
		t.Errorf("gemvPlaneTables offsets %v, gemv_amd64.s expects 640, 960, 968", o)
	}
}

// TestGemvPlanesPaths compares the AVX-512 plane scatter and sum with the Go one.
func TestGemvPlanesPaths(t *testing.T) {
	if !hasAVX512 || !hasGemvVBMI {
		t.Skip("no AVX-512 VBMI")
	}
	for _, k := range []int{320, 640, 4096, 6912} {
		x := make([]int8, k)
		for i := range x {
			x[i] = int8(i*37 + i/7)
		}
		x[0], x[1] = -128, 127
		a, b := NewGemvVec(k), NewGemvVec(k)
		copy(a.X, x)
		copy(b.X, x)
		full := k / GemvBlock
		sa, sb := gemvPlanesAVX512(&a.Planes[0], &a.X[0], full, &gemvPlaneTab), gemvPlanesGeneric(b, full)
		if sa != sb || string(int8s(a.Planes)) != string(int8s(b.Planes)) {
			t.Fatalf("k=%d: sum %d vs %d, or planes differ", k, sa, sb)
		}
	}
}

func int8s(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}
