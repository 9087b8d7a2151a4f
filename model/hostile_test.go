package model

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"tern/format"
	"tern/internal/sysmem"
	"tern/tensor"
)

// saveTiny writes tinyConfig's model and returns its path, tensors and metadata.
func saveTiny(t *testing.T) (string, []format.Tensor, map[string]string) {
	t.Helper()
	lm, err := New(tinyConfig(), tensor.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, lm, "gpt2"); err != nil {
		t.Fatal(err)
	}
	ts, _ := ParamTensors(lm)
	return path, ts, FileMeta(lm, "model", "gpt2")
}

// allocated runs fn and returns the bytes it allocated on the heap.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestHugeConfigTinyFile reproduces the 372-byte model file whose metadata declares a huge
// config (every command died with "cannot allocate"): it is refused from its header, allocating
// almost nothing, with the file named.
func TestHugeConfigTinyFile(t *testing.T) {
	for _, cfg := range []string{
		`{"type":"transformer","objective":"causal","vocab":50257,"hidden":8192,"layers":64,"heads":64,"ffn":32768,"max_pos":4096,"linear":"bitnet","tie_embeddings":true,"norm":"layernorm"}`,
		`{"type":"transformer","objective":"causal","vocab":16777216,"hidden":16777216,"layers":4096,"heads":1,"ffn":16777216,"max_pos":16777216,"linear":"bitnet","tie_embeddings":true,"norm":"layernorm"}`,
		`{"type":"rnn","cell":"lstm","objective":"causal","vocab":1000000,"hidden":4096,"layers":8,"max_pos":256,"linear":"fp32"}`,
	} {
		path := filepath.Join(t.TempDir(), "huge.safetensors")
		if err := format.Write(path, map[string]string{MetaKind: "model", MetaConfig: cfg, MetaTokenizer: "gpt2"},
			[]format.Tensor{format.F32Tensor("tok_emb.weight", []int{2, 2}, []float32{1, 2, 3, 4})}); err != nil {
			t.Fatal(err)
		}
		var err error
		n := allocated(func() { _, _, err = Load(path) })
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v", cfg, err)
		}
		if n > 1<<20 {
			t.Errorf("refusing %s allocated %d bytes", cfg, n)
		}
		if _, _, err := LoadPacked(path); err == nil {
			t.Errorf("LoadPacked accepted it")
		}
	}
}

// TestConfigLimits: sizes beyond the limits, and models beyond the machine's memory, fail in Validate
// with the key named, before anything is allocated.
func TestConfigLimits(t *testing.T) {
	c := tinyConfig()
	c.Layers = MaxLayers + 1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "layers") {
		t.Errorf("layers %d: %v", c.Layers, err)
	}
	c = tinyConfig()
	c.Vocab = 1 << 30
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "vocab") {
		t.Errorf("vocab 2^30: %v", err)
	}
	if sysmem.Total() == 0 {
		t.Skip("memory size unknown")
	}
	c = tinyConfig()
	c.Vocab, c.Hidden, c.Heads = 16777215, 4096, 4 // the tokenizer.json id of the issue, at a usual width
	var err error
	if n := allocated(func() { _, err = New(c, tensor.NewRNG(1)) }); err == nil || !strings.Contains(err.Error(), "more than the") || n > 1<<20 {
		t.Errorf("vocab 2^24 x hidden 4096: %v (allocated %d)", err, n)
	}
}

// TestUnusedTensor: a tensor the config does not describe is refused, not ignored.
func TestUnusedTensor(t *testing.T) {
	_, ts, meta := saveTiny(t)
	path := filepath.Join(t.TempDir(), "extra.safetensors")
	ts = append(ts, format.F32Tensor("blocks.7.attn.qkv.weight", []int{2}, []float32{1, 2}))
	if err := format.Write(path, meta, ts); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path); err == nil || !strings.Contains(err.Error(), `"blocks.7.attn.qkv.weight" is not part of the model`) {
		t.Errorf("extra tensor: %v", err)
	}
}

// TestNonFiniteWeights: NaN or Inf in any weight is refused with the tensor named.
func TestNonFiniteWeights(t *testing.T) {
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		_, ts, meta := saveTiny(t)
		for i := range ts {
			if ts[i].Name == "blocks.1.ffn.fc.weight" {
				w, _ := ts[i].Float32()
				w[5] = v
				ts[i] = format.F32Tensor(ts[i].Name, ts[i].Shape, w)
			}
		}
		path := filepath.Join(t.TempDir(), "nan.safetensors")
		if err := format.Write(path, meta, ts); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(path)
		if !errors.Is(err, format.ErrNotFinite) || !strings.Contains(err.Error(), `"blocks.1.ffn.fc.weight"`) {
			t.Errorf("%v weight: %v", v, err)
		}
	}
}

// TestConfigStrictJSON: a config with trailing data, a second object, a key in another case, or a NaN
// dropout (which trained "done" and wrote an unloadable config) is refused.
func TestConfigStrictJSON(t *testing.T) {
	base := tinyConfig()
	for js, msg := range map[string]string{
		`{"hidden": 8, "HIDDEN": 4096}`: `"HIDDEN": keys are case-sensitive`,
		`{"hidden": 8} {"hidden": 16}`:  "data after the JSON value",
		`{"hidden": 8}]`:                "data after the JSON value",
		`{"Layers": 2}`:                 `did you mean "layers"`,
	} {
		if _, err := ParseConfig([]byte(js), base, "c.json"); err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "c.json") {
			t.Errorf("%s: %v, want %q", js, err, msg)
		}
	}
	c := base
	c.Dropout = math.NaN()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "dropout") {
		t.Errorf("dropout NaN: %v", err)
	}
	// A NaN cannot even be written as JSON: the config of such a run could never be saved.
	if _, err := json.Marshal(c); err == nil {
		t.Errorf("json.Marshal accepted a NaN dropout")
	}
}
