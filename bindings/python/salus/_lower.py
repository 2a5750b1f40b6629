"""Lowering a Graph to the C API's salus_graph, the form sent to the daemon."""

import numbers

from . import _capi
from ._convert import as_array
from ._errors import InvalidArgumentError
from ._graph import CONSTANT, INPUT, VARIABLE, Tensor


class InputSpec:
    """What a session needs to know of one input (or variable) to feed it
    (or write it)."""

    __slots__ = ("name", "id", "dtype", "shape")

    def __init__(self, name, tensor_id, dtype, shape):
        self.name = name
        self.id = tensor_id
        self.dtype = dtype
        self.shape = shape


def lower(graph, values=None, defer_values=False):
    """A new C graph (free it with salus_graph_free), the InputSpecs of its
    inputs and (fetch name, tensor) of its outputs, in the daemon's order,
    the InputSpecs of its variables, and the values deferred. ``values`` (a
    dict of variable name to array) replaces the initial values of those
    variables. With ``defer_values`` the variables are sent without values
    (the daemon starts them at zero) and their values are returned by name,
    to be written afterwards or dropped."""
    values = dict(values or {})
    deferred = {} if defer_values else None
    g = _capi.salus_graph_new()
    try:
        ids = {}
        inputs = []
        variables = []
        for item in graph._items:
            if isinstance(item, Tensor):
                ids[item] = _add_leaf(g, graph, item, values, deferred)
                spec = InputSpec(item.name, ids[item], item.dtype, item.shape)
                if item.kind == INPUT:
                    inputs.append(spec)
                elif item.kind == VARIABLE:
                    variables.append(spec)
                continue
            out_ids, node_id = _capi.salus_graph_add_node(
                g, item.op, item.name, [ids[t] for t in item.inputs], len(item.outputs))
            for key, value in item.attrs.items():
                set_attr(g, node_id, key, value)
            ids.update(zip(item.outputs, out_ids))
        declared = set()
        for fetch, t in graph._outputs.items():
            tensor_id = ids[t]
            if tensor_id in declared:  # the daemon takes each tensor once: copy it
                (tensor_id,), _ = _capi.salus_graph_add_node(g, "Identity", f"output {fetch}",
                                                            [tensor_id], 1)
            declared.add(tensor_id)
            _capi.salus_graph_add_output(g, tensor_id)
    except BaseException:
        _capi.salus_graph_free(g)
        raise
    if values:
        raise InvalidArgumentError(f"values for what is not a variable of the graph: "
                                   f"{', '.join(sorted(values))}")
    return g, inputs, list(graph._outputs.items()), variables, deferred


def _add_leaf(g, graph, t, values, deferred):
    shape = list(t.shape)
    if t.kind == INPUT:
        return _capi.salus_graph_add_input(g, t.name, t.dtype.code, shape)
    value = graph._values[t]
    if t.kind == VARIABLE:
        if t.name in values:
            value = as_array(t, values.pop(t.name), "variable")
        if deferred is not None:
            deferred[t.name] = value
            value = None
        return _capi.salus_graph_add_variable(g, t.name, t.dtype.code, shape, value)
    assert t.kind == CONSTANT
    return _capi.salus_graph_add_constant(g, t.name, t.dtype.code, shape, value)


def set_attr(g, node_id, key, value):
    if isinstance(value, (bool, numbers.Integral)):
        _capi.salus_graph_set_attr_int(g, node_id, key, int(value))
    elif isinstance(value, numbers.Real):
        _capi.salus_graph_set_attr_float(g, node_id, key, float(value))
    elif isinstance(value, str):
        _capi.salus_graph_set_attr_string(g, node_id, key, value)
    elif all(isinstance(v, numbers.Integral) for v in value):
        _capi.salus_graph_set_attr_ints(g, node_id, key, [int(v) for v in value])
    else:
        _capi.salus_graph_set_attr_floats(g, node_id, key, [float(v) for v in value])
