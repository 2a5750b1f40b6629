"""Element types: the dtypes of the C API and their numpy counterparts."""

import numpy as np

from . import _capi
from ._errors import InvalidArgumentError


class DType:
    """An element type of Salus tensors.

    ``name`` is its canonical name (``"float32"``), ``code`` the C API's
    ``SALUS_DTYPE_...`` value and ``numpy`` the numpy dtype arrays of it have.
    numpy has no bfloat16: ``bfloat16`` arrays are ``uint16`` arrays of the
    raw bits (see ``to_bfloat16`` and ``from_bfloat16``).
    """

    __slots__ = ("name", "code", "numpy")

    def __init__(self, name, code, numpy_dtype):
        self.name = name
        self.code = code
        self.numpy = np.dtype(numpy_dtype)

    @property
    def itemsize(self):
        """Bytes per element."""
        return self.numpy.itemsize

    def __repr__(self):
        return "salus." + self.name

    def __reduce__(self):
        return (dtype, (self.name,))


float32 = DType("float32", _capi.SALUS_DTYPE_F32, np.float32)
float16 = DType("float16", _capi.SALUS_DTYPE_F16, np.float16)
bfloat16 = DType("bfloat16", _capi.SALUS_DTYPE_BF16, np.uint16)
int32 = DType("int32", _capi.SALUS_DTYPE_I32, np.int32)
int64 = DType("int64", _capi.SALUS_DTYPE_I64, np.int64)
bool_ = DType("bool", _capi.SALUS_DTYPE_BOOL, np.bool_)
float64 = DType("float64", _capi.SALUS_DTYPE_F64, np.float64)

ALL = (float32, float16, bfloat16, int32, int64, bool_, float64)

_BY_NAME = {
    "float32": float32, "f32": float32, "f4": float32, "float": float32,
    "float16": float16, "f16": float16, "f2": float16, "half": float16,
    "bfloat16": bfloat16, "bf16": bfloat16,
    "int32": int32, "i32": int32, "i4": int32,
    "int64": int64, "i64": int64, "i8": int64,
    "bool": bool_, "b1": bool_,
    "float64": float64, "f64": float64, "f8": float64, "double": float64,
}
_BY_NUMPY = {float32.numpy: float32, float16.numpy: float16, int32.numpy: int32,
             int64.numpy: int64, bool_.numpy: bool_, float64.numpy: float64}


def dtype(value):
    """The DType named by ``value``: a DType, a name (``"float32"``, ``"f4"``,
    ``"bfloat16"``, ``"int64"``, ...), or a numpy dtype or type. ``uint16``
    is not taken for bfloat16: ask for ``"bfloat16"`` by name."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    try:
        found = _BY_NUMPY.get(np.dtype(value))
    except TypeError:
        found = None
    if found is None:
        names = ", ".join(d.name for d in ALL)
        raise InvalidArgumentError(f"unsupported dtype {value!r}; Salus has {names}")
    return found


def by_code(code):
    """The DType of a salus_dtype value."""
    for d in ALL:
        if d.code == code:
            return d
    raise InvalidArgumentError(f"unknown salus_dtype {code}")


def to_bfloat16(values):
    """The bfloat16 bits (a uint16 array) of float values, rounded to nearest
    even as hardware does; NaN stays NaN."""
    f = np.asarray(values, dtype=np.float32)
    bits = np.atleast_1d(f).view(np.uint32)
    lsb = (bits >> np.uint32(16)) & np.uint32(1)
    rounded = (bits + np.uint32(0x7FFF) + lsb) >> np.uint32(16)
    quiet = (bits >> np.uint32(16)) | np.uint32(0x40)
    return np.where(np.isnan(np.atleast_1d(f)), quiet, rounded).astype(np.uint16).reshape(f.shape)


def from_bfloat16(bits):
    """float32 values of bfloat16 bits (a uint16 array); exact."""
    b = np.asarray(bits, dtype=np.uint16)
    wide = np.atleast_1d(b).astype(np.uint32) << np.uint32(16)
    return wide.view(np.float32).reshape(b.shape)
