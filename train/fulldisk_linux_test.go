package train

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tern/format"
)

// TestFullDiskKeepsCheckpoint saves into a tmpfs too small for a second checkpoint: the save must fail
// with an error naming the file and the cause, and the first checkpoint must stay whole. It needs root
// and a mountable tmpfs (as on the development machine and CI); elsewhere it skips.
func TestFullDiskKeepsCheckpoint(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=560k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() }) // runs before TempDir's removal
	cfg, mc := tinyRun(t, filepath.Join(dir, "run"), 4, 2, nil)
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Train(context.Background())
	if err == nil {
		t.Skip("the checkpoints fit after all (model sizes changed): nothing to test")
	}
	if !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v, want one naming the file and the full disk", err)
	}
	f, err := format.Read(filepath.Join(cfg.Out, CheckpointName))
	if err != nil {
		t.Fatalf("the earlier checkpoint is damaged: %v", err)
	}
	if f.Meta[metaStep] != "2" {
		t.Fatalf("checkpoint step %s, want 2", f.Meta[metaStep])
	}
	left, _ := filepath.Glob(filepath.Join(cfg.Out, ".*tmp*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}
