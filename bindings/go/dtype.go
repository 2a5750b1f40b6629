package salus

import (
	"strconv"

	"salus.dev/salus/internal/capi"
)

// DType is the element type of a tensor (salus_dtype). Every type can be
// fed, fetched and moved; the computing ops take Float32, arithmetic also
// Int32, Int64 and Float64 (doc/ops.md lists each op's).
type DType int

// The element types, with the values of salus_dtype (a test checks them
// against the header).
const (
	Float32  DType = 0 // SALUS_DTYPE_F32
	Float16  DType = 1 // SALUS_DTYPE_F16, IEEE half precision bits
	BFloat16 DType = 2 // SALUS_DTYPE_BF16, bfloat16 bits
	Int32    DType = 3 // SALUS_DTYPE_I32
	Int64    DType = 4 // SALUS_DTYPE_I64
	Bool     DType = 5 // SALUS_DTYPE_BOOL, one byte, 0 or 1
	Float64  DType = 6 // SALUS_DTYPE_F64, IEEE double
)

// MaxRank is the largest tensor rank accepted anywhere (SALUS_MAX_RANK).
const MaxRank = capi.SALUS_MAX_RANK

// Size returns the bytes of one element, or 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case Float32, Int32:
		return 4
	case Float16, BFloat16:
		return 2
	case Int64, Float64:
		return 8
	case Bool:
		return 1
	}
	return 0
}

// String returns the type's name: "f32", "f16", "bf16", "i32", "i64", "bool"
// or "f64".
func (d DType) String() string {
	switch d {
	case Float32:
		return "f32"
	case Float16:
		return "f16"
	case BFloat16:
		return "bf16"
	case Int32:
		return "i32"
	case Int64:
		return "i64"
	case Bool:
		return "bool"
	case Float64:
		return "f64"
	}
	return "DType(" + strconv.Itoa(int(d)) + ")"
}

func (d DType) c() capi.Enum_SS_salus_dtype { return capi.Enum_SS_salus_dtype(d) }
