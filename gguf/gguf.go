// Package gguf reads and writes GGUF files, the container of llama.cpp, ollama and bitnet.cpp.
//
// A GGUF file (version 2 or 3, little-endian) is
//
//	"GGUF" u32 version, u64 tensor count, u64 metadata count
//	metadata: key (u64 length + UTF-8), u32 value type, value   (arrays: u32 element type, u64 count, elements)
//	tensor infos: name, u32 n_dims, u64 dims[n_dims] (ne[0] varies fastest), u32 ggml type, u64 offset
//	padding to general.alignment (default 32), then the tensor data, each tensor at its offset from there
//
// Every count, length and offset is checked against the bytes actually present before anything is
// allocated or sliced, so a truncated or hostile file gives an error naming the file (and the key or
// tensor), never a panic or a huge allocation (FuzzParse). Tensor data is memory-mapped by Open and
// used in place; the block layouts and their conversions to float32 are in types.go.
package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

var errNotRegular = errors.New("not a regular file")

// Magic opens every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// Well-known metadata keys.
const (
	KeyArchitecture = "general.architecture"
	KeyAlignment    = "general.alignment"
	KeyName         = "general.name"
	KeyFileType     = "general.file_type"
	KeyQuantVersion = "general.quantization_version"
)

// ValueType is a metadata value's type.
type ValueType uint32

// Metadata value types.
const (
	TypeUint8 ValueType = iota
	TypeInt8
	TypeUint16
	TypeInt16
	TypeUint32
	TypeInt32
	TypeFloat32
	TypeBool
	TypeString
	TypeArray
	TypeUint64
	TypeInt64
	TypeFloat64
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("value type %d", uint32(t))
}

// size is the encoded size of a fixed-size value type (0 for string and array).
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// KV is one metadata entry. Value holds uint8, int8, uint16, int16, uint32, int32, float32, bool,
// string, uint64, int64, float64 (by Type), or an Array.
type KV struct {
	Key   string
	Type  ValueType
	Value any
}

// Array is an array value: Values is a slice of the element type's Go type ([]string, []int32,
// []float32, ..., []Array for nested arrays).
type Array struct {
	Type   ValueType
	Values any
}

// Len is the number of elements.
func (a Array) Len() int {
	switch v := a.Values.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []Array:
		return len(v)
	}
	return 0
}

// TensorInfo describes one tensor. Dims are in GGUF order (Dims[0] is the row length, ne[0]); a
// (rows, cols) matrix has Dims [cols, rows]. Data is the tensor's bytes inside the file (mapped).
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   Type
	Offset uint64 // from the start of the data section
	Data   []byte
}

// Elements is the number of values.
func (t *TensorInfo) Elements() int64 { n, _ := elements(t.Dims); return n }

// Shape is the tensor's shape in row-major order (outermost first), as tern and safetensors write it.
func (t *TensorInfo) Shape() []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[len(s)-1-i] = int(d)
	}
	return s
}

// File is a parsed GGUF file.
type File struct {
	Path       string
	Version    uint32
	KV         []KV // in file order
	Tensors    []TensorInfo
	Alignment  int
	DataOffset int64 // file offset of the data section
	Size       int64 // the file's size in bytes

	kv     map[string]int
	tensor map[string]int
	unmap  func() error
}

// Open maps path read-only and parses it; tensors' Data point into the mapping until Close. Unlike
// tern's own files (format.Open reads them into private memory), a GGUF model is mapped: its weights
// are paged in on demand and shared with the page cache, as llama.cpp does. The price is the same as
// llama.cpp's: truncating or rewriting the file in place while a process uses it can crash that process
// (SIGBUS) or change its weights; write GGUF files atomically (Write does) rather than in place.
func Open(path string) (*File, error) {
	b, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: open %s: %w", path, err)
	}
	f, err := Parse(b, path)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		return nil, err
	}
	f.unmap = unmap
	return f, nil
}

// Close releases the mapping; tensor data must not be used afterwards.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	u := f.unmap
	f.unmap = nil
	return u()
}

