// Package format reads and writes tern's model and checkpoint files: safetensors containers
// (https://huggingface.co/docs/safetensors) that any safetensors reader can open.
//
// Layout of a file:
//
//	[8 bytes]  N, the header length, uint64 little-endian
//	[N bytes]  JSON header {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}
//	           padded with spaces so the data starts at a multiple of 8 bytes
//	[rest]     raw little-endian tensor data; offsets are relative to the start of this region,
//	           tensors are contiguous (no holes, no overlaps) and cover it exactly
//
// tern adds to "__metadata__": "format": "tern", "format_version": "2", for every tensor
// "tern.crc32c.<name>": the CRC-32C (Castagnoli) of its bytes as 8 hex digits, and
// "tern.crc32c.__metadata__": the CRC-32C of a canonical encoding of the rest of the metadata and of
// the tensor table (names, dtypes, shapes, offsets). Both are checked on every read, so a flipped bit
// anywhere in the file is refused, with the tensor's name when it is in the data. Version 1 files
// (written before the metadata checksum) still load: only their tensor bytes are checked. Other keys
// (config, tokenizer, packing) belong to the packages that write them.
//
// Read and Open accept only tern files; ReadAny and OpenAny accept any valid safetensors file (and
// still check tern checksums where present). Readers take the header first and bound every size by
// the file's real size before allocating. ReadHeader parses only the header from a stream, so a huge
// file need not be read whole. Open is Read for long-lived readers (the server): the file is copied
// into memory and verified once, so a file truncated or rewritten on disk later cannot crash the
// process (a shared mapping would SIGBUS) or change the weights under it.
//
// This package is deliberately not GGUF and knows nothing of models: it stores named byte tensors
// with a dtype and a shape, plus one encoding helper, packed ternary matrices (ternary.go).
package format

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"tern/half"
)

// Version is the tern format version this package writes and the newest it reads. Version 2 added the
// metadata checksum (MetaChecksumKey), which version 2 files must carry.
const Version = 2

// Metadata keys tern reserves.
const (
	MetaFormat        = "format"         // "tern"
	MetaFormatVersion = "format_version" // "1"
	MetaChecksumPref  = "tern.crc32c."   // + tensor name -> 8 hex digits
	// MetaChecksumKey holds the checksum of the header itself (every other metadata key and the
	// tensor table); "__metadata__" cannot name a tensor, so it never collides with one.
	MetaChecksumKey = MetaChecksumPref + "__metadata__"
)

// MaxHeaderSize bounds the JSON header (the reference Rust implementation uses the same 100 MB), so
// a corrupt length cannot make a reader allocate gigabytes.
const MaxHeaderSize = 100 << 20

// dataAlign is the alignment of the data region's start within the file.
const dataAlign = 8

// Errors callers can test with errors.Is.
var (
	ErrBadHeader = errors.New("invalid safetensors header")
	ErrTruncated = errors.New("file truncated")
	ErrChecksum  = errors.New("checksum mismatch")
	ErrNotTern   = errors.New("not a tern file")
	ErrVersion   = errors.New("unsupported format version")
	ErrNoTensor  = errors.New("no such tensor")
	ErrNotFinite = errors.New("non-finite value")
)

// DType names a tensor element type with its safetensors spelling.
type DType string

// The safetensors dtypes. tern writes F32, F16, BF16, I8, U8, I32 and I64; the rest are read so
// that any safetensors file can be inspected.
const (
	Bool   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E4M3 DType = "F8_E4M3"
	F8E5M2 DType = "F8_E5M2"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

var dtypeSizes = map[DType]int{
	Bool: 1, U8: 1, I8: 1, F8E4M3: 1, F8E5M2: 1,
	I16: 2, U16: 2, F16: 2, BF16: 2,
	I32: 4, U32: 4, F32: 4,
	F64: 8, I64: 8, U64: 8,
}

// Size is the element size in bytes, or 0 for an unknown dtype.
func (d DType) Size() int { return dtypeSizes[d] }

// Tensor is one named tensor. Data holds the raw little-endian bytes (len = Size * product(Shape)).
// Tensors read with Open may point into a read-only mapping: never write to their Data.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements is the product of the shape (1 for a scalar, shape []).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// check reports a tensor whose byte length does not match its dtype and shape.
func (t Tensor) check() error {
	sz := t.DType.Size()
	if sz == 0 {
		return fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	n, ok := numElements(t.Shape)
	if !ok {
		return fmt.Errorf("tensor %q: invalid shape %v", t.Name, t.Shape)
	}
	if int64(len(t.Data)) != n*int64(sz) {
		return fmt.Errorf("tensor %q: %s%v needs %d bytes, has %d", t.Name, t.DType, t.Shape, n*int64(sz), len(t.Data))
	}
	return nil
}

// maxElements bounds a tensor's element count (2^48) so products of dimensions cannot overflow.
const maxElements = 1 << 48

// numElements multiplies dims, failing on a negative dimension or a product beyond maxElements.
func numElements(shape []int) (int64, bool) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 || d > maxElements {
			return 0, false
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > maxElements/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// ---- constructors

// F32Tensor stores data as F32.
func F32Tensor(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return mustShape(Tensor{name, F32, cloneShape(shape), b})
}

// F16Tensor stores data as IEEE half precision, rounding to nearest even.
func F16Tensor(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(b[2*i:], half.Float32ToF16(v))
	}
	return mustShape(Tensor{name, F16, cloneShape(shape), b})
}

// BF16Tensor stores data as bfloat16, rounding to nearest even.
func BF16Tensor(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(b[2*i:], half.Float32ToBF16(v))
	}
	return mustShape(Tensor{name, BF16, cloneShape(shape), b})
}

// I8Tensor stores data as I8.
func I8Tensor(name string, shape []int, data []int8) Tensor {
	b := make([]byte, len(data))
	for i, v := range data {
		b[i] = byte(v)
	}
	return mustShape(Tensor{name, I8, cloneShape(shape), b})
}

// U8Tensor stores data (copied) as U8.
func U8Tensor(name string, shape []int, data []byte) Tensor {
	return mustShape(Tensor{name, U8, cloneShape(shape), append([]byte{}, data...)})
}

// I32Tensor stores data as I32.
func I32Tensor(name string, shape []int, data []int32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return mustShape(Tensor{name, I32, cloneShape(shape), b})
}

// I64Tensor stores data as I64.
func I64Tensor(name string, shape []int, data []int64) Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return mustShape(Tensor{name, I64, cloneShape(shape), b})
}

