"""The aten ops salus.torch runs: ATEN maps an aten op's name (the overload
packet: ``add`` covers add.Tensor and add.Scalar) to the function lowering
it onto the graph builder. Each takes the translation context ``cx`` (its
builder ``cx.g``) and the op's arguments, fx nodes replaced by their
tensors, and returns a tensor or a tuple of them; its docstring is the
table row of doc/torch.md. An op not here is refused before a session is
opened (salus.torch.UnsupportedError)."""

import numpy as np
import torch

from .. import _dtypes
from .._grad_conv import _conv_transpose_to
from ._capture import UnsupportedError

ATEN = {}

# torch's dtypes as the builder's.
DTYPES = {torch.float32: _dtypes.float32, torch.int64: _dtypes.int64,
          torch.int32: _dtypes.int32, torch.bool: _dtypes.bool_}

# nll_loss's reduction enum (at::Reduction).
_REDUCTIONS = ["none", "mean", "sum"]


def lowers(*names):
    def register(fn):
        for name in names:
            ATEN[name] = fn
        return fn
    return register


class Empty:
    """The value of empty/empty_like: only its shape may be read (random ops
    fill it); anything else reading it is refused."""

    def __init__(self, shape, dtype=torch.float32):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = dtype


def _axis(dim, ndim):
    return dim + ndim if dim < 0 else dim


def _dims(dims, ndim):
    """torch's dim list (None or [] for all) as axes, or None for all."""
    if dims is None or (not isinstance(dims, int) and len(dims) == 0):
        return None
    dims = [dims] if isinstance(dims, int) else dims
    return [_axis(d, ndim) for d in dims]


def _constant(cx, value, dtype):
    return cx.g.constant(cx.g._auto_name("const"), np.asarray(value, dtype=DTYPES[dtype].numpy))


# ---- views and copies -------------------------------------------------------------

@lowers("clone", "detach", "alias", "lift_fresh_copy", "contiguous")
def _same(cx, x, *args, **kwargs):
    """the same tensor (no node)"""
    return x


@lowers("view", "_reshape_alias", "_unsafe_view", "reshape")
def _view(cx, x, size, *args):
    """Reshape"""
    return cx.g.reshape(x, size)


@lowers("t")
def _t(cx, x):
    """Transpose (2-D), the tensor itself below 2-D"""
    return x if x.ndim < 2 else cx.g.transpose(x, (1, 0))


@lowers("transpose")
def _transpose(cx, x, d0, d1):
    """Transpose"""
    perm = list(range(x.ndim))
    d0, d1 = _axis(d0, x.ndim), _axis(d1, x.ndim)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return cx.g.transpose(x, perm)


@lowers("permute")
def _permute(cx, x, dims):
    """Transpose"""
    return cx.g.transpose(x, [_axis(d, x.ndim) for d in dims])


@lowers("expand")
def _expand(cx, x, size, implicit=False):
    """Expand"""
    lead = len(size) - x.ndim
    shape = [x.shape[i - lead] if s == -1 else s for i, s in enumerate(size)]
    return x if tuple(shape) == x.shape else cx.g.op("Expand", x, shape=shape)


@lowers("unsqueeze")
def _unsqueeze(cx, x, dim):
    """Unsqueeze"""
    return cx.g.unsqueeze(x, _axis(dim, x.ndim + 1))


@lowers("squeeze")
def _squeeze(cx, x, dim=None):
    """Squeeze (of the size-1 axes among those named)"""
    dims = range(x.ndim) if dim is None else [dim] if isinstance(dim, int) else dim
    axes = [_axis(d, x.ndim) for d in dims if x.shape[d] == 1]
    return cx.g.squeeze(x, axes) if axes else x


@lowers("select")
def _select(cx, x, dim, index):
    """Slice and Squeeze"""
    dim = _axis(dim, x.ndim)
    index = index % x.shape[dim]
    return cx.g.squeeze(cx.g.slice(x, [index], [index + 1], [dim]), [dim])


def _bounds(size, start, end):
    start = 0 if start is None else start
    end = size if end is None else min(end, size)
    return start, end


