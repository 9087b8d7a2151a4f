// Package sysmem says how much memory this process may use, so that sizes read from files, configs
// and flags can be refused before an allocation that would only end in a fatal out-of-memory error,
// and reads user files whole only up to a stated bound.
package sysmem

import (
	"fmt"
	"io"
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

// TextLimit bounds a text file read whole (a corpus, an evaluation file): a sixteenth of Total, since
// tokenizing it takes up to 4 bytes per byte and the model needs the rest (at least 64 MB).
func TextLimit() int64 {
	return max(64<<20, Total()/16)
}

// ConfigLimit bounds a small structured file read whole: configs, tokenizer.json, width maps.
const ConfigLimit = 256 << 20

// ReadFile reads the regular file path whole, refusing one of more than limit bytes before reading
// it. Devices and pipes are refused: /dev/zero never ends, and a corpus must read the same again when
// a run resumes.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		what := "a device or pipe"
		if st.IsDir() {
			what = "a directory"
		}
		return nil, fmt.Errorf("read %s: not a regular file (%s)", path, what)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("read %s: %s exceeds the %s limit", path, Size(float64(st.Size())), Size(float64(limit)))
	}
	b, err := ReadAll(f, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// ReadAll reads r to its end, refusing more than limit bytes.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than the %s limit", Size(float64(limit)))
	}
	return b, nil
}
