"""The import table: each ONNX op Salus runs, lowered onto the salus Graph
builder (the daemon's ops, doc/ops.md, alone or composed), with a numpy fold
for the ops that compute shapes. An op's attribute defaults come from its
ONNX schema at the model's opset (Node.attr), never from here.

Each lowering takes a _context.Node and returns its output values: salus
Tensors, or arrays when known at import. It raises UnsupportedError for what
the daemon cannot run (a dtype, an attribute value), naming the reason."""

import collections

import numpy as np

from .. import _dtypes
from .._ops_elementwise import CAST_NAMES
from ._context import salus_dtype
from ._errors import UnsupportedError

Entry = collections.namedtuple("Entry", "lower fold since")

#: (domain, op_type) -> Entry; "" is the default domain (ai.onnx). ``since``
#: is the oldest version of the op read; ``fold`` computes it on known arrays.
TABLE = {}

F32, F64, I32, I64, BOOL = (_dtypes.float32, _dtypes.float64, _dtypes.int32, _dtypes.int64,
                            _dtypes.bool_)
#: The dtypes of the daemon's Add, Sub, Mul and Div (doc/ops.md).
ARITH = (F32, F64, I32, I64)


def lowering(*names, since=1, fold=None, domain=""):
    """Registers fn(node) as the lowering of ops ``names``."""
    def register(fn):
        for name in names:
            TABLE[(domain, name)] = Entry(fn, fold, since)
        return fn
    return register


def op(n, op_type, *inputs, num_outputs=1, **attrs):
    """A node of the daemon's op on tensors."""
    return n.g.op(op_type, *inputs, num_outputs=num_outputs, **attrs)


def scalar(n, value, like):
    """A scalar constant of tensor ``like``'s dtype."""
    return n.constant(np.asarray(value, dtype=like.dtype.numpy))


def floats(n, *idx):
    """Inputs idx as float32 tensors (the daemon computes in float32)."""
    return [n.t(i, floats=True) for i in idx]


def refuse(reason):
    raise UnsupportedError(reason)


def norm_axis(axis, rank):
    return axis + rank if axis < 0 else axis


# ---- elementwise ------------------------------------------------------------

UNARY = {name: name for name in (
    "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Erf", "Sin", "Cos", "Relu",
    "Sigmoid", "Tanh", "Sign", "Softplus", "HardSwish")}
UNARY_FOLD = {"Abs": np.abs, "Neg": np.negative, "Sqrt": np.sqrt, "Exp": np.exp,
              "Reciprocal": np.reciprocal, "Sign": np.sign}


def _fold_unary(n, x):
    return UNARY_FOLD[n.proto.op_type](x)


def _lower_unary(n):
    """The daemon's op of that name."""
    return op(n, UNARY[n.proto.op_type], n.t(0, floats=True))


for _name in UNARY:
    lowering(_name, since=1, fold=_fold_unary if _name in UNARY_FOLD else None)(_lower_unary)


@lowering("LeakyRelu", "Elu", since=6)
def _alpha_activation(n):
    """The daemon's op of that name."""
    return op(n, n.proto.op_type, n.t(0, floats=True), alpha=n.attr("alpha"))


@lowering("Selu", since=6)
def _selu(n):
    """The daemon's Selu."""
    return op(n, "Selu", n.t(0, floats=True), alpha=n.attr("alpha"), gamma=n.attr("gamma"))


@lowering("HardSigmoid", since=6)
def _hard_sigmoid(n):
    """The daemon's HardSigmoid."""
    return op(n, "HardSigmoid", n.t(0, floats=True), alpha=n.attr("alpha"), beta=n.attr("beta"))


@lowering("PRelu", since=6)
def _prelu(n):
    """PRelu (PRelu-6's per-channel slope reshaped onto axis 1)."""
    x, slope = floats(n, 0, 1)
    if n.ver < 7 and slope.ndim == 1 and slope.shape[0] > 1 and x.ndim > 2:
        # PRelu-6's slope of one value per channel, aligned on axis 1.
        slope = n.g.reshape(slope, (slope.shape[0],) + (1,) * (x.ndim - 2))
    return op(n, "PRelu", x, slope)