@lowers("slice")
def _slice(cx, x, dim=0, start=None, end=None, step=1):
    """Slice"""
    dim = _axis(dim, x.ndim)
    start, end = _bounds(x.shape[dim], start, end)
    return cx.g.slice(x, [start], [end], [dim], [step])


@lowers("select_backward")
def _select_backward(cx, grad, sizes, dim, index):
    """Unsqueeze and SliceGrad"""
    dim = _axis(dim, len(sizes))
    index = index % sizes[dim]
    return cx.g.slice_grad(cx.g.unsqueeze(grad, dim), sizes, [index], [index + 1], [dim])


@lowers("slice_backward")
def _slice_backward(cx, grad, sizes, dim, start, end, step):
    """SliceGrad"""
    dim = _axis(dim, len(sizes))
    start, end = _bounds(sizes[dim], start, end)
    return cx.g.slice_grad(grad, sizes, [start], [end], [dim], [step])


@lowers("split", "unsafe_split")
def _split(cx, x, size, dim=0):
    """Split"""
    return cx.g.split(x, size, _axis(dim, x.ndim))


@lowers("split_with_sizes", "unsafe_split_with_sizes")
def _split_with_sizes(cx, x, sizes, dim=0):
    """Split"""
    return cx.g.split(x, list(sizes), _axis(dim, x.ndim))


@lowers("unbind")
def _unbind(cx, x, dim=0):
    """Split and Squeeze"""
    dim = _axis(dim, x.ndim)
    parts = cx.g.split(x, 1, dim) if x.shape[dim] > 1 else (x,)
    return tuple(cx.g.squeeze(p, [dim]) for p in parts)


@lowers("cat")
def _cat(cx, tensors, dim=0):
    """Concat"""
    tensors = list(tensors)
    return tensors[0] if len(tensors) == 1 else cx.g.cat(tensors, _axis(dim, tensors[0].ndim))


@lowers("stack")
def _stack(cx, tensors, dim=0):
    """Unsqueeze and Concat"""
    dim = _axis(dim, tensors[0].ndim + 1)
    return _cat(cx, [cx.g.unsqueeze(t, dim) for t in tensors], dim)


@lowers("_to_copy")
def _to_copy(cx, x, dtype=None, **kwargs):
    """Cast (the tensor itself for its own dtype)"""
    if dtype is None or DTYPES.get(dtype) is x.dtype:
        return x
    if dtype not in DTYPES:
        raise UnsupportedError(f"salus.torch: a cast to {dtype} (Salus computes in float32)")
    return cx.g.cast(x, DTYPES[dtype])


def _contiguous(size, stride, offset, numel):
    """Whether as_strided's view is the whole of a contiguous tensor, in order."""
    want, step = [], 1
    for d in reversed(size):
        want.insert(0, step)
        step *= d
    return offset == 0 and step == numel and all(
        s == w for d, s, w in zip(size, stride, want) if d != 1)


@lowers("as_strided")
def _as_strided(cx, x, size, stride, offset=0):
    """Reshape (a view of the whole tensor in order; others are refused)"""
    if not _contiguous(size, stride, offset or 0, x.size):
        raise UnsupportedError("salus.torch: as_strided other than a reshape")
    return cx.g.reshape(x, size)


@lowers("as_strided_scatter")
def _as_strided_scatter(cx, x, src, size, stride, offset=0):
    """Reshape (of src, when it covers the whole tensor in order)"""
    if not _contiguous(size, stride, offset or 0, x.size):
        raise UnsupportedError("salus.torch: as_strided_scatter of a part of a tensor")
    return cx.g.reshape(src, x.shape)


# Functionalization may turn each view into its copying twin.
for _name in ("view", "_reshape_alias", "t", "transpose", "permute", "expand", "unsqueeze",
              "squeeze", "select", "slice", "split", "split_with_sizes", "unbind", "detach",
              "alias", "as_strided"):
    ATEN[_name + "_copy"] = ATEN[_name]


# ---- constants, empties and random values -------------------------------------------

