package format

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hfTensors are a checkpoint's worth of tensors in the three floating dtypes, values exactly
// representable in each (so a read gives them back bit for bit).
func hfTensors() ([]Tensor, map[string][]float32) {
	vals := map[string][]float32{}
	var ts []Tensor
	add := func(name string, shape []int, mk func(string, []int, []float32) Tensor) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%7-3) * 0.25 // exact in F16 and BF16
		}
		vals[name] = v
		ts = append(ts, mk(name, shape, v))
	}
	add("model.embed_tokens.weight", []int{16, 8}, BF16Tensor)
	add("model.layers.0.self_attn.q_proj.weight", []int{8, 8}, F16Tensor)
	add("model.layers.0.input_layernorm.weight", []int{8}, F32Tensor)
	add("model.layers.1.mlp.down_proj.weight", []int{8, 24}, BF16Tensor)
	add("model.norm.weight", []int{8}, BF16Tensor)
	return ts, vals
}

func TestCheckpointRoundTrip(t *testing.T) {
	ts, vals := hfTensors()
	for _, shard := range []int64{0, 300} { // one file; shards of at most 300 bytes
		dir := t.TempDir()
		if err := WriteCheckpoint(dir, map[string]string{"format": "pt"}, ts, shard); err != nil {
			t.Fatal(err)
		}
		c, err := OpenCheckpoint(dir)
		if err != nil {
			t.Fatal(err)
		}
		if shard > 0 && len(c.Files) < 3 {
			t.Fatalf("shard limit %d: %d files", shard, len(c.Files))
		}
		if len(c.Names()) != len(ts) {
			t.Fatalf("%d tensors, want %d", len(c.Names()), len(ts))
		}
		for _, want := range ts {
			got, _, ok := c.Tensor(want.Name)
			if !ok || got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || string(got.Data) != string(want.Data) {
				t.Errorf("%s: read back %v %v, wrote %v %v", want.Name, got.DType, got.Shape, want.DType, want.Shape)
			}
			v, err := c.Float32(want.Name, want.Shape...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range v {
				if v[i] != vals[want.Name][i] {
					t.Fatalf("%s[%d] = %v, want %v", want.Name, i, v[i], vals[want.Name][i])
				}
			}
		}
		for _, f := range c.Files { // plain safetensors: exactly the given metadata
			h, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParseAny(h)
			if err != nil || len(p.Meta) != 1 || p.Meta["format"] != "pt" {
				t.Fatalf("%s: metadata %v, %v", f, p.Meta, err)
			}
		}
		if shard > 0 {
			var idx shardIndex
			data, _ := os.ReadFile(filepath.Join(dir, IndexName))
			var total int
			for _, t := range ts {
				total += len(t.Data)
			}
			if err := json.Unmarshal(data, &idx); err != nil || idx.Metadata["total_size"] != float64(total) {
				t.Errorf("index: %v, total_size %v", err, idx.Metadata["total_size"])
			}
		}
	}
}

// TestCheckpointErrors: each broken checkpoint is refused with an error naming the file (and tensor).
func TestCheckpointErrors(t *testing.T) {
	ts, _ := hfTensors()
	sharded := func(t *testing.T) string {
		dir := t.TempDir()
		if err := WriteCheckpoint(dir, nil, ts, 300); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	editIndex := func(t *testing.T, dir string, edit func(m map[string]string)) {
		var idx shardIndex
		data, _ := os.ReadFile(filepath.Join(dir, IndexName))
		json.Unmarshal(data, &idx)
		edit(idx.WeightMap)
		data, _ = json.Marshal(idx)
		os.WriteFile(filepath.Join(dir, IndexName), data, 0o644)
	}
	for _, c := range []struct {
		name  string
		setup func(t *testing.T) string
		want  []string
	}{
		{"empty folder", func(t *testing.T) string { return t.TempDir() }, []string{"neither", IndexName}},
		{"missing shard", func(t *testing.T) string {
			dir := sharded(t)
			os.Remove(filepath.Join(dir, "model-00002-of-00004.safetensors"))
			return dir
		}, []string{IndexName, "model-00002-of-00004.safetensors", "does not exist"}},
		{"tensor not in its shard", func(t *testing.T) string {
			dir := sharded(t)
			editIndex(t, dir, func(m map[string]string) { m["lm_head.weight"] = "model-00001-of-00004.safetensors" })
			return dir
		}, []string{`"lm_head.weight"`, "does not hold it"}},
		{"tensor missing from the index", func(t *testing.T) string {
			dir := sharded(t)
			editIndex(t, dir, func(m map[string]string) { delete(m, "model.layers.0.input_layernorm.weight") })
			return dir
		}, []string{`"model.layers.0.input_layernorm.weight"`, "is not in " + IndexName}},
		{"shard outside the folder", func(t *testing.T) string {
			dir := sharded(t)
			editIndex(t, dir, func(m map[string]string) { m["model.norm.weight"] = "../model.safetensors" })
			return dir
		}, []string{"../model.safetensors", "not a file name"}},
		{"index not JSON", func(t *testing.T) string {
			dir := sharded(t)
			os.WriteFile(filepath.Join(dir, IndexName), []byte("{"), 0o644)
			return dir
		}, []string{IndexName}},
		{"truncated file", func(t *testing.T) string {
			dir := t.TempDir()
			WriteCheckpoint(dir, nil, ts, 0)
			p := filepath.Join(dir, SingleName)
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()-3)
			return dir
		}, []string{SingleName, "truncated"}},
		{"offsets outside the file", func(t *testing.T) string {
			dir := t.TempDir()
			hdr := []byte(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,4096]}}`)
			b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
			b = append(append(b, hdr...), make([]byte, 16)...)
			os.WriteFile(filepath.Join(dir, SingleName), b, 0o644)
			return dir
		}, []string{SingleName}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := OpenCheckpoint(c.setup(t))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// Shape and dtype mismatches name the file and the tensor.
	dir := t.TempDir()
	WriteCheckpoint(dir, nil, append(ts, I8Tensor("q.int8", []int{2}, []int8{1, -1})), 0)
	c, err := OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Float32("model.norm.weight", 9); err == nil || !strings.Contains(err.Error(), "[8]") || !strings.Contains(err.Error(), SingleName) {
		t.Errorf("shape mismatch: %v", err)
	}
	if _, err := c.Float32("q.int8", 2); err == nil || !strings.Contains(err.Error(), "I8") {
		t.Errorf("dtype mismatch: %v", err)
	}
	if _, err := c.Float32("nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing tensor: %v", err)
	}
	if errors.Is(err, os.ErrNotExist) {
		t.Error("unexpected")
	}
}

// FuzzCheckpointIndex feeds arbitrary model.safetensors.index.json contents beside two valid shards:
// OpenCheckpoint must return a checkpoint or an error, never panic or read outside the folder.
func FuzzCheckpointIndex(f *testing.F) {
	f.Add([]byte(`{"metadata":{"total_size":8},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`))
	f.Add([]byte(`{"weight_map":{"a":"../x"}}`))
	f.Add([]byte(`{"weight_map":null}`))
	f.Add([]byte(`[]`))
	dir := f.TempDir()
	WriteCheckpoint(dir, nil, []Tensor{F32Tensor("a", []int{1}, []float32{1}), F32Tensor("b", []int{1}, []float32{2})}, 4)
	f.Fuzz(func(t *testing.T, index []byte) {
		if err := os.WriteFile(filepath.Join(dir, IndexName), index, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := OpenCheckpoint(dir)
		if err == nil {
			for _, n := range c.Names() {
				if _, _, ok := c.Tensor(n); !ok {
					t.Fatalf("listed tensor %q missing", n)
				}
			}
		}
	})
}
