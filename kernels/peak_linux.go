package kernels

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPUTime is the calling OS thread's CPU time (0 if the OS does not tell).
func threadCPUTime() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
