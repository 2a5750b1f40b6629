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
    backward ops); ``sgd``, ``adam`` and ``adamw`` add a training step. A graph is
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

    def sgd(self, loss, variables=None, lr=0.01, momentum=0, dampening=0, nesterov=False,
            weight_decay=0):
        """An SGD step on every iteration, as torch.optim.SGD, for each
        variable (default: every float32 variable not yet updated); lr a
        number or a float32 scalar tensor (a graph input fed each run, for
        schedules). With momentum, each variable gets a momentum buffer and a
        step count, new zero-initialised variables named after it
        (``w/sgd_buf``, ``w/sgd_step``). The loss becomes an output. Returns
        the gradients, in order."""
        loss, variables = self._trainable(loss, variables, "sgd")
        grads = self.gradients(loss, variables)
        for v, g in zip(variables, grads):
            if not momentum:
                self.sgd_update(v, g, lr, name=f"{v.name}/sgd", weight_decay=weight_decay)
                continue
            buf = self.variable(f"{v.name}/sgd_buf", np.zeros(v.shape, np.float32))
            step = self.variable(f"{v.name}/sgd_step", np.float32(0))
            self.sgd_momentum_update(v, g, buf, step, lr, momentum, dampening, nesterov,
                                     weight_decay, name=f"{v.name}/sgd")
        return grads

    def _adam(self, what, update, loss, variables, lr, betas, eps, weight_decay, hyper):
        loss, variables = self._trainable(loss, variables, what)
        if betas is not None:
            hyper = {"beta1": betas[0], "beta2": betas[1], **hyper}
        hyper = {"eps": eps, "weight_decay": weight_decay, **hyper}
        grads = self.gradients(loss, variables)
        for v, g in zip(variables, grads):
            m = self.variable(f"{v.name}/{what}_m", np.zeros(v.shape, np.float32))
            s = self.variable(f"{v.name}/{what}_v", np.zeros(v.shape, np.float32))
            step = self.variable(f"{v.name}/{what}_step", np.float32(0))
            update(v, g, m, s, step, lr, name=f"{v.name}/{what}", **hyper)
        return grads

    def adam(self, loss, variables=None, lr=1e-3, betas=None, eps=None, weight_decay=None,
             **hyper):
        """An Adam step on every iteration, as torch.optim.Adam (weight_decay
        an L2 penalty added to the gradient), for each variable (default:
        every float32 variable not yet updated); lr a number or a float32
        scalar tensor fed each run. betas, eps and weight_decay left None
        keep AdamUpdate's defaults, torch's (doc/ops.md); ``hyper`` may set
        beta1 and beta2 instead of betas. The moments and step count are
        new zero-initialised variables named after each variable
        (``w/adam_m``, ``w/adam_v``, ``w/adam_step``). The loss becomes an
        output. Returns the gradients."""
        return self._adam("adam", self.adam_update, loss, variables, lr, betas, eps,
                          weight_decay, hyper)

    def adamw(self, loss, variables=None, lr=1e-3, betas=None, eps=None, weight_decay=None,
              **hyper):
        """An AdamW step (decoupled weight decay, AdamWUpdate's default 0.01
        as torch.optim.AdamW's) on every iteration, as adam otherwise
        (state variables ``w/adamw_m``, ``w/adamw_v``, ``w/adamw_step``).
        Returns the gradients."""
        return self._adam("adamw", self.adamw_update, loss, variables, lr, betas, eps,
                          weight_decay, hyper)
