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
