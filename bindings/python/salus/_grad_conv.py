"""Gradient rules of the conv family for _autograd: op name -> rule(graph,
node, dy, wanted), returning one gradient (or None) per input of the node.
The backward ops take the forward node's own attributes, so no default or
shape rule is repeated here."""

import numpy as np

from . import _autograd

_WINDOW = ("auto_pad", "strides", "pads", "dilations", "group")


def _attrs(node, keys):
    return {k: v for k, v in node.attrs.items() if k in keys}


def _first(graph, node, dy):
    """The gradient of output 0 (dy is a list when the node has several)."""
    if isinstance(dy, list):
        dy = dy[0]
    return _autograd._materialize(graph, dy, node.outputs[0])


def _conv_transpose_to(graph, dy, w, attrs, like):
    """ConvTranspose(dy, w) sized to `like`: the output_padding that makes
    up for Conv's rounding comes from the daemon's own shape rule."""
    (shape, _), = graph._infer("ConvTranspose", [dy, w], attrs, 1, "probe")
    extra = [int(a) - int(b) for a, b in zip(like.shape[2:], shape[2:])]
    if any(extra):
        attrs = {**attrs, "output_padding": extra}
    return graph.op("ConvTranspose", dy, w, **attrs)


def _conv_rule(graph, node, dy, wanted):
    x, w = node.inputs[:2]
    g = _first(graph, node, dy)
    window = _attrs(node, _WINDOW)
    dx = _conv_transpose_to(graph, g, w, window, x) if wanted[0] else None
    dw = db = None
    bias = len(node.inputs) > 2 and wanted[2]
    if wanted[1] or bias:
        attrs = {**window, "kernel_shape": list(w.shape[2:])}
        outs = graph.op("ConvGradWeight", g, x, num_outputs=2 if bias else 1, **attrs)
        dw, db = (outs if bias else (outs, None))
        dw = dw if wanted[1] else None
    return (dx, dw, db)[:len(node.inputs)]


def _conv_transpose_rule(graph, node, dy, wanted):
    x, w = node.inputs[:2]
    g = _first(graph, node, dy)
    window = _attrs(node, _WINDOW)
    dx = graph.op("Conv", g, w, **window) if wanted[0] else None
    dw = None
    if wanted[1]:
        dw = graph.op("ConvGradWeight", x, g, kernel_shape=list(w.shape[2:]), **window)
    db = None
    if len(node.inputs) > 2 and wanted[2]:
        db = graph.reduce_sum(g, [0] + list(range(2, g.ndim)))
    return (dx, dw, db)[:len(node.inputs)]


def _pool_rule(grad_op, drop=()):
    def rule(graph, node, dy, wanted):
        attrs = {k: v for k, v in node.attrs.items() if k not in drop}
        return (graph.op(grad_op, _first(graph, node, dy), node.inputs[0], **attrs),)
    return rule


def _global_avg_rule(graph, node, dy, wanted):
    (x,) = node.inputs
    count = int(np.prod(x.shape[2:], dtype=np.int64))
    g = graph.expand(_first(graph, node, dy), x.shape)
    return (graph.mul(g, 1.0 / count),)


def _same_attrs(grad_op, drop=()):
    def rule(graph, node, dy, wanted):
        attrs = {k: v for k, v in node.attrs.items() if k not in drop}
        return (graph.op(grad_op, _first(graph, node, dy), **attrs),)
    return rule


RULES = {
    "Conv": _conv_rule,
    "ConvTranspose": _conv_transpose_rule,
    "MaxPool": _pool_rule("MaxPoolGrad", drop=("storage_order",)),
    "AveragePool": _pool_rule("AveragePoolGrad"),
    "GlobalAveragePool": _global_avg_rule,
    "Pad": _same_attrs("PadGrad", drop=("value",)),
    "DepthToSpace": _same_attrs("SpaceToDepth"),
    "SpaceToDepth": _same_attrs("DepthToSpace"),
    "Upsample": _same_attrs("UpsampleGrad"),
}
