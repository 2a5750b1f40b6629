"""Walking an ONNX graph onto a salus.Graph: the values of the ONNX graph
(known arrays or salus tensors), attributes with their opset's defaults, and
the folding of nodes whose inputs are all known (shape computations)."""

import numpy as np
import onnx
from onnx import TensorProto, helper, mapping, numpy_helper

from .. import _dtypes
from .._builder import Graph
from .._errors import GraphError
from .._graph import Tensor
from ._errors import DataDependentError, LoweringError, UnsupportedError

#: The newest default-domain opset onnx here describes; newer ones are refused.
MAX_OPSET = onnx.defs.onnx_opset_version()

# ONNX element type -> the salus dtype holding it. A double reaching an op
# the daemon computes in float32 only is narrowed to float32 there (Node.t).
DTYPES = {
    TensorProto.FLOAT: _dtypes.float32,
    TensorProto.DOUBLE: _dtypes.float64,
    TensorProto.INT64: _dtypes.int64,
    TensorProto.INT32: _dtypes.int32,
    TensorProto.BOOL: _dtypes.bool_,
    TensorProto.FLOAT16: _dtypes.float16,
}


def salus_dtype(elem_type):
    """The salus dtype of an ONNX element type; UnsupportedError for others."""
    found = DTYPES.get(elem_type)
    if found is None:
        raise UnsupportedError(f"dtype {TensorProto.DataType.Name(elem_type).lower()} "
                               f"(Salus has float32, float64, float16, int32, int64 and bool)")
    return found


def as_salus_array(array):
    """A known array, checked to be of a dtype Salus holds."""
    array = np.asarray(array)
    salus_dtype(mapping.NP_TYPE_TO_TENSOR_TYPE.get(array.dtype, TensorProto.UNDEFINED))
    return array


def _decoded(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode() for v in value]
    return value


class Node:
    """One ONNX node being lowered: its inputs (an array when known, a salus
    Tensor otherwise, None when left out), attributes with the schema's
    defaults for its opset, and the builder ``g``."""

    def __init__(self, importer, proto, schema):
        self.imp = importer
        self.g = importer.g
        self.proto = proto
        self.schema = schema
        self.ver = schema.since_version
        self.ins = [importer.values[i] if i else None for i in proto.input]
        self.n_out = len(proto.output)
        self._attrs = {a.name: helper.get_attribute_value(a) for a in proto.attribute}

    def attr(self, name, default=None):
        """The attribute's value (strings decoded), else the schema's
        default, else default."""
        if name in self._attrs:
            return _decoded(self._attrs[name])
        spec = self.schema.attributes.get(name)
        if spec is not None and spec.default_value.type:
            return _decoded(helper.get_attribute_value(spec.default_value))
        return default

    def has_attr(self, name):
        return name in self._attrs

    def has(self, i):
        return i < len(self.ins) and self.ins[i] is not None

    def known(self, i):
        """Whether input i is a known array."""
        return self.has(i) and isinstance(self.ins[i], np.ndarray)

    def const(self, i, what=None):
        """Input i as an array: refused when it is computed from the data."""
        if not self.has(i):
            return None
        value = self.ins[i]
        if isinstance(value, np.ndarray):
            return value
        init = self.imp.initializers.get(self.proto.input[i])
        if init is not None:  # a weight made a variable, read as a constant here
            return init
        role = what or f"input {i}"
        e = DataDependentError(f"{role} ({self.proto.input[i]!r}) is computed from the data "
                               f"at run time; Salus plans memory for static shapes, so it "
                               f"must be a constant or foldable at import")
        e.value = self.proto.input[i]
        raise e

    def ints(self, i, what=None):
        value = self.const(i, what)
        return None if value is None else [int(v) for v in np.asarray(value).reshape(-1)]

    def t(self, i, floats=False):
        """Input i as a salus Tensor (a known array becomes a constant);
        floats: it must be float32, the one dtype of most computing ops, to
        which a double is narrowed."""
        name, value = self.proto.input[i], self.ins[i]
        if floats and isinstance(value, np.ndarray) and value.dtype == np.float64:
            return self.imp.tensor(name + ":float32", value.astype(np.float32))
        t = self.imp.tensor(name, value)
        if floats and t.dtype is _dtypes.float64:
            return self.imp.narrowed(name, t)
        if floats and t.dtype is not _dtypes.float32:
            raise UnsupportedError(f"input {i} is {t.dtype.name}; Salus computes "
                                   f"{self.proto.op_type} in float32 only")
        return t

    def shape(self, i):
        value = self.ins[i]
        return tuple(value.shape)

    def dtype(self, i):
        value = self.ins[i]
        if isinstance(value, Tensor):
            return value.dtype
        return _dtypes.dtype(as_salus_array(value).dtype)

    def constant(self, value, dtype=None):
        """A new constant tensor of the graph."""
        return self.imp.constant(np.asarray(value, dtype=dtype))


