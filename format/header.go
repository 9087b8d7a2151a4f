package format

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Header is a parsed and validated safetensors header: every entry has a known dtype, a shape whose
// byte size matches its offsets, and the entries tile [0, DataSize) with no holes or overlaps.
type Header struct {
	Meta      map[string]string // "__metadata__", never nil
	Entries   []Entry           // in data order (ascending offsets)
	DataStart int64             // file offset of the data region: 8 + header length
	DataSize  int64             // bytes in the data region the entries cover
	index     map[string]int
}

// Entry describes one tensor in the header.
type Entry struct {
	Name  string
	DType DType
	Shape []int
	Begin int64 // offsets relative to DataStart
	End   int64
}

// Lookup returns the entry named name.
func (h *Header) Lookup(name string) (Entry, bool) {
	i, ok := h.index[name]
	if !ok {
		return Entry{}, false
	}
	return h.Entries[i], true
}

// FileSize is the exact size a file with this header must have.
func (h *Header) FileSize() int64 { return h.DataStart + h.DataSize }

// ReadHeader reads the 8-byte length and the JSON header from r and validates them (the tensor data
// is not read, so this is cheap on a file of any size). Follow it with ReadTensor for the data.
func ReadHeader(r io.Reader) (*Header, error) { return readHeaderMax(r, MaxHeaderSize) }

// readHeaderMax is ReadHeader for a header of at most max bytes (the file's size less the length,
// when it is known).
func readHeaderMax(r io.Reader, max int64) (*Header, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("header length: %w (%w)", ErrTruncated, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d-byte limit", ErrBadHeader, n, MaxHeaderSize)
	}
	if n > uint64(max) {
		return nil, fmt.Errorf("%w: header says %d bytes, file has %d after the length", ErrTruncated, n, max)
	}
	// Grow with what is really there, so a lying length on a short stream allocates little.
	buf, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("%d-byte header: %w", n, err)
	}
	if uint64(len(buf)) < n {
		return nil, fmt.Errorf("%w: header says %d bytes, only %d follow", ErrTruncated, n, len(buf))
	}
	return parseHeader(buf)
}

// rawEntry is one tensor's JSON object.
type rawEntry struct {
	DType       DType   `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// parseHeader validates the JSON header bytes (without the length prefix).
func parseHeader(buf []byte) (*Header, error) {
	trimmed := bytes.TrimRight(buf, " ")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrBadHeader)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadHeader, err)
	}
	h := &Header{Meta: map[string]string{}, DataStart: 8 + int64(len(buf)), index: map[string]int{}}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &h.Meta); err != nil {
				return nil, fmt.Errorf("%w: __metadata__ must map strings to strings: %v", ErrBadHeader, err)
			}
			if h.Meta == nil { // "__metadata__": null
				h.Meta = map[string]string{}
			}
			continue
		}
		var e struct {
			DType       DType   `json:"dtype"`
			Shape       *[]int  `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := exactKeys(msg, "dtype", "shape", "data_offsets"); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrBadHeader, name, err)
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrBadHeader, name, err)
		}
		sz := e.DType.Size()
		if sz == 0 {
			return nil, fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrBadHeader, name, e.DType)
		}
		if e.Shape == nil {
			return nil, fmt.Errorf("%w: tensor %q: missing shape", ErrBadHeader, name)
		}
		shape := *e.Shape
		if len(e.DataOffsets) != 2 {
			return nil, fmt.Errorf("%w: tensor %q: data_offsets must be [begin, end], got %v", ErrBadHeader, name, e.DataOffsets)
		}
		nel, ok := numElements(shape)
		if !ok {
			return nil, fmt.Errorf("%w: tensor %q: invalid shape %v", ErrBadHeader, name, shape)
		}
		b, en := e.DataOffsets[0], e.DataOffsets[1]
		if b < 0 || en < b {
			return nil, fmt.Errorf("%w: tensor %q: bad data_offsets [%d, %d]", ErrBadHeader, name, b, en)
		}
		if en-b != nel*int64(sz) {
			return nil, fmt.Errorf("%w: tensor %q: %s%v needs %d bytes but data_offsets [%d, %d] span %d",
				ErrBadHeader, name, e.DType, shape, nel*int64(sz), b, en, en-b)
		}
		h.Entries = append(h.Entries, Entry{Name: name, DType: e.DType, Shape: shape, Begin: b, End: en})
	}
	// Data order; ties (zero-size tensors) by name so the order never depends on map iteration.
	sort.Slice(h.Entries, func(i, j int) bool {
		a, b := h.Entries[i], h.Entries[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		if a.End != b.End {
			return a.End < b.End
		}
		return a.Name < b.Name
	})
	var pos int64
	for i, e := range h.Entries {
		if e.Begin != pos {
			if e.Begin < pos {
				return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] overlap the previous tensor (ends at %d)", ErrBadHeader, e.Name, e.Begin, e.End, pos)
			}
			return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] leave a hole after byte %d", ErrBadHeader, e.Name, e.Begin, e.End, pos)
		}
		pos = e.End
		h.index[e.Name] = i
	}
	h.DataSize = pos
	return h, nil
}

// exactKeys checks that the JSON object msg has only the given keys, spelled exactly: encoding/json
// matches field names case-insensitively, which would let "Dtype" stand for "dtype".
func exactKeys(msg json.RawMessage, keys ...string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		return err
	}
	for k := range m {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("unknown key %q (want %s)", k, strings.Join(keys, ", "))
		}
	}
	return nil
}

