"""The import table's shape ops and data movement (Shape, Reshape, Slice,
Gather, Concat, ...) and constants, each folded with numpy when its inputs
are all known: that is how shape computations disappear at import."""

import numpy as np
from onnx import numpy_helper

from ._context import as_salus_array, salus_dtype
from ._import import BOOL, F32, F64, I32, I64, lowering, norm_axis, op, refuse


@lowering("Shape", since=1)
def _shape(n):
    """Folded: the static shape."""
    shape = n.shape(0)
    start, end = n.attr("start", 0), n.attr("end")
    return np.array(shape[start:end], dtype=np.int64)


@lowering("Size", since=1)
def _size(n):
    """Folded: the static size."""
    return np.array(int(np.prod(n.shape(0), dtype=np.int64)), dtype=np.int64)


def _target_shape(n, shape, data_shape):
    shape = list(shape)
    allow_zero = n.attr("allowzero", 0)
    for i, d in enumerate(shape):
        if d == 0 and not allow_zero:
            shape[i] = data_shape[i]
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        total = int(np.prod(data_shape, dtype=np.int64))
        shape[shape.index(-1)] = total // known if known else 0
    return tuple(shape)


def _reshape_shape(n):
    return n.attr("shape") if n.ver < 5 else n.ints(1, "the target shape")


@lowering("Reshape", since=1, fold=lambda n, x, *_: x.reshape(_target_shape(
    n, _reshape_shape(n), x.shape)))
def _reshape(n):
    """Reshape to the folded shape (0 and −1 resolved)."""
    shape = _target_shape(n, _reshape_shape(n), n.shape(0))
    return n.g.reshape(n.t(0), shape)


@lowering("Flatten", since=1, fold=lambda n, x: x.reshape(
    int(np.prod(x.shape[:norm_axis(n.attr("axis"), x.ndim)], dtype=np.int64)), -1))
def _flatten(n):
    """Flatten."""
    return op(n, "Flatten", n.t(0), axis=n.attr("axis"))


def _perm(n, rank):
    perm = n.attr("perm")
    return list(perm) if perm else list(reversed(range(rank)))


@lowering("Transpose", since=1, fold=lambda n, x: np.transpose(x, _perm(n, x.ndim)))
def _transpose(n):
    """Transpose (float32)."""
    x = n.t(0)
    perm = _perm(n, x.ndim)
    if x.dtype is not F32:
        refuse(f"a {x.dtype.name} input: Salus transposes float32")
    return op(n, "Transpose", x, perm=perm)


def _axes_arg(n):
    return n.attr("axes") if n.ver < 13 else n.ints(1, "axes")


def _fold_squeeze(n, x, *_):
    axes = _axes_arg(n)
    if axes is None:
        return np.squeeze(x)
    return np.squeeze(x, tuple(norm_axis(a, x.ndim) for a in axes))


@lowering("Squeeze", since=1, fold=_fold_squeeze)
def _squeeze(n):
    """Squeeze (axes folded)."""
    axes = _axes_arg(n)
    x = n.t(0)
    attrs = {} if axes is None else {"axes": [norm_axis(a, x.ndim) for a in axes]}
    return op(n, "Squeeze", x, **attrs)


def _fold_unsqueeze(n, x, *_):
    out_rank = x.ndim + len(_axes_arg(n))
    axes = sorted(norm_axis(a, out_rank) for a in _axes_arg(n))
    for a in axes:
        x = np.expand_dims(x, a)
    return x


@lowering("Unsqueeze", since=1, fold=_fold_unsqueeze)
def _unsqueeze(n):
    """Unsqueeze (axes folded)."""
    x = n.t(0)
    out_rank = x.ndim + len(_axes_arg(n))
    return op(n, "Unsqueeze", x, axes=sorted(norm_axis(a, out_rank) for a in _axes_arg(n)))


@lowering("Concat", since=4, fold=lambda n, *xs: np.concatenate(
    [x for x in xs if x.size or x.ndim > 1], axis=n.attr("axis")))
def _concat(n):
    """Concat."""
    parts = [n.t(i) for i in range(len(n.ins)) if not (n.known(i) and n.ins[i].size == 0)]
    return op(n, "Concat", *parts, axis=n.attr("axis"))