// DropData forgets every tensor's bytes (Data becomes nil) and releases the mapping; the metadata
// stays readable. For callers that copied or converted what they need and must not depend on the file
// afterwards.
func (f *File) DropData() error {
	for i := range f.Tensors {
		f.Tensors[i].Data = nil
	}
	return f.Close()
}

// Lookup returns the metadata entry key.
func (f *File) Lookup(key string) (KV, bool) {
	i, ok := f.kv[key]
	if !ok {
		return KV{}, false
	}
	return f.KV[i], true
}

// Tensor returns the tensor name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tensor[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// String returns a string metadata value.
func (f *File) String(key string) (string, error) {
	kv, ok := f.Lookup(key)
	if !ok {
		return "", fmt.Errorf("gguf: %s: no metadata key %q", f.Path, key)
	}
	s, ok := kv.Value.(string)
	if !ok {
		return "", fmt.Errorf("gguf: %s: metadata %q is %s, not a string", f.Path, key, kv.Type)
	}
	return s, nil
}

// Int returns an integer metadata value of any integer type (bools read as 0/1).
func (f *File) Int(key string) (int64, error) {
	kv, ok := f.Lookup(key)
	if !ok {
		return 0, fmt.Errorf("gguf: %s: no metadata key %q", f.Path, key)
	}
	if v, ok := intValue(kv.Value); ok {
		return v, nil
	}
	return 0, fmt.Errorf("gguf: %s: metadata %q is %s, not an integer", f.Path, key, kv.Type)
}

// Float returns a float (or integer) metadata value.
func (f *File) Float(key string) (float64, error) {
	kv, ok := f.Lookup(key)
	if !ok {
		return 0, fmt.Errorf("gguf: %s: no metadata key %q", f.Path, key)
	}
	switch v := kv.Value.(type) {
	case float32:
		return float64(v), nil
	case float64:
		return v, nil
	}
	if v, ok := intValue(kv.Value); ok {
		return float64(v), nil
	}
	return 0, fmt.Errorf("gguf: %s: metadata %q is %s, not a number", f.Path, key, kv.Type)
}

// Strings returns a string-array metadata value.
func (f *File) Strings(key string) ([]string, error) {
	kv, ok := f.Lookup(key)
	if !ok {
		return nil, fmt.Errorf("gguf: %s: no metadata key %q", f.Path, key)
	}
	if a, ok := kv.Value.(Array); ok {
		if s, ok := a.Values.([]string); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("gguf: %s: metadata %q is %s, not an array of strings", f.Path, key, kv.Type)
}

func intValue(v any) (int64, bool) {
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// maxArrayDepth bounds nested arrays (GGUF writers use at most one level).
const maxArrayDepth = 4

// maxDims is GGML_MAX_DIMS.
const maxDims = 4

// reader walks the header with every read bounds-checked.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(msg string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: "+msg, append([]any{r.off}, a...)...)
	}
}

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("need %d more bytes, the file has %d: truncated", n, len(r.b)-r.off)
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *reader) str() string {
	n := r.u64()
	b := r.take(n)
	if r.err != nil {
		return ""
	}
	return string(b)
}

// left is the number of unread bytes.
func (r *reader) left() uint64 { return uint64(len(r.b) - r.off) }

// value reads one value of type t.
func (r *reader) value(t ValueType, depth int) any {
	if r.err != nil {
		return nil
	}
	switch t {
	case TypeUint8:
		if b := r.take(1); b != nil {
			return b[0]
		}
	case TypeInt8:
		if b := r.take(1); b != nil {
			return int8(b[0])
		}
	case TypeBool:
		if b := r.take(1); b != nil {
			if b[0] > 1 {
				r.fail("bool value %d", b[0])
			}
			return b[0] == 1
		}
	case TypeUint16:
		if b := r.take(2); b != nil {
			return binary.LittleEndian.Uint16(b)
		}
	case TypeInt16:
		if b := r.take(2); b != nil {
			return int16(binary.LittleEndian.Uint16(b))
		}
	case TypeUint32:
		return r.u32()
	case TypeInt32:
		return int32(r.u32())
	case TypeFloat32:
		return math.Float32frombits(r.u32())
	case TypeUint64:
		return r.u64()
	case TypeInt64:
		return int64(r.u64())
	case TypeFloat64:
		return math.Float64frombits(r.u64())
	case TypeString:
		return r.str()
	case TypeArray:
		return r.array(depth + 1)
	default:
		r.fail("unknown value type %d", uint32(t))
	}
	return nil
}

