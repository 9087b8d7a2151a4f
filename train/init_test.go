package train

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"tern/format"
	"tern/model"
	"tern/nn"
)

// TestInit: --init takes a model file's architecture, weights and tokenizer (whatever model config
// the flags give), and the run it starts checkpoints and resumes bit-identically.
func TestInit(t *testing.T) {
	src := t.TempDir()
	cfgA, mcA := tinyRun(t, src, 2, 0, func(c *Config, m *model.Config) {
		*m = model.ArchDefaults(*m, model.TypeBitNet)
		m.Heads, m.KVHeads = 4, 2
	})
	ra, err := NewRun(cfgA, mcA, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ra.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The init file is an imported one: its Hugging Face metadata must reach the run's files.
	init := filepath.Join(src, "imported.safetensors")
	file, spec, err := model.Load(filepath.Join(src, ModelName))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := model.ParamTensors(file)
	if err != nil {
		t.Fatal(err)
	}
	meta := model.FileMeta(file, "model", spec)
	meta[model.MetaHFConfig] = `{"architectures": ["BitNetForCausalLM"]}`
	if err := format.Write(init, meta, ts); err != nil {
		t.Fatal(err)
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	mut := func(c *Config, m *model.Config) { c.Init = init } // m stays the transformer preset: ignored
	cfg, mc := tinyRun(t, dirA, 6, 0, mut)
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.Model.Config().JSON() != file.Config().JSON() || r.Tok.Spec() != spec {
		t.Fatalf("config %s, want %s; tokenizer from the file: %t", r.Model.Config().JSON(), file.Config().JSON(), r.Tok.Spec() == spec)
	}
	want, got := nn.Unique(file.Params()), nn.Unique(r.Model.Params())
	for i := range want {
		for j := range want[i].W {
			if got[i].W[j] != want[i].W[j] {
				t.Fatalf("%s[%d] = %v, the file holds %v", got[i].Name, j, got[i].W[j], want[i].W[j])
			}
		}
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	full := trainLosses(t, r)
	cfgB, _ := tinyRun(t, dirB, 6, 2, mut)
	rb, err := NewRun(cfgB, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rb.stopAt = 3
	rb.Train(context.Background())
	rc, err := NewRun(cfgB, r.Model.Config(), true, io.Discard) // resuming: the checkpoint's model (as the CLI passes it)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dirA, ModelName), filepath.Join(dirB, ModelName), filepath.Join(dirB, CheckpointName)} {
		h, err := format.ReadFileHeader(p, true)
		if err != nil || h.Meta[model.MetaHFConfig] != meta[model.MetaHFConfig] {
			t.Errorf("%s: %s = %q (%v), want the init file's", p, model.MetaHFConfig, h.Meta[model.MetaHFConfig], err)
		}
	}
	resumed := trainLosses(t, rc)
	if len(resumed) == 0 {
		t.Fatal("the resumed run logged no losses")
	}
	for step, l := range resumed {
		if full[step] != l {
			t.Errorf("step %d: resumed loss %v, uninterrupted %v", step, l, full[step])
		}
	}
}
