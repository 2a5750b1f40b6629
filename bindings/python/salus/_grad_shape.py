"""Gradient rules of the shape family for _autograd: op name -> rule(graph,
node, dy, wanted), returning one gradient (or None) per input of the node. The helpers
(_dense, _unbroadcast, _fresh, ...) are _autograd's: `from . import _autograd`."""

import numpy as np

from . import _autograd


def _concat(graph, node, dy, wanted):
    g = _autograd._dense(graph, node, dy)
    axis = node.attrs["axis"] % g.ndim
    grads, at = [], 0
    for t, w in zip(node.inputs, wanted):
        size = t.shape[axis]
        grads.append(graph.slice(g, [at], [at + size], [axis]) if w else None)
        at += size
    return tuple(grads)


def _split(graph, node, dys, wanted):
    # An output without a gradient contributes zeros of its shape.
    parts = []
    for out, d in zip(node.outputs, dys):
        if d is None:
            d = graph.constant(_autograd._fresh(graph, "zeros"), np.zeros(out.shape, np.float32))
        parts.append(_autograd._materialize(graph, d, out))
    return (graph.cat(parts, axis=node.attrs["axis"]),)


def _slice(graph, node, dy, wanted):
    (x,) = node.inputs
    a = node.attrs
    return (graph.slice_grad(_autograd._dense(graph, node, dy), x.shape, a["starts"], a["ends"],
                             a.get("axes"), a.get("steps")),)


def _reshape_back(graph, node, dy, wanted):
    return (graph.reshape(_autograd._dense(graph, node, dy), node.inputs[0].shape),)


def _tile(graph, node, dy, wanted):
    return (graph.tile_grad(_autograd._dense(graph, node, dy), node.inputs[0].shape),)


def _gather(graph, node, dy, wanted):
    x, indices = node.inputs
    g = _autograd._dense(graph, node, dy)
    return graph.gather_grad(g, indices, x.shape, node.attrs["axis"]), None


def _gather_elements(graph, node, dy, wanted):
    x, index = node.inputs
    g = _autograd._dense(graph, node, dy)
    return graph.gather_elements_grad(g, index, x.shape, node.attrs["axis"]), None


def _gemm(graph, node, dy, wanted):
    a, b = node.inputs[:2]
    g = _autograd._dense(graph, node, dy)
    alpha, beta = node.attrs["alpha"], node.attrs["beta"]
    ta, tb = node.attrs["transA"], node.attrs["transB"]

    def mm(p, q, tp, tq):
        return graph.gemm(p, q, alpha=alpha, trans_a=tp, trans_b=tq)

    # The MatMul rule with alpha folded into each product.
    if not ta and not tb:  # Y = A B
        da = mm(g, b, False, True) if wanted[0] else None
        db = mm(a, g, True, False) if wanted[1] else None
    elif ta and not tb:  # Y = A^T B
        da = mm(b, g, False, True) if wanted[0] else None
        db = mm(a, g, False, False) if wanted[1] else None
    elif not ta and tb:  # Y = A B^T
        da = mm(g, b, False, False) if wanted[0] else None
        db = mm(g, a, True, False) if wanted[1] else None
    else:  # Y = A^T B^T
        da = mm(b, g, True, True) if wanted[0] else None
        db = mm(g, a, True, True) if wanted[1] else None
    grads = [da, db]
    if len(node.inputs) > 2:
        c = node.inputs[2]
        grads.append(_autograd._unbroadcast(graph, graph.mul(g, beta), c.shape)
                     if wanted[2] else None)
    return tuple(grads)


RULES = {
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Squeeze": _reshape_back,
    "Unsqueeze": _reshape_back,
    "Flatten": _reshape_back,
    "Tile": _tile,
    "Gather": _gather,
    "GatherElements": _gather_elements,
    "Gemm": _gemm,
}