def _like_dtype(x, dtype):
    if dtype is not None:
        return dtype
    return x.dtype if isinstance(x, Empty) else next(k for k, v in DTYPES.items() if v is x.dtype)


@lowers("empty", "new_empty")
def _empty(cx, *args, dtype=None, **kwargs):
    """nothing: a random op fills it"""
    size = args[-1]
    like = args[0] if len(args) > 1 else None
    return Empty(size, dtype or (like and _like_dtype(like, None)) or torch.float32)


@lowers("empty_like")
def _empty_like(cx, x, dtype=None, **kwargs):
    """nothing: a random op fills it"""
    return Empty(x.shape, _like_dtype(x, dtype))


@lowers("new_empty_strided")
def _new_empty_strided(cx, x, size, stride, dtype=None, **kwargs):
    """nothing: a random op or a fill fills it"""
    return Empty(size, dtype or _like_dtype(x, None))


@lowers("zero", "fill")
def _fill(cx, x, value=0):
    """a constant (Expand of a tensor value)"""
    if isinstance(value, (int, float)):
        return _constant(cx, np.full(x.shape, value), _like_dtype(x, None))
    return _expand(cx, value, x.shape)


@lowers("zeros_like", "ones_like", "full_like")
def _full_like(cx, x, fill=None, dtype=None, **kwargs):
    """a constant"""
    value = {"zeros_like": 0, "ones_like": 1}.get(cx.op, fill)
    return _constant(cx, np.full(x.shape, value), _like_dtype(x, dtype))


@lowers("zeros", "ones", "full", "new_zeros", "new_ones", "new_full")
def _full(cx, *args, dtype=None, **kwargs):
    """a constant"""
    name = cx.op.replace("new_", "")
    if name == "full":
        size, fill = args[-2], args[-1]
    else:
        size, fill = args[-1], {"zeros": 0, "ones": 1}[name]
    like = args[0] if cx.op.startswith("new_") else None
    return _constant(cx, np.full(size, fill), dtype or (like and _like_dtype(like, None))
                     or torch.float32)


@lowers("scalar_tensor")
def _scalar_tensor(cx, value, dtype=None, **kwargs):
    """a constant"""
    return _constant(cx, value, dtype or torch.float32)


def _numbers(*values):
    if not all(isinstance(v, (int, float)) for v in values):
        raise UnsupportedError("salus.torch: a random op with tensor parameters (drawn on "
                               "the client, its parameters must be numbers)")
    return values


def _filled(cx, x, fill):
    """An input the client draws, for a random fill of an empty tensor; a
    fill of another tensor reads its values, which the client does not have."""
    if not isinstance(x, Empty):
        raise UnsupportedError("salus.torch: a random op over a computed tensor (only "
                               "empty tensors are filled on the client)")
    return cx.random(x.shape, fill)


@lowers("bernoulli")
def _bernoulli(cx, x, p=0.5, **kwargs):
    """an input drawn by the client (bernoulli_(p) of an empty tensor: dropout)"""
    if cx.node.target._overloadname not in ("float", "p"):  # p a tensor of probabilities
        _numbers(None)
    p, = _numbers(p)
    return _filled(cx, x, lambda t: t.bernoulli_(p))


@lowers("normal")
def _normal(cx, x, mean=0.0, std=1.0, **kwargs):
    """an input drawn by the client (normal_ of an empty tensor)"""
    mean, std = _numbers(mean, std)
    return _filled(cx, x, lambda t: t.normal_(mean, std))


@lowers("uniform")
def _uniform(cx, x, lo=0.0, hi=1.0, **kwargs):
    """an input drawn by the client (uniform_ of an empty tensor)"""
    lo, hi = _numbers(lo, hi)
    return _filled(cx, x, lambda t: t.uniform_(lo, hi))


def _shape_of(x):
    return x.shape if hasattr(x, "shape") else x  # randn_like(x) or randn(size)


@lowers("randn_like", "randn")
def _randn(cx, x, **kwargs):
    """an input drawn by the client (torch.randn)"""
    return cx.random(_shape_of(x), lambda t: t.normal_())


