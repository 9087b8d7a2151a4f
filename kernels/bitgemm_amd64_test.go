//go:build !purego

package kernels

import (
	"testing"
	"unsafe"
)

type offsetCase struct {
	name      string
	got, want uintptr
}

// TestBitArgsLayout pins the argument-block offsets that the assembly (bitgemm_gen.go's output and
// bitgemm_pack_amd64.s) hard-codes.
func TestBitArgsLayout(t *testing.T) {
	var a bitArgs
	var p packArgs
	for _, f := range []offsetCase{
		{"bitArgs.x", unsafe.Offsetof(a.x), 0}, {"bitArgs.c", unsafe.Offsetof(a.c), 48}, {"bitArgs.w", unsafe.Offsetof(a.w), 96},
		{"bitArgs.kg", unsafe.Offsetof(a.kg), 104}, {"bitArgs.corr", unsafe.Offsetof(a.corr), 112}, {"bitArgs.mode", unsafe.Offsetof(a.mode), 120},
		{"bitArgs.wscale", unsafe.Offsetof(a.wscale), 128}, {"bitArgs.xscale", unsafe.Offsetof(a.xscale), 132},
		{"packArgs.dst", unsafe.Offsetof(p.dst), 0}, {"packArgs.src", unsafe.Offsetof(p.src), 8}, {"packArgs.kg", unsafe.Offsetof(p.kg), 16},
		{"packArgs.sums", unsafe.Offsetof(p.sums), 24}, {"packArgs.masks", unsafe.Offsetof(p.masks), 32}, {"packArgs.bad", unsafe.Offsetof(p.bad), 40},
		{"packArgs.idx", unsafe.Offsetof(p.idx), 48}, {"packArgs.rowMask", unsafe.Offsetof(p.rowMask), 304},
	} {
		if f.got != f.want {
			t.Errorf("%s at offset %d, the assembly assumes %d", f.name, f.got, f.want)
		}
	}
}
