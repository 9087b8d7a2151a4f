// Package testdata locates the shared, read-only datasets (shared/data/...) for tests.
//
// It is not a data loader: it only finds a path and skips the test when the data is absent, so
// `go test ./...` passes on a clean clone without the datasets.
package testdata

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedData returns filepath.Join(dir, parts...) where dir is $TERN_DATA if set, else the first
// shared/data found walking up from the current directory (../shared/data, ../../shared/data, ...).
// It calls t.Skip when the directory or the named file is absent.
func SharedData(t testing.TB, parts ...string) string {
	t.Helper()
	dir := os.Getenv("TERN_DATA")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Skipf("shared data: %v", err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			if fi, err := os.Stat(filepath.Join(d, "shared", "data")); err == nil && fi.IsDir() {
				dir = filepath.Join(d, "shared", "data")
				break
			}
			if filepath.Dir(d) == d {
				t.Skip("shared data: no shared/data above " + wd + " and TERN_DATA unset")
			}
		}
	}
	p := filepath.Join(append([]string{dir}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data: %v", err)
	}
	return p
}
