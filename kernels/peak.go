package kernels

// The arithmetic peak of the instructions the GEMMs run on: how far a GEMM is from what the core
// can do at all (tern bench gemm --peak). Each thread runs many independent chains of the
// instruction on registers only, so neither memory nor latency limits it.

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Peak is what PeakGFLOPS measured.
type Peak struct {
	GFLOPS float64 // best round: threads' flops over the round's wall time
	// PerCPU is threads x the best flops per thread-CPU-second of any thread (where the OS tells a
	// thread's CPU time, else equal to GFLOPS): the peak with every thread on its own core, which
	// other processes on a shared machine do not lower.
	PerCPU float64
}

// PeakGFLOPS measures the peak GFLOP/s of dtype's GEMM instruction on threads OS threads at once:
// "f32" is VFMADD231PS on 512-bit registers (2 flops x 16 lanes), "bf16" VDPBF16PS (2 products
// of 2 flops x 16 lanes), "int8" VPDPBUSD (4 u8 x s8 products of 2 operations x 16 lanes: G int8
// OP/s, twice the G multiply-adds/s, counted as tern bench bitgemm counts its GOP/s). It runs 10
// rounds of about d/10 and returns the best: on a shared machine, a round another process
// interrupted only reads lower. It is an error where the CPU (or the implementation pinned by Use)
// lacks the instruction.
func PeakGFLOPS(dtype string, threads int, d time.Duration) (Peak, error) {
	loop, flops := peakLoop(dtype)
	if loop == nil {
		return Peak{}, fmt.Errorf("kernels: no %s peak loop on implementation %s", dtype, Impl())
	}
	if threads < 1 {
		threads = 1
	}
	// calibrate: iterations for ~d/10 per call on one thread
	n := 1 << 10
	for {
		t0 := time.Now()
		loop(n)
		if el := time.Since(t0); el > d/100 || n > 1<<30 {
			n = max(1, int(float64(n)*float64(d/10)/float64(max(el, time.Microsecond))))
			break
		}
		n *= 4
	}
	var best Peak
	cpu := make([]time.Duration, threads)
	for range 10 {
		var wg, ready sync.WaitGroup
		start := make(chan struct{})
		ready.Add(threads)
		wg.Add(threads)
		for i := range threads {
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				ready.Done()
				<-start
				c0 := threadCPUTime()
				loop(n)
				cpu[i] = threadCPUTime() - c0
			}()
		}
		ready.Wait()
		t0 := time.Now()
		close(start)
		wg.Wait()
		el := time.Since(t0)
		best.GFLOPS = max(best.GFLOPS, float64(threads)*float64(n)*flops/el.Seconds()/1e9)
		for _, c := range cpu {
			if c <= 0 {
				c = el
			}
			best.PerCPU = max(best.PerCPU, float64(threads)*float64(n)*flops/c.Seconds()/1e9)
		}
	}
	return best, nil
}
