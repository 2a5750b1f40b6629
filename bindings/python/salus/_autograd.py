"""Reverse-mode automatic differentiation over the builder's ops, emitting
the daemon's backward ops (ReluGrad, SoftmaxCrossEntropyGrad, MatMul with
transposes, ReduceSum and Reshape to undo broadcasting, Expand to undo a
reduction, Transpose with the inverse permutation, ...)."""

import numpy as np

from ._errors import GraphError

# The seed of a scalar y: dy/dy = 1, materialised only where a rule needs it
# (SoftmaxCrossEntropyGrad takes it as an absent dLoss).
ONE = object()


def gradients(graph, y, xs, grad_y=None):
    """The tensors d(sum of y * grad_y)/dx for each x of xs (grad_y: ones by
    default), added to the graph. Raises GraphError when y does not depend
    on some x, or when the path goes through an op without a gradient."""
    y = graph._own(y, "gradients")
    xs = [graph._own(x, "gradients") for x in xs]
    if grad_y is None:
        seed = ONE if y.shape == () else graph.constant(
            _fresh(graph, "ones"), np.ones(y.shape, np.float32))
    else:
        seed = graph._own(grad_y, "gradients")
        if seed.shape != y.shape:
            raise GraphError(f"gradients: grad_y {seed.shape} differs from y {y.shape}")

    needed = _on_paths(graph, xs, y)
    for x in xs:
        if x not in needed:
            raise GraphError(f"gradients: {y.name!r} does not depend on {x.name!r}")
    grads = {y: seed}
    for node in reversed(graph.nodes):
        out_grads = [grads.get(t) for t in node.outputs]
        if all(g is None for g in out_grads):
            continue
        wanted = [t in needed for t in node.inputs]
        if not any(wanted):
            continue
        rule = _RULES.get(node.op)
        if rule is None:
            raise GraphError(f"gradients: op {node.op} (node {node.name!r}) has no gradient in "
                             f"the builder, and {y.name!r} depends on {_which(node, needed, xs)} "
                             f"through it")
        # A rule gets its output's gradient, or the list of them (None where an
        # output has none) when the node has several outputs.
        dy = out_grads[0] if len(node.outputs) == 1 else out_grads
        for t, g in zip(node.inputs, rule(graph, node, dy, wanted)):
            if g is not None and t in needed:
                grads[t] = g if t not in grads else _add(graph, grads[t], g, t)
    return [_materialize(graph, grads[x], x) for x in xs]


def _on_paths(graph, xs, y):
    """Tensors on a path from some x to y (xs and y included)."""
    reaches = set(xs)
    for node in graph.nodes:
        if any(t in reaches for t in node.inputs):
            reaches.update(node.outputs)
    if y not in reaches:
        return set(t for t in xs if t is y)
    needed = {y}
    for node in reversed(graph.nodes):
        if any(t in needed for t in node.outputs):
            needed.update(t for t in node.inputs if t in reaches)
    return needed


def _which(node, needed, xs):
    names = [x.name for x in xs if x in needed]
    return ", ".join(repr(n) for n in names)


def _fresh(graph, stem):
    name = f"{stem}_{next(graph._counter)}"
    while name in graph._tensors:
        name = f"{stem}_{next(graph._counter)}"
    return name


def _materialize(graph, g, like):
    if g is ONE:
        return graph.constant(_fresh(graph, "ones"), np.ones(like.shape, np.float32))
    return g


def _add(graph, a, b, like):
    """a + b, two gradients of the tensor `like` (either may be ONE)."""
    return graph.add(_materialize(graph, a, like), _materialize(graph, b, like))