@lowers("rand_like", "rand")
def _rand(cx, x, **kwargs):
    """an input drawn by the client (torch.rand)"""
    return cx.random(_shape_of(x), lambda t: t.uniform_())


@lowers("arange")
def _arange(cx, *args, dtype=None, **kwargs):
    """a constant"""
    value = np.arange(*args)
    return _constant(cx, value, dtype or (torch.int64 if value.dtype.kind in "iu"
                                          else torch.float32))


# ---- arithmetic -------------------------------------------------------------------

def _scaled(cx, b, alpha):
    return b if alpha == 1 else cx.g.mul(b, alpha)


@lowers("add")
def _add(cx, a, b, alpha=1):
    """Add (Mul by alpha first)"""
    return cx.g.add(a, _scaled(cx, b, alpha))


@lowers("sub")
def _sub(cx, a, b, alpha=1):
    """Sub (Mul by alpha first)"""
    return cx.g.sub(a, _scaled(cx, b, alpha))


@lowers("rsub")
def _rsub(cx, a, b, alpha=1):
    """Sub (Mul by alpha first)"""
    return cx.g.sub(b, _scaled(cx, a, alpha))


@lowers("mul")
def _mul(cx, a, b):
    """Mul"""
    return cx.g.mul(a, b)


@lowers("div")
def _div(cx, a, b, rounding_mode=None):
    """Div (true division only)"""
    if rounding_mode is not None:
        raise UnsupportedError(f"salus.torch: div with rounding_mode={rounding_mode!r}")
    return cx.g.div(a, b)


@lowers("pow")
def _pow(cx, a, b):
    """Pow; as torch, a power of 2, 3, 0.5, -0.5, -1 or -2 by Mul, Sqrt, Rsqrt, Reciprocal"""
    g = cx.g
    special = {2: lambda x: g.mul(x, x), 3: lambda x: g.mul(g.mul(x, x), x),
               0.5: g.sqrt, -0.5: g.rsqrt, -1: g.reciprocal,
               -2: lambda x: g.reciprocal(g.mul(x, x))}
    if isinstance(b, (int, float)) and b in special and not isinstance(a, (int, float)):
        return special[b](a)
    return g.pow(a, b)


def _unary(method, doc):
    def lower(cx, x):
        return getattr(cx.g, method)(x)
    lower.__doc__ = doc
    return lower


for _name, _method, _op in (
        ("neg", "neg", "Neg"), ("exp", "exp", "Exp"), ("log", "log", "Log"),
        ("sqrt", "sqrt", "Sqrt"), ("rsqrt", "rsqrt", "Rsqrt"), ("abs", "abs", "Abs"),
        ("reciprocal", "reciprocal", "Reciprocal"), ("sign", "sign", "Sign"),
        ("sin", "sin", "Sin"), ("cos", "cos", "Cos"), ("erf", "erf", "Erf"),
        ("relu", "relu", "Relu"), ("sigmoid", "sigmoid", "Sigmoid"), ("tanh", "tanh", "Tanh"),
        ("silu", "silu", "Silu"), ("hardswish", "hardswish", "HardSwish"),
        ("hardsigmoid", "hardsigmoid", "HardSigmoid (alpha 1/6)"),
        ("logical_not", "logical_not", "Not")):
    ATEN[_name] = _unary(_method, _op)


def _binary(method, doc):
    def lower(cx, a, b):
        return getattr(cx.g, method)(a, b)
    lower.__doc__ = doc
    return lower


for _name, _method, _op in (
        ("maximum", "maximum", "Max"), ("minimum", "minimum", "Min"), ("eq", "eq", "Equal"),
        ("lt", "lt", "Less"), ("le", "le", "LessOrEqual"), ("gt", "gt", "Greater"),
        ("ge", "ge", "GreaterOrEqual"), ("logical_and", "logical_and", "And"),
        ("logical_or", "logical_or", "Or")):
    ATEN[_name] = _binary(_method, _op)


@lowers("ne")
def _ne(cx, a, b):
    """Equal and Not"""
    return cx.g.logical_not(cx.g.eq(a, b))


