"""Values for tensors of a graph: what the client sends as an input, a
variable's value or initial value, checked and converted once here."""

import numpy as np

from . import _dtypes
from ._errors import ShapeError


def as_array(spec, value, what="input"):
    """value as a C-contiguous native array of the input's (or variable's)
    dtype and shape; `what` names it in errors."""
    want = spec.dtype.numpy
    try:
        array = np.asarray(value)
    except Exception as e:
        raise ShapeError(f"{what} {spec.name!r}: cannot make an array of a "
                         f"{type(value).__name__}: {e}") from None
    if array.dtype != want:
        if spec.dtype is _dtypes.bfloat16 and array.dtype.kind == "f":
            array = _dtypes.to_bfloat16(array)
        elif array.dtype.kind in "biuf" and np.can_cast(array.dtype, want, "same_kind"):
            array = array.astype(want)
        else:
            raise ShapeError(
                f"{what} {spec.name!r} is {spec.dtype.name} but was fed {array.dtype}, which "
                f"does not convert to it without changing kind; convert it yourself "
                f"(e.g. with .astype) if that is what you mean")
    if array.shape != spec.shape:
        raise ShapeError(f"{what} {spec.name!r} has shape {spec.shape} but was fed an array of "
                         f"shape {array.shape}")
    return np.asarray(array, order="C")  # keeps a 0-d array 0-d