def _split_sizes(n, extent):
    sizes = n.attr("split") if n.ver < 13 else n.ints(1, "split")
    if not sizes:
        part = -(-extent // n.n_out)
        sizes = [min(part, extent - i * part) for i in range(n.n_out)]
    return sizes


def _fold_split(n, x, *_):
    axis = norm_axis(n.attr("axis"), x.ndim)
    edges = np.cumsum(_split_sizes(n, x.shape[axis]))[:-1]
    return np.split(x, edges, axis=axis)


@lowering("Split", since=2, fold=_fold_split)
def _split(n):
    """Split (sizes folded)."""
    x = n.t(0)
    axis = norm_axis(n.attr("axis"), x.ndim)
    sizes = _split_sizes(n, x.shape[axis])
    outs = op(n, "Split", x, num_outputs=n.n_out, axis=axis, split=[int(s) for s in sizes])
    return outs if n.n_out > 1 else [outs]


def _slice_args(n, rank):
    if n.ver < 10:
        starts, ends, axes, steps = n.attr("starts"), n.attr("ends"), n.attr("axes"), None
    else:
        starts, ends = n.ints(1, "starts"), n.ints(2, "ends")
        axes = n.ints(3, "axes") if n.has(3) else None
        steps = n.ints(4, "steps") if n.has(4) else None
    axes = list(range(len(starts))) if axes is None else [norm_axis(a, rank) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    return starts, ends, axes, steps


def _slice_index(start, end, step, dim):
    """The indices ONNX's Slice takes along one axis."""
    start += dim if start < 0 else 0
    end += dim if end < 0 else 0
    if step > 0:
        start, end = min(max(start, 0), dim), min(max(end, 0), dim)
    else:
        start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
    return np.arange(start, end, step)


def _fold_slice(n, x, *_):
    for s, e, a, st in zip(*_slice_args(n, x.ndim)):
        x = np.take(x, _slice_index(s, e, st, x.shape[a]), axis=a)
    return x


@lowering("Slice", since=1, fold=_fold_slice)
def _slice(n):
    """Slice (starts, ends, axes, steps folded)."""
    x = n.t(0)
    starts, ends, axes, steps = _slice_args(n, x.ndim)
    for s, e, a, st in zip(starts, ends, axes, steps):
        if len(_slice_index(s, e, st, x.shape[a])) == 0:
            refuse("an empty slice: Salus tensors have no zero extent")
    clamp = lambda v: int(max(min(v, 2**62), -2**62))  # noqa: E731 (ONNX writes INT64_MAX)
    return op(n, "Slice", x, starts=[clamp(v) for v in starts], ends=[clamp(v) for v in ends],
              axes=axes, steps=steps)


@lowering("Expand", since=8, fold=lambda n, x, shape: x * np.ones(shape.astype(np.int64),
                                                                   x.dtype))
def _expand(n):
    """Expand to the bidirectional broadcast of the folded shape (Where for integers and
    bools)."""
    x = n.t(0)
    shape = np.broadcast_shapes(x.shape, tuple(n.ints(1, "the target shape")))
    if shape == x.shape:
        return op(n, "Identity", x)
    if x.dtype is F32:
        return op(n, "Expand", x, shape=list(shape))
    if x.dtype in (F64, I32, I64, BOOL):  # Where broadcasts these: a true condition of the shape
        return op(n, "Where", n.constant(np.ones(shape, bool)), x, x)
    refuse(f"a {x.dtype.name} input: Salus expands float32, float64, int32, int64 and bool")


@lowering("Tile", since=6, fold=lambda n, x, r: np.tile(x, r.astype(np.int64)))
def _tile(n):
    """Tile (repeats folded)."""
    return op(n, "Tile", n.t(0), repeats=n.ints(1, "repeats"))


@lowering("Gather", since=1, fold=lambda n, x, i: np.take(x, i.astype(np.int64),
                                                          axis=n.attr("axis")))
def _gather(n):
    """Gather."""
    return op(n, "Gather", n.t(0), n.t(1), axis=n.attr("axis"))


@lowering("GatherElements", since=11)
def _gather_elements(n):
    """GatherElements."""
    return op(n, "GatherElements", n.t(0), n.t(1), axis=n.attr("axis"))


@lowering("Identity", since=1, fold=lambda n, x: x)
def _identity(n):
    """Nothing: the input itself."""
    return n.ins[0]


@lowering("Dropout", since=7)
def _dropout(n):
    """Nothing in inference (the mask all true); training mode is refused."""
    x = n.ins[0]
    training = bool(n.const(2, "training_mode")) if n.has(2) else False
    ratio = (float(n.const(1, "ratio")) if n.has(1) else n.attr("ratio")) if training else 0
    if ratio > 0:
        refuse("training mode: Salus's dropout masks are its own, not the reference's")
    mask = np.ones(n.shape(0), bool) if n.n_out > 1 else None
    return [x, mask]


@lowering("Constant", since=1)
def _constant(n):
    """Folded: a known array."""
    for key in ("value_float", "value_int"):
        if n.has_attr(key):
            return np.array(n.attr(key), np.float32 if key == "value_float" else np.int64)
    for key in ("value_floats", "value_ints"):
        if n.has_attr(key):
            return np.array(n.attr(key), np.float32 if key == "value_floats" else np.int64)
    if n.has_attr("value"):
        return as_salus_array(numpy_helper.to_array(n.attr("value")))
    refuse("a sparse or string constant")


@lowering("ConstantOfShape", since=9)
def _constant_of_shape(n):
    """Folded: a known array."""
    value = n.attr("value")
    fill = numpy_helper.to_array(value) if value is not None else np.zeros(1, np.float32)
    return np.full(n.ints(0, "the shape"), fill.reshape(-1)[0], dtype=fill.dtype)


@lowering("Range", since=11)
def _range(n):
    """Folded: a known array."""
    start, limit, delta = (n.const(i, what) for i, what in enumerate(("start", "limit", "delta")))
    return np.arange(start, limit, delta).astype(np.asarray(start).dtype)


@lowering("EyeLike", since=9)
def _eye_like(n):
    """Folded: a known array."""
    shape = n.shape(0)
    dtype = salus_dtype(n.attr("dtype")) if n.has_attr("dtype") else n.dtype(0)
    return np.eye(shape[0], shape[1], k=n.attr("k"), dtype=dtype.numpy)