@lowers("where")
def _where(cx, condition, a, b):
    """Where"""
    return cx.g.where(condition, a, b)


@lowers("masked_fill")
def _masked_fill(cx, x, mask, value):
    """Where"""
    return cx.g.where(mask, value, x)


@lowers("clamp", "clip")
def _clamp(cx, x, min=None, max=None):  # noqa: A002 (aten's names)
    """Clip"""
    return cx.g.clamp(x, min, max)


@lowers("clamp_min")
def _clamp_min(cx, x, min):  # noqa: A002
    """Clip"""
    return cx.g.clamp(x, min, None)


@lowers("clamp_max")
def _clamp_max(cx, x, max):  # noqa: A002
    """Clip"""
    return cx.g.clamp(x, None, max)


# ---- activations and their backward ---------------------------------------------------

@lowers("hardtanh")
def _hardtanh(cx, x, min_val=-1.0, max_val=1.0):
    """Clip"""
    return cx.g.clamp(x, min_val, max_val)


@lowers("hardtanh_backward")
def _hardtanh_backward(cx, grad, x, min_val, max_val):
    """Where of Greater and Less (torch passes the gradient strictly inside the bounds)"""
    g = cx.g
    inside = g.logical_and(g.gt(x, min_val), g.lt(x, max_val))
    return g.where(inside, grad, 0.0)


@lowers("threshold_backward")
def _threshold_backward(cx, grad, x, threshold):
    """ReluGrad (threshold 0), else Where of Greater"""
    if threshold == 0:
        return cx.g.relu_grad(grad, x)
    return cx.g.where(cx.g.gt(x, threshold), grad, 0.0)


def _grad(op, doc, **fixed):
    def lower(cx, grad, x, *args):
        return cx.g.op(op, grad, x, **fixed)
    lower.__doc__ = doc
    return lower


for _name, _op in (("sigmoid_backward", "SigmoidGrad"), ("tanh_backward", "TanhGrad"),
                   ("silu_backward", "SiluGrad"), ("hardswish_backward", "HardSwishGrad")):
    ATEN[_name] = _grad(_op, _op)
ATEN["hardsigmoid_backward"] = _grad("HardSigmoidGrad", "HardSigmoidGrad (alpha 1/6)",
                                     alpha=1.0 / 6.0, beta=0.5)


@lowers("gelu")
def _gelu(cx, x, approximate="none"):
    """Gelu"""
    return cx.g.gelu(x, approximate)


@lowers("gelu_backward")
def _gelu_backward(cx, grad, x, approximate="none"):
    """GeluGrad"""
    return cx.g.op("GeluGrad", grad, x, approximate=approximate)


@lowers("leaky_relu")
def _leaky_relu(cx, x, slope=0.01):
    """LeakyRelu"""
    return cx.g.leaky_relu(x, slope)


@lowers("leaky_relu_backward")
def _leaky_relu_backward(cx, grad, x, slope, self_is_result):
    """LeakyReluGrad"""
    return cx.g.op("LeakyReluGrad", grad, x, alpha=float(slope))


@lowers("elu")
def _elu(cx, x, alpha=1.0, scale=1.0, input_scale=1.0):
    """Elu (scale and input_scale 1)"""
    if scale != 1 or input_scale != 1:
        raise UnsupportedError("salus.torch: elu with a scale (selu, celu)")
    return cx.g.elu(x, alpha)


@lowers("elu_backward")
def _elu_backward(cx, grad, alpha, scale, input_scale, is_result, x):
    """EluGrad (of the input)"""
    if is_result or scale != 1 or input_scale != 1:
        raise UnsupportedError("salus.torch: elu_backward of an in-place elu or of a scaled elu")
    return cx.g.op("EluGrad", grad, x, alpha=float(alpha))


@lowers("softplus")
def _softplus(cx, x, beta=1.0, threshold=20.0):
    """Softplus"""
    if beta != 1:
        raise UnsupportedError("salus.torch: softplus with beta != 1")
    return cx.g.softplus(x, beta, threshold)


