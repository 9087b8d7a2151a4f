package format

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// File is a whole safetensors file in memory, verified.
type File struct {
	Meta    map[string]string // "__metadata__"
	Tensors []Tensor          // in data order; Data slices point into the file's bytes
	Header  *Header

	index  map[string]int
	looked []bool // per tensor: asked for by Tensor, Get or Ternary (see Unused)
}

// Tensor returns the tensor named name.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, false
	}
	if f.looked != nil {
		f.looked[i] = true
	}
	return f.Tensors[i], true
}

// Unused lists, in data order, the tensors no one has asked for with Tensor, Get or Ternary. A loader
// calls it after taking everything its config describes: a tensor left over means the file is not
// the model its config says (a foreign or edited file), and is refused rather than ignored.
func (f *File) Unused() []string {
	var names []string
	for i, t := range f.Tensors {
		if i < len(f.looked) && !f.looked[i] {
			names = append(names, t.Name)
		}
	}
	return names
}

// CheckUsed is Unused as an error naming the first unused tensor (nil when all were used).
func (f *File) CheckUsed() error {
	u := f.Unused()
	if len(u) == 0 {
		return nil
	}
	more := ""
	if len(u) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(u)-1)
	}
	return fmt.Errorf("tensor %q%s is not part of the model its config describes", u[0], more)
}

// Get is Tensor with an error naming the missing tensor, for loaders.
func (f *File) Get(name string) (Tensor, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return Tensor{}, fmt.Errorf("%w: %q", ErrNoTensor, name)
	}
	return t, nil
}

// Close drops the file's tensors (their Data must not be used afterwards). It is safe to call twice.
func (f *File) Close() error {
	f.Tensors, f.index, f.looked = nil, nil, nil
	return nil
}

// Read reads a tern file whole, checking its header, format version, metadata checksum and every
// tensor's checksum. The header is read and checked first, and nothing is allocated beyond what the
// file really holds: a lying header, a device or a huge sparse file is refused before its data is
// read.
func Read(path string) (*File, error) { return readFile(path, true) }

// ReadAny reads any safetensors file; tern checksums are still checked where the metadata has them.
func ReadAny(path string) (*File, error) { return readFile(path, false) }

func readFile(path string, tern bool) (*File, error) {
	f, err := readChecked(path, tern)
	if err != nil {
		return nil, fmt.Errorf("format: read %s: %w", path, err)
	}
	return f, nil
}

func readChecked(path string, tern bool) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	h, size, err := headerOf(fd, tern)
	if err != nil {
		return nil, err
	}
	b := make([]byte, size) // == h.FileSize(), checked against the file's size by headerOf
	if _, err := io.ReadFull(io.NewSectionReader(fd, 0, size), b); err != nil {
		return nil, fmt.Errorf("%w (%w): the file changed while being read", ErrTruncated, err)
	}
	f, err := parse(b, tern)
	if err == nil && metaChecksum(f.Meta, f.Header.Entries) != metaChecksum(h.Meta, h.Entries) {
		err = fmt.Errorf("%w: the header changed while the file was being read", ErrBadHeader)
	}
	return f, err
}

// headerOf reads the header of an open regular file and checks it, and the file's size, before any
// data is read. Devices, pipes and directories are refused: their size says nothing of their contents
// (/dev/zero never ends).
func headerOf(fd *os.File, tern bool) (*Header, int64, error) {
	st, err := fd.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		what := "a device"
		switch {
		case st.IsDir():
			what = "a directory"
		case st.Mode()&os.ModeNamedPipe != 0:
			what = "a pipe"
		case st.Mode()&os.ModeSocket != 0:
			what = "a socket"
		}
		return nil, 0, fmt.Errorf("not a regular file (%s): tern reads model files only from regular files, whose size bounds what is read", what)
	}
	size := st.Size()
	if size < 8 {
		return nil, 0, fmt.Errorf("%w: %d bytes, less than the 8-byte header length", ErrTruncated, size)
	}
	h, err := readHeaderMax(fd, size-8)
	if err != nil {
		return nil, 0, err
	}
	if tern {
		err = h.checkTern()
	} else {
		err = h.verifyMeta()
	}
	if err != nil {
		return nil, 0, err
	}
	switch {
	case size < h.FileSize():
		return nil, 0, fmt.Errorf("%w: tensors need %d bytes, file has %d", ErrTruncated, h.FileSize(), size)
	case size > h.FileSize():
		return nil, 0, fmt.Errorf("%w: %d bytes after the last tensor (ends at %d)", ErrBadHeader, size-h.FileSize(), h.FileSize())
	}
	return h, size, nil
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
		err = h.checkTern()
	} else {
		err = h.verifyMeta()
	}
	if err != nil {
		return nil, err
	}
	switch size := int64(len(b)); {
	case size < h.FileSize():
		return nil, fmt.Errorf("%w: tensors need %d bytes, file has %d", ErrTruncated, h.FileSize(), size)
	case size > h.FileSize():
		return nil, fmt.Errorf("%w: %d bytes after the last tensor (ends at %d)", ErrBadHeader, size-h.FileSize(), h.FileSize())
	}
	data := b[h.DataStart:]
	f := &File{Meta: h.Meta, Header: h, index: h.index, Tensors: make([]Tensor, len(h.Entries)), looked: make([]bool, len(h.Entries))}
	for i, e := range h.Entries {
		d := data[e.Begin:e.End:e.End]
		if err := h.verify(e, d); err != nil {
			return nil, err
		}
		f.Tensors[i] = Tensor{Name: e.Name, DType: e.DType, Shape: e.Shape, Data: d}
	}
	return f, nil
}

// Open is Read for readers that keep the file for their lifetime (packed decoding, the server). It
// once mapped the file (MAP_SHARED); a served model then died with SIGBUS when the file on disk was
// truncated, and answered with garbage when it was rewritten in place. It now reads the file into
// private memory and verifies every checksum once, so what was verified is what is used. The cost is
// the file's size in anonymous memory instead of shared page cache (README, reliability).
// Call Close when done.
func Open(path string) (*File, error) { return readFile(path, true) }

// OpenAny is Open for any safetensors file.
func OpenAny(path string) (*File, error) { return readFile(path, false) }

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
	h, _, err := headerOf(fd, tern)
	if err != nil {
		return nil, fmt.Errorf("format: read %s: %w", path, err)
	}
	return h, nil
}
