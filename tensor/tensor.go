// Package tensor holds tern's plain data: contiguous row-major float32 and int8 tensors with shapes,
// views that share storage, and a seeded RNG whose stream depends only on its seed (never on threads).
//
// It is deliberately not an autodiff framework: layers in package nn own their forward and backward
// passes and use tensors only as shaped storage.
//
// Dimension legend used across tern: B = batch, T = sequence length, C = channels (hidden size),
// OC = output channels, V = vocabulary, L = layers, NH = heads, HS = head size.
package tensor

import (
	"fmt"
	"slices"
	"strings"
)

// Tensor is a contiguous row-major float32 tensor. Data is shared by views.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape.
func New(shape ...int) *Tensor {
	n := NumElements(shape)
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// FromData wraps data (not copied) with a shape; it panics if the sizes differ.
func FromData(data []float32, shape ...int) *Tensor {
	if n := NumElements(shape); n != len(data) {
		panic(fmt.Sprintf("tensor: FromData: shape %v needs %d elements, got %d", shape, n, len(data)))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// NumElements is the product of the dimensions; it panics on a negative dimension.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return n
}

// Size is the number of elements.
func (t *Tensor) Size() int { return len(t.Data) }

// View returns a tensor with a new shape over the same data. One dimension may be -1 (inferred).
func (t *Tensor) View(shape ...int) *Tensor {
	return &Tensor{Shape: inferShape(shape, len(t.Data)), Data: t.Data}
}

// Row returns a view of the i-th slice along the first dimension.
func (t *Tensor) Row(i int) *Tensor {
	if len(t.Shape) == 0 || i < 0 || i >= t.Shape[0] {
		panic(fmt.Sprintf("tensor: Row(%d) out of range for shape %v", i, t.Shape))
	}
	inner := len(t.Data) / t.Shape[0]
	return &Tensor{Shape: append([]int(nil), t.Shape[1:]...), Data: t.Data[i*inner : (i+1)*inner]}
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool { return slices.Equal(a, b) }

// ShapeString formats a shape as (2, 3, 4).
func ShapeString(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = fmt.Sprint(d)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func (t *Tensor) String() string { return "Tensor" + ShapeString(t.Shape) }

// Int8 is a contiguous row-major int8 tensor (quantized activations, ternary weights in {-1,0,1}).
type Int8 struct {
	Shape []int
	Data  []int8
}

// NewInt8 returns a zeroed int8 tensor.
func NewInt8(shape ...int) *Int8 {
	return &Int8{Shape: append([]int(nil), shape...), Data: make([]int8, NumElements(shape))}
}

// View returns an int8 tensor with a new shape over the same data.
func (t *Int8) View(shape ...int) *Int8 {
	return &Int8{Shape: inferShape(shape, len(t.Data)), Data: t.Data}
}

func inferShape(shape []int, n int) []int {
	out := append([]int(nil), shape...)
	infer, known := -1, 1
	for i, d := range out {
		if d == -1 {
			if infer >= 0 {
				panic("tensor: View: more than one -1 in shape")
			}
			infer = i
			continue
		}
		known *= d
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			panic(fmt.Sprintf("tensor: View: cannot infer %v from %d elements", shape, n))
		}
		out[infer] = n / known
		known *= out[infer]
	}
	if known != n {
		panic(fmt.Sprintf("tensor: View: shape %v does not hold %d elements", shape, n))
	}
	return out
}

// Grow returns buf with length n, reallocating only when its capacity is short (the contents are not
// kept): the reusable scratch buffers of layers, kernels and decoders.
func Grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}