@lowering("Softsign", since=1)
def _softsign(n):
    """x / (1 + Abs(x))."""
    x, = floats(n, 0)
    return op(n, "Div", x, op(n, "Add", op(n, "Abs", x), scalar(n, 1, x)))


@lowering("Tan", since=7)
def _tan(n):
    """Sin / Cos."""
    x, = floats(n, 0)
    return op(n, "Div", op(n, "Sin", x), op(n, "Cos", x))


def _exp_pair(n, x):
    return op(n, "Exp", x), op(n, "Exp", op(n, "Neg", x))


@lowering("Sinh", "Cosh", since=9)
def _sinh_cosh(n):
    """(Exp(x) ∓ Exp(−x)) / 2."""
    x, = floats(n, 0)
    a, b = _exp_pair(n, x)
    both = op(n, "Sub" if n.proto.op_type == "Sinh" else "Add", a, b)
    return op(n, "Mul", both, scalar(n, 0.5, x))


@lowering("Asinh", "Acosh", since=9)
def _asinh_acosh(n):
    """Log(x + Sqrt(x² ± 1))."""
    x, = floats(n, 0)
    sign = 1 if n.proto.op_type == "Asinh" else -1
    root = op(n, "Sqrt", op(n, "Add", op(n, "Mul", x, x), scalar(n, sign, x)))
    return op(n, "Log", op(n, "Add", x, root))


@lowering("Atanh", since=9)
def _atanh(n):
    """Log((1 + x) / (1 − x)) / 2."""
    x, = floats(n, 0)
    one = scalar(n, 1, x)
    ratio = op(n, "Div", op(n, "Add", one, x), op(n, "Sub", one, x))
    return op(n, "Mul", op(n, "Log", ratio), scalar(n, 0.5, x))


@lowering("Celu", since=12)
def _celu(n):
    """alpha · Elu(x / alpha)."""
    x, = floats(n, 0)
    alpha = n.attr("alpha")
    return op(n, "Mul", op(n, "Elu", op(n, "Div", x, scalar(n, alpha, x)), alpha=1.0),
              scalar(n, alpha, x))


@lowering("ThresholdedRelu", since=10)
def _thresholded_relu(n):
    """Where(x > alpha, x, 0)."""
    x, = floats(n, 0)
    keep = op(n, "Greater", x, scalar(n, n.attr("alpha"), x))
    return op(n, "Where", keep, x, scalar(n, 0, x))


@lowering("Shrink", since=9)
def _shrink(n):
    """Where over Less and Greater."""
    x, = floats(n, 0)
    lambd, bias = n.attr("lambd"), n.attr("bias")
    zero = scalar(n, 0, x)
    low = op(n, "Where", op(n, "Less", x, scalar(n, -lambd, x)),
             op(n, "Add", x, scalar(n, bias, x)), zero)
    return op(n, "Where", op(n, "Greater", x, scalar(n, lambd, x)),
              op(n, "Sub", x, scalar(n, bias, x)), low)


@lowering("IsNaN", since=9)
def _isnan(n):
    """Not(Equal(x, x))."""
    x, = floats(n, 0)
    return op(n, "Not", op(n, "Equal", x, x))


@lowering("IsInf", since=10)
def _isinf(n):
    """Equal to ±inf (Or for both)."""
    x, = floats(n, 0)
    pos, neg = n.attr("detect_positive"), n.attr("detect_negative")
    checks = [op(n, "Equal", x, scalar(n, s * np.inf, x)) for s, on in ((1, pos), (-1, neg)) if on]
    if not checks:
        return op(n, "Less", x, x)  # all false
    return checks[0] if len(checks) == 1 else op(n, "Or", *checks)


# Binary arithmetic. Before opset 7, B broadcasts onto A only with
# broadcast=1, aligned at ``axis`` when given.
BINARY_FOLD = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Pow": np.power}


def _legacy_broadcast(n, a, b):
    if n.ver < 7 and n.attr("broadcast") and n.has_attr("axis"):
        axis = norm_axis(n.attr("axis"), len(a.shape))
        trailing = len(a.shape) - axis - len(b.shape)
        if trailing > 0:
            b = b.reshape(tuple(b.shape) + (1,) * trailing) if isinstance(b, np.ndarray) \
                else n.g.reshape(b, tuple(b.shape) + (1,) * trailing)
    return b


