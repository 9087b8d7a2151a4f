package train

import (
	"context"
	"errors"
	"io"
	"math"
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
