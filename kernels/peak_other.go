//go:build !linux

package kernels

import "time"

// threadCPUTime: not available here; PeakGFLOPS falls back to wall time.
func threadCPUTime() time.Duration { return 0 }
