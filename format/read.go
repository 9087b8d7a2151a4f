package format

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// File is a whole safetensors file in memory (Read) or mapped read-only (Open).
type File struct {
	Meta    map[string]string // "__metadata__"
	Tensors []Tensor          // in data order; Data slices point into the file's bytes
	Header  *Header

	index map[string]int
	unmap func() error // releases the mapping (Open on linux); nil otherwise
}

// Tensor returns the tensor named name.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, false
	}
	return f.Tensors[i], true
}

// Get is Tensor with an error naming the missing tensor, for loaders.
func (f *File) Get(name string) (Tensor, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return Tensor{}, fmt.Errorf("%w: %q", ErrNoTensor, name)
	}
	return t, nil
}

// Close releases the mapping of a file from Open; the tensors' Data must not be used afterwards.
// It is a no-op for Read and safe to call twice.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	u := f.unmap
	f.unmap = nil
	f.Tensors, f.index = nil, nil
	return u()
}

// Read reads a tern file whole, checking its header, format version and every tensor's checksum.
func Read(path string) (*File, error) { return readFile(path, true) }

// ReadAny reads any safetensors file; tern checksums are still checked where the metadata has them.
func ReadAny(path string) (*File, error) { return readFile(path, false) }

func readFile(path string, tern bool) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("format: read %s: %w", path, err)
	}
	f, err := parse(b, tern)
	if err != nil {
		return nil, fmt.Errorf("format: read %s: %w", path, err)
	}
	return f, nil
}

// Parse parses a tern file held in b (Data slices alias b).
func Parse(b []byte) (*File, error) { return parse(b, true) }

// ParseAny parses any safetensors file held in b.
func ParseAny(b []byte) (*File, error) { return parse(b, false) }

func parse(b []byte, tern bool) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes, less than the 8-byte header length", ErrTruncated, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d-byte limit", ErrBadHeader, n, MaxHeaderSize)
	}
	if uint64(len(b)-8) < n {
		return nil, fmt.Errorf("%w: header says %d bytes, file has %d after the length", ErrTruncated, n, len(b)-8)
	}
	h, err := parseHeader(b[8 : 8+n])
	if err != nil {
		return nil, err
	}
	if tern {
		if err := h.checkTern(); err != nil {
			return nil, err
		}
	}
	switch size := int64(len(b)); {
	case size < h.FileSize():
		return nil, fmt.Errorf("%w: tensors need %d bytes, file has %d", ErrTruncated, h.FileSize(), size)
	case size > h.FileSize():
		return nil, fmt.Errorf("%w: %d bytes after the last tensor (ends at %d)", ErrBadHeader, size-h.FileSize(), h.FileSize())
	}
	data := b[h.DataStart:]
	f := &File{Meta: h.Meta, Header: h, index: h.index, Tensors: make([]Tensor, len(h.Entries))}
	for i, e := range h.Entries {
		d := data[e.Begin:e.End:e.End]
		if err := h.verify(e, d); err != nil {
			return nil, err
		}
		f.Tensors[i] = Tensor{Name: e.Name, DType: e.DType, Shape: e.Shape, Data: d}
	}
	return f, nil
}

// Open maps a tern file read-only (on linux; elsewhere it reads it whole) and checks it like Read.
// Call Close when done; the tensors' Data is read-only and valid until then.
func Open(path string) (*File, error) { return openFile(path, true) }

// OpenAny is Open for any safetensors file.
func OpenAny(path string) (*File, error) { return openFile(path, false) }

func openFile(path string, tern bool) (*File, error) {
	b, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("format: open %s: %w", path, err)
	}
	f, err := parse(b, tern)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		return nil, fmt.Errorf("format: open %s: %w", path, err)
	}
	f.unmap = unmap
	return f, nil
}

// ReadTensor reads and checks one tensor of a file whose header h came from ReadHeader, without
// reading the rest of the file.
func ReadTensor(r io.ReaderAt, h *Header, name string) (Tensor, error) {
	e, ok := h.Lookup(name)
	if !ok {
		return Tensor{}, fmt.Errorf("format: %w: %q", ErrNoTensor, name)
	}
	d := make([]byte, e.End-e.Begin)
	if _, err := r.ReadAt(d, h.DataStart+e.Begin); err != nil {
		if err == io.EOF {
			err = ErrTruncated
		}
		return Tensor{}, fmt.Errorf("format: tensor %q: %w", name, err)
	}
	if err := h.verify(e, d); err != nil {
		return Tensor{}, fmt.Errorf("format: %w", err)
	}
	return Tensor{Name: e.Name, DType: e.DType, Shape: e.Shape, Data: d}, nil
}

// ReadFileHeader opens path and reads only its header, checking it against the file's size (and,
// with tern set, the tern metadata).
func ReadFileHeader(path string, tern bool) (*Header, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("format: read %s: %w", path, err)
	}
	defer fd.Close()
	h, err := ReadHeader(fd)
	if err == nil && tern {
		err = h.checkTern()
	}
	if err == nil {
		var st os.FileInfo
		if st, err = fd.Stat(); err == nil && st.Size() != h.FileSize() {
			if st.Size() < h.FileSize() {
				err = fmt.Errorf("%w: tensors need %d bytes, file has %d", ErrTruncated, h.FileSize(), st.Size())
			} else {
				err = fmt.Errorf("%w: %d bytes after the last tensor", ErrBadHeader, st.Size()-h.FileSize())
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("format: read %s: %w", path, err)
	}
	return h, nil
}
