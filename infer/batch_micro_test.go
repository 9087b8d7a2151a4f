//go:build linux

package infer

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"tern/format"
	"tern/kernels"
)

// threadCPU is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// TestBatchStepMicro prints one batched decoding step's thread CPU time on one thread (best of 8),
// 100M and 700M decode shapes, F16 head, for 1, 4, 16 and 64 rows, with the ternary matrices resident
// as 2-bit panels and as one byte per weight: the step-level effect of the weight form, robust to a
// shared machine's load. A measuring tool, not a check:
// TERN_STEP_MICRO=1 go test -run BatchStepMicro -v ./infer
// With TERN_STEP_THREADS=N (N > 1) it prints instead the median wall time of 120 steps on N threads after
// 40 untimed ones (what a serving step costs without the server around it; needs a quiet machine).
func TestBatchStepMicro(t *testing.T) {
	if os.Getenv("TERN_STEP_MICRO") == "" {
		t.Skip("set TERN_STEP_MICRO=1 to measure")
	}
	defer kernels.SetThreads(kernels.Threads())
	threads := 1
	fmt.Sscan(os.Getenv("TERN_STEP_THREADS"), &threads)
	if threads <= 1 { // thread CPU time needs the goroutine on one OS thread
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	kernels.SetThreads(max(threads, 1))
	clock, reps, warm, unit := threadCPU, 8, 0, "tok/CPU-s"
	if threads > 1 { // steady state: 40 untimed steps first (the slots' KV pages touched), then 120
		start := time.Now()
		clock, reps, warm, unit = func() time.Duration { return time.Since(start) }, 120, 40, "tok/s"
	}
	for _, shape := range []string{"100m", "700m"} {
		cfg := decodeShape100M()
		if shape == "700m" {
			cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN = 1536, 24, 16, 4096
		}
		cfg.MaxPos = 64
		for _, panels := range []bool{true, false} {
			m, err := RandomPacked(cfg, 1, format.F16)
			if err != nil {
				t.Fatal(err)
			}
			var ls []*linear
			for li := range m.layers {
				ly := &m.layers[li]
				ls = append(ls, &ly.qkv, &ly.o, &ly.fc, &ly.f2)
			}
			if err := makeResidentAs(ls, panels); err != nil {
				t.Fatal(err)
			}
			bt, err := newBatch(m, 64, false, gemmMin) // resident already: gemm only adds the int8 head copy
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC() // the building's garbage is not collected during the timed steps
			form := map[bool]string{true: "2-bit panels", false: "one byte/weight"}[panels]
			line := fmt.Sprintf("%s %-15s step ms (%d threads):", shape, form, threads)
			for _, B := range []int{1, 4, 16, 64} {
				slots, ids := make([]int, B), make([]int, B)
				for i := range B {
					slots[i], ids[i] = i, i
					bt.Start(i, []int{1, 2, 3, 4})
				}
				var ds []time.Duration
				for r := range warm + reps {
					if bt.slots[0].Pos >= cfg.MaxPos-2 {
						for i := range B {
							bt.Start(i, []int{1, 2, 3, 4})
						}
					}
					c0 := clock()
					if _, err := bt.Step(slots, ids); err != nil {
						t.Fatal(err)
					}
					if r >= warm {
						ds = append(ds, clock()-c0)
					}
				}
				slices.Sort(ds)
				d := ds[0] // one thread's CPU time: the best; wall time on several: the median
				if threads > 1 {
					d = ds[len(ds)/2]
				}
				line += fmt.Sprintf("  B=%d %.2f (%.0f %s)", B, d.Seconds()*1e3, float64(B)/d.Seconds(), unit)
			}
			fmt.Println(line)
			bt.Close()
		}
	}
}
