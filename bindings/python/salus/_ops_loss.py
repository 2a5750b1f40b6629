"""The builder's methods for the loss family of ops (salusd/ops/loss.cpp):
reductions by comparison, log-softmax, losses with class indices and the
optimizers' in-place updates. Shapes come from the daemon's rules."""

from . import _dtypes
from ._errors import GraphError
from ._graph import Tensor


def _axes(dim):
    """torch's dim (an int, a sequence, or None / () for every axis) as the
    ReduceMax/ReduceMin `axes` attribute (absent: every axis)."""
    if dim is None:
        return None
    axes = (dim,) if isinstance(dim, int) else tuple(dim)
    return [int(a) for a in axes] or None


class LossOps:
    """Methods of Graph for the loss ops (a mixin over GraphCore and Ops)."""

    # ---- reductions by comparison ---------------------------------------------

    def _extremum(self, op, auto, x, dim, keepdim, name):
        x = self._operand(x, auto)
        self._float32(auto, x=x)
        attrs = {"keepdims": int(bool(keepdim))}
        axes = _axes(dim)
        if axes is not None:
            attrs["axes"] = axes
        return self._one(op, auto, [x], attrs, name)

    def amax(self, x, dim=(), keepdim=False, name=None):
        """The max over dim (an int, a tuple, or () / None for every axis),
        as torch.amax; its gradient splits evenly among ties (ReduceMax)."""
        return self._extremum("ReduceMax", "amax", x, dim, keepdim, name)

    def amin(self, x, dim=(), keepdim=False, name=None):
        """The min over dim, as torch.amin (ReduceMin)."""
        return self._extremum("ReduceMin", "amin", x, dim, keepdim, name)

    def _arg(self, op, auto, x, dim, keepdim, name):
        x = self._operand(x, auto)
        self._float32(auto, x=x)
        if dim is None:  # torch: the index into the flattened tensor
            x, dim, keepdim = self.reshape(x, (-1,)), 0, False
        return self._one(op, auto, [x], {"axis": int(dim), "keepdims": int(bool(keepdim)),
                                         "select_last_index": 0}, name)

    def argmax(self, x, dim=None, keepdim=False, name=None):
        """int64 index of the max along dim (of the flattened x when None), the
        first among ties, as torch.argmax (ArgMax)."""
        return self._arg("ArgMax", "argmax", x, dim, keepdim, name)

    def argmin(self, x, dim=None, keepdim=False, name=None):
        """int64 index of the min along dim, as torch.argmin (ArgMin)."""
        return self._arg("ArgMin", "argmin", x, dim, keepdim, name)

    # ---- log-softmax and losses -------------------------------------------------

    def log_softmax(self, x, dim=-1, name=None):
        """log(softmax(x)) along dim, without overflow (LogSoftmax)."""
        x = self._operand(x, "log_softmax")
        self._float32("log_softmax", x=x)
        return self._one("LogSoftmax", "log_softmax", [x], {"axis": int(dim)}, name)

    def _label_loss(self, op, auto, x, target, weight, ignore_index, reduction, name,
                    num_outputs=1):
        x = self._operand(x, auto)
        target = self._own(target, auto)
        if target.dtype not in (_dtypes.int32, _dtypes.int64):
            raise GraphError(f"{auto}: target (tensor {target.name!r}) is {target.dtype.name}; "
                             f"{auto} takes int32 or int64 class indices")
        inputs = [x, target]
        if weight is not None:
            inputs.append(self._operand(weight, auto))
        self._float32(auto, input=x, weight=inputs[2] if weight is not None else None)
        attrs = {"reduction": str(reduction)}
        if ignore_index is not None:
            attrs["ignore_index"] = int(ignore_index)
        if num_outputs == 1:
            return self._one(op, auto, inputs, attrs, name)
        return self.op(op, *inputs, num_outputs=num_outputs, name=name, **attrs)

    def nll_loss(self, log_probs, target, weight=None, ignore_index=-100, reduction="mean",
                 name=None):
        """The negative log-likelihood of class indices target ([N] or [N, d1,
        ...], int32/int64) under log_probs ([N, C] or [N, C, d1, ...]), as
        torch.nn.functional.nll_loss; ignore_index=None ignores nothing. A
        target outside [0, C) fails the iteration
        (NegativeLogLikelihoodLoss)."""
        return self._label_loss("NegativeLogLikelihoodLoss", "nll_loss", log_probs, target,
                                weight, ignore_index, reduction, name)

    def cross_entropy(self, logits, target, weight=None, ignore_index=-100, reduction="mean",
                      name=None, log_prob=False):
        """nll_loss of log_softmax(logits, dim=1), as
        torch.nn.functional.cross_entropy with class indices; with
        ``log_prob`` returns (loss, log_softmax(logits)) (SoftmaxCrossEntropyLoss)."""
        out = self._label_loss("SoftmaxCrossEntropyLoss", "cross_entropy", logits, target,
                               weight, ignore_index, reduction, name, 2 if log_prob else 1)
        return tuple(out) if log_prob else out

    # ---- backward ops ------------------------------------------------------------

    def reduce_extremum_grad(self, op, dy, x, y, attrs, name=None):
        """The backward of ReduceMax/ReduceMin (op) with their attrs
        (ReduceMaxGrad, ReduceMinGrad)."""
        auto = op.lower() + "_grad"
        dy, x, y = (self._own(t, auto) for t in (dy, x, y))
        self._float32(auto, dy=dy, x=x, y=y)
        return self._one(op + "Grad", auto, [dy, x, y], dict(attrs), name)

    def log_softmax_grad(self, dy, y, dim=-1, name=None):
        """dy - exp(y) * sum_dim(dy), y the log-softmax's output (LogSoftmaxGrad)."""
        return self._grad_pair("LogSoftmaxGrad", "log_softmax_grad", dy, y, "y", name,
                               {"axis": int(dim)})

    def label_loss_grad(self, op, dloss, x, target, weight, attrs, name=None):
        """The backward of NegativeLogLikelihoodLoss or SoftmaxCrossEntropyLoss
        (op) with their attrs: d loss / d input."""
        auto = "nll_loss_grad" if op.startswith("Negative") else "cross_entropy_grad"
        inputs = [self._own(dloss, auto), self._own(x, auto), self._own(target, auto)]
        if weight is not None:
            inputs.append(self._own(weight, auto))
        return self._one(op + "Grad", auto, inputs, dict(attrs), name)

    # ---- optimizers ------------------------------------------------------------

    def _lr(self, op, lr, inputs, attrs):
        """lr as the attribute, or a scalar float32 tensor as the last input."""
        if isinstance(lr, Tensor):
            lr = self._own(lr, op)
            if lr.shape != () or lr.dtype is not _dtypes.float32:
                raise GraphError(f"{op}: lr (tensor {lr.name!r}) must be a float32 scalar, got "
                                 f"{lr.dtype.name} {lr.shape}")
            inputs.append(lr)
        else:
            attrs["lr"] = float(lr)

    def _optimizer_node(self, op, auto, var, grad, state, lr, attrs, name):
        """An update node on var and its state variables (in that order after
        grad); every one of them becomes updated by it."""
        var = self._updatable(auto, var, "var")
        state = [self._updatable(auto, t, role) for role, t in state]
        if len({var, *state}) != 1 + len(state):
            raise GraphError(f"{auto}: var and its state must be different variables")
        grad = self._own(grad, auto)
        self._float32(auto, var=var, grad=grad, **{f"state {i}": t for i, t in enumerate(state)})
        inputs = [var, grad, *state]
        # Attributes the caller left as None keep the op's default.
        attrs = {k: int(v) if k == "nesterov" else float(v)
                 for k, v in attrs.items() if v is not None}
        self._lr(auto, lr, inputs, attrs)
        node = self._update_node(op, inputs, attrs, name, auto)
        for t in (var, *state):
            self._updated[t] = node
        return node

    def sgd_momentum_update(self, var, grad, buf, step, lr, momentum, dampening=None,
                            nesterov=None, weight_decay=None, name=None):
        """SGD with momentum as torch.optim.SGD, in place on var, its momentum
        buffer buf (a variable of var's shape) and step (a float32 scalar
        variable, 0 at first: the first step sets buf = grad); lr a number or
        a float32 scalar tensor; None leaves the op's default
        (SGDMomentumUpdate). Returns the node."""
        attrs = {"momentum": momentum, "dampening": dampening,
                 "nesterov": None if nesterov is None else bool(nesterov),
                 "weight_decay": weight_decay}
        return self._optimizer_node("SGDMomentumUpdate", "sgd_momentum_update", var, grad,
                                    [("buf", buf), ("step", step)], lr, attrs, name)

    def adamw_update(self, var, grad, m, v, step, lr, name=None, **hyper):
        """AdamW as torch.optim.AdamW, in place on var, m, v and step (as
        adam_update; weight_decay defaults to the op's 0.01) (AdamWUpdate).
        Returns the node."""
        return self._optimizer_node("AdamWUpdate", "adamw_update", var, grad,
                                    [("m", m), ("v", v), ("step", step)], lr, hyper, name)
