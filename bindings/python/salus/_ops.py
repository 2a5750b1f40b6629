"""The builder's ops, one method per op of the daemon (doc/ops.md). Each
checks its operands and infers the result's shape when it is called, so a
mistake raises GraphError at the line that makes it."""

import numbers

import numpy as np

from . import _dtypes
from ._errors import GraphError
from ._graph import VARIABLE, Tensor


class Ops:
    """The op methods of Graph (a mixin over GraphCore)."""

    # ---- operand handling ---------------------------------------------------

    def _operand(self, value, what):
        """A tensor of this graph: value itself, or a float32 constant made
        from a Python number or an array."""
        if isinstance(value, Tensor):
            return self._own(value, what)
        if isinstance(value, (numbers.Number, np.ndarray, list, tuple)):
            name = f"const_{next(self._counter)}"
            while name in self._tensors:
                name = f"const_{next(self._counter)}"
            return self.constant(name, np.asarray(value, dtype=np.float32))
        raise GraphError(f"{what}: expected a salus.Tensor or a number, got "
                         f"{type(value).__name__}")

    def _float32(self, op, **operands):
        for role, t in operands.items():
            if t is not None and t.dtype is not _dtypes.float32:
                raise GraphError(f"{op}: {role} (tensor {t.name!r}) is {t.dtype.name}; "
                                 f"{op} takes float32")

    def _auto_name(self, auto):
        name = f"{auto}_{next(self._counter)}"
        while name in self._tensors:
            name = f"{auto}_{next(self._counter)}"
        return name

    def _update_node(self, op, inputs, attrs, name, auto):
        """A node without outputs that updates variables in place, checked
        by the daemon's rules first."""
        node_name = name if name is not None else self._auto_name(auto)
        self._infer(op, inputs, attrs, 0, node_name)
        return self._node(op, inputs, attrs, [], node_name, auto)

    def _one(self, op, auto, inputs, attrs, name):
        """The single output of a new node, its shape and dtype inferred by
        the daemon's rules (GraphError naming the node when they refuse)."""
        node_name = name if name is not None else self._auto_name(auto)
        outputs = self._infer(op, inputs, attrs, 1, node_name)
        return self._node(op, inputs, attrs, outputs, node_name, auto).outputs[0]

    # ---- any op of the daemon -------------------------------------------------

    def op(self, op_type, *inputs, num_outputs=1, name=None, **attrs):
        """A node of any op the daemon knows (``salus.op_names()``; doc/ops.md
        is the catalogue) on ``inputs`` (tensors, or numbers and arrays made
        float32 constants), with attributes as keywords (ints, floats,
        strings, or sequences of ints or floats). Output shapes and dtypes
        come from the daemon's own shape rules; a misuse raises GraphError
        naming the node here, at the line that makes it. Returns the output
        tensor, or a tuple of them when ``num_outputs`` is not 1."""
        ins = [self._operand(t, op_type) for t in inputs]
        auto = op_type.lower()
        node_name = name if name is not None else self._auto_name(auto)
        outputs = self._infer(op_type, ins, attrs, num_outputs, node_name)
        node = self._node(op_type, ins, dict(attrs), outputs, node_name, auto)
        return node.outputs[0] if num_outputs == 1 else node.outputs

    # ---- linear algebra and elementwise ---------------------------------------

    def matmul(self, a, b, transpose_a=False, transpose_b=False, name=None):
        """a @ b as torch.matmul: matrices of the last two axes, the leading
        (batch) axes broadcast; a 1-D a or b is a row or column vector whose
        axis is dropped from the result. transpose_a and transpose_b
        transpose the last two axes first (MatMul)."""
        a, b = self._operand(a, "matmul"), self._operand(b, "matmul")
        self._float32("matmul", a=a, b=b)
        vec_a, vec_b = a.ndim == 1, b.ndim == 1
        if vec_a:
            a = self.unsqueeze(a, 0)
        if vec_b:
            b = self.unsqueeze(b, 1)
        attrs = {"transA": int(bool(transpose_a)), "transB": int(bool(transpose_b))}
        if not (vec_a or vec_b):
            return self._one("MatMul", "matmul", [a, b], attrs, name)
        y = self._one("MatMul", "matmul", [a, b], attrs, None)
        drop = ([-2] if vec_a else []) + ([-1] if vec_b else [])
        return self.squeeze(y, [d % y.ndim for d in drop], name=name)

    def _binary(self, op, auto, a, b, name):
        # Any numeric dtype, A and B alike (the daemon's rule says so).
        a, b = self._pair(a, b, auto)
        return self._one(op, auto, [a, b], {}, name)

    def add(self, a, b, name=None):
        """a + b with numpy broadcasting (Add): float32, float64, int32 or
        int64, both of one dtype; a number takes the tensor's."""
        return self._binary("Add", "add", a, b, name)

    def sub(self, a, b, name=None):
        """a - b with numpy broadcasting (Sub)."""
        return self._binary("Sub", "sub", a, b, name)

    def mul(self, a, b, name=None):
        """a * b elementwise with numpy broadcasting (Mul)."""
        return self._binary("Mul", "mul", a, b, name)

    def _unary(self, op, auto, x, name):
        x = self._operand(x, auto)
        self._float32(auto, x=x)
        return self._one(op, auto, [x], {}, name)

    def relu(self, x, name=None):
        """max(x, 0) (Relu)."""
        return self._unary("Relu", "relu", x, name)

    def sigmoid(self, x, name=None):
        """1 / (1 + exp(-x)) (Sigmoid)."""
        return self._unary("Sigmoid", "sigmoid", x, name)

    def tanh(self, x, name=None):
        """tanh(x) (Tanh)."""
        return self._unary("Tanh", "tanh", x, name)

    def softmax(self, x, axis=-1, name=None):
        """Softmax along axis (Softmax)."""
        x = self._operand(x, "softmax")
        self._float32("softmax", x=x)
        return self._one("Softmax", "softmax", [x], {"axis": int(axis)}, name)

    # ---- losses -------------------------------------------------------------

    def softmax_cross_entropy(self, logits, labels, name=None):
        """Mean over the batch of the cross-entropy of softmax(logits) and the
        labels, a scalar. logits are [N, C]; labels are either class indices
        (int32 or int64, shape [N]; one outside [0, C) fails the iteration:
        SoftmaxCrossEntropyLoss) or probabilities (float32 [N, C]:
        SoftmaxCrossEntropy)."""
        logits = self._operand(logits, "softmax_cross_entropy")
        labels = self._own(labels, "softmax_cross_entropy")
        self._float32("softmax_cross_entropy", logits=logits)
        if labels.dtype in (_dtypes.int32, _dtypes.int64):
            if logits.ndim != 2 or labels.shape != logits.shape[:1]:
                raise GraphError(f"softmax_cross_entropy: integer labels must be [N] for logits "
                                 f"[N, C], got labels {labels.shape} and logits {logits.shape}")
            return self.cross_entropy(logits, labels, ignore_index=None, name=name)
        self._float32("softmax_cross_entropy", labels=labels)
        return self._one("SoftmaxCrossEntropy", "softmax_cross_entropy", [logits, labels], {},
                         name)

    def one_hot(self, indices, depth, name=None):
        """float32 rows of zeros with a one at each index: shape
        indices.shape + (depth,); a negative index counts from the end, one
        outside [-depth, depth) gives zeros (OneHot)."""
        indices = self._own(indices, "one_hot")
        if indices.dtype not in (_dtypes.int32, _dtypes.int64):
            raise GraphError(f"one_hot: indices (tensor {indices.name!r}) are "
                             f"{indices.dtype.name}; one_hot takes int32 or int64")
        return self._one("OneHot", "one_hot", [indices], {"depth": int(depth)}, name)

    # ---- reductions and layout --------------------------------------------------

    def _reduce(self, op, auto, x, axis, keepdims, name):
        x = self._operand(x, auto)
        self._float32(auto, x=x)
        axes = None if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        if axes == ():
            raise GraphError(f"{auto}: axis () reduces nothing (the daemon would reduce "
                             f"every axis); pass None for every axis")
        attrs = {"keepdims": int(bool(keepdims))}
        if axes is not None:
            attrs["axes"] = [int(a) for a in axes]
        return self._one(op, auto, [x], attrs, name)

    def reduce_sum(self, x, axis=None, keepdims=False, name=None):
        """Sum over axis (an int, a tuple, or None for every axis), dropping
        the reduced axes unless keepdims, as numpy does (ReduceSum)."""
        return self._reduce("ReduceSum", "reduce_sum", x, axis, keepdims, name)

    def reduce_mean(self, x, axis=None, keepdims=False, name=None):
        """Mean over axis, as reduce_sum (ReduceMean)."""
        return self._reduce("ReduceMean", "reduce_mean", x, axis, keepdims, name)

    def expand(self, x, shape, name=None):
        """x broadcast to shape (Expand)."""
        x = self._operand(x, "expand")
        self._float32("expand", x=x)
        return self._one("Expand", "expand", [x], {"shape": [int(d) for d in shape]}, name)

    def reshape(self, x, shape, name=None):
        """x's elements in a new shape; one dimension may be -1. Any dtype
        (Reshape)."""
        x = self._own(x, "reshape")
        return self._one("Reshape", "reshape", [x], {"shape": [int(d) for d in shape]}, name)

    def transpose(self, x, perm=None, name=None):
        """x with its axes permuted: output axis i is x's axis perm[i]
        (reversed when perm is None) (Transpose)."""
        x = self._operand(x, "transpose")
        self._float32("transpose", x=x)
        attrs = {} if perm is None else {"perm": [int(p) for p in perm]}
        return self._one("Transpose", "transpose", [x], attrs, name)

    def identity(self, x, name=None):
        """A copy of x, of any dtype (Identity)."""
        x = self._own(x, "identity")
        return self._one("Identity", "identity", [x], {}, name)

    # ---- backward ops, for graphs that write their own backward pass -----------

    def _grad_pair(self, op, auto, dy, other, role, name, attrs=None):
        dy, other = self._own(dy, auto), self._own(other, auto)
        self._float32(auto, dy=dy, **{role: other})
        return self._one(op, auto, [dy, other], attrs or {}, name)

    def relu_grad(self, dy, x, name=None):
        """dy where x > 0, else 0 (ReluGrad)."""
        return self._grad_pair("ReluGrad", "relu_grad", dy, x, "x", name)

    def sigmoid_grad(self, dy, y, name=None):
        """dy * y * (1 - y), y the sigmoid's output (SigmoidGrad)."""
        return self._grad_pair("SigmoidGrad", "sigmoid_grad", dy, y, "y", name)

    def tanh_grad(self, dy, y, name=None):
        """dy * (1 - y^2), y the tanh's output (TanhGrad)."""
        return self._grad_pair("TanhGrad", "tanh_grad", dy, y, "y", name)

    def softmax_grad(self, dy, y, axis=-1, name=None):
        """y * (dy - sum_axis(dy * y)), y the softmax's output (SoftmaxGrad)."""
        y = self._own(y, "softmax_grad")
        return self._grad_pair("SoftmaxGrad", "softmax_grad", dy, y, "y", name,
                               {"axis": int(axis)})

    def softmax_cross_entropy_grad(self, logits, labels, dloss=None, name=None):
        """(softmax(logits) - labels) / N, times the scalar dloss when given
        (SoftmaxCrossEntropyGrad)."""
        auto = "softmax_cross_entropy_grad"
        logits, labels = self._own(logits, auto), self._own(labels, auto)
        inputs = [logits, labels]
        if dloss is not None:
            dloss = self._own(dloss, auto)
            if dloss.shape != ():
                raise GraphError(f"{auto}: dloss must be a scalar, got {dloss.shape}")
            inputs.append(dloss)
        self._float32(auto, logits=logits, labels=labels, dloss=dloss)
        return self._one("SoftmaxCrossEntropyGrad", auto, inputs, {}, name)

    # ---- in-place updates -----------------------------------------------------

    def _updatable(self, op, var, role):
        var = self._own(var, op)
        if var.kind != VARIABLE:
            raise GraphError(f"{op}: {role} (tensor {var.name!r}) is {var.kind}; only "
                             f"variables are updated in place")
        if var in self._updated:
            raise GraphError(f"{op}: variable {var.name!r} is already updated by "
                             f"{self._updated[var].name!r}; a variable has one update")
        return var

    def sgd_update(self, var, grad, lr, name=None, weight_decay=None):
        """var -= lr * (grad + weight_decay * var), in place, after every other
        reader of var; lr a number or a float32 scalar tensor fed or computed
        each iteration (SGDUpdate). Returns the node."""
        return self._optimizer_node("SGDUpdate", "sgd_update", var, grad, [], lr,
                                    {"weight_decay": weight_decay}, name)

    def adam_update(self, var, grad, m, v, step, lr, name=None, **hyper):
        """Adam, in place on var, its moments m and v (variables of var's
        shape, zero at first) and its step (a float32 scalar variable, 0 at
        first), as torch.optim.Adam (AdamUpdate); lr a number or a float32
        scalar tensor; ``hyper`` sets the op's other attributes (beta1, beta2,
        eps, weight_decay: doc/ops.md gives their defaults). Returns the
        node."""
        return self._optimizer_node("AdamUpdate", "adam_update", var, grad,
                                    [("m", m), ("v", v), ("step", step)], lr, hyper, name)
