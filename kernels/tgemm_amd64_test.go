//go:build !purego

package kernels

import (
	"testing"
	"unsafe"
)

func TestTGArgsLayout(t *testing.T) {
	var a tgArgs
	for _, f := range []offsetCase{
		{"tgArgs.x", unsafe.Offsetof(a.x), 0}, {"tgArgs.ld", unsafe.Offsetof(a.ld), 8}, {"tgArgs.w", unsafe.Offsetof(a.w), 16},
		{"tgArgs.kb", unsafe.Offsetof(a.kb), 24}, {"tgArgs.out", unsafe.Offsetof(a.out), 32}, {"tgArgs.ldo", unsafe.Offsetof(a.ldo), 40},
		{"tgArgs.mask", unsafe.Offsetof(a.mask), 48}, {"tgArgs.wscale", unsafe.Offsetof(a.wscale), 56},
		{"tgArgs.xscale", unsafe.Offsetof(a.xscale), 60}, {"tgArgs.rowsum", unsafe.Offsetof(a.rowsum), 124},
	} {
		if f.got != f.want {
			t.Errorf("%s at offset %d, the assembly assumes %d", f.name, f.got, f.want)
		}
	}
}