// mustShape panics when a constructor is given a shape that does not match its data: that is a
// programming error, not bad input.
func mustShape(t Tensor) Tensor {
	if err := t.check(); err != nil {
		panic("format: " + err.Error())
	}
	return t
}

func cloneShape(s []int) []int { return append([]int{}, s...) }

// ---- accessors (each returns a fresh slice; Data may be a read-only mapping)

// Float32 decodes an F32, F16 or BF16 tensor.
func (t Tensor) Float32() ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	n := t.NumElements()
	out := make([]float32, n)
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = half.F16ToFloat32(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = half.BF16ToFloat32(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	default:
		return nil, fmt.Errorf("format: tensor %q is %s, want F32, F16 or BF16", t.Name, t.DType)
	}
	if i := firstNonFinite(out); i >= 0 {
		return nil, fmt.Errorf("format: tensor %q: %w %g at element %d (weights must be finite)", t.Name, ErrNotFinite, out[i], i)
	}
	return out, nil
}

// CheckFinite reports the first NaN or ±Inf of a floating-point (F32, F16, BF16) tensor with its name
// and index, for loaders that use the stored bytes directly instead of decoding them with Float32.
// Other dtypes hold no non-finite values.
func (t Tensor) CheckFinite() error {
	if err := t.check(); err != nil {
		return err
	}
	var bad func(i int) bool
	switch t.DType {
	case F32:
		bad = func(i int) bool { return binary.LittleEndian.Uint32(t.Data[4*i:])&0x7f800000 == 0x7f800000 }
	case F16:
		bad = func(i int) bool { return binary.LittleEndian.Uint16(t.Data[2*i:])&0x7c00 == 0x7c00 }
	case BF16:
		bad = func(i int) bool { return binary.LittleEndian.Uint16(t.Data[2*i:])&0x7f80 == 0x7f80 }
	default:
		return nil
	}
	for i, n := 0, t.NumElements(); i < n; i++ {
		if bad(i) {
			return fmt.Errorf("format: tensor %q: %w at element %d (weights must be finite)", t.Name, ErrNotFinite, i)
		}
	}
	return nil
}

// firstNonFinite is the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite(v []float32) int {
	for i, x := range v {
		if math.Float32bits(x)&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

// Int8 returns an I8 tensor's values.
func (t Tensor) Int8() ([]int8, error) {
	if err := t.want(I8); err != nil {
		return nil, err
	}
	out := make([]int8, len(t.Data))
	for i, b := range t.Data {
		out[i] = int8(b)
	}
	return out, nil
}

// Uint8 returns a copy of a U8 tensor's bytes.
func (t Tensor) Uint8() ([]byte, error) {
	if err := t.want(U8); err != nil {
		return nil, err
	}
	return append([]byte{}, t.Data...), nil
}

// Int32 returns an I32 tensor's values.
func (t Tensor) Int32() ([]int32, error) {
	if err := t.want(I32); err != nil {
		return nil, err
	}
	out := make([]int32, len(t.Data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Int64 returns an I64 tensor's values.
func (t Tensor) Int64() ([]int64, error) {
	if err := t.want(I64); err != nil {
		return nil, err
	}
	out := make([]int64, len(t.Data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

func (t Tensor) want(d DType) error {
	if t.DType != d {
		return fmt.Errorf("format: tensor %q is %s, want %s", t.Name, t.DType, d)
	}
	return t.check()
}
