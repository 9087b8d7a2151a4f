package train

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"tern/dist"
	"tern/format"
	"tern/internal/sysmem"
	"tern/model"
)

// TestBadFloats reproduces settings that trained "done" but wrote an unloadable config (a NaN cannot
// be JSON) or drove the learning rate negative: each is refused with its key named.
func TestBadFloats(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		mut  func(*Config, *model.Config)
		want string
	}{
		{func(c *Config, m *model.Config) { m.Dropout = nan }, "dropout"},
		{func(c *Config, m *model.Config) { c.MaskProb = nan }, "mask_prob"},
		{func(c *Config, m *model.Config) { c.MinLR = -1e-4 }, "min_lr"},
		{func(c *Config, m *model.Config) { c.MinLR = 2 * c.LR }, "min_lr"},
		{func(c *Config, m *model.Config) { c.LR = nan }, "lr"},
		{func(c *Config, m *model.Config) { c.WD = inf }, "wd"},
		{func(c *Config, m *model.Config) { c.Clip = -1 }, "clip"},
		{func(c *Config, m *model.Config) { c.Jitter = nan }, "jitter"},
		{func(c *Config, m *model.Config) { c.Jitter = -1e-6 }, "jitter"},
		{func(c *Config, m *model.Config) { c.Jitter = 1 }, "jitter must be in [0, 1)"},
	} {
		cfg, mc := tinyRun(t, t.TempDir(), 2, 0, c.mut)
		if _, err := NewRun(cfg, mc, false, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %s, got %v", c.want, err)
		}
	}
}

// TestBatchBeyondMemory reproduces `--batch 268435456`, which died with a fatal out-of-memory error:
// it is refused before anything of its size is allocated.
func TestBatchBeyondMemory(t *testing.T) {
	if sysmem.Total() == 0 {
		t.Skip("memory size unknown")
	}
	cfg, mc := tinyRun(t, t.TempDir(), 2, 0, func(c *Config, m *model.Config) { c.Batch = 268435456 })
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	_, err := NewRun(cfg, mc, false, io.Discard)
	runtime.ReadMemStats(&ms1)
	if err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Errorf("batch 268435456: %v", err)
	}
	if a := ms1.TotalAlloc - ms0.TotalAlloc; a > 256<<20 {
		t.Errorf("refusing it allocated %d bytes", a)
	}
}

// rewriteMeta rewrites a tern file with some metadata values replaced (tern's own keys dropped:
// format.Write sets them again, with fresh checksums).
func rewriteMeta(t *testing.T, path string, set map[string]string) {
	t.Helper()
	f, err := format.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for k, v := range f.Meta {
		if k != format.MetaFormat && k != format.MetaFormatVersion && !strings.HasPrefix(k, format.MetaChecksumPref) {
			meta[k] = v
		}
	}
	for k, v := range set {
		meta[k] = v
	}
	if err := format.Write(path, meta, f.Tensors); err != nil {
		t.Fatal(err)
	}
}

// TestZeroRNGStateRefused reproduces the checkpoint whose sampler state was all zeros: --resume spun at
// 100% CPU, deaf to SIGINT. It is refused with the key named.
func TestZeroRNGStateRefused(t *testing.T) {
	dir := t.TempDir()
	cfg, mc := tinyRun(t, dir, 2, 0, nil)
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, CheckpointName)
	for _, key := range []string{metaSamplerRNG, metaDropoutRNG} {
		rewriteMeta(t, ckpt, map[string]string{key: `{"s":[0,0,0,0],"have_spare":false,"spare":0}`})
		cfg.Steps = 4
		if _, err := NewRun(cfg, mc, true, io.Discard); err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "all zeros") {
			t.Errorf("%s all zeros: %v", key, err)
		}
		rewriteMeta(t, ckpt, map[string]string{key: `{"s":[1,2,3,4],"have_spare":false,"spare":0}`})
	}
	// A stray train-config key in another case is not silently matched.
	rewriteMeta(t, ckpt, map[string]string{metaTrainConfig: strings.Replace(mustJSON(cfg), `"steps"`, `"STEPS"`, 1)})
	if _, err := NewRun(cfg, mc, true, io.Discard); err == nil || !strings.Contains(err.Error(), "case-sensitive") {
		t.Errorf("STEPS key: %v", err)
	}
}

