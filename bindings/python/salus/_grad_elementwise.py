"""Gradient rules of the elementwise family for _autograd: op name -> rule(graph,
node, dy, wanted), returning one gradient (or None) per input of the node. The helpers
(_dense, _unbroadcast, _fresh, ...) are _autograd's: `from . import _autograd`.

Activations have dedicated <Op>Grad ops; the math functions compose forward
ops, as torch's derivatives do (torch 1.13's formulas, ties and zeros
included)."""

import math

from . import _autograd
from ._errors import GraphError

_dense = _autograd._dense
_unbroadcast = _autograd._unbroadcast


def _unary(fn):
    """A rule for y = f(x): fn(graph, g, x, y) is dx."""
    def rule(graph, node, dy, wanted):
        return (fn(graph, _dense(graph, node, dy), node.inputs[0], node.outputs[0]),)
    return rule


def _binary(fn):
    """A rule for y = f(a, b) broadcast: fn(graph, g, a, b, y, wanted) gives
    (da, db) of the broadcast shape, summed down here."""
    def rule(graph, node, dy, wanted):
        a, b = node.inputs
        da, db = fn(graph, _dense(graph, node, dy), a, b, node.outputs[0], wanted)
        return (_unbroadcast(graph, da, a.shape) if wanted[0] else None,
                _unbroadcast(graph, db, b.shape) if wanted[1] else None)
    return rule


def _mask(graph, condition):
    return graph.cast(condition, "float32")


def _div(graph, g, a, b, y, wanted):
    da = graph.div(g, b) if wanted[0] else None
    db = graph.neg(graph.div(graph.mul(g, y), b)) if wanted[1] else None
    return da, db


def _pow(graph, g, a, b, y, wanted):
    da = db = None
    if wanted[0]:  # b * a^(b-1), 0 where b == 0
        da = graph.where(graph.eq(b, 0.0), 0.0,
                         graph.mul(g, graph.mul(b, graph.pow(a, graph.sub(b, 1.0)))))
    if wanted[1]:  # y * log(a), 0 where a == 0 and b >= 0
        zero_base = graph.logical_and(graph.eq(a, 0.0), graph.ge(b, 0.0))
        db = graph.where(zero_base, 0.0, graph.mul(g, graph.mul(y, graph.log(a))))
    return da, db


def _extremum(first_wins):
    """Max (first_wins: gt) and Min (lt): the winner gets g, a tie half each."""
    def fn(graph, g, a, b, y, wanted):
        half = graph.mul(_mask(graph, graph.eq(a, b)), 0.5)
        wins_a = first_wins(graph, a, b)
        da = graph.mul(g, graph.add(_mask(graph, wins_a), half)) if wanted[0] else None
        db = graph.mul(g, graph.add(_mask(graph, first_wins(graph, b, a)), half)) \
            if wanted[1] else None
        return da, db
    return fn


def _activation(op):
    """A dedicated <op>Grad(dY, X) with the forward node's attributes."""
    def rule(graph, node, dy, wanted):
        return (graph.op(op + "Grad", _dense(graph, node, dy), node.inputs[0], **node.attrs),)
    return rule


def _prelu(graph, node, dy, wanted):
    x, slope = node.inputs
    dx, dslope = graph.op("PReluGrad", _dense(graph, node, dy), x, slope, num_outputs=2)
    return (dx if wanted[0] else None), (dslope if wanted[1] else None)


def _clip(graph, node, dy, wanted):
    if any(wanted[1:]):
        raise GraphError(f"gradients: clamp (node {node.name!r}) has no gradient with respect "
                         f"to its bounds")
    return (graph.op("ClipGrad", _dense(graph, node, dy), *node.inputs),) + \
        (None,) * (len(node.inputs) - 1)


def _where(graph, node, dy, wanted):
    condition, x, y = node.inputs
    g = _dense(graph, node, dy)
    dx = _unbroadcast(graph, graph.where(condition, g, 0.0), x.shape) if wanted[1] else None
    dv = _unbroadcast(graph, graph.where(condition, 0.0, g), y.shape) if wanted[2] else None
    return None, dx, dv


def _cast(graph, node, dy, wanted):
    (x,) = node.inputs
    if x.dtype.name != "float32" or node.outputs[0].dtype.name != "float32":
        raise GraphError(f"gradients: cast (node {node.name!r}) to or from "
                         f"{x.dtype.name if x.dtype.name != 'float32' else 'an integer'} "
                         f"has no gradient")
    return (_dense(graph, node, dy),)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

RULES = {
    "Div": _binary(_div),
    "Pow": _binary(_pow),
    "Max": _binary(_extremum(lambda graph, a, b: graph.gt(a, b))),
    "Min": _binary(_extremum(lambda graph, a, b: graph.lt(a, b))),
    "Neg": _unary(lambda graph, g, x, y: graph.neg(g)),
    "Abs": _unary(lambda graph, g, x, y: graph.mul(g, graph.sign(x))),
    "Sign": _unary(lambda graph, g, x, y: graph.mul(g, 0.0)),
    "Exp": _unary(lambda graph, g, x, y: graph.mul(g, y)),
    "Log": _unary(lambda graph, g, x, y: graph.div(g, x)),
    "Sqrt": _unary(lambda graph, g, x, y: graph.div(g, graph.mul(y, 2.0))),
    "Reciprocal": _unary(lambda graph, g, x, y: graph.mul(graph.neg(g), graph.mul(y, y))),
    "Rsqrt": _unary(lambda graph, g, x, y: graph.mul(
        g, graph.mul(graph.mul(y, graph.mul(y, y)), -0.5))),
    "Erf": _unary(lambda graph, g, x, y: graph.mul(
        g, graph.mul(graph.exp(graph.neg(graph.mul(x, x))), _TWO_OVER_SQRT_PI))),
    "Sin": _unary(lambda graph, g, x, y: graph.mul(g, graph.cos(x))),
    "Cos": _unary(lambda graph, g, x, y: graph.neg(graph.mul(g, graph.sin(x)))),
    "Clip": _clip,
    "Where": _where,
    "Cast": _cast,
    "PRelu": _prelu,
}
for _op in ("LeakyRelu", "Elu", "Selu", "Softplus", "Gelu", "Silu", "HardSigmoid", "HardSwish"):
    RULES[_op] = _activation(_op)
