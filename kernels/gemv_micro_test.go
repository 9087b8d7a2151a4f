//go:build linux

package kernels

import (
	"math/rand"
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// threadCPU is this thread's CPU time: on a shared machine it excludes time the thread was not
// running, so a kernel's cost per block can be compared between variants.
func threadCPU() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0) // CLOCK_THREAD_CPUTIME_ID
	return ts.Nano()
}

// TestGemvMicro prints the GEMV cost per 64-byte row block (L2-resident, one thread) in thread CPU
// time. It is a measuring tool, not a check: TERN_GEMV_MICRO=1 go test -run GemvMicro -v ./kernels
func TestGemvMicro(t *testing.T) {
	if os.Getenv("TERN_GEMV_MICRO") == "" {
		t.Skip("set TERN_GEMV_MICRO=1 to measure")
	}
	n, k := 64, 4096
	rng := rand.New(rand.NewSource(0))
	w := randPackedRows(rng, n, k)
	v := NewGemvVec(k)
	v.Set(make([]int8, k))
	y := make([]int32, n)
	if os.Getenv("TERN_GEMV_PATH") == "avx2" {
		restore, err := Use("avx512")
		if err != nil {
			t.Skip(err)
		}
		defer restore()
	}
	runtime.LockOSThread()
	if GemvPath() == "generic" { // the portable path's table pays off from 128 rows: measure with it
		defer SetThreads(Threads())
		SetThreads(1)
		n = 256
		w = randPackedRows(rng, n, k)
		y = make([]int32, n)
		TernaryGemv(y, w, n, k, v)
	}
	blocks := float64(n * ((GemvRowBytes(k) + 63) / 64))
	best := 1e9
	for rep := 0; rep < 15; rep++ {
		c0 := threadCPU()
		const iters = 3000
		for i := 0; i < iters; i++ {
			gemvRows(y, w, n, k, v)
		}
		ns := float64(threadCPU()-c0) / iters / blocks
		best = min(best, ns)

	}
	t.Logf("%s: %.3f ns/rowblock (thread CPU time, best of 15)", GemvPath(), best)
}

// TestGemvVecMicro prints SetFloat32's cost in thread CPU time (TERN_GEMV_MICRO=1).
func TestGemvVecMicro(t *testing.T) {
	if os.Getenv("TERN_GEMV_MICRO") == "" {
		t.Skip("set TERN_GEMV_MICRO=1 to measure")
	}
	runtime.LockOSThread()
	for _, k := range []int{2560, 4096, 6912} {
		x := make([]float32, k)
		rng := rand.New(rand.NewSource(0))
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		v := NewGemvVec(k)
		best := 1e18
		for rep := 0; rep < 15; rep++ {
			c0 := threadCPU()
			for i := 0; i < 200; i++ {
				v.SetFloat32(x)
			}
			best = min(best, float64(threadCPU()-c0)/200)
		}
		t.Logf("SetFloat32 k=%d: %.2f us", k, best/1e3)
	}
}
