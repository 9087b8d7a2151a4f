package format

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Write writes a tern file atomically: it writes a temporary file in path's directory, fsyncs it,
// renames it over path and fsyncs the directory, so a crash leaves either the old file or the new
// one, never a torn one. meta holds the caller's metadata (config, tokenizer, packing); the keys
// "format", "format_version" and "tern.crc32c.*" are tern's and must not be in it.
//
// Tensors are stored largest element size first (8-, 4-, 2-, then 1-byte types, each group in the
// given order), so that in a mapped file every tensor starts at a multiple of its element size.
func Write(path string, meta map[string]string, tensors []Tensor) error {
	if err := WriteAtomic(path, func(w io.Writer) error { return Encode(w, meta, tensors) }); err != nil {
		return fmt.Errorf("format: write %s: %w", path, err)
	}
	return nil
}

// Encode writes a tern file to w (Write without the file handling).
func Encode(w io.Writer, meta map[string]string, tensors []Tensor) error {
	m := make(map[string]string, len(meta)+len(tensors)+2)
	for k, v := range meta {
		if k == MetaFormat || k == MetaFormatVersion || strings.HasPrefix(k, MetaChecksumPref) {
			return fmt.Errorf("metadata key %q is reserved for tern", k)
		}
		// JSON would store invalid UTF-8 as U+FFFD: the file would not hold what was given (and
		// its header checksum, taken over what was given, would not match).
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("metadata %q: not valid UTF-8", k)
		}
		m[k] = v
	}
	m[MetaFormat] = "tern"
	m[MetaFormatVersion] = strconv.Itoa(Version)
	for _, t := range tensors {
		m[MetaChecksumPref+t.Name] = checksum(t.Data)
	}
	return encodeSum(w, m, tensors, true)
}

// encode writes a plain safetensors file with exactly the metadata meta.
func encode(w io.Writer, meta map[string]string, tensors []Tensor) error {
	return encodeSum(w, meta, tensors, false)
}

// encodeSum is encode, adding MetaChecksumKey to meta (once the tensor table is laid out) when sum
// is set.
func encodeSum(w io.Writer, meta map[string]string, tensors []Tensor, sum bool) error {
	order := make([]int, len(tensors))
	seen := make(map[string]bool, len(tensors))
	for i, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" || !utf8.ValidString(t.Name) {
			return fmt.Errorf("invalid tensor name %q", t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("tensor %q given twice", t.Name)
		}
		seen[t.Name] = true
		if err := t.check(); err != nil {
			return err
		}
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return tensors[order[a]].DType.Size() > tensors[order[b]].DType.Size() })
	entries := make([]Entry, len(tensors))
	var pos int64
	for i, j := range order {
		t := tensors[j]
		entries[i] = Entry{Name: t.Name, DType: t.DType, Shape: t.Shape, Begin: pos, End: pos + int64(len(t.Data))}
		pos += int64(len(t.Data))
	}
	if sum {
		meta[MetaChecksumKey] = metaChecksum(meta, entries)
	}
	js, err := encodeHeader(meta, entries)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	bw.Write(lenBuf[:])
	bw.Write(js)
	for _, j := range order {
		bw.Write(tensors[j].Data)
	}
	return bw.Flush() // bufio keeps the first error
}

// tempMark names the temporary files of atomic writes: ".<name>" + tempMark + random digits, so that
// the ones a killed save leaves behind can be recognized and removed (RemoveStaleTemps).
const tempMark = ".tern-tmp-"

// RemoveStaleTemps removes the temporary files that killed atomic writes left in dir: those of the
// file named base, or of any file when base is "". Call it where no other process can be writing the
// same files (a run directory when its run starts). It returns the names removed.
func RemoveStaleTemps(dir, base string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		stale := strings.HasPrefix(name, ".") && strings.Contains(name, tempMark)
		if base != "" {
			stale = strings.HasPrefix(name, "."+base+tempMark)
		}
		if !stale || !e.Type().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			return removed, err
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// WriteAtomic runs fill on a temporary file next to path (named for RemoveStaleTemps), fsyncs it,
// makes it 0644 and renames it into place, so a reader never sees a partial file. Every atomic write
// of tern's files goes through it (containers here, GGUF, tokenizer.json, cluster files, predictions).
func WriteAtomic(path string, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempMark+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil { // CreateTemp makes 0600
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable. Some platforms cannot fsync a directory; the data is already
	// safe there, so that failure is ignored.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteFileAtomic writes b to path as Write does its containers: a temp file in the same folder,
// fsync, rename; a crash leaves the old file or the new one, never a torn one.
func WriteFileAtomic(path string, b []byte) error {
	return WriteAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}
