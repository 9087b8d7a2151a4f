//go:build !unix

package gguf

import "os"

// mapFile reads path whole where mmap is not available.
func mapFile(path string) ([]byte, func() error, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, errNotRegular
	}
	b, err := os.ReadFile(path)
	return b, nil, err
}