def _fold_binary(n, a, b):
    b = _legacy_broadcast(n, a, b)
    if n.proto.op_type == "Div":
        if a.dtype.kind in "iu":
            return (np.trunc(a / b)).astype(a.dtype)
        return np.divide(a, b)
    return BINARY_FOLD[n.proto.op_type](a, b).astype(np.result_type(a, b))


@lowering("Add", "Sub", "Mul", "Div", since=1, fold=_fold_binary)
def _binary(n):
    """The daemon's op of that name: float32, double, int32 or int64, an integer quotient
    truncated toward zero (before opset 7, B aligned at `axis`)."""
    a, b = n.t(0), n.t(1)
    if a.dtype not in ARITH or b.dtype is not a.dtype:
        refuse(f"operands {a.dtype.name} and {b.dtype.name}; Salus computes "
               f"{n.proto.op_type} on float32, float64, int32 or int64 of one dtype")
    return op(n, n.proto.op_type, a, _legacy_broadcast(n, a, b))


@lowering("Pow", since=1, fold=_fold_binary)
def _pow(n):
    """Pow (an integer exponent Cast to float32)."""
    a, b = n.t(0, floats=True), n.t(1)
    if b.dtype in (I32, I64):  # an integer exponent (Pow-12)
        b = op(n, "Cast", b, to="f32")
    elif b.dtype is F64:
        b = n.t(1, floats=True)
    elif b.dtype is not F32:
        refuse(f"a {b.dtype.name} exponent")
    return op(n, "Pow", a, _legacy_broadcast(n, a, b))


def _variadic(n, op_type):
    ts = [n.t(i, floats=True) for i in range(len(n.ins))]
    acc = ts[0]
    for t in ts[1:]:
        acc = op(n, op_type, acc, t)
    if len(ts) == 1:
        acc = op(n, "Identity", acc)
    return acc


def _fold_variadic(n, *xs):
    reduce = {"Max": np.maximum, "Min": np.minimum, "Sum": np.add}[n.proto.op_type]
    return reduce.reduce(np.broadcast_arrays(*xs)) if len(xs) > 1 else xs[0]


@lowering("Max", "Min", since=6, fold=_fold_variadic)
def _max_min(n):
    """A chain of the daemon's binary op; for integers, of Where over Greater or Less."""
    if n.dtype(0) not in (I32, I64):
        return _variadic(n, n.proto.op_type)
    ts = [n.t(i) for i in range(len(n.ins))]
    pick = "Greater" if n.proto.op_type == "Max" else "Less"
    acc = ts[0] if len(ts) > 1 else op(n, "Identity", ts[0])
    for t in ts[1:]:
        if t.dtype is not acc.dtype:
            refuse(f"operands of {acc.dtype.name} and {t.dtype.name}")
        acc = op(n, "Where", op(n, pick, acc, t), acc, t)
    return acc


@lowering("Sum", since=6, fold=_fold_variadic)
def _sum(n):
    """A chain of Add."""
    return _variadic(n, "Add")


@lowering("Mean", since=6)
def _mean(n):
    """A chain of Add, times 1/n."""
    total = _variadic(n, "Add")
    return op(n, "Mul", total, scalar(n, 1.0 / len(n.ins), total))


def _fold_only(n):
    """Folded only: on values computed at run time it is refused."""
    refuse("an input computed at run time: Salus has no such op, and folds it only "
           "when its inputs are known at import")


def _fold_mod(n, a, b):
    if n.attr("fmod") or a.dtype.kind == "f":
        return np.fmod(a, b)
    return np.mod(a, b)


lowering("Floor", since=1, fold=lambda n, x: np.floor(x))(_fold_only)
lowering("Ceil", since=1, fold=lambda n, x: np.ceil(x))(_fold_only)
lowering("Round", since=11, fold=lambda n, x: np.round(x))(_fold_only)
lowering("Mod", since=10, fold=_fold_mod)(_fold_only)


# ---- comparisons, logic, casts ------------------------------------------------

COMPARE_FOLD = {"Equal": np.equal, "Less": np.less, "LessOrEqual": np.less_equal,
                "Greater": np.greater, "GreaterOrEqual": np.greater_equal,
                "And": np.logical_and, "Or": np.logical_or, "Xor": np.logical_xor}


