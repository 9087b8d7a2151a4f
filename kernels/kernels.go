// Package kernels holds tern's hot loops: fp32 GEMM, int8 x ternary GEMM, packed ternary GEMV and the
// row-wise passes (softmax, norms, GELU, quantizers). Every kernel has a plain Go version (the
// `...Generic` function, the test oracle and the fallback for any platform and for tails) and, on
// amd64, assembly fast paths chosen once at start-up from the CPU's features.
//
// Kernels assume validated input: callers (package nn, model builders) check shapes and report
// errors; a kernel given inconsistent lengths panics with a precise message.
//
// Determinism: every kernel computes each output element on one thread with a fixed summation
// order, so results are bit-identical for any thread count (see README "Determinism").
package kernels

import (
	"os"

	"golang.org/x/sys/cpu"
)

// CPU features, read once. Tests flip them to run every implementation (like crypto's impl.Register).
// Setting TERN_NOASM=1 in the environment turns every assembly path off (the same as -tags purego).
var (
	HasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA && os.Getenv("TERN_NOASM") == ""
	HasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512DQ && os.Getenv("TERN_NOASM") == ""
	HasVNNI   = HasAVX512 && cpu.X86.HasAVX512VNNI
)

// Features names the fast paths in use, for logs and benchmark output.
func Features() string {
	switch {
	case HasVNNI:
		return "avx512+vnni"
	case HasAVX512:
		return "avx512"
	case HasAVX2:
		return "avx2"
	}
	return "generic"
}
