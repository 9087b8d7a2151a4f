// Package testenv finds the shared, read-only data sets (WikiText-2, Gutenberg, UD English EWT, ...)
// that tests read. The repository is checked out beside shared/, so the data is normally at
// ../shared/data from the module root (../../shared/data from a worktree under wt/); TERN_DATA
// overrides the search. Tests skip, saying where they looked, when the data is absent.
// (It is not named testdata: the go tool ignores directories of that name.)
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot returns the directory holding go.mod, walking up from the working directory (a test's
// working directory is its package directory). It skips the test if there is none.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Skipf("testenv: working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Skip("testenv: no go.mod above the working directory")
		}
		dir = up
	}
}

// DataDir returns the shared data directory, or "" if it cannot be found: $TERN_DATA if set, else
// the first of ../shared/data and ../../shared/data (from the module root) that exists.
func DataDir(root string) string {
	if d := os.Getenv("TERN_DATA"); d != "" {
		return d
	}
	for _, rel := range []string{"../shared/data", "../../shared/data"} {
		d := filepath.Join(root, rel)
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return ""
}

// SharedData returns the path of parts under the shared data directory, skipping the test if the
// directory or the path does not exist.
func SharedData(t testing.TB, parts ...string) string {
	t.Helper()
	root := ModuleRoot(t)
	d := DataDir(root)
	if d == "" {
		t.Skipf("testenv: shared data not found (set TERN_DATA, or check out the repo beside shared/; looked in %s/../shared/data and %s/../../shared/data)", root, root)
	}
	p := filepath.Join(append([]string{d}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("testenv: %v", err)
	}
	return p
}