func (r *reader) array(depth int) Array {
	if depth > maxArrayDepth {
		r.fail("arrays nested deeper than %d", maxArrayDepth)
		return Array{}
	}
	et := ValueType(r.u32())
	n := r.u64()
	if r.err != nil {
		return Array{}
	}
	// Every element takes at least its fixed size (8 bytes for a string or array length), so a
	// count larger than the bytes left cannot be honest: refuse it before allocating.
	min := uint64(et.size())
	if et == TypeString || et == TypeArray {
		min = 8
	}
	if min == 0 {
		r.fail("array of unknown value type %d", uint32(et))
		return Array{}
	}
	if n > r.left()/min {
		r.fail("array of %d %s needs at least %d bytes, %d left: truncated or corrupt", n, et, n*min, r.left())
		return Array{}
	}
	a := Array{Type: et}
	if sz := et.size(); sz > 0 && et != TypeBool {
		raw := r.take(n * uint64(sz))
		a.Values = decodeFixed(et, raw, int(n))
		return a
	}
	switch et {
	case TypeBool:
		v := make([]bool, n)
		for i := range v {
			v[i], _ = r.value(et, depth).(bool)
		}
		a.Values = v
	case TypeString:
		v := make([]string, n)
		for i := range v {
			v[i] = r.str()
			if r.err != nil {
				break
			}
		}
		a.Values = v
	case TypeArray:
		v := make([]Array, n)
		for i := range v {
			v[i] = r.array(depth + 1)
			if r.err != nil {
				break
			}
		}
		a.Values = v
	}
	return a
}

// decodeFixed decodes n little-endian values of a fixed-size numeric type.
func decodeFixed(t ValueType, b []byte, n int) any {
	if b == nil {
		return nil
	}
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return append([]uint8(nil), b...)
	case TypeInt8:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(b[i])
		}
		return v
	case TypeUint16:
		v := make([]uint16, n)
		for i := range v {
			v[i] = le.Uint16(b[2*i:])
		}
		return v
	case TypeInt16:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(le.Uint16(b[2*i:]))
		}
		return v
	case TypeUint32:
		v := make([]uint32, n)
		for i := range v {
			v[i] = le.Uint32(b[4*i:])
		}
		return v
	case TypeInt32:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(le.Uint32(b[4*i:]))
		}
		return v
	case TypeFloat32:
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return v
	case TypeUint64:
		v := make([]uint64, n)
		for i := range v {
			v[i] = le.Uint64(b[8*i:])
		}
		return v
	case TypeInt64:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(le.Uint64(b[8*i:]))
		}
		return v
	case TypeFloat64:
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(le.Uint64(b[8*i:]))
		}
		return v
	}
	return nil
}

// elements is the product of dims, false on overflow (beyond 2^62).
func elements(dims []uint64) (int64, bool) {
	n := uint64(1)
	for _, d := range dims {
		if d != 0 && n > (1<<62)/d {
			return 0, false
		}
		n *= d
	}
	return int64(n), true
}

// Parse parses a whole GGUF file held in b (name is used in errors). Tensors' Data slice b.
func Parse(b []byte, name string) (*File, error) {
	f, err := parse(b, name)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", name, err)
	}
	return f, nil
}

