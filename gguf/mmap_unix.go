//go:build unix

package gguf

import (
	"os"
	"syscall"
)

// mapFile maps path read-only and shared: a GGUF model's weights are paged in on demand and shared
// with the page cache instead of copied into the Go heap. Files that cannot be mapped (empty, or on a
// file system that refuses mmap) are read whole; unmap is then nil. Only regular files are accepted.
func mapFile(path string) ([]byte, func() error, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fd.Close() // the mapping outlives the descriptor
	st, err := fd.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, errNotRegular
	}
	size := st.Size()
	if size == 0 || size != int64(int(size)) {
		b, err := os.ReadFile(path)
		return b, nil, err
	}
	b, err := syscall.Mmap(int(fd.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		b, err := os.ReadFile(path)
		return b, nil, err
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
