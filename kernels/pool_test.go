package kernels

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelForNested: a ParallelFor inside another must complete (chunks run inline when every
// worker is busy) and cover every index exactly once.
func TestParallelForNested(t *testing.T) {
	old := Threads()
	defer SetThreads(old)
	SetThreads(3)
	done := make(chan struct{})
	var hits [64]atomic.Int32
	go func() {
		ParallelFor(4, 1, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				ParallelFor(16, 1, func(a, b int) {
					for i := a; i < b; i++ {
						hits[o*16+i].Add(1)
					}
				})
			}
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("nested ParallelFor deadlocked")
	}
	for i := range hits {
		if hits[i].Load() != 1 {
			t.Fatalf("index %d visited %d times", i, hits[i].Load())
		}
	}
}
