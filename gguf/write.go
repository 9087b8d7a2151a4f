package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"tern/format"
)

// Tensor is a tensor to write: Dims in GGUF order (Dims[0] is the row length) and Data already in
// Type's layout (EncodeFloat, EncodeTernary).
type Tensor struct {
	Name string
	Dims []uint64
	Type Type
	Data []byte
}

// Matrix returns the GGUF dims of a row-major (rows, cols) matrix: [cols, rows].
func Matrix(rows, cols int) []uint64 { return []uint64{uint64(cols), uint64(rows)} }

// Metadata constructors.

// String is a string entry.
func String(key, v string) KV { return KV{key, TypeString, v} }

// Uint32 is a uint32 entry.
func Uint32(key string, v uint32) KV { return KV{key, TypeUint32, v} }

// Int32 is an int32 entry.
func Int32(key string, v int32) KV { return KV{key, TypeInt32, v} }

// Float32 is a float32 entry.
func Float32(key string, v float32) KV { return KV{key, TypeFloat32, v} }

// Bool is a bool entry.
func Bool(key string, v bool) KV { return KV{key, TypeBool, v} }

// Strings is an array-of-strings entry.
func Strings(key string, v []string) KV { return KV{key, TypeArray, Array{TypeString, v}} }

// Int32s is an array-of-int32 entry.
func Int32s(key string, v []int32) KV { return KV{key, TypeArray, Array{TypeInt32, v}} }

// Float32s is an array-of-float32 entry.
func Float32s(key string, v []float32) KV { return KV{key, TypeArray, Array{TypeFloat32, v}} }

// Write writes a GGUF v3 file atomically (a temporary file renamed into place).
func Write(path string, kv []KV, tensors []Tensor) error {
	if err := format.WriteAtomic(path, func(w io.Writer) error { return Encode(w, kv, tensors) }); err != nil {
		return fmt.Errorf("gguf: write %s: %w", path, err)
	}
	return nil
}

// Encode writes a GGUF v3 file to w: the metadata in the given order, then the tensors in the given
// order, each at an offset aligned to general.alignment (32 when kv does not set it).
func Encode(w io.Writer, kv []KV, tensors []Tensor) error {
	align := uint64(DefaultAlignment)
	seen := map[string]bool{}
	for _, e := range kv {
		if seen[e.Key] {
			return fmt.Errorf("metadata key %q given twice", e.Key)
		}
		seen[e.Key] = true
		if e.Key == KeyAlignment {
			a, ok := e.Value.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return fmt.Errorf("metadata %s must be a power-of-two uint32, not %v", KeyAlignment, e.Value)
			}
			align = uint64(a)
		}
	}
	offsets := make([]uint64, len(tensors))
	var off uint64
	names := map[string]bool{}
	for i, t := range tensors {
		if names[t.Name] {
			return fmt.Errorf("tensor %q given twice", t.Name)
		}
		names[t.Name] = true
		if _, ok := types[t.Type]; !ok || len(t.Dims) == 0 || len(t.Dims) > maxDims {
			return fmt.Errorf("tensor %q: type %s with %d dims cannot be written", t.Name, t.Type, len(t.Dims))
		}
		n, ok := elements(t.Dims)
		if !ok || n == 0 || t.Dims[0]%uint64(t.Type.BlockSize()) != 0 {
			return fmt.Errorf("tensor %q: dims %v do not hold whole %s blocks", t.Name, t.Dims, t.Type)
		}
		if want := t.Type.bytes(n); int64(len(t.Data)) != want {
			return fmt.Errorf("tensor %q: %d values of %s take %d bytes, got %d", t.Name, n, t.Type, want, len(t.Data))
		}
		offsets[i] = off
		off = (off + uint64(len(t.Data)) + align - 1) / align * align
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	e := &encoder{w: cw}
	e.bytes([]byte(Magic))
	e.u32(3)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kv)))
	for _, m := range kv {
		e.str(m.Key)
		e.u32(uint32(m.Type))
		if err := e.value(m.Type, m.Value); err != nil {
			return fmt.Errorf("metadata %q: %w", m.Key, err)
		}
	}
	for i, t := range tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			e.u64(d)
		}
		e.u32(uint32(t.Type))
		e.u64(offsets[i])
	}
	pad := func() {
		for cw.n%align != 0 {
			e.bytes([]byte{0})
		}
	}
	pad()
	for _, t := range tensors {
		e.bytes(t.Data)
		pad()
	}
	if e.err != nil {
		return e.err
	}
	return bw.Flush()
}