// encodeHeader renders the JSON header for entries and meta, padded with spaces so that 8 + its
// length is a multiple of dataAlign.
func encodeHeader(meta map[string]string, entries []Entry) ([]byte, error) {
	obj := make(map[string]any, len(entries)+1)
	if len(meta) > 0 {
		obj["__metadata__"] = meta
	}
	for _, e := range entries {
		shape := e.Shape
		if shape == nil {
			shape = []int{}
		}
		obj[e.Name] = rawEntry{DType: e.DType, Shape: shape, DataOffsets: []int64{e.Begin, e.End}}
	}
	js, err := json.Marshal(obj) // map keys are sorted: the same tensors give the same bytes
	if err != nil {
		return nil, err
	}
	if pad := (dataAlign - (8+len(js))%dataAlign) % dataAlign; pad > 0 {
		js = append(js, bytes.Repeat([]byte(" "), pad)...)
	}
	if len(js) > MaxHeaderSize {
		return nil, fmt.Errorf("header of %d bytes exceeds the %d-byte limit", len(js), MaxHeaderSize)
	}
	return js, nil
}

// ---- tern metadata

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(b []byte) string { return fmt.Sprintf("%08x", crc32.Checksum(b, castagnoli)) }

// IsTern reports whether the header says "format": "tern".
func (h *Header) IsTern() bool { return h.Meta[MetaFormat] == "tern" }

// checkTern validates the tern-specific metadata: format, version, and a checksum for exactly the
// tensors present.
func (h *Header) checkTern() error {
	if !h.IsTern() {
		if f, ok := h.Meta[MetaFormat]; ok {
			return fmt.Errorf("%w: metadata says format %q (a generic safetensors file can be opened with format.ReadAny)", ErrNotTern, f)
		}
		return fmt.Errorf("%w: no \"format\": \"tern\" in the metadata (a generic safetensors file can be opened with format.ReadAny)", ErrNotTern)
	}
	vs, ok := h.Meta[MetaFormatVersion]
	if !ok {
		return fmt.Errorf("%w: missing %q", ErrVersion, MetaFormatVersion)
	}
	v, err := strconv.Atoi(vs)
	if err != nil || v < 1 {
		return fmt.Errorf("%w: bad %s %q", ErrVersion, MetaFormatVersion, vs)
	}
	if v > Version {
		return fmt.Errorf("%w: file is format_version %d, this tern reads up to %d; upgrade tern, or re-export the model with an older `tern pack`", ErrVersion, v, Version)
	}
	// Version 1 files predate the metadata checksum and load without it; from version 2 it is
	// required, so removing the key is caught like changing a value.
	if _, ok := h.Meta[MetaChecksumKey]; !ok && v >= 2 {
		return fmt.Errorf("%w: format_version %d file without its %s checksum", ErrBadHeader, v, MetaChecksumKey)
	}
	if err := h.verifyMeta(); err != nil {
		return err
	}
	for _, e := range h.Entries {
		if _, ok := h.Meta[MetaChecksumPref+e.Name]; !ok {
			return fmt.Errorf("%w: tensor %q has no %s checksum", ErrBadHeader, e.Name, MetaChecksumPref+e.Name)
		}
	}
	for k := range h.Meta {
		if name, ok := strings.CutPrefix(k, MetaChecksumPref); ok && k != MetaChecksumKey {
			if _, ok := h.index[name]; !ok {
				return fmt.Errorf("%w: checksum for tensor %q, which is not in the file", ErrBadHeader, name)
			}
		}
	}
	return nil
}

// metaChecksum is the CRC-32C of a canonical encoding of the header: every metadata key but
// MetaChecksumKey, in sorted order, then the tensor table in data order (name, dtype, shape, offsets),
// each string and number length-prefixed so no two headers encode alike. It does not depend on the
// JSON's spelling (key order, spaces, escapes), so any writer that keeps the meaning keeps the sum.
func metaChecksum(meta map[string]string, entries []Entry) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != MetaChecksumKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	str := func(b []byte, s string) []byte { return append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	b := binary.AppendUvarint(nil, uint64(len(keys)))
	for _, k := range keys {
		b = str(str(b, k), meta[k])
	}
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = str(str(b, e.Name), string(e.DType))
		b = binary.AppendUvarint(b, uint64(len(e.Shape)))
		for _, d := range e.Shape {
			b = binary.AppendUvarint(b, uint64(d))
		}
		b = binary.AppendUvarint(binary.AppendUvarint(b, uint64(e.Begin)), uint64(e.End))
	}
	return checksum(b)
}

// verifyMeta checks the header against its MetaChecksumKey, if the metadata has one.
func (h *Header) verifyMeta() error {
	want, ok := h.Meta[MetaChecksumKey]
	if !ok {
		return nil
	}
	if got := metaChecksum(h.Meta, h.Entries); got != want {
		return fmt.Errorf("%w in the header (metadata or tensor table): crc32c %s, %s says %s (the file is corrupt; re-export or re-download it)", ErrChecksum, got, MetaChecksumKey, want)
	}
	return nil
}

// verify checks data against the entry's stored checksum, if the metadata has one.
func (h *Header) verify(e Entry, data []byte) error {
	want, ok := h.Meta[MetaChecksumPref+e.Name]
	if !ok {
		return nil
	}
	if got := checksum(data); got != want {
		return fmt.Errorf("%w in tensor %q: crc32c %s, header says %s (the file is corrupt; re-export or re-download it)", ErrChecksum, e.Name, got, want)
	}
	return nil
}