class Importer:
    """Lowers one ONNX model, its inputs of the given static shapes, onto a
    new salus.Graph (``g``); ``variables``: float initializers become
    variables (their values swappable) rather than constants."""

    def __init__(self, model, table, input_shapes=None, variables=False):
        self.model = model
        self.table = table
        self.g = Graph()
        self.values = {}
        self.initializers = {}
        self._tensors = {}  # ONNX name -> the salus Tensor made of its known array
        self._n = 0
        self.opsets = {o.domain or "": o.version for o in model.opset_import}
        default = self.opsets.get("", self.opsets.get("ai.onnx"))
        if default is not None and default > MAX_OPSET:
            raise UnsupportedError(f"the model's default-domain opset {default} is newer than "
                                   f"{MAX_OPSET}, the newest python3-onnx here describes")
        graph = model.graph
        for init in graph.initializer:
            array = numpy_helper.to_array(init)
            self.initializers[init.name] = as_salus_array(array) if array.size else array
            if variables and array.dtype.kind == "f":
                self.values[init.name] = self.g.variable(init.name, as_salus_array(array))
            else:
                self.values[init.name] = self.initializers[init.name]
        self.inputs = []
        for vi in graph.input:
            if vi.name in self.initializers:
                continue
            shape = (input_shapes or {}).get(vi.name)
            self.values[vi.name] = self._input(vi, shape)
            self.inputs.append(vi.name)
        for proto in graph.node:
            self._lower(proto)
        self.outputs = [vi.name for vi in graph.output]
        for name in self.outputs:
            value = self.values[name]
            t = self.tensor(name, value)
            if t.kind != "intermediate":  # an input or a constant: the daemon outputs op results
                t = self.g.identity(t)
            self.g.output(t, name)

    def _input(self, vi, shape):
        if not vi.type.HasField("tensor_type"):
            raise UnsupportedError(f"input {vi.name!r} is not a tensor (sequences, maps and "
                                   f"optionals are not Salus types)")
        tt = vi.type.tensor_type
        dtype = salus_dtype(tt.elem_type)
        if shape is None:
            dims = tt.shape.dim
            if not tt.HasField("shape") or any(not d.HasField("dim_value") for d in dims):
                raise UnsupportedError(f"input {vi.name!r} has no static shape: feed it to "
                                       f"learn one")
            shape = tuple(d.dim_value for d in dims)
        if any(d == 0 for d in shape):
            raise UnsupportedError(f"input {vi.name!r} is empty {tuple(shape)}: Salus "
                                   f"tensors have no zero extent")
        return self.g.input(vi.name, tuple(int(d) for d in shape), dtype)

    def _lower(self, proto):
        domain = proto.domain or ""
        opset = self.opsets.get(domain)
        where = dict(op=proto.op_type, domain=domain, opset=opset, node=proto.name)
        entry = self.table.get((domain if domain != "ai.onnx" else "", proto.op_type))
        try:
            if entry is None or opset is None:
                raise UnsupportedError("Salus has no lowering for this op")
            schema = onnx.defs.get_schema(proto.op_type, opset, domain)
            if schema.since_version < entry.since:
                raise UnsupportedError(f"version {schema.since_version} of the op; Salus "
                                       f"reads versions {entry.since} and later")
            node = Node(self, proto, schema)
            known = all(v is None or isinstance(v, np.ndarray) for v in node.ins)
            if known and entry.fold is not None:
                outs = entry.fold(node, *node.ins)
            else:
                outs = entry.lower(node)
        except UnsupportedError as e:
            raise e.at(**where) from None
        except GraphError as e:
            raise LoweringError(f"{proto.op_type} at node {proto.name!r}: {e}") from None
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        for name, value in zip(proto.output, outs):
            if name and value is not None:
                self.values[name] = np.asarray(value) if not isinstance(value, Tensor) else value

    def tensor(self, name, value):
        """The salus Tensor of ONNX value ``name`` (a known array becomes a
        constant, once)."""
        if isinstance(value, Tensor):
            return value
        t = self._tensors.get(name)
        if t is None:
            array = as_salus_array(value)
            if array.size > 1 and array.dtype == np.float32 and np.all(array == array.flat[0]):
                # One value broadcast: the same constant for every batch size
                # (a session's added graphs bring no constants of their own).
                t = self.g.expand(self.constant(array.reshape(-1)[:1].reshape(()), name),
                                  array.shape)
            else:
                t = self.constant(array, name)
            self._tensors[name] = t
        return t

    def narrowed(self, name, t):
        """Float64 tensor ``t`` of ONNX value ``name`` cast to float32, once."""
        key = name + ":float32"
        if key not in self._tensors:
            self._tensors[key] = self.g.op("Cast", t, to="f32")
        return self._tensors[key]

    def constant(self, value, name=None):
        array = np.asarray(value)
        if array.size == 0:
            raise UnsupportedError("an empty tensor: Salus tensors have no zero extent")
        array = as_salus_array(array)
        if name is None or name in self.g._tensors:
            self._n += 1
            name = f"onnx_const_{self._n}"
            while name in self.g._tensors:
                self._n += 1
                name = f"onnx_const_{self._n}"
        dtype = _dtypes.dtype(array.dtype)
        return self.g.constant(name, array, dtype=dtype)


__all__ = ["Importer", "Node", "MAX_OPSET", "salus_dtype", "as_salus_array",
           "UnsupportedError", "DataDependentError", "LoweringError"]
