//go:build !linux

package format

import "os"

// mapFile reads the file whole where tern does not map files (non-linux).
func mapFile(path string) ([]byte, func() error, error) {
	b, err := os.ReadFile(path)
	return b, nil, err
}
