// checkpoint.go: Hugging Face checkpoints, a model folder's safetensors files as one set of tensors:
// model.safetensors alone, or the shards that model.safetensors.index.json maps each tensor to (as
// save_pretrained writes them). Each shard is an ordinary safetensors file, read with ReadAny (its
// header bounded and checked, its size matching the header). This is the file layer only: which
// tensors a model needs, and their shapes, belong to the importer (model/hf.go).

package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"tern/internal/sysmem"
)

// Names of a Hugging Face checkpoint's files.
const (
	SingleName = "model.safetensors"
	IndexName  = "model.safetensors.index.json"
)

// Checkpoint is a Hugging Face checkpoint's tensors, from one file or several shards.
type Checkpoint struct {
	Dir   string
	Files []string         // the safetensors files read, in the order read (base names)
	shard map[string]*File // base name -> file
	where map[string]string
	names []string // sorted
}

// shardIndex is model.safetensors.index.json.
type shardIndex struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// OpenCheckpoint reads the checkpoint in dir: the shards listed by model.safetensors.index.json when
// it exists, else model.safetensors. Every tensor must be in exactly one file, and an index must name
// each tensor of its shards: an index naming a missing file or a tensor its shard lacks, or two files
// holding one name, is an error naming both.
func OpenCheckpoint(dir string) (*Checkpoint, error) {
	c := &Checkpoint{Dir: dir, shard: map[string]*File{}, where: map[string]string{}}
	indexPath := filepath.Join(dir, IndexName)
	data, err := sysmem.ReadFile(indexPath, sysmem.ConfigLimit)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f, err := ReadAny(filepath.Join(dir, SingleName))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("format: %s has neither %s nor %s", dir, SingleName, IndexName)
			}
			return nil, err
		}
		c.add(SingleName, f)
		for _, t := range f.Tensors {
			c.where[t.Name] = SingleName
		}
	case err != nil:
		return nil, fmt.Errorf("format: read %s: %w", indexPath, err)
	default:
		var idx shardIndex
		if err := json.Unmarshal(data, &idx); err != nil {
			return nil, fmt.Errorf("format: %s: %w", indexPath, err)
		}
		if len(idx.WeightMap) == 0 {
			return nil, fmt.Errorf("format: %s: empty or missing weight_map", indexPath)
		}
		files := map[string]bool{}
		for name, file := range idx.WeightMap {
			// Shards sit beside the index: a path elsewhere (../x, /etc/x) is not one.
			if file == "" || file != filepath.Base(file) || strings.ContainsAny(file, `/\`) || file == "." || file == ".." {
				return nil, fmt.Errorf("format: %s: tensor %q is in %q, which is not a file name in the folder", indexPath, name, file)
			}
			files[file] = true
		}
		order := make([]string, 0, len(files))
		for f := range files {
			order = append(order, f)
		}
		sort.Strings(order)
		for _, file := range order {
			f, err := ReadAny(filepath.Join(dir, file))
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil, fmt.Errorf("format: %s names shard %s, which does not exist", indexPath, file)
				}
				return nil, err
			}
			c.add(file, f)
			for _, t := range f.Tensors {
				if want, ok := idx.WeightMap[t.Name]; !ok {
					return nil, fmt.Errorf("format: %s: tensor %q is not in %s", filepath.Join(dir, file), t.Name, IndexName)
				} else if want != file {
					return nil, fmt.Errorf("format: tensor %q is in %s, but %s says %s", t.Name, file, IndexName, want)
				}
				c.where[t.Name] = file
			}
		}
		for name, file := range idx.WeightMap {
			if _, ok := c.where[name]; !ok {
				return nil, fmt.Errorf("format: %s maps tensor %q to %s, which does not hold it", indexPath, name, file)
			}
		}
	}
	for name := range c.where {
		c.names = append(c.names, name)
	}
	sort.Strings(c.names)
	return c, nil
}

func (c *Checkpoint) add(name string, f *File) {
	c.Files = append(c.Files, name)
	c.shard[name] = f
}

// Names lists every tensor, sorted.
func (c *Checkpoint) Names() []string { return c.names }

// Tensor returns the tensor name and the file holding it.
func (c *Checkpoint) Tensor(name string) (Tensor, string, bool) {
	file, ok := c.where[name]
	if !ok {
		return Tensor{}, "", false
	}
	t, _ := c.shard[file].Tensor(name)
	return t, filepath.Join(c.Dir, file), true
}

// Float32 returns the values of a floating tensor (F32, F16 or BF16) whose shape must be shape.
// Errors name the file and the tensor: missing, another shape, a dtype that is not floating.
func (c *Checkpoint) Float32(name string, shape ...int) ([]float32, error) {
	t, path, ok := c.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("format: checkpoint %s has no tensor %q", c.Dir, name)
	}
	if !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("format: %s: tensor %q has shape %v, the config needs %v", path, name, t.Shape, shape)
	}
	switch t.DType {
	case F32, F16, BF16:
	default:
		return nil, fmt.Errorf("format: %s: tensor %q is %s; F32, F16 or BF16 expected", path, name, t.DType)
	}
	v, err := t.Float32()
	if err != nil {
		return nil, fmt.Errorf("format: %s: tensor %q: %w", path, name, err)
	}
	return v, nil
}

// WriteCheckpoint writes tensors as a Hugging Face checkpoint in dir: model.safetensors when they
// fit in maxShard bytes (0: no limit), else shards model-0000i-of-0000n.safetensors of at most
// maxShard bytes each (a tensor larger than that gets a shard of its own) and the index. Files hold
// exactly the metadata meta (no tern keys: Hugging Face writes {"format": "pt"}) and are written
// atomically, the index last, so a reader never sees an index naming a shard not yet complete.
func WriteCheckpoint(dir string, meta map[string]string, tensors []Tensor, maxShard int64) error {
	var total int64
	for _, t := range tensors {
		total += int64(len(t.Data))
	}
	write := func(name string, ts []Tensor) error {
		path := filepath.Join(dir, name)
		m := make(map[string]string, len(meta))
		for k, v := range meta {
			m[k] = v
		}
		if err := WriteAtomic(path, func(w io.Writer) error { return encode(w, m, ts) }); err != nil {
			return fmt.Errorf("format: write %s: %w", path, err)
		}
		return nil
	}
	if maxShard <= 0 || total <= maxShard {
		if err := write(SingleName, tensors); err != nil {
			return err
		}
		os.Remove(filepath.Join(dir, IndexName)) // a stale index would shadow the new file
		return nil
	}
	var groups [][]Tensor
	var size int64
	for _, t := range tensors {
		if len(groups) == 0 || (size+int64(len(t.Data)) > maxShard && size > 0) {
			groups = append(groups, nil)
			size = 0
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], t)
		size += int64(len(t.Data))
	}
	idx := shardIndex{Metadata: map[string]any{"total_size": total}, WeightMap: map[string]string{}}
	for i, g := range groups {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(groups))
		if err := write(name, g); err != nil {
			return err
		}
		for _, t := range g {
			idx.WeightMap[t.Name] = name
		}
	}
	js, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, IndexName)
	if err := WriteFileAtomic(path, append(js, '\n')); err != nil {
		return fmt.Errorf("format: write %s: %w", path, err)
	}
	return nil
}
