"""Graph: the builder users see, with gradients and optimizers."""

import numpy as np

from . import _autograd
from ._errors import GraphError
from ._graph import VARIABLE, GraphCore
from ._ops import Ops
from ._ops_elementwise import ElementwiseOps
from ._ops_conv import ConvOps
from ._ops_norm import NormOps
from ._ops_shape import ShapeOps
from ._ops_loss import LossOps


class Graph(ElementwiseOps, ConvOps, NormOps, ShapeOps, LossOps, Ops, GraphCore):
    """A computation graph for the daemon, built op by op.

    Leaves are made with ``input`` (fed on every iteration), ``variable``
    (persistent, updated by optimizers) and ``constant``; ops with methods
    named after them (``matmul``, ``relu``, ``softmax_cross_entropy``, ...,
    see doc/ops.md) or with arithmetic on tensors. Shapes are checked as
    ops are added: a mistake raises ``salus.GraphError`` naming the op and
    the shapes. ``output`` declares what every iteration returns;
    ``gradients`` differentiates (reverse mode, emitting the daemon's
    backward ops); ``sgd`` and ``adam`` add a training step. A graph is
    sent to the daemon by ``Client.session`` and may be sent again.

    Example::

        g = salus.Graph()
        x = g.input("x", (64, 784))
        y = g.input("y", (64,), dtype="int32")
        w = g.variable("w", np.zeros((784, 10), "f4"))
        loss = g.softmax_cross_entropy(x @ w, y, name="loss")
        g.sgd(loss, [w], lr=0.1)      # loss becomes an output
    """

    def __init__(self):
        GraphCore.__init__(self)

    def gradients(self, y, xs, grad_y=None):
        """The gradients of y with respect to each tensor of xs, as new
        tensors of the graph (reverse mode over its ops). For a scalar y the
        seed is 1; otherwise the gradient is that of sum(y * grad_y), grad_y
        being ones unless given. Raises GraphError when y does not depend on
        an x or depends on it through an op without a gradient."""
        return _autograd.gradients(self, y, xs, grad_y)

    def _trainable(self, loss, variables, what):
        loss = self._own(loss, what)
        if loss.shape != ():
            raise GraphError(f"{what}: the loss must be a scalar, got shape {loss.shape}")
        if variables is None:
            variables = [v for v in self.variables if v not in self._updated
                         and v.dtype.name == "float32"]
        variables = [self._own(v, what) for v in variables]
        for v in variables:
            if v.kind != VARIABLE:
                raise GraphError(f"{what}: {v.name!r} is {v.kind}, not a variable")
        if not variables:
            raise GraphError(f"{what}: no variables to train")
        if loss not in self._outputs.values():
            self.output(loss)
        return loss, variables

    def sgd(self, loss, variables=None, lr=0.01):
        """A plain SGD step on every iteration: var -= lr * d(loss)/d(var)
        for each variable (default: every float32 variable not yet updated).
        The loss becomes an output. Returns the gradients, in order."""
        loss, variables = self._trainable(loss, variables, "sgd")
        grads = self.gradients(loss, variables)
        for v, g in zip(variables, grads):
            self.sgd_update(v, g, lr, name=f"{v.name}/sgd")
        return grads

    def adam(self, loss, variables=None, lr=1e-3, **hyper):
        """An Adam step on every iteration, as torch.optim.Adam, for each
        variable (default: every float32 variable not yet updated); ``hyper``
        sets AdamUpdate's other attributes (beta1, beta2, eps; doc/ops.md
        gives their defaults). Its moments and step count are new
        zero-initialised variables named after it (``w/adam_m``,
        ``w/adam_v``, ``w/adam_step``). The loss becomes an output. Returns
        the gradients."""
        loss, variables = self._trainable(loss, variables, "adam")
        grads = self.gradients(loss, variables)
        for v, g in zip(variables, grads):
            m = self.variable(f"{v.name}/adam_m", np.zeros(v.shape, np.float32))
            s = self.variable(f"{v.name}/adam_v", np.zeros(v.shape, np.float32))
            step = self.variable(f"{v.name}/adam_step", np.float32(0))
            self.adam_update(v, g, m, s, step, lr, name=f"{v.name}/adam", **hyper)
        return grads