def _fold_compare(n, a, b):
    return COMPARE_FOLD[n.proto.op_type](a, b)


@lowering("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", since=7,
          fold=_fold_compare)
def _compare(n):
    """The daemon's comparison (Equal of bools: Not(Xor))."""
    a, b = n.t(0), n.t(1)
    if a.dtype is BOOL and b.dtype is BOOL and n.proto.op_type == "Equal":
        return op(n, "Not", op(n, "Xor", a, b))
    if a.dtype not in ARITH or b.dtype is not a.dtype:
        refuse(f"operands {a.dtype.name} and {b.dtype.name}; Salus compares float32, "
               f"float64, int32 or int64 of one dtype")
    return op(n, n.proto.op_type, a, b)


@lowering("And", "Or", "Xor", since=7, fold=_fold_compare)
def _logic(n):
    """The daemon's op of that name."""
    return op(n, n.proto.op_type, n.t(0), n.t(1))


@lowering("Not", since=1, fold=lambda n, x: np.logical_not(x))
def _not(n):
    """Not."""
    return op(n, "Not", n.t(0))


@lowering("Where", since=9, fold=lambda n, c, x, y: np.where(c, x, y))
def _where(n):
    """Where."""
    x, y = n.t(1), n.t(2)
    if x.dtype not in ARITH + (BOOL,):
        refuse(f"values of {x.dtype.name}; Salus's Where takes float32, float64, int32, int64, "
               f"bool")
    return op(n, "Where", n.t(0), x, y)


def _cast_to(n, x, to):
    """x (a tensor) converted to salus dtype ``to``."""
    if x.dtype is to:
        return op(n, "Identity", x)
    if x.dtype not in CAST_NAMES or to not in CAST_NAMES:
        refuse(f"a cast from {x.dtype.name} to {to.name}; Salus casts between "
               f"{', '.join(d.name for d in CAST_NAMES)}")
    return op(n, "Cast", x, to=CAST_NAMES[to])


def _cast_dtype(n):
    if n.proto.op_type == "CastLike":
        return n.dtype(1)
    return salus_dtype(n.attr("to"))


def _fold_cast(n, x, *_):
    return x.astype(_cast_dtype(n).numpy)


@lowering("Cast", "CastLike", since=6, fold=_fold_cast)
def _cast(n):
    """Cast between float32, double, int32, int64 and bool."""
    return _cast_to(n, n.t(0), _cast_dtype(n))


@lowering("Clip", since=6)
def _clip(n):
    """Clip (Clip-6's attributes as constants)."""
    x, = floats(n, 0)
    if n.ver < 11:
        bounds = [scalar(n, n.attr("min"), x), scalar(n, n.attr("max"), x)]
    else:
        bounds = [n.t(i, floats=True) if n.has(i) else None for i in (1, 2)]
        while bounds and bounds[-1] is None:
            bounds.pop()
        if None in bounds:  # no lower bound, an upper one
            bounds[0] = scalar(n, -np.inf, x)
    return op(n, "Clip", x, *bounds)


# ---- matrix products ----------------------------------------------------------

@lowering("MatMul", since=1)
def _matmul(n):
    """MatMul (1-D operands through Unsqueeze and Squeeze)."""
    a, b = floats(n, 0, 1)
    return n.g.matmul(a, b)


@lowering("Gemm", since=6)
def _gemm(n):
    """Gemm."""
    a, b = floats(n, 0, 1)
    inputs = [a, b] + ([n.t(2, floats=True)] if n.has(2) else [])
    return op(n, "Gemm", *inputs, alpha=float(n.attr("alpha")), beta=float(n.attr("beta")),
              transA=n.attr("transA"), transB=n.attr("transB"))


def _einsum_terms(n, equation, ranks):
    """The letters of each operand and of the output, '...' spelt out as
    digits aligned from the right (the broadcast axes)."""
    lhs, _, rhs = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    dots = max((r - len(t.replace("...", "")) for t, r in zip(terms, ranks) if "..." in t),
               default=0)
    spell = lambda t, k: t.replace("...", "".join(str(i) for i in range(dots - k, dots)))  # noqa
    terms = [spell(t, r - len(t.replace("...", ""))) for t, r in zip(terms, ranks)]
    if "->" not in equation:
        letters = "".join(terms)
        rhs = "".join(str(i) for i in range(dots)) + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c.isalpha()))
    else:
        rhs = spell(rhs, dots)
    for t in terms:
        if len(set(t)) != len(t):
            refuse(f"a repeated index in {t!r} (a diagonal)")
    return terms, rhs


