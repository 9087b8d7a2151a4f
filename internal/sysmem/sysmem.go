// Package sysmem says how much memory this process may use, so that sizes read from files, configs
// and flags can be refused before an allocation that would only end in a fatal out-of-memory error.
package sysmem

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

var (
	once  sync.Once
	total int64
)

// Total is the memory available to this process in bytes: the machine's MemTotal, or the cgroup's
// memory.max when that is lower. It is 0 where neither can be read (no bound is then applied).
// TERN_MEMORY (bytes) overrides both, for tests.
func Total() int64 {
	once.Do(func() { total = detect() })
	return total
}

func detect() int64 {
	if s := os.Getenv("TERN_MEMORY"); s != "" {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 {
			return v
		}
	}
	var t int64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				f := strings.Fields(rest)
				if len(f) >= 1 {
					if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						t = kb << 10
					}
				}
			}
		}
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && (t == 0 || v < t) {
			t = v
		}
	}
	return t
}

// Check refuses a need of bytes (float64, so products of sizes cannot overflow) beyond Total,
// naming what needs it.
func Check(what string, bytes float64) error {
	t := Total()
	if t > 0 && bytes > float64(t) {
		return fmt.Errorf("%s needs %s, more than the %s of memory this machine has", what, Size(bytes), Size(float64(t)))
	}
	return nil
}

// Size formats a byte count for messages (e.g. "34.4 GB").
func Size(b float64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.1f GB", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.1f MB", b/1e6)
	}
	return fmt.Sprintf("%.0f bytes", b)
}
