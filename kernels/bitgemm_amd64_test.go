//go:build !purego

package kernels

import (
	"testing"
	"unsafe"
)

// TestBitArgsLayout pins the offsets bitgemm_gen.go writes into the assembly.
func TestBitArgsLayout(t *testing.T) {
	var a bitArgs
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"x", unsafe.Offsetof(a.x), 0}, {"c", unsafe.Offsetof(a.c), 48}, {"w", unsafe.Offsetof(a.w), 96},
		{"kg", unsafe.Offsetof(a.kg), 104}, {"corr", unsafe.Offsetof(a.corr), 112}, {"mode", unsafe.Offsetof(a.mode), 120},
		{"wscale", unsafe.Offsetof(a.wscale), 128}, {"xscale", unsafe.Offsetof(a.xscale), 132},
	} {
		if f.got != f.want {
			t.Errorf("bitArgs.%s at offset %d, bitgemm_gen.go assumes %d", f.name, f.got, f.want)
		}
	}
}