type countWriter struct {
	w io.Writer
	n uint64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += uint64(n)
	return n, err
}

type encoder struct {
	w   io.Writer
	err error
	buf [8]byte
}

func (e *encoder) bytes(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.bytes(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.bytes(e.buf[:])
}

func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	e.bytes([]byte(s))
}

// value writes v as type t; the Go type must match t.
func (e *encoder) value(t ValueType, v any) error {
	bad := func() error { return fmt.Errorf("value %v (%T) is not a %s", v, v, t) }
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		var b byte
		switch x := v.(type) {
		case uint8:
			b = x
		case int8:
			b = byte(x)
		case bool:
			if x {
				b = 1
			}
		default:
			return bad()
		}
		if (t == TypeBool) != isBool(v) || (t == TypeInt8) != isType[int8](v) {
			return bad()
		}
		e.bytes([]byte{b})
	case TypeUint16, TypeInt16:
		var x uint16
		switch y := v.(type) {
		case uint16:
			x = y
		case int16:
			x = uint16(y)
		default:
			return bad()
		}
		if (t == TypeInt16) != isType[int16](v) {
			return bad()
		}
		binary.LittleEndian.PutUint16(e.buf[:2], x)
		e.bytes(e.buf[:2])
	case TypeUint32, TypeInt32, TypeFloat32:
		var x uint32
		switch y := v.(type) {
		case uint32:
			x = y
		case int32:
			x = uint32(y)
		case float32:
			x = math.Float32bits(y)
		default:
			return bad()
		}
		if (t == TypeInt32) != isType[int32](v) || (t == TypeFloat32) != isType[float32](v) {
			return bad()
		}
		e.u32(x)
	case TypeUint64, TypeInt64, TypeFloat64:
		var x uint64
		switch y := v.(type) {
		case uint64:
			x = y
		case int64:
			x = uint64(y)
		case float64:
			x = math.Float64bits(y)
		default:
			return bad()
		}
		if (t == TypeInt64) != isType[int64](v) || (t == TypeFloat64) != isType[float64](v) {
			return bad()
		}
		e.u64(x)
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		e.str(s)
	case TypeArray:
		a, ok := v.(Array)
		if !ok {
			return bad()
		}
		return e.array(a)
	default:
		return fmt.Errorf("unknown value type %d", uint32(t))
	}
	return nil
}

func isBool(v any) bool        { _, ok := v.(bool); return ok }
func isType[T any](v any) bool { _, ok := v.(T); return ok }

func (e *encoder) array(a Array) error {
	e.u32(uint32(a.Type))
	e.u64(uint64(a.Len()))
	var err error
	each := func(n int, at func(i int) any) {
		for i := 0; i < n && err == nil; i++ {
			err = e.value(a.Type, at(i))
		}
	}
	switch v := a.Values.(type) {
	case []uint8:
		each(len(v), func(i int) any { return v[i] })
	case []int8:
		each(len(v), func(i int) any { return v[i] })
	case []uint16:
		each(len(v), func(i int) any { return v[i] })
	case []int16:
		each(len(v), func(i int) any { return v[i] })
	case []uint32:
		each(len(v), func(i int) any { return v[i] })
	case []int32:
		each(len(v), func(i int) any { return v[i] })
	case []float32:
		each(len(v), func(i int) any { return v[i] })
	case []bool:
		each(len(v), func(i int) any { return v[i] })
	case []string:
		each(len(v), func(i int) any { return v[i] })
	case []uint64:
		each(len(v), func(i int) any { return v[i] })
	case []int64:
		each(len(v), func(i int) any { return v[i] })
	case []float64:
		each(len(v), func(i int) any { return v[i] })
	case []Array:
		each(len(v), func(i int) any { return v[i] })
	case nil:
	default:
		return fmt.Errorf("array values %T", a.Values)
	}
	return err
}
