"""Gradient rules of the loss family for _autograd: op name -> rule(graph,
node, dy, wanted), returning one gradient (or None) per input of the node. The helpers
(_dense, _unbroadcast, _fresh, ...) are _autograd's: `from . import _autograd`."""

from . import _autograd
from ._errors import GraphError


def _extremum_rule(graph, node, dy, wanted):
    (x,) = node.inputs
    g = _autograd._dense(graph, node, dy)
    return (graph.reduce_extremum_grad(node.op, g, x, node.outputs[0], node.attrs),)


def _log_softmax_rule(graph, node, dy, wanted):
    g = _autograd._dense(graph, node, dy)
    return (graph.log_softmax_grad(g, node.outputs[0], dim=node.attrs["axis"]),)


def _no_label_gradient(node, wanted):
    if wanted[1]:
        raise GraphError(f"gradients: {node.op} (node {node.name!r}) has no gradient with "
                         f"respect to its integer labels {node.inputs[1].name!r}")
    if len(wanted) > 2 and wanted[2]:
        raise GraphError(f"gradients: {node.op} (node {node.name!r}) has no gradient with "
                         f"respect to its class weights {node.inputs[2].name!r} in the builder")


def _label_loss_rule(graph, node, dy, wanted):
    """NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss; the latter's
    optional log_prob output adds its own gradient through LogSoftmaxGrad."""
    _no_label_gradient(node, wanted)
    x, target = node.inputs[:2]
    weight = node.inputs[2] if len(node.inputs) > 2 else None
    dloss, dlog_prob = (dy, None) if len(node.outputs) == 1 else dy
    dx = None
    if dloss is not None:
        dloss = _autograd._materialize(graph, dloss, node.outputs[0])
        dx = graph.label_loss_grad(node.op, dloss, x, target, weight, node.attrs)
    if dlog_prob is not None:
        g = _autograd._materialize(graph, dlog_prob, node.outputs[1])
        dlp = graph.log_softmax_grad(g, node.outputs[1], dim=1)
        dx = dlp if dx is None else graph.add(dx, dlp)
    return (dx, None) + ((None,) if weight is not None else ())


RULES = {
    "ReduceMax": _extremum_rule,
    "ReduceMin": _extremum_rule,
    "LogSoftmax": _log_softmax_rule,
    "NegativeLogLikelihoodLoss": _label_loss_rule,
    "SoftmaxCrossEntropyLoss": _label_loss_rule,
}
