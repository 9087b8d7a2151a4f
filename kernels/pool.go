package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// One worker pool for all kernels, sized by SetThreads (the CLI's --threads). Work is split
// statically: chunk i of T gets [i*n/T, (i+1)*n/T), so the partition depends only on n and T,
// and kernels that never split a reduction across chunks are thread-count independent.
//
// Workers and callers spin for a short while (poolSpin) before they block. Decoding calls a kernel
// every few tens of microseconds, and a goroutine blocked on a channel costs more than that to
// wake: the Go runtime readies it on the sender's own P, where it waits until the sender blocks or
// another P steals it, so a 2-thread GEMV ran at 1-thread speed (measured: 4096² hot, median 162 µs
// with blocking workers against 94 µs with spinning ones; the same 160 µs on one thread). A worker
// that finds no job for poolSpin blocks, so an idle program does not burn its cores. Polling yields the
// processor now and then (runtime.Gosched), and is off when the pool has more threads than GOMAXPROCS:
// there a polling worker holds a P that a computing goroutine needs (4096² GEMV, 4 threads on 2
// cores: 540 µs polling against 149 µs blocking).

// poolSpin is how long an idle worker, or a caller waiting for its workers, polls before blocking.
// It covers the gaps between kernels in a decoding step; OpenMP runtimes spin for similar or longer.
const poolSpin = 200 * time.Microsecond

type job struct {
	fn     func(lo, hi int)
	lo, hi int
	call   *call
}

// call tracks the chunks of one ParallelFor handed to workers. state counts the chunks not yet
// finished; the caller sets callWaiter (only while the count is above zero) when it stops spinning
// and blocks on wake, so the worker whose decrement leaves exactly callWaiter sends the one wake-up.
type call struct {
	state atomic.Int32
	wake  chan struct{}
}

const callWaiter = 1 << 30

var pool struct {
	mu       sync.Mutex
	threads  int
	spin     time.Duration // poolSpin, or 0 when threads > GOMAXPROCS
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
	pool.spin = poolSpin
	if n > runtime.GOMAXPROCS(0) {
		pool.spin = 0
	}
	pool.jobs = make(chan job, n)
	for i := 1; i < n; i++ { // the caller's goroutine is worker 0
		go worker(pool.jobs, pool.spin)
	}
}

// Threads returns the pool size.
func Threads() int { return pool.threads }

func worker(jobs chan job, spin time.Duration) {
	for {
		j, ok := receive(jobs, spin)
		if !ok {
			return
		}
		j.fn(j.lo, j.hi)
		pool.inflight.Add(-1)
		if j.call.state.Add(-1) == callWaiter { // the last chunk, and the caller is blocked
			j.call.wake <- struct{}{}
		}
	}
}

// receive takes the next job, polling for up to spin before blocking; ok is false once jobs is
// closed.
func receive(jobs chan job, spin time.Duration) (j job, ok bool) {
	if spin > 0 && poll(spin, func() bool {
		select {
		case j, ok = <-jobs:
			return true
		default:
			return false
		}
	}) {
		return j, ok
	}
	j, ok = <-jobs
	return j, ok
}

// poll calls ready, with a PAUSE between calls, until it reports true (then poll does too) or spin
// has passed (false). It reads the clock, which costs more than a poll, and yields the processor to
// the program's other goroutines every 64 polls.
func poll(spin time.Duration, ready func() bool) bool {
	var start time.Time
	for i := 0; ; i++ {
		if ready() {
			return true
		}
		if i%64 == 0 {
			if i == 0 {
				start = time.Now()
			} else if time.Since(start) >= spin {
				return false
			}
			runtime.Gosched()
		}
		spinPause()
	}
}

// parallelChunks runs fn over [0, n) in chunks of chunk indices that t workers take from a shared
// counter until none are left (the GEMV kernels' row scheduler): a worker that loses its core on a
// busy machine does not hold the others up, and since each chunk is computed by one worker with the
// same operations, results do not depend on the schedule.
func parallelChunks(n, t, chunk int, fn func(lo, hi int)) {
	var next atomic.Int64
	ParallelFor(t, 1, func(_, _ int) {
		for {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= n {
				return
			}
			fn(lo, min(lo+chunk, n))
		}
	})
}

// ParallelChunks calls fn over [0, n) in chunks of chunk indices that the threads take in turn until
// none are left: for loops whose items differ in cost (a batch's attention, slots of unequal
// contexts), where a static partition leaves one thread waiting. fn must compute each index the same
// way whichever thread runs it.
func ParallelChunks(n, chunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunk = max(chunk, 1)
	t := min(pool.threads, (n+chunk-1)/chunk)
	if t <= 1 {
		fn(0, n)
		return
	}
	parallelChunks(n, t, chunk, fn)
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
	c := callPool.Get().(*call)
	c.state.Store(int32(t - 1))
	for i := 1; i < t; i++ {
		j := job{fn: fn, lo: i * n / t, hi: (i + 1) * n / t, call: c}
		// Every worker busy (a ParallelFor nested in another, or concurrent callers): run the chunk
		// here instead of queueing behind work that may be waiting for us. Otherwise queue it: the
		// channel holds one slot per worker, so the send never blocks.
		if pool.inflight.Add(1) > int32(pool.threads-1) {
			pool.inflight.Add(-1)
			fn(j.lo, j.hi)
			c.state.Add(-1)
			continue
		}
		pool.jobs <- j
	}
	fn(0, n/t)
	c.wait(pool.spin)
	callPool.Put(c)
}

// wait returns once every chunk handed out is finished: it polls for up to spin, then blocks.
func (c *call) wait(spin time.Duration) {
	if spin > 0 && poll(spin, func() bool { return c.state.Load() == 0 }) {
		return
	}
	for {
		s := c.state.Load()
		if s == 0 {
			return
		}
		if c.state.CompareAndSwap(s, s|callWaiter) {
			<-c.wake // sent by the worker that finishes the last chunk
			c.state.Store(0)
			return
		}
	}
}

// callPool recycles call records, so a parallel call allocates only its closure.
var callPool = sync.Pool{New: func() any { return &call{wake: make(chan struct{}, 1)} }}