@lowering("Einsum", since=12)
def _einsum(n):
    """Mul of the operands laid out on one axis order (Transpose, Reshape), then ReduceSum
    over the summed indices."""
    xs = [n.t(i, floats=True) for i in range(len(n.ins))]
    terms, out = _einsum_terms(n, n.attr("equation"), [x.ndim for x in xs])
    order = out + "".join(dict.fromkeys(c for t in terms for c in t if c not in out))
    product = None
    for x, t in zip(xs, terms):
        present = [c for c in order if c in t]
        if present != list(t):
            x = n.g.transpose(x, [t.index(c) for c in present])
        sizes = dict(zip(present, x.shape))
        x = n.g.reshape(x, tuple(sizes.get(c, 1) for c in order))
        product = x if product is None else op(n, "Mul", product, x)
    summed = list(range(len(out), len(order)))
    if summed:
        return op(n, "ReduceSum", product, axes=summed, keepdims=0)
    return product if len(xs) > 1 else op(n, "Identity", product)


# ---- softmax family -------------------------------------------------------------

def _softmax_like(n, body):
    """body(x2, axis) on x, with the opset's axis: before opset 13 the input
    is flattened to 2-D at ``axis`` and the op runs along axis 1."""
    x, = floats(n, 0)
    axis = norm_axis(n.attr("axis"), x.ndim)
    if n.ver >= 13:
        return body(x, axis)
    rows = int(np.prod(x.shape[:axis], dtype=np.int64))
    flat = n.g.reshape(x, (rows, -1))
    return n.g.reshape(body(flat, 1), x.shape)


@lowering("Softmax", "LogSoftmax", since=1)
def _softmax(n):
    """The daemon's op; before opset 13 on the input flattened to 2-D at `axis`."""
    return _softmax_like(n, lambda x, axis: op(n, n.proto.op_type, x, axis=axis))


@lowering("Hardmax", since=1)
def _hardmax(n):
    """OneHot of ArgMax (flattened to 2-D before opset 13)."""
    def body(x, axis):
        idx = op(n, "ArgMax", x, axis=axis, keepdims=0)
        hot = op(n, "OneHot", idx, depth=x.shape[axis])  # the class axis last
        perm = list(range(x.ndim - 1))
        perm.insert(axis, x.ndim - 1)
        return hot if axis == x.ndim - 1 else n.g.transpose(hot, perm)
    return _softmax_like(n, body)


# ---- reductions -------------------------------------------------------------------

def _reduce_axes(n, x):
    """The reduced axes (None: all), or () for a no-op (noop_with_empty_axes);
    an input from ReduceSum-13 on, an attribute before."""
    axes = n.ints(1, "axes") if n.has(1) else n.attr("axes")
    if not axes:
        return () if n.attr("noop_with_empty_axes") else None
    return sorted(norm_axis(a, x.ndim) for a in axes)


def _reduce(n, op_type, x, axes, keepdims):
    attrs = {"keepdims": keepdims}
    if axes is not None:
        attrs["axes"] = list(axes)
    if x.ndim == 0:
        return op(n, "Identity", x)
    return op(n, op_type, x, **attrs)


@lowering("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2",
          "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", "ReduceProd", since=1)
