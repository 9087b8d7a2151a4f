// Package kernels holds tern's hot loops: fp32 and bf16 GEMM, int8 x ternary GEMM, packed ternary
// GEMV and the row-wise passes (softmax, norms, GELU, quantizers). Every kernel has a plain Go
// version (the `...Generic` function or Go micro-kernel: the test oracle and the fallback for any
// platform and for tails) and, on amd64, assembly fast paths chosen once at start-up from the CPU's
// features.
//
// Kernels assume validated input: callers (package nn, model builders) check shapes and report
// errors; a kernel given inconsistent lengths panics with a precise message.
//
// Determinism: every kernel computes each output element on one thread with a fixed summation
// order, so results are bit-identical for any thread count (see README "Determinism").
package kernels

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/cpu"
)

// The implementation registry (like the Go standard library's crypto/internal/impl). The kernels
// read these unexported bools; they are set once at start-up from the CPU's features and changed
// only through Use (tests and `tern bench --impl`). Each rung of the ladder includes those below
// it: AMX needs bf16, bf16 needs VNNI, VNNI needs AVX-512, AVX-512 kernels may fall back to AVX2
// ones for tails.
// TERN_NOASM=1 in the environment (or -tags purego, or GODEBUG=cpu.avx512f=off for the AVX-512
// rungs) removes rungs from what the CPU offers.
var (
	hasAVX2   bool // AVX2 + FMA
	hasAVX512 bool // AVX-512 F/BW/VL/DQ
	hasVNNI   bool // + AVX512_VNNI (VPDPBUSD)
	hasBF16   bool // + AVX512_BF16 (VDPBF16PS, VCVTNE2PS2BF16)
	hasAMX    bool // + AMX-TILE, AMX-BF16, AMX-INT8, tile state granted by the OS (amx.go)
)

// impl is one rung: its name and the bools it sets.
type impl struct {
	name                          string
	avx2, avx512, vnni, bf16, amx bool
}

// ladder lists every implementation, fastest first; "go" (no assembly) is always last.
var ladder = []impl{
	{"amx", true, true, true, true, true},
	{"avx512bf16", true, true, true, true, false},
	{"avx512vnni", true, true, true, false, false},
	{"avx512", true, true, false, false, false},
	{"avx2", true, false, false, false, false},
	{"go", false, false, false, false, false},
}

// detected is the best rung this build and CPU can run.
var detected = func() impl {
	asm := asmBuilt && os.Getenv("TERN_NOASM") == ""
	x := cpu.X86
	avx2 := asm && x.HasAVX2 && x.HasFMA
	avx512 := avx2 && x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512DQ
	vnni := avx512 && x.HasAVX512VNNI
	bf16 := vnni && x.HasAVX512BF16
	amx := bf16 && detectAMX()
	return impl{"", avx2, avx512, vnni, bf16, amx}
}()

func init() { set(bestImpl()) }

func bestImpl() impl {
	for _, im := range ladder {
		if (!im.avx2 || detected.avx2) && (!im.avx512 || detected.avx512) && (!im.vnni || detected.vnni) && (!im.bf16 || detected.bf16) && (!im.amx || detected.amx) {
			return im
		}
	}
	panic("unreachable")
}

func set(im impl) {
	hasAVX2, hasAVX512, hasVNNI, hasBF16, hasAMX = im.avx2, im.avx512, im.vnni, im.bf16, im.amx
}

// Impls lists the implementations this build and CPU can run, fastest first; the last is always
// "go" (the portable Go kernels). Tests run every kernel under each (see Use).
func Impls() []string {
	var out []string
	best := false
	for _, im := range ladder {
		if im.name == bestImpl().name {
			best = true
		}
		if best {
			out = append(out, im.name)
		}
	}
	return out
}

// Impl names the implementation in use.
func Impl() string {
	for _, im := range ladder {
		if im.avx2 == hasAVX2 && im.avx512 == hasAVX512 && im.vnni == hasVNNI && im.bf16 == hasBF16 && im.amx == hasAMX {
			return im.name
		}
	}
	return "?"
}

// Features names the implementation in use, for logs and benchmark output (the same as Impl).
func Features() string { return Impl() }

// HasBF16 reports whether bf16 products run on a native bf16 instruction (VDPBF16PS, or AMX's
// TDPBF16PS); without it Bgemm gives the same results on the emulated path, at fp32 GEMM speed.
func HasBF16() bool { return hasBF16 }

// Use pins every kernel to the named implementation (one of Impls) until restore is called. It is
// for tests and benchmarks and must not be called while kernels run.
func Use(name string) (restore func(), err error) {
	prev := impl{"", hasAVX2, hasAVX512, hasVNNI, hasBF16, hasAMX}
	for _, n := range Impls() {
		if n != name {
			continue
		}
		for _, im := range ladder {
			if im.name == name {
				set(im)
			}
		}
		return func() { set(prev) }, nil
	}
	return nil, fmt.Errorf("kernels: implementation %q is not available on this CPU (available: %s)", name, strings.Join(Impls(), ", "))
}
