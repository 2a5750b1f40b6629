"""The graph builder's core: symbolic tensors, nodes, and the Graph that
holds them (its ops are in _ops.py, gradients in _autograd.py)."""

import itertools

import numpy as np

from . import _capi, _dtypes, _shapes
from ._errors import GraphError

INPUT, VARIABLE, CONSTANT, INTERMEDIATE = "input", "variable", "constant", "intermediate"


class Tensor:
    """A symbolic tensor of a Graph: an input, a variable, a constant, or what
    an op computes. It has a static ``shape`` (a tuple), a ``dtype`` and a
    ``name`` unique in its graph (inputs are fed and outputs fetched by it).

    Arithmetic builds ops: ``a + b``, ``a - b``, ``a * b`` (numpy
    broadcasting; a Python number becomes a constant), ``a @ b`` (batched), ``a[1:3, ::2]``,
    ``-a``, ``a.T``; so do ``reshape``, ``transpose``, ``sum`` and ``mean``.
    """

    __slots__ = ("graph", "name", "shape", "dtype", "kind", "node", "__weakref__")

    def __init__(self, graph, name, shape, dtype, kind, node=None):
        self.graph = graph
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.kind = kind
        self.node = node

    @property
    def ndim(self):
        """The rank."""
        return len(self.shape)

    @property
    def size(self):
        """The number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self):
        origin = f" = {self.node.op}" if self.node else f" ({self.kind})"
        return f"<salus.Tensor {self.name!r}{origin} {self.dtype.name}{list(self.shape)}>"

    def __add__(self, other):
        return self.graph.add(self, other)

    def __radd__(self, other):
        return self.graph.add(other, self)

    def __sub__(self, other):
        return self.graph.sub(self, other)

    def __rsub__(self, other):
        return self.graph.sub(other, self)

    def __mul__(self, other):
        return self.graph.mul(self, other)

    def __rmul__(self, other):
        return self.graph.mul(other, self)

    def __matmul__(self, other):
        return self.graph.matmul(self, other)

    def __rmatmul__(self, other):
        return self.graph.matmul(other, self)

    def __getitem__(self, key):
        """Basic indexing as numpy's: ints, slices (steps, negative bounds),
        ``...`` and ``None``; an out-of-range int raises IndexError. Builds
        Slice, Squeeze and Unsqueeze; for index tensors use gather."""
        return self.graph._getitem(self, key)

    def __neg__(self):
        return self.graph.neg(self)

    def __truediv__(self, other):
        return self.graph.div(self, other)

    def __rtruediv__(self, other):
        return self.graph.div(other, self)

    def __pow__(self, other):
        return self.graph.pow(self, other)

    def __rpow__(self, other):
        return self.graph.pow(other, self)

    def __abs__(self):
        return self.graph.abs(self)

    @property
    def T(self):
        """The transpose (axes reversed)."""
        return self.graph.transpose(self)

    def reshape(self, *shape):
        """Same elements in a new shape (one dimension may be -1)."""
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        return self.graph.reshape(self, shape)

    def transpose(self, perm=None):
        """Axes permuted (reversed when perm is None)."""
        return self.graph.transpose(self, perm)

    def sum(self, axis=None, keepdims=False):
        """Sum over axis (an int, a tuple, or None for all)."""
        return self.graph.reduce_sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over axis (an int, a tuple, or None for all)."""
        return self.graph.reduce_mean(self, axis, keepdims)


class Node:
    """One op of a graph: its inputs, attributes and outputs."""

    __slots__ = ("op", "name", "inputs", "attrs", "outputs")

    def __init__(self, op, name, inputs, attrs):
        self.op = op
        self.name = name
        self.inputs = inputs
        self.attrs = attrs
        self.outputs = ()

    def __repr__(self):
        ins = ", ".join(t.name for t in self.inputs)
        return f"<salus.Node {self.name!r} = {self.op}({ins})>"


