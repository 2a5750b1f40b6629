"""Gradient rules of the norm family for _autograd: op name -> rule(graph,
node, dy, wanted), returning one gradient (or None) per input of the node. The helpers
(_dense, _unbroadcast, _fresh, ...) are _autograd's: `from . import _autograd`."""

from . import _autograd
from ._errors import GraphError


def _first_only(node, dy):
    """The gradient of output 0 of a node whose other outputs (saved
    statistics, a mask) have none."""
    if not isinstance(dy, list):
        return dy
    if any(g is not None for g in dy[1:]):
        raise GraphError(f"gradients: {node.op} (node {node.name!r}) has a gradient only "
                         f"through its output 0, not its saved statistics or mask")
    return dy[0]


def _dense(graph, node, dy):
    return _autograd._materialize(graph, _first_only(node, dy), node.outputs[0])


def _grad_node(graph, op, inputs, num_outputs, **attrs):
    return graph.op(op, *inputs, num_outputs=num_outputs, **attrs)


def _no_stats_gradient(node, wanted):
    if wanted[3] or wanted[4]:
        raise GraphError(f"gradients: the running statistics of batch_norm (node "
                         f"{node.name!r}) have no gradient (buffers, as in torch); leave them "
                         f"out of the variables to train")


def _batch_norm_training(graph, node, dy, wanted):
    _no_stats_gradient(node, wanted)
    x, scale, _, _, _ = node.inputs
    if len(node.outputs) < 3:
        raise GraphError(f"gradients: {node.op} (node {node.name!r}) needs its saved_mean and "
                         f"saved_inv_std outputs for its gradient")
    dx, dscale, dbias = _grad_node(graph, "BatchNormalizationGrad",
                                   [_dense(graph, node, dy), x, scale, node.outputs[1],
                                    node.outputs[2]], 3)
    return dx, dscale, dbias, None, None


def _batch_norm(graph, node, dy, wanted):
    _no_stats_gradient(node, wanted)
    x, scale, _, mean, var = node.inputs
    dx, dscale, dbias = _grad_node(graph, "BatchNormalizationInferenceGrad",
                                   [_dense(graph, node, dy), x, scale, mean, var], 3,
                                   **_passed(node, "epsilon"))
    return dx, dscale, dbias, None, None


def _layer_norm(graph, node, dy, wanted):
    if len(node.outputs) < 3:
        raise GraphError(f"gradients: {node.op} (node {node.name!r}) needs its Mean and "
                         f"InvStdDev outputs for its gradient")
    x, scale = node.inputs[:2]
    has_bias = len(node.inputs) > 2
    outs = _grad_node(graph, "LayerNormalizationGrad",
                      [_dense(graph, node, dy), x, scale, node.outputs[1], node.outputs[2]],
                      3 if has_bias else 2, **_passed(node, "axis"))
    return tuple(outs)


def _channel_norm(grad_op):
    def rule(graph, node, dy, wanted):
        x, scale, _ = node.inputs
        return tuple(_grad_node(graph, grad_op, [_dense(graph, node, dy), x, scale], 3,
                                **_passed(node, "epsilon", "num_groups")))
    return rule


def _passed(node, *names):
    """The node's attributes among names, as given (absent ones keep the
    schema's defaults in the gradient's node too)."""
    return {k: node.attrs[k] for k in names if k in node.attrs}


def _dropout(graph, node, dy, wanted):
    if len(node.outputs) < 2:
        raise GraphError(f"gradients: Dropout (node {node.name!r}) needs its mask output for "
                         f"its gradient")
    return (graph.op("DropoutGrad", _dense(graph, node, dy), node.outputs[1],
                     **_passed(node, "ratio", "training_mode")),)


def _dropout_grad(graph, node, dy, wanted):
    # Linear in dY, through the same mask.
    g = _autograd._materialize(graph, dy, node.outputs[0])
    return graph.op("DropoutGrad", g, node.inputs[1],
                    **_passed(node, "ratio", "training_mode")), None


RULES = {
    "BatchNormalization": _batch_norm,
    "BatchNormalizationTraining": _batch_norm_training,
    "LayerNormalization": _layer_norm,
    "InstanceNormalization": _channel_norm("InstanceNormalizationGrad"),
    "GroupNormalization": _channel_norm("GroupNormalizationGrad"),
    "Dropout": _dropout,
    "DropoutGrad": _dropout_grad,
}