def _unbroadcast(graph, g, shape):
    """g summed down to shape: the gradient of broadcasting shape to g's."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    summed = graph.reduce_sum(g, axes, keepdims=True) if axes else g
    return summed if summed.shape == shape else graph.reshape(summed, shape)


# ---- rules: (graph, node, dy, wanted) -> one gradient (or None) per input ---
# dy is a Tensor, or ONE for the seed of a scalar.


def _dense(graph, node, dy):
    return _materialize(graph, dy, node.outputs[0])


def _rows(graph, t):
    """t [..., m, c] as one matrix [... * m, c] of its stacked rows."""
    return graph.reshape(t, (int(np.prod(t.shape[:-1], dtype=np.int64)), t.shape[-1]))


def _matmul(graph, node, dy, wanted):
    a, b = node.inputs
    g = _dense(graph, node, dy)
    ta, tb = node.attrs["transA"], node.attrs["transB"]
    mm = graph.matmul
    if not ta and b.ndim == 2 and a.ndim > 2:
        # A Linear layer on [batch, ..., in]: B is shared by every matrix of
        # A, so its gradient sums the products of every batch matrix, which
        # is one product of the stacked rows (no per-matrix products to sum).
        da = mm(g, b, transpose_b=not tb) if wanted[0] else None
        if not wanted[1]:
            db = None
        elif tb:  # Y = A B^T: dB = G^T A
            db = mm(_rows(graph, g), _rows(graph, a), transpose_a=True)
        else:  # Y = A B: dB = A^T G
            db = mm(_rows(graph, a), _rows(graph, g), transpose_a=True)
        return da, db
    if not ta and not tb:  # Y = A B
        da = mm(g, b, transpose_b=True) if wanted[0] else None
        db = mm(a, g, transpose_a=True) if wanted[1] else None
    elif ta and not tb:  # Y = A^T B
        da = mm(b, g, transpose_b=True) if wanted[0] else None
        db = mm(a, g) if wanted[1] else None
    elif not ta and tb:  # Y = A B^T
        da = mm(g, b) if wanted[0] else None
        db = mm(g, a, transpose_a=True) if wanted[1] else None
    else:  # Y = A^T B^T
        da = mm(b, g, transpose_a=True, transpose_b=True) if wanted[0] else None
        db = mm(g, a, transpose_a=True, transpose_b=True) if wanted[1] else None
    # Broadcast batch axes: each operand's gradient summed back to its shape.
    da = _unbroadcast(graph, da, a.shape) if da is not None else None
    db = _unbroadcast(graph, db, b.shape) if db is not None else None
    return da, db


def _add_rule(graph, node, dy, wanted):
    g = _dense(graph, node, dy)
    return tuple(_unbroadcast(graph, g, t.shape) if w else None
                 for t, w in zip(node.inputs, wanted))


def _sub_rule(graph, node, dy, wanted):
    g = _dense(graph, node, dy)
    a, b = node.inputs
    da = _unbroadcast(graph, g, a.shape) if wanted[0] else None
    db = graph.mul(_unbroadcast(graph, g, b.shape), -1.0) if wanted[1] else None
    return da, db


def _mul_rule(graph, node, dy, wanted):
    g = _dense(graph, node, dy)
    a, b = node.inputs
    da = _unbroadcast(graph, graph.mul(g, b), a.shape) if wanted[0] else None
    db = _unbroadcast(graph, graph.mul(g, a), b.shape) if wanted[1] else None
    return da, db


def _activation(grad_method, from_output):
    def rule(graph, node, dy, wanted):
        x = node.outputs[0] if from_output else node.inputs[0]
        return (getattr(graph, grad_method)(_dense(graph, node, dy), x),)
    return rule


def _softmax_rule(graph, node, dy, wanted):
    y = node.outputs[0]
    return (graph.softmax_grad(_dense(graph, node, dy), y, axis=node.attrs["axis"]),)


def _sce_rule(graph, node, dy, wanted):
    logits, labels = node.inputs
    if wanted[1]:
        raise GraphError(f"gradients: softmax_cross_entropy (node {node.name!r}) has no "
                         f"gradient with respect to its labels {labels.name!r}")
    dloss = None if dy is ONE else dy
    return graph.softmax_cross_entropy_grad(logits, labels, dloss), None


def _reduce_rule(mean):
    def rule(graph, node, dy, wanted):
        (x,) = node.inputs
        g = _dense(graph, node, dy)
        axes = tuple(a % x.ndim for a in node.attrs.get("axes", range(x.ndim)))
        kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        if g.shape != kept:
            g = graph.reshape(g, kept)
        if kept != x.shape:
            g = graph.expand(g, x.shape)
        if mean:
            count = int(np.prod([x.shape[i] for i in axes], dtype=np.int64))
            g = graph.mul(g, 1.0 / count)
        return (g,)
    return rule


def _expand_rule(graph, node, dy, wanted):
    return (_unbroadcast(graph, _dense(graph, node, dy), node.inputs[0].shape),)


def _reshape_rule(graph, node, dy, wanted):
    return (graph.reshape(_dense(graph, node, dy), node.inputs[0].shape),)


def _transpose_rule(graph, node, dy, wanted):
    perm = node.attrs.get("perm", tuple(reversed(range(node.inputs[0].ndim))))
    inverse = tuple(int(i) for i in np.argsort(perm))
    return (graph.transpose(_dense(graph, node, dy), inverse),)


def _identity_rule(graph, node, dy, wanted):
    return (dy,)


_RULES = {
    "MatMul": _matmul,
    "Add": _add_rule,
    "Sub": _sub_rule,
    "Mul": _mul_rule,
    "Relu": _activation("relu_grad", from_output=False),
    "Sigmoid": _activation("sigmoid_grad", from_output=True),
    "Tanh": _activation("tanh_grad", from_output=True),
    "Softmax": _softmax_rule,
    "SoftmaxCrossEntropy": _sce_rule,
    "ReduceSum": _reduce_rule(mean=False),
    "ReduceMean": _reduce_rule(mean=True),
    "Expand": _expand_rule,
    "Reshape": _reshape_rule,
    "Transpose": _transpose_rule,
    "Identity": _identity_rule,
}
# The families' rules use the helpers above (they import this module).
from . import _grad_elementwise, _grad_conv, _grad_norm, _grad_shape, _grad_loss  # noqa: E402

for _family in (_grad_elementwise, _grad_conv, _grad_norm, _grad_shape, _grad_loss):
    _RULES.update(_family.RULES)

# For documentation and tests: the ops the builder can differentiate.
DIFFERENTIABLE = tuple(_RULES)