@lowers("softplus_backward")
def _softplus_backward(cx, grad, x, beta, threshold):
    """SoftplusGrad"""
    if beta != 1 or threshold != 20:
        raise UnsupportedError("salus.torch: softplus with beta != 1 or threshold != 20")
    return cx.g.op("SoftplusGrad", grad, x)


# ---- linear algebra and reductions -----------------------------------------------------

@lowers("mm", "bmm", "matmul")
def _mm(cx, a, b):
    """MatMul"""
    return cx.g.matmul(a, b)


@lowers("addmm")
def _addmm(cx, bias, a, b, beta=1, alpha=1):
    """Gemm"""
    return cx.g.gemm(a, b, bias, alpha=alpha, beta=beta)


@lowers("sum")
def _sum(cx, x, dims=None, keepdim=False, dtype=None):
    """ReduceSum"""
    return cx.g.reduce_sum(x, _dims(dims, x.ndim), keepdim)


@lowers("mean")
def _mean(cx, x, dims=None, keepdim=False, dtype=None):
    """ReduceMean"""
    return cx.g.reduce_mean(x, _dims(dims, x.ndim), keepdim)


def _leading(method, doc, n):
    """A lowering passing the first n arguments to the builder's method (the
    rest, dtypes and half_to_float, say nothing for float32)."""
    def lower(cx, *args):
        return getattr(cx.g, method)(*args[:n])
    lower.__doc__ = doc
    return lower


for _name, _method, _op, _n in (
        ("amax", "amax", "ReduceMax", 3), ("amin", "amin", "ReduceMin", 3),
        ("_softmax", "softmax", "Softmax", 2),
        ("_softmax_backward_data", "softmax_grad", "SoftmaxGrad", 3),
        ("_log_softmax", "log_softmax", "LogSoftmax", 2),
        ("_log_softmax_backward_data", "log_softmax_grad", "LogSoftmaxGrad", 3)):
    ATEN[_name] = _leading(_method, _op, _n)


# ---- losses ----------------------------------------------------------------------------

@lowers("nll_loss_forward", "nll_loss2d_forward")
def _nll_loss(cx, x, target, weight, reduction, ignore_index):
    """NegativeLogLikelihoodLoss"""
    loss = cx.g.nll_loss(x, target, weight, ignore_index, _REDUCTIONS[reduction])
    return loss, None


@lowers("nll_loss_backward", "nll_loss2d_backward")
def _nll_loss_backward(cx, grad, x, target, weight, reduction, ignore_index, total_weight):
    """NegativeLogLikelihoodLossGrad"""
    attrs = {"reduction": _REDUCTIONS[reduction], "ignore_index": int(ignore_index)}
    return cx.g.label_loss_grad("NegativeLogLikelihoodLoss", grad, x, target, weight, attrs)


@lowers("mse_loss")
def _mse_loss(cx, x, y, reduction=1):
    """Sub, Mul and ReduceMean or ReduceSum"""
    d = cx.g.sub(x, y)
    sq = cx.g.mul(d, d)
    if _REDUCTIONS[reduction] == "none":
        return sq
    return cx.g.reduce_mean(sq) if _REDUCTIONS[reduction] == "mean" else cx.g.reduce_sum(sq)


@lowers("mse_loss_backward")
def _mse_loss_backward(cx, grad, x, y, reduction):
    """Sub and Mul, as torch: 2 (/ N for the mean) · (x − y) · grad"""
    norm = 2.0 / x.size if reduction == 1 else 2.0
    return cx.g.mul(cx.g.mul(cx.g.sub(x, y), norm), grad)


# ---- embeddings ------------------------------------------------------------------------

