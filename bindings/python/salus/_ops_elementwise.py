"""The builder's methods for the elementwise family of ops (salusd/ops/elementwise.cpp).

Names, arguments and defaults are PyTorch's where PyTorch has the op; every
output shape and dtype comes from the daemon's own rules (self._one)."""

import numbers

import numpy as np

from . import _dtypes
from ._errors import GraphError
from ._graph import Tensor

# The daemon's spelling of the dtypes Cast converts between.
CAST_NAMES = {_dtypes.float32: "f32", _dtypes.int32: "i32", _dtypes.int64: "i64",
              _dtypes.bool_: "bool", _dtypes.float64: "f64"}


class ElementwiseOps:
    """Methods of Graph for the elementwise ops (a mixin over GraphCore and Ops)."""

    # ---- operands -------------------------------------------------------------

    def _pair(self, a, b, what):
        """a and b as tensors of this graph; a Python number becomes a constant
        of the other operand's dtype (so ``ints < 3`` compares int32 with int32)."""
        if isinstance(a, Tensor) and not isinstance(b, Tensor):
            return self._own(a, what), self._like(b, a, what)
        if isinstance(b, Tensor) and not isinstance(a, Tensor):
            return self._like(a, b, what), self._own(b, what)
        return self._operand(a, what), self._operand(b, what)

    def _like(self, value, tensor, what):
        if isinstance(value, (numbers.Number, np.ndarray, list, tuple)) and \
                tensor.dtype is not _dtypes.float32:
            name = self._auto_name("const")
            return self.constant(name, np.asarray(value, dtype=tensor.dtype.numpy))
        return self._operand(value, what)

    def _ew1(self, op, auto, x, name, **attrs):
        return self._one(op, auto, [self._operand(x, auto)], attrs, name)

    def _ew2(self, op, auto, a, b, name):
        a, b = self._pair(a, b, auto)
        return self._one(op, auto, [a, b], {}, name)

    # ---- arithmetic -------------------------------------------------------------

    def div(self, a, b, name=None):
        """a / b with numpy broadcasting (Div); integers truncate toward zero
        (torch's rounding_mode="trunc"), x / 0 is 0."""
        return self._ew2("Div", "div", a, b, name)

    def pow(self, a, b, name=None):
        """a ** b with numpy broadcasting (Pow)."""
        return self._ew2("Pow", "pow", a, b, name)

    def maximum(self, a, b, name=None):
        """Elementwise max, NaN if either is NaN, broadcast (Max)."""
        return self._ew2("Max", "maximum", a, b, name)

    def minimum(self, a, b, name=None):
        """Elementwise min, NaN if either is NaN, broadcast (Min)."""
        return self._ew2("Min", "minimum", a, b, name)

    def neg(self, x, name=None):
        """-x (Neg)."""
        return self._ew1("Neg", "neg", x, name)

    def abs(self, x, name=None):
        """|x| (Abs)."""
        return self._ew1("Abs", "abs", x, name)

    def sign(self, x, name=None):
        """-1, 0 or 1 by the sign of x (Sign)."""
        return self._ew1("Sign", "sign", x, name)

    def exp(self, x, name=None):
        """e ** x (Exp)."""
        return self._ew1("Exp", "exp", x, name)

    def log(self, x, name=None):
        """Natural logarithm (Log)."""
        return self._ew1("Log", "log", x, name)

    def sqrt(self, x, name=None):
        """Square root (Sqrt)."""
        return self._ew1("Sqrt", "sqrt", x, name)

    def rsqrt(self, x, name=None):
        """1 / sqrt(x) (Rsqrt)."""
        return self._ew1("Rsqrt", "rsqrt", x, name)

    def reciprocal(self, x, name=None):
        """1 / x (Reciprocal)."""
        return self._ew1("Reciprocal", "reciprocal", x, name)

    def erf(self, x, name=None):
        """The Gauss error function (Erf)."""
        return self._ew1("Erf", "erf", x, name)

    def sin(self, x, name=None):
        """sin(x), radians (Sin)."""
        return self._ew1("Sin", "sin", x, name)

    def cos(self, x, name=None):
        """cos(x), radians (Cos)."""
        return self._ew1("Cos", "cos", x, name)

    def clamp(self, x, min=None, max=None, name=None):  # noqa: A002 (torch's names)
        """x limited to [min, max]; either bound may be None (unbounded), a
        number or a scalar tensor; min > max gives max, as torch.clamp (Clip)."""
        x = self._operand(x, "clamp")
        if min is None and max is None:
            raise GraphError("clamp: at least one of min and max must be given")
        lo = self._operand(-np.inf if min is None else min, "clamp")
        inputs = [x, lo] if max is None else [x, lo, self._operand(max, "clamp")]
        return self._one("Clip", "clamp", inputs, {}, name)

    def where(self, condition, x, y, name=None):
        """x where condition (bool), else y, all three broadcast (Where)."""
        condition = self._own(condition, "where")
        x, y = self._pair(x, y, "where")
        return self._one("Where", "where", [condition, x, y], {}, name)

    # ---- comparisons, logic and casts ----------------------------------------------

    def eq(self, a, b, name=None):
        """a == b, bool, broadcast (Equal)."""
        return self._ew2("Equal", "eq", a, b, name)

    def lt(self, a, b, name=None):
        """a < b, bool, broadcast (Less)."""
        return self._ew2("Less", "lt", a, b, name)

    def le(self, a, b, name=None):
        """a <= b, bool, broadcast (LessOrEqual)."""
        return self._ew2("LessOrEqual", "le", a, b, name)

    def gt(self, a, b, name=None):
        """a > b, bool, broadcast (Greater)."""
        return self._ew2("Greater", "gt", a, b, name)

    def ge(self, a, b, name=None):
        """a >= b, bool, broadcast (GreaterOrEqual)."""
        return self._ew2("GreaterOrEqual", "ge", a, b, name)

    def logical_not(self, x, name=None):
        """not x, bool (Not)."""
        return self._one("Not", "logical_not", [self._own(x, "logical_not")], {}, name)

    def logical_and(self, a, b, name=None):
        """a and b, bool, broadcast (And)."""
        return self._ew2("And", "logical_and", a, b, name)

    def logical_or(self, a, b, name=None):
        """a or b, bool, broadcast (Or)."""
        return self._ew2("Or", "logical_or", a, b, name)

    def logical_xor(self, a, b, name=None):
        """a xor b, bool, broadcast (Xor)."""
        return self._ew2("Xor", "logical_xor", a, b, name)

    def cast(self, x, dtype, name=None):
        """x converted to dtype (float32, float64, int32, int64 or bool, as any
        name salus.dtype takes): floats truncate toward zero, bool is != 0 (Cast)."""
        x = self._own(x, "cast")
        to = CAST_NAMES.get(_dtypes.dtype(dtype))
        if to is None:
            names = ", ".join(d.name for d in CAST_NAMES)
            raise GraphError(f"cast: no cast to {_dtypes.dtype(dtype).name}; Cast converts "
                             f"between {names}")
        return self._one("Cast", "cast", [x], {"to": to}, name)

    # ---- activations ------------------------------------------------------------

    def leaky_relu(self, x, negative_slope=0.01, name=None):
        """x if x > 0, else negative_slope * x (LeakyRelu)."""
        return self._ew1("LeakyRelu", "leaky_relu", x, name, alpha=float(negative_slope))

    def elu(self, x, alpha=1.0, name=None):
        """x if x > 0, else alpha * (exp(x) - 1) (Elu)."""
        return self._ew1("Elu", "elu", x, name, alpha=float(alpha))

    def selu(self, x, name=None):
        """Scaled ELU with the self-normalizing constants (Selu)."""
        return self._ew1("Selu", "selu", x, name)

    def prelu(self, x, weight, name=None):
        """x if x >= 0, else weight * x. As torch: a 1-d weight of C > 1
        elements applies along dimension 1 (channels); otherwise weight
        broadcasts numpy-style (PRelu)."""
        x = self._operand(x, "prelu")
        weight = self._operand(weight, "prelu")
        if weight.ndim == 1 and weight.shape[0] > 1 and x.ndim > 2:
            weight = self.reshape(weight, (weight.shape[0],) + (1,) * (x.ndim - 2))
        return self._one("PRelu", "prelu", [x, weight], {}, name)

    def softplus(self, x, beta=1.0, threshold=20.0, name=None):
        """log(1 + exp(beta * x)) / beta, x itself where beta * x > 20
        (Softplus, between a Mul and a Div by beta when beta is not 1; the
        daemon's threshold is torch's default, 20, the only one taken)."""
        if threshold != 20.0:
            raise GraphError(f"softplus: threshold {threshold} is not supported (only 20)")
        if beta == 1.0:
            return self._ew1("Softplus", "softplus", x, name)
        x = self._operand(x, "softplus")
        y = self._ew1("Softplus", "softplus", self.mul(x, float(beta)), None)
        return self.div(y, float(beta), name=name)

    def gelu(self, x, approximate="none", name=None):
        """x * Phi(x), or its tanh approximation (approximate="tanh") (Gelu)."""
        return self._ew1("Gelu", "gelu", x, name, approximate=str(approximate))

    def silu(self, x, name=None):
        """x * sigmoid(x) (Silu)."""
        return self._ew1("Silu", "silu", x, name)

    def hardsigmoid(self, x, name=None):
        """torch's hardsigmoid: clamp(x / 6 + 1/2, 0, 1) (HardSigmoid with alpha 1/6)."""
        return self._ew1("HardSigmoid", "hardsigmoid", x, name, alpha=1.0 / 6.0, beta=0.5)

    def hardswish(self, x, name=None):
        """x * clamp(x + 3, 0, 6) / 6 (HardSwish)."""
        return self._ew1("HardSwish", "hardswish", x, name)
