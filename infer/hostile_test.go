package infer

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"tern/model"
)

// TestPackedFileChangedOnDisk reproduces the served model that died with SIGBUS when its file was
// truncated, and answered with garbage when it was rewritten in place: a loaded model keeps the
// bytes it verified, so neither changes a single logit.
func TestPackedFileChangedOnDisk(t *testing.T) {
	r, dir := trainedTiny(t, nil)
	path := filepath.Join(dir, "m.tern")
	if _, err := Pack(path, r.Model, r.Tok.Spec(), model.PackFormat{}); err != nil {
		t.Fatal(err)
	}
	decode := func(m *Packed) []float32 {
		m.Reset()
		var all []float32
		for _, id := range []int{5, 17, 3, 60} {
			lg, err := m.Step(id)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, lg...)
		}
		return all
	}
	ref, err := LoadPacked(path)
	if err != nil {
		t.Fatal(err)
	}
	want := decode(ref)
	m, err := LoadPacked(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	size := func() int64 { st, _ := os.Stat(path); return st.Size() }()
	// Rewrite in place (same inode) with other bytes, then truncate to nothing.
	fd, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd.WriteAt(make([]byte, size), 0)
	if got := decode(m); !slices.Equal(got, want) {
		t.Errorf("logits changed after the file was overwritten in place")
	}
	fd.Truncate(0)
	fd.Close()
	if got := decode(m); !slices.Equal(got, want) {
		t.Errorf("logits changed after the file was truncated")
	}
}
