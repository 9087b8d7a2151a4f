package kernels

import (
	"math/rand"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

func threadCPU() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0) // CLOCK_THREAD_CPUTIME_ID
	return ts.Nano()
}

func TestGemvMicro(t *testing.T) {
	n, k := 64, 4096
	rng := rand.New(rand.NewSource(0))
	w := make([]byte, n*GemvRowBytes(k))
	for i := range w {
		w[i] = byte(rng.Intn(243))
	}
	v := NewGemvVec(k)
	v.Set(make([]int8, k))
	y := make([]int32, n)
	runtime.LockOSThread()
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
	t.Logf("%.3f ns/rowblock (thread CPU time, best of 15)", best)
}
