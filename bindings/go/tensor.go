package salus

import (
	"math"
	"unsafe"
)

// Tensor is a dense row-major tensor in Go memory: the values fed to an
// iteration, the initial value of a variable, or an output. Its shape is
// fixed; its values are shared with the slice it was made from.
type Tensor struct {
	dtype  DType
	shape  []int64
	values any // []float32, []float64, []int32, []int64, or []uint16 for Float16 and BFloat16
}

// NewFloat32 makes a Float32 tensor over values (not copied). With no shape
// it is one-dimensional, [len(values)]; otherwise the shape must hold exactly
// len(values) elements.
func NewFloat32(values []float32, shape ...int64) (*Tensor, error) {
	return newTensor(Float32, values, len(values), shape)
}

// NewFloat64 makes a Float64 tensor over values, as NewFloat32 does.
func NewFloat64(values []float64, shape ...int64) (*Tensor, error) {
	return newTensor(Float64, values, len(values), shape)
}

// NewInt32 makes an Int32 tensor over values, as NewFloat32 does.
func NewInt32(values []int32, shape ...int64) (*Tensor, error) {
	return newTensor(Int32, values, len(values), shape)
}

// NewInt64 makes an Int64 tensor over values, as NewFloat32 does.
func NewInt64(values []int64, shape ...int64) (*Tensor, error) {
	return newTensor(Int64, values, len(values), shape)
}

// NewHalf makes a Float16 or BFloat16 tensor over the elements' bit patterns,
// as NewFloat32 does; Go has no 16-bit float type.
func NewHalf(dtype DType, bits []uint16, shape ...int64) (*Tensor, error) {
	if dtype != Float16 && dtype != BFloat16 {
		return nil, errorf(ErrInvalid, "NewHalf: dtype %v is not f16 or bf16", dtype)
	}
	return newTensor(dtype, bits, len(bits), shape)
}

// Zeros makes a zero-filled tensor; with no shape it is a scalar.
func Zeros(dtype DType, shape ...int64) (*Tensor, error) {
	n, err := elements(shape)
	if err != nil {
		return nil, err
	}
	var values any
	switch dtype {
	case Float32:
		values = make([]float32, n)
	case Float64:
		values = make([]float64, n)
	case Int32:
		values = make([]int32, n)
	case Int64:
		values = make([]int64, n)
	case Float16, BFloat16:
		values = make([]uint16, n)
	default:
		return nil, errorf(ErrInvalid, "Zeros: unknown dtype %v", dtype)
	}
	return &Tensor{dtype: dtype, shape: append([]int64{}, shape...), values: values}, nil
}

// Scalar makes a Float32 tensor of rank 0 holding v.
func Scalar(v float32) *Tensor {
	return &Tensor{dtype: Float32, shape: []int64{}, values: []float32{v}}
}

func newTensor(dtype DType, values any, n int, shape []int64) (*Tensor, error) {
	if len(shape) == 0 {
		shape = []int64{int64(n)}
	}
	want, err := elements(shape)
	if err != nil {
		return nil, err
	}
	if want != n {
		return nil, errorf(ErrInvalid, "%d values do not fill shape %v (%d elements)", n, shape, want)
	}
	return &Tensor{dtype: dtype, shape: append([]int64{}, shape...), values: values}, nil
}

// maxElements keeps the byte size of any tensor within an int.
const maxElements = math.MaxInt / 8

// elements returns the number of elements of a shape, checking its rank and
// dimensions as libsalus does.
func elements(shape []int64) (int, error) {
	if len(shape) > MaxRank {
		return 0, errorf(ErrInvalid, "shape %v has rank %d, over %d", shape, len(shape), MaxRank)
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, errorf(ErrInvalid, "shape %v has a negative dimension", shape)
		}
		if d != 0 && n > maxElements/d {
			return 0, errorf(ErrTooBig, "shape %v has too many elements", shape)
		}
		n *= d
	}
	return int(n), nil
}

// DType returns the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Shape returns a copy of the dimensions; empty for a scalar.
func (t *Tensor) Shape() []int64 { return append([]int64{}, t.shape...) }

// Len returns the number of elements.
func (t *Tensor) Len() int {
	n, _ := elements(t.shape)
	return n
}

// Float32s returns the values of a Float32 tensor (shared, not copied), or
// nil for another type.
func (t *Tensor) Float32s() []float32 { v, _ := t.values.([]float32); return v }

// Float64s returns the values of a Float64 tensor (shared), or nil.
func (t *Tensor) Float64s() []float64 { v, _ := t.values.([]float64); return v }

// Int32s returns the values of an Int32 tensor (shared), or nil.
func (t *Tensor) Int32s() []int32 { v, _ := t.values.([]int32); return v }

// Int64s returns the values of an Int64 tensor (shared), or nil.
func (t *Tensor) Int64s() []int64 { v, _ := t.values.([]int64); return v }

// HalfBits returns the bit patterns of a Float16 or BFloat16 tensor
// (shared), or nil.
func (t *Tensor) HalfBits() []uint16 { v, _ := t.values.([]uint16); return v }

// Bytes returns the tensor's memory in host byte order, row-major: the
// layout libsalus sends. It is shared with the values.
func (t *Tensor) Bytes() []byte {
	switch v := t.values.(type) {
	case []float32:
		return byteView(v)
	case []float64:
		return byteView(v)
	case []int32:
		return byteView(v)
	case []int64:
		return byteView(v)
	case []uint16:
		return byteView(v)
	}
	return nil
}

// byteView is the memory of a slice of plain numbers, seen as bytes.
func byteView[T float32 | float64 | int32 | int64 | uint16](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*int(unsafe.Sizeof(v[0])))
}
