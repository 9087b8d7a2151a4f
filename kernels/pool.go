package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// One worker pool for all kernels, sized by SetThreads (the CLI's --threads). Work is split
// statically: chunk i of T gets [i*n/T, (i+1)*n/T), so the partition depends only on n and T,
// and kernels that never split a reduction across chunks are thread-count independent.

type job struct {
	fn     func(lo, hi int)
	lo, hi int
	wg     *sync.WaitGroup
}

var pool struct {
	mu       sync.Mutex
	threads  int
	jobs     chan job
	inflight atomic.Int32 // jobs sent and not finished
}

func init() { SetThreads(runtime.GOMAXPROCS(0)) }

// SetThreads sets the number of threads kernels use (at least 1). Call it before starting work, not
// concurrently with kernels.
func SetThreads(n int) {
	if n < 1 {
		n = 1
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.jobs != nil {
		close(pool.jobs)
	}
	pool.threads = n
	pool.jobs = make(chan job, n)
	for i := 1; i < n; i++ { // the caller's goroutine is worker 0
		go worker(pool.jobs)
	}
}

// Threads returns the pool size.
func Threads() int { return pool.threads }

func worker(jobs chan job) {
	for j := range jobs {
		j.fn(j.lo, j.hi)
		pool.inflight.Add(-1)
		j.wg.Done()
	}
}

// ParallelFor calls fn over a static partition of [0, n) into at most Threads() contiguous chunks
// and waits. minChunk keeps tiny loops on one thread (chunks are at least that long). The partition
// depends only on n and Threads(); a chunk that finds every worker busy runs on the caller, so nested
// calls cannot deadlock and results never depend on which goroutine ran a chunk.
func ParallelFor(n, minChunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	t := pool.threads
	if minChunk < 1 {
		minChunk = 1
	}
	if c := n / minChunk; c < t {
		t = c
	}
	if t <= 1 {
		fn(0, n)
		return
	}
	wg := wgPool.Get().(*sync.WaitGroup)
	wg.Add(t - 1)
	for i := 1; i < t; i++ {
		j := job{fn: fn, lo: i * n / t, hi: (i + 1) * n / t, wg: wg}
		// Every worker busy (a ParallelFor nested in another, or concurrent callers): run the chunk
		// here instead of queueing behind work that may be waiting for us. Otherwise queue it: the
		// channel holds one slot per worker, so the send never blocks.
		if pool.inflight.Add(1) > int32(pool.threads-1) {
			pool.inflight.Add(-1)
			fn(j.lo, j.hi)
			wg.Done()
			continue
		}
		pool.jobs <- j
	}
	fn(0, n/t)
	wg.Wait()
	wgPool.Put(wg)
}

// wgPool recycles WaitGroups so a parallel call allocates only its closure.
var wgPool = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
