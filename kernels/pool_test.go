package kernels

import (
	"runtime"
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

// TestParallelForSlowChunk: a caller that outlasts its polling and blocks is woken by the last
// chunk, and the call record it recycles is clean for the next call (fast and slow calls alternate).
// Both with polling (threads <= GOMAXPROCS) and without (more threads than GOMAXPROCS).
func TestParallelForSlowChunk(t *testing.T) {
	old := Threads()
	defer SetThreads(old)
	for _, th := range []int{2, runtime.GOMAXPROCS(0) + 1} {
		SetThreads(th)
		slowChunks(t, th)
	}
}

func slowChunks(t *testing.T, th int) {
	for i := range 20 {
		var hits [3]atomic.Int32
		ParallelFor(3, 1, func(lo, hi int) {
			if lo == th-1 && i%2 == 0 {
				time.Sleep(2 * poolSpin) // the caller gives up polling and blocks
			}
			for o := lo; o < hi; o++ {
				hits[o].Add(1)
			}
		})
		for o := range hits {
			if hits[o].Load() != 1 {
				t.Fatalf("call %d: index %d visited %d times", i, o, hits[o].Load())
			}
		}
	}
}

// TestParallelChunks checks that every index is visited exactly once for chunk sizes that divide n
// and that do not, more and fewer chunks than threads.
func TestParallelChunks(t *testing.T) {
	defer SetThreads(Threads())
	for _, threads := range []int{1, 2, 3} {
		SetThreads(threads)
		for _, n := range []int{0, 1, 5, 16, 192, 1001} {
			for _, chunk := range []int{0, 1, 2, 7, 64, 2000} {
				seen := make([]atomic.Int32, n)
				ParallelChunks(n, chunk, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						seen[i].Add(1)
					}
				})
				for i := range seen {
					if c := seen[i].Load(); c != 1 {
						t.Fatalf("threads %d n %d chunk %d: index %d visited %d times", threads, n, chunk, i, c)
					}
				}
			}
		}
	}
}
