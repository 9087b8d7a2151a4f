package tokenizer

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuClock measures the benchmark goroutine's thread CPU time, which a busy shared machine
// disturbs far less than wall time; benchmarks report it as cpu-MB/s.
type cpuClock struct{ start time.Duration }

func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock {
	runtime.LockOSThread()
	return cpuClock{threadCPU()}
}

func (c cpuClock) report(b *testing.B, bytes int64) {
	d := threadCPU() - c.start
	runtime.UnlockOSThread()
	if d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/1e6/d.Seconds(), "cpu-MB/s")
	}
}