// TestTokenizeCanceled: a canceled context stops NewRunContext during tokenization (SIGTERM during the
// tokenization of a 50 MB corpus took 19 s to act; now it is checked between 1 MB chunks).
func TestTokenizeCanceled(t *testing.T) {
	cfg, mc := tinyRun(t, t.TempDir(), 2, 0, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewRunContext(ctx, cfg, mc, false, io.Discard, dist.Single()); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// TestNaNStopMessage: after a NaN stop the message says whether a checkpoint exists, and its step (it
// said "the last checkpoint is intact" when none had been written).
func TestNaNStopMessage(t *testing.T) {
	dir := t.TempDir()
	cfg, mc := tinyRun(t, dir, 6, 2, nil)
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r.Model.Params()[0].W[0] = float32(math.NaN())
	if _, err := r.Train(context.Background()); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "no checkpoint was written") {
		t.Errorf("NaN at step 1: %v", err)
	}
	r, err = NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r.stopAt = 2
	if _, err := r.Train(context.Background()); !errors.Is(err, errStopped) {
		t.Fatal(err)
	}
	r, err = NewRun(cfg, mc, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r.Model.Params()[0].W[0] = float32(math.NaN())
	if _, err := r.Train(context.Background()); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "at step 2, is intact") {
		t.Errorf("NaN at step 3: %v", err)
	}
}

// TestMetricsTornLineRepaired: a torn last line (a kill or a full disk mid-write) is cut on resume,
// so the next record starts on a line of its own and the log reads back whole.
func TestMetricsTornLineRepaired(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.jsonl")
	for _, tail := range []string{`{"step":3,"split":"tr`, `{"step":3,"split":"train","loss":2}`} {
		os.WriteFile(path, []byte(`{"step":1,"split":"train","loss":3}`+"\n"+`{"step":2,"split":"train","loss":2.5}`+"\n"+tail), 0o644)
		l, err := NewLogger(dir, io.Discard, true)
		if err != nil {
			t.Fatal(err)
		}
		l.Metric(Metric{Step: 4, Split: "train", Loss: 1})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		ms, err := ReadMetrics(path)
		if err != nil {
			t.Fatalf("tail %q: %v", tail, err)
		}
		want := 3
		if !strings.HasSuffix(tail, "tr") {
			want = 4 // a whole record that only lacked its newline is kept
		}
		if len(ms) != want || ms[len(ms)-1].Step != 4 {
			t.Errorf("tail %q: %d records %+v", tail, len(ms), ms)
		}
	}
}

// TestMetricsWriteErrorStops: a metrics.jsonl that cannot be written (here /dev/full: every write
// fails with ENOSPC) stops the run with the file named; the error was ignored before.
func TestMetricsWriteErrorStops(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	dir := t.TempDir()
	if err := os.Symlink("/dev/full", filepath.Join(dir, "metrics.jsonl")); err != nil {
		t.Skip(err)
	}
	cfg, mc := tinyRun(t, dir, 4, 0, nil)
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err == nil || !strings.Contains(err.Error(), "metrics.jsonl") || !strings.Contains(err.Error(), "no space") {
		t.Errorf("metrics on a full device: %v", err)
	}
}

// TestStaleTempsRemoved: temporary files of killed saves are removed when a run starts in the folder.
func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	stale := []string{".checkpoint.safetensors.tern-tmp-1", ".model.safetensors.tern-tmp-22", ".loss.png.tern-tmp-3"}
	for _, n := range append(stale, "keep.txt", ".hidden") {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600)
	}
	cfg, mc := tinyRun(t, dir, 1, 0, nil)
	if _, err := NewRun(cfg, mc, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s not removed", n)
		}
	}
	for _, n := range []string{"keep.txt", ".hidden"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed", n)
		}
	}
}