class GraphCore:
    """Storage of a Graph: tensors and nodes in creation order (always a
    topological order, since an op takes only tensors that exist), unique
    names, declared outputs and the variables updated in place."""

    def __init__(self):
        self._items = []  # leaf Tensors and Nodes, in creation order
        self._tensors = {}  # name -> Tensor
        self._outputs = {}  # fetch name -> Tensor, in declaration order
        self._values = {}  # variable or constant -> its initial value
        self._updated = {}  # variable -> the Node updating it
        self._counter = itertools.count()

    # ---- leaves -------------------------------------------------------------

    def input(self, name, shape, dtype="float32"):
        """An input: fed on every iteration under ``name``, with this shape
        (a tuple; () is a scalar) and dtype (float32 unless said)."""
        return self._leaf(name, INPUT, _shapes.check_shape(name, shape), _dtypes.dtype(dtype))

    def variable(self, name, value, dtype=None):
        """A variable: persistent in the daemon, initialised from ``value``
        (an array or anything numpy makes one of), updated in place by
        optimizers. Floating values become float32 unless ``dtype`` says
        otherwise; the shape is the value's."""
        array, dt = self._initial_value(name, value, dtype)
        t = self._leaf(name, VARIABLE, array.shape, dt)
        self._values[t] = array
        return t

    def constant(self, name, value, dtype=None):
        """A constant: persistent and read-only, from ``value`` (as for
        variable)."""
        array, dt = self._initial_value(name, value, dtype)
        t = self._leaf(name, CONSTANT, array.shape, dt)
        self._values[t] = array
        return t

    def value(self, tensor):
        """The initial value of a variable or constant, as given (a copy)."""
        return self._values[self._own(tensor, "value")].copy()

    def _initial_value(self, name, value, dtype):
        array = np.asarray(value)
        if dtype is None:
            if array.dtype.kind == "f" and array.dtype != np.float16:
                want = _dtypes.float32
            elif array.dtype.kind in "iu" and array.dtype.itemsize == 8:
                want = _dtypes.int64
            elif array.dtype.kind in "iub":
                want = _dtypes.int32
            else:
                want = _dtypes.dtype(array.dtype)
        else:
            want = _dtypes.dtype(dtype)
        if want is _dtypes.bfloat16 and array.dtype != np.uint16:
            array = _dtypes.to_bfloat16(array)
        # A copy: changing the array afterwards does not change the graph.
        converted = np.array(array, dtype=want.numpy, order="C")
        _shapes.check_shape(name, converted.shape)
        return converted, want

    def _leaf(self, name, kind, shape, dtype):
        name = self._claim(name)
        t = Tensor(self, name, shape, dtype, kind)
        self._tensors[name] = t
        self._items.append(t)
        return t

    def _claim(self, name):
        if not isinstance(name, str) or not name:
            raise GraphError(f"tensor names are non-empty strings, got {name!r}")
        if name in self._tensors:
            raise GraphError(f"the graph already has a tensor named {name!r}")
        return name

    # ---- nodes --------------------------------------------------------------

    def _node(self, op, inputs, attrs, outputs, name, auto):
        """Adds a node running the daemon's ``op``; outputs is a list of
        (shape, dtype), named after the node, itself named ``name`` or
        ``auto`` plus a number. Returns the Node."""
        if name is None:
            name = f"{auto}_{next(self._counter)}"
            while name in self._tensors:
                name = f"{auto}_{next(self._counter)}"
        node = Node(op, name, tuple(inputs), attrs)
        out = []
        for i, (shape, dtype) in enumerate(outputs):
            t = Tensor(self, self._claim(name if i == 0 else f"{name}:{i}"), shape, dtype,
                       INTERMEDIATE, node)
            self._tensors[t.name] = t
            out.append(t)
        node.outputs = tuple(out)
        self._items.append(node)
        return node

    def _infer(self, op, inputs, attrs, n_outputs, name):
        """(shape, dtype) of each output of ``op`` on ``inputs``, by the
        daemon's own op schema and shape rules (salus_graph_tensor_shape over
        a one-node graph); GraphError naming the node when they refuse."""
        from ._lower import set_attr  # _lower imports this module

        g = _capi.salus_graph_new()
        try:
            ids = []
            for i, t in enumerate(inputs):
                ids.append(_capi.salus_graph_add_input(g, f"input {i}", t.dtype.code,
                                                       list(t.shape)))
            out_ids, node_id = _capi.salus_graph_add_node(g, op, name, ids, n_outputs)
            for key, value in attrs.items():
                set_attr(g, node_id, key, value)
            _capi.salus_graph_check_node(g, node_id)
            result = []
            for out in out_ids:
                code, shape = _capi.salus_graph_tensor_shape(g, out)
                result.append((shape, _dtypes.by_code(code)))
            return result
        finally:
            _capi.salus_graph_free(g)

    def _own(self, tensor, what):
        """tensor, checked to belong to this graph (or looked up by name)."""
        if isinstance(tensor, str):
            found = self._tensors.get(tensor)
            if found is None:
                raise GraphError(f"{what}: the graph has no tensor named {tensor!r}")
            return found
        if not isinstance(tensor, Tensor):
            raise GraphError(f"{what}: expected a salus.Tensor, got {type(tensor).__name__}")
        if tensor.graph is not self:
            raise GraphError(f"{what}: tensor {tensor.name!r} belongs to another graph")
        return tensor

    # ---- outputs and introspection ------------------------------------------

    def output(self, tensor, name=None):
        """Declares ``tensor`` (or the tensor of that name) an output: every
        iteration returns it, fetched under ``name`` (default: its name). A
        tensor may be an output under several names. Returns the tensor."""
        t = self._own(tensor, "output")
        fetch = t.name if name is None else name
        if not isinstance(fetch, str) or not fetch:
            raise GraphError(f"output names are non-empty strings, got {fetch!r}")
        known = self._outputs.get(fetch)
        if known is not None and known is not t:
            raise GraphError(f"output {fetch!r} is already tensor {known.name!r}")
        self._outputs[fetch] = t
        return t

    def __getitem__(self, name):
        """The tensor of that name."""
        return self._own(name, "graph[...]")

    @property
    def inputs(self):
        """The inputs, in creation order."""
        return [t for t in self._items if isinstance(t, Tensor) and t.kind == INPUT]

    @property
    def variables(self):
        """The variables, in creation order."""
        return [t for t in self._items if isinstance(t, Tensor) and t.kind == VARIABLE]

    @property
    def outputs(self):
        """The declared outputs: a dict of fetch name to tensor."""
        return dict(self._outputs)

    @property
    def nodes(self):
        """The nodes, in creation order."""
        return [n for n in self._items if isinstance(n, Node)]

    def __repr__(self):
        return (f"<salus.Graph: {len(self.inputs)} inputs, {len(self.variables)} variables, "
                f"{len(self.nodes)} nodes, outputs {list(self._outputs)}>")