func parse(b []byte, name string) (*File, error) {
	r := &reader{b: b}
	magic := r.take(4)
	if r.err != nil || string(magic) != Magic {
		return nil, fmt.Errorf("not a GGUF file (magic %q, want %q)", magic, Magic)
	}
	f := &File{Path: name, Size: int64(len(b)), Version: r.u32(), kv: map[string]int{}, tensor: map[string]int{}}
	if r.err == nil && f.Version != 2 && f.Version != 3 {
		return nil, fmt.Errorf("GGUF version %d is not supported (want 2 or 3)", f.Version)
	}
	nt, nkv := r.u64(), r.u64()
	if r.err != nil {
		return nil, r.err
	}
	// A metadata entry takes at least 8+4+1 bytes, a tensor info at least 8+4+4+8.
	if nkv > r.left()/13 {
		return nil, fmt.Errorf("%d metadata entries cannot fit in the %d bytes left: truncated or corrupt", nkv, r.left())
	}
	for i := uint64(0); i < nkv; i++ {
		key := r.str()
		t := ValueType(r.u32())
		v := r.value(t, 0)
		if r.err != nil {
			return nil, fmt.Errorf("metadata entry %d (key %q): %w", i, key, r.err)
		}
		if !utf8.ValidString(key) {
			return nil, fmt.Errorf("metadata entry %d: key %q is not UTF-8", i, key)
		}
		if _, dup := f.kv[key]; dup {
			return nil, fmt.Errorf("metadata key %q appears twice", key)
		}
		f.kv[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Type: t, Value: v})
	}
	f.Alignment = DefaultAlignment
	if kv, ok := f.Lookup(KeyAlignment); ok {
		a, ok := kv.Value.(uint32)
		if !ok || a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("metadata %s = %v (%s): want a power of two uint32", KeyAlignment, kv.Value, kv.Type)
		}
		f.Alignment = int(a)
	}
	if nt > r.left()/24 {
		return nil, fmt.Errorf("%d tensor infos cannot fit in the %d bytes left: truncated or corrupt", nt, r.left())
	}
	f.Tensors = make([]TensorInfo, 0, nt)
	for i := uint64(0); i < nt; i++ {
		var t TensorInfo
		t.Name = r.str()
		nd := r.u32()
		if r.err == nil && (nd == 0 || nd > maxDims) {
			r.fail("%d dimensions (want 1 to %d)", nd, maxDims)
		}
		if r.err == nil {
			t.Dims = make([]uint64, nd)
			for j := range t.Dims {
				t.Dims[j] = r.u64()
			}
		}
		t.Type = Type(r.u32())
		t.Offset = r.u64()
		if r.err != nil {
			return nil, fmt.Errorf("tensor info %d (%q): %w", i, t.Name, r.err)
		}
		if _, dup := f.tensor[t.Name]; dup {
			return nil, fmt.Errorf("tensor %q appears twice", t.Name)
		}
		f.tensor[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	align := uint64(f.Alignment)
	data := (uint64(r.off) + align - 1) / align * align
	if data > uint64(len(b)) {
		if len(f.Tensors) > 0 {
			return nil, fmt.Errorf("the data section would start at byte %d, past the end of the file (%d bytes): truncated", data, len(b))
		}
		data = uint64(len(b)) // a file of metadata only may end unpadded
	}
	f.DataOffset = int64(data)
	region := b[data:]
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if err := t.locate(region, align); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
	}
	return f, nil
}

// locate checks t's type, shape, alignment and extent against the data region and slices its bytes.
func (t *TensorInfo) locate(region []byte, align uint64) error {
	info, ok := types[t.Type]
	if !ok {
		return fmt.Errorf("unknown ggml type %d (this reader knows %s)", uint32(t.Type), knownTypes())
	}
	for j, d := range t.Dims {
		if d == 0 {
			return fmt.Errorf("dimension %d is 0 (dims %v)", j, t.Dims)
		}
	}
	n, ok := elements(t.Dims)
	if !ok {
		return fmt.Errorf("dims %v overflow", t.Dims)
	}
	if t.Dims[0]%uint64(info.block) != 0 {
		return fmt.Errorf("type %s stores blocks of %d values, but rows have %d", t.Type, info.block, t.Dims[0])
	}
	size := t.Type.bytes(n)
	if t.Offset%align != 0 {
		return fmt.Errorf("offset %d is not a multiple of the alignment %d", t.Offset, align)
	}
	if t.Offset > uint64(len(region)) || uint64(size) > uint64(len(region))-t.Offset {
		return fmt.Errorf("bytes [%d, %d) of the data section lie outside the file (data section holds %d bytes)", t.Offset, t.Offset+uint64(size), len(region))
	}
	t.Data = region[t.Offset : t.Offset+uint64(size) : t.Offset+uint64(size)]
	return nil
}

func knownTypes() string {
	var s []string
	for _, t := range typeOrder {
		s = append(s, t.String())
	}
	return strings.Join(s, ", ")
}