@lowers("embedding")
def _embedding(cx, weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Gather"""
    return cx.g.embedding(indices, weight)


@lowers("embedding_dense_backward")
def _embedding_backward(cx, grad, indices, num_weights, padding_idx, scale_grad_by_freq):
    """GatherGrad (Mul by a mask for padding_idx)"""
    if scale_grad_by_freq:
        raise UnsupportedError("salus.torch: embedding with scale_grad_by_freq")
    shape = (num_weights, grad.shape[-1])
    flat = cx.g.reshape(grad, (-1, shape[1]))
    dw = cx.g.gather_grad(flat, cx.g.reshape(indices, (-1,)), shape)
    if padding_idx >= 0:
        keep = np.ones((num_weights, 1), np.float32)
        keep[padding_idx] = 0
        dw = cx.g.mul(dw, keep)
    return dw


# ---- convolution and pooling -----------------------------------------------------------

def _window(stride, padding, dilation, groups):
    return {"strides": list(stride), "pads": list(padding) * 2, "dilations": list(dilation),
            "group": int(groups)}


@lowers("convolution")
def _convolution(cx, x, w, bias, stride, padding, dilation, transposed, output_padding,
                 groups):
    """Conv, or ConvTranspose when transposed"""
    attrs = _window(stride, padding, dilation, groups)
    inputs = [x, w] + ([] if bias is None else [bias])
    if transposed:
        return cx.g.op("ConvTranspose", *inputs, output_padding=list(output_padding), **attrs)
    return cx.g.op("Conv", *inputs, **attrs)


@lowers("convolution_backward")
def _convolution_backward(cx, grad, x, w, bias_sizes, stride, padding, dilation, transposed,
                          output_padding, groups, mask):
    """ConvTranspose (or Conv) for the input, ConvGradWeight for the weight,
    ReduceSum for the bias"""
    g = cx.g
    attrs = _window(stride, padding, dilation, groups)
    dx = dw = db = None
    if mask[0]:
        dx = g.op("Conv", grad, w, **attrs) if transposed else \
            _conv_transpose_to(g, grad, w, attrs, x)
    if mask[1]:
        dy, inp = (x, grad) if transposed else (grad, x)
        dw = g.op("ConvGradWeight", dy, inp, kernel_shape=list(w.shape[2:]), **attrs)
    if mask[2]:
        db = g.reduce_sum(grad, [0] + list(range(2, grad.ndim)))
    return dx, dw, db


def _pool_attrs(kernel, stride, padding, ceil_mode):
    kernel = list(kernel)
    stride = list(stride) or kernel
    padding = list(padding) if len(padding) == len(kernel) else list(padding) * len(kernel)
    return {"kernel_shape": kernel, "strides": stride, "pads": padding * 2,
            "ceil_mode": int(bool(ceil_mode))}


def _dilations(dilation, kernel):
    return list(dilation) if len(dilation) == len(kernel) else list(dilation) * len(kernel)


@lowers("max_pool2d_with_indices")
def _max_pool(cx, x, kernel, stride=(), padding=(0,), dilation=(1,), ceil_mode=False):
    """MaxPool (its indices feed nothing but the backward)"""
    attrs = _pool_attrs(kernel, stride, padding, ceil_mode)
    return cx.g.op("MaxPool", x, num_outputs=2, dilations=_dilations(dilation, kernel), **attrs)


@lowers("max_pool2d_with_indices_backward")
def _max_pool_backward(cx, grad, x, kernel, stride, padding, dilation, ceil_mode, indices):
    """MaxPoolGrad"""
    attrs = _pool_attrs(kernel, stride, padding, ceil_mode)
    return cx.g.op("MaxPoolGrad", grad, x, dilations=_dilations(dilation, kernel), **attrs)


def _avg_attrs(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if divisor_override is not None:
        raise UnsupportedError("salus.torch: avg_pool2d with divisor_override")
    return {**_pool_attrs(kernel, stride, padding, ceil_mode),
            "count_include_pad": int(bool(count_include_pad))}


@lowers("avg_pool2d")
def _avg_pool(cx, x, kernel, stride=(), padding=(0,), ceil_mode=False, count_include_pad=True,
              divisor_override=None):
    """AveragePool"""
    attrs = _avg_attrs(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return cx.g.op("AveragePool", x, **attrs)


@lowers("avg_pool2d_backward")
def _avg_pool_backward(cx, grad, x, kernel, stride, padding, ceil_mode, count_include_pad,
                       divisor_override):
    """AveragePoolGrad"""
    attrs = _avg_attrs(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return cx.g.op("AveragePoolGrad", grad, x, **attrs)


@lowers("_adaptive_avg_pool2d")
def _adaptive_avg_pool(cx, x, output_size):
    """GlobalAveragePool (output size 1)"""
    return cx.g.adaptive_avg_pool2d(x, output_size)


@lowers("_adaptive_avg_pool2d_backward")
def _adaptive_avg_pool_backward(cx, grad, x):
    """Expand and Mul"""
    count = int(np.prod(x.shape[2:]))
    return cx.g.mul(cx.g.expand(grad, x.shape), 1.0 / count)


# ---- normalization -------------------------------------------------------------------

def _ones_if_none(cx, t, n, fill=1.0):
    return t if t is not None else _constant(cx, np.full((n,), fill), torch.float32)


@lowers("native_batch_norm")
def _batch_norm(cx, x, w, b, mean, var, training, momentum, eps):
    """BatchNormalizationTraining (updating the running statistics in place),
    BatchNormalization in eval mode"""
    c = x.shape[1]
    w, b = _ones_if_none(cx, w, c), _ones_if_none(cx, b, c, 0.0)
    if not training:
        y = cx.g.op("BatchNormalization", x, w, b, mean, var, epsilon=float(eps))
        return y, None, None
    if mean is None or var is None:
        raise UnsupportedError("salus.torch: batch norm without running statistics "
                               "(track_running_stats=False)")
    cx.updated_in_place(mean, var)
    return cx.g.op("BatchNormalizationTraining", x, w, b, mean, var, num_outputs=3,
                   epsilon=float(eps), momentum=1.0 - float(momentum))


@lowers("native_batch_norm_backward")
def _batch_norm_backward(cx, grad, x, w, mean, var, save_mean, save_invstd, training, eps,
                         mask):
    """BatchNormalizationGrad (BatchNormalizationInferenceGrad in eval mode)"""
    w = _ones_if_none(cx, w, x.shape[1])
    if training:
        return cx.g.op("BatchNormalizationGrad", grad, x, w, save_mean, save_invstd,
                       num_outputs=3)
    return cx.g.op("BatchNormalizationInferenceGrad", grad, x, w, mean, var, num_outputs=3,
                   epsilon=float(eps))


@lowers("native_layer_norm")
def _layer_norm(cx, x, shape, w, b, eps):
    """LayerNormalization"""
    w = w if w is not None else _constant(cx, np.ones(shape), torch.float32)
    inputs = [x, w] + ([] if b is None else [b])
    return cx.g.op("LayerNormalization", *inputs, num_outputs=3, axis=-len(shape),
                   epsilon=float(eps))


@lowers("native_layer_norm_backward")
def _layer_norm_backward(cx, grad, x, shape, mean, rstd, w, b, mask):
    """LayerNormalizationGrad"""
    w = w if w is not None else _constant(cx, np.ones(shape), torch.float32)
    outs = cx.g.op("LayerNormalizationGrad", grad, x, w, mean, rstd,
                   num_outputs=3 if b is not None else 2, axis=-len(shape))
    return tuple(outs) + (None,) * (3 - len(outs))



# ---- the documentation ---------------------------------------------------------------

def doc_table():
    """The markdown table of doc/torch.md: each lowering with its aten ops."""
    rows = {}
    for name, fn in ATEN.items():
        rows.setdefault(fn, []).append(name)
    lines = ["| aten ops | Salus ops |", "| --- | --- |"]
    for fn, names in sorted(rows.items(), key=lambda r: sorted(r[1])[0].lstrip("_")):
        ops = ", ".join(f"`{n}`" for n in sorted(names))
        lines.append(f"| {ops} | {' '.join(fn.__doc__.split())} |")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- generated from salus/torch/_aten.py: do not edit below -->", "<!-- end -->"


def with_table(text):
    """text (doc/torch.md) with its generated table replaced by doc_table()."""
    head, rest = text.split(BEGIN)
    return f"{head}{BEGIN}\n\n{doc_table()}\n{END}{rest.split(END, 1)[1]}"