def _reduction(n):
    """ReduceSum, ReduceMean, ReduceMax or ReduceMin, composed with Abs, Mul, Sqrt, Log,
    Exp (LogSumExp shifted by the max; Prod as Exp of Σ Log |x| with the sign of the
    count of negatives)."""
    x, = floats(n, 0)
    axes = _reduce_axes(n, x)
    keep = n.attr("keepdims")
    kind = n.proto.op_type
    if axes == ():
        return op(n, "Identity", x)
    if kind in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"):
        return _reduce(n, kind, x, axes, keep)
    if kind == "ReduceL1":
        return _reduce(n, "ReduceSum", op(n, "Abs", x), axes, keep)
    if kind in ("ReduceL2", "ReduceSumSquare"):
        total = _reduce(n, "ReduceSum", op(n, "Mul", x, x), axes, keep)
        return op(n, "Sqrt", total) if kind == "ReduceL2" else total
    if kind == "ReduceLogSum":
        return op(n, "Log", _reduce(n, "ReduceSum", x, axes, keep))
    if kind == "ReduceLogSumExp":
        top = _reduce(n, "ReduceMax", x, axes, 1)
        total = _reduce(n, "ReduceSum", op(n, "Exp", op(n, "Sub", x, top)), axes, keep)
        shift = top if keep else n.g.reshape(top, total.shape)
        return op(n, "Add", op(n, "Log", total), shift)
    # ReduceProd: exp(Σ log|x|), its sign from the count of negatives.
    magnitude = op(n, "Exp", _reduce(n, "ReduceSum", op(n, "Log", op(n, "Abs", x)), axes, keep))
    negatives = _reduce(n, "ReduceSum", op(n, "Cast", op(n, "Less", x, scalar(n, 0, x)),
                                           to="f32"), axes, keep)
    sign = op(n, "Cos", op(n, "Mul", negatives, scalar(n, np.pi, x)))
    return op(n, "Mul", magnitude, sign)


@lowering("ArgMax", "ArgMin", since=1)
def _argmax(n):
    """The daemon's op of that name."""
    x, = floats(n, 0)
    return op(n, n.proto.op_type, x, axis=n.attr("axis"), keepdims=n.attr("keepdims"),
              select_last_index=n.attr("select_last_index", 0))


# ---- triangles, one-hot, cumulative sums ---------------------------------------------

def _tri_mask(n, shape):
    k = int(n.const(1, "k")) if n.has(1) else 0
    ones = np.ones(shape[-2:], bool)
    return np.triu(ones, k) if n.attr("upper") else np.tril(ones, k)


@lowering("Trilu", since=14, fold=lambda n, x, *_: np.where(_tri_mask(n, x.shape), x, 0))
def _trilu(n):
    """Where with a constant triangular mask (k folded)."""
    x = n.t(0)
    return op(n, "Where", n.constant(_tri_mask(n, x.shape)), x, scalar(n, 0, x))


@lowering("OneHot", since=9)
def _one_hot(n):
    """OneHot, scaled to the values, Transpose for `axis`."""
    indices = n.t(0)
    if indices.dtype not in (I32, I64):
        indices = _cast_to(n, indices, I64)
    depth = int(np.asarray(n.const(1, "depth")).reshape(-1)[0])
    values = n.const(2, "values")
    off, on = (float(v) for v in np.asarray(values).reshape(-1))
    hot = op(n, "OneHot", indices, depth=depth)  # float32
    if (off, on) != (0.0, 1.0):
        hot = op(n, "Add", op(n, "Mul", hot, scalar(n, on - off, hot)), scalar(n, off, hot))
    axis = norm_axis(n.attr("axis"), hot.ndim)
    if axis != hot.ndim - 1:
        perm = list(range(hot.ndim - 1))
        perm.insert(axis, hot.ndim - 1)
        hot = n.g.transpose(hot, perm)
    want = n.dtype(2)
    return hot if want is F32 else _cast_to(n, hot, want)


@lowering("CumSum", since=11)
def _cumsum(n):
    """MatMul by a constant triangular matrix."""
    x, = floats(n, 0)
    axis = norm_axis(int(np.asarray(n.const(1, "axis")).reshape(-1)[0]), x.ndim)
    size = x.shape[axis]
    # y[j] = Σ_i x[i] · tri[i, j]: a product with a triangular matrix.
    i, j = np.indices((size, size))
    keep = {(0, 0): i <= j, (1, 0): i < j, (0, 1): i >= j, (1, 1): i > j}[
        (n.attr("exclusive"), n.attr("reverse"))]
    tri = n.constant(keep.astype(np.float32))
    if axis == x.ndim - 1:
        return n.g.matmul(x, tri)
    perm = list(range(x.ndim))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return n.g.transpose(n.g.matmul(n.g.transpose(x, perm), tri), perm)


from . import _import_nn, _import_shape  # noqa: E402,F401 (register their ops)
