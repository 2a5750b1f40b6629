"""The builder's methods for the norm family of ops (salusd/ops/norm.cpp):
torch.nn.functional's names, arguments and defaults. Shapes come from the
daemon's rules; every node keeps the outputs its gradient needs (saved
statistics, the dropout mask), and the methods return the first."""

import numpy as np

from ._errors import GraphError
from ._graph import VARIABLE


class NormOps:
    """Methods of Graph for the norm ops (a mixin over GraphCore and Ops)."""

    def _norm_node(self, op, auto, inputs, attrs, num_outputs, name):
        """Every output of a new node (shapes by the daemon's rules)."""
        node_name = name if name is not None else self._auto_name(auto)
        outputs = self._infer(op, inputs, attrs, num_outputs, node_name)
        return self._node(op, inputs, attrs, outputs, node_name, auto).outputs

    def _norm_param(self, value, what, fill, shape):
        """A float32 operand, or a constant of `fill` of `shape` for None."""
        if value is None:
            value = np.full(shape, fill, np.float32)
        t = self._operand(value, what)
        self._float32(what, **{what.split(".")[-1]: t})
        return t

    @staticmethod
    def _norm_channels(x):
        """The shape of x's per-channel parameters, [C] of [N, C, ...]; for a
        lower rank any shape, for the daemon's rules to refuse x itself."""
        return (x.shape[1],) if x.ndim >= 2 else (1,)

    def batch_norm(self, x, running_mean, running_var, weight=None, bias=None, training=False,
                   momentum=0.1, eps=1e-5, name=None):
        """Batch normalization over axis 1 of x [N, C, ...]. training=False
        normalizes with running_mean and running_var (BatchNormalization);
        training=True with the batch's statistics, and updates running_mean
        and running_var (variables) in place with torch's momentum
        (BatchNormalizationTraining, whose momentum is 1 - this)."""
        x = self._operand(x, "batch_norm")
        self._float32("batch_norm", x=x)
        if momentum is None:
            raise GraphError("batch_norm: momentum=None (a cumulative average) is not supported")
        channels = self._norm_channels(x)
        weight = self._norm_param(weight, "batch_norm.weight", 1.0, channels)
        bias = self._norm_param(bias, "batch_norm.bias", 0.0, channels)
        if not training:
            if running_mean is None or running_var is None:
                raise GraphError("batch_norm: inference (training=False) needs running_mean "
                                 "and running_var")
            mean = self._own(running_mean, "batch_norm")
            var = self._own(running_var, "batch_norm")
            return self._norm_node("BatchNormalization", "batch_norm",
                                   [x, weight, bias, mean, var], {"epsilon": float(eps)}, 1,
                                   name)[0]
        stats = []
        for value, fill, what in ((running_mean, 0.0, "mean"), (running_var, 1.0, "var")):
            if value is None:  # torch then keeps no running statistics
                value = self.variable(self._auto_name(f"batch_norm_running_{what}"),
                                      np.full(channels, fill, np.float32))
            value = self._own(value, "batch_norm")
            if value.kind != VARIABLE:
                raise GraphError(f"batch_norm: running_{what} {value.name!r} must be a "
                                 f"variable: training updates it in place")
            stats.append(self._updatable("batch_norm", value, f"running_{what}"))
        attrs = {"epsilon": float(eps), "momentum": 1.0 - float(momentum)}
        y = self._norm_node("BatchNormalizationTraining", "batch_norm",
                            [x, weight, bias] + stats, attrs, 3, name)[0]
        # Updated here, so optimizers leave them alone (torch's buffers).
        for t in stats:
            self._updated[t] = y.node
        return y

    def layer_norm(self, x, normalized_shape, weight=None, bias=None, eps=1e-5, name=None):
        """Normalization over the trailing axes normalized_shape (an int or
        a tuple) of x, then * weight + bias (LayerNormalization)."""
        x = self._operand(x, "layer_norm")
        self._float32("layer_norm", x=x)
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
            normalized_shape)
        weight = self._norm_param(weight, "layer_norm.weight", 1.0, shape)
        inputs = [x, weight]
        if bias is not None:
            inputs.append(self._norm_param(bias, "layer_norm.bias", 0.0, shape))
        attrs = {"axis": -len(shape) if shape else x.ndim, "epsilon": float(eps)}
        return self._norm_node("LayerNormalization", "layer_norm", inputs, attrs, 3, name)[0]

    def group_norm(self, x, num_groups, weight=None, bias=None, eps=1e-5, name=None):
        """Normalization of each of num_groups groups of channels of x
        [N, C, ...], then a per-channel weight and bias (GroupNormalization)."""
        x = self._operand(x, "group_norm")
        self._float32("group_norm", x=x)
        channels = self._norm_channels(x)
        weight = self._norm_param(weight, "group_norm.weight", 1.0, channels)
        bias = self._norm_param(bias, "group_norm.bias", 0.0, channels)
        attrs = {"num_groups": int(num_groups), "epsilon": float(eps)}
        return self._norm_node("GroupNormalization", "group_norm", [x, weight, bias], attrs, 1,
                               name)[0]

    def instance_norm(self, x, weight=None, bias=None, eps=1e-5, name=None):
        """Normalization of each channel of each sample of x [N, C, D1, ...]
        over its spatial axes, then a per-channel weight and bias
        (InstanceNormalization)."""
        x = self._operand(x, "instance_norm")
        self._float32("instance_norm", x=x)
        channels = self._norm_channels(x)
        weight = self._norm_param(weight, "instance_norm.weight", 1.0, channels)
        bias = self._norm_param(bias, "instance_norm.bias", 0.0, channels)
        return self._norm_node("InstanceNormalization", "instance_norm", [x, weight, bias],
                               {"epsilon": float(eps)}, 1, name)[0]

    def dropout(self, x, p=0.5, training=True, seed=None, return_mask=False, name=None):
        """Zeroes each element of x with probability p and scales the rest
        by 1 / (1 - p) when training; x itself otherwise (Dropout). The mask
        is a function of the seed and the session's iteration number (see
        Dropout in doc/ops.md); seed defaults to the number of dropouts made
        before in this graph, so that each has its own. return_mask=True
        returns (y, mask), the mask a bool tensor (true: kept) that may be
        made an output, e.g. to replay the same dropout elsewhere."""
        x = self._operand(x, "dropout")
        self._float32("dropout", x=x)
        if not training or p == 0:
            if return_mask:
                raise GraphError("dropout: return_mask needs training=True and p > 0")
            return x
        if seed is None:
            seed = sum(1 for n in self.nodes if n.op == "Dropout")
        attrs = {"ratio": float(p), "training_mode": 1, "seed": int(seed)}
        outs = self._norm_node("Dropout", "dropout", [x], attrs, 2, name)
        return (outs[0], outs[1]) if return_mask else outs[0]
