"""An ONNX model served by salusd: one session, one graph per set of input
shapes fed (a symbolic batch dimension), all over the same weights."""

import os
import threading

import numpy as np
import onnx
from onnx import mapping

from .._client import connect
from .._errors import GraphError, NoSessionError, ResourceError
from ._context import Importer
from ._import import TABLE


def read_model(model):
    """An onnx.ModelProto from a path, bytes or a ModelProto."""
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model))
    return onnx.load(os.fspath(model))


def _declared_shapes(model, initializers):
    """{input name: shape or None (symbolic or unknown dims)}."""
    shapes = {}
    for vi in model.graph.input:
        if vi.name in initializers:
            continue
        tt = vi.type.tensor_type
        dims = tt.shape.dim
        static = tt.HasField("shape") and all(d.HasField("dim_value") for d in dims)
        shapes[vi.name] = tuple(d.dim_value for d in dims) if static else None
    return shapes


def _trial_shapes(model, declared):
    """The declared input shapes, a symbolic or unknown dimension taken as 1."""
    shapes = {}
    for vi in model.graph.input:
        if vi.name in declared:
            shapes[vi.name] = declared[vi.name] or tuple(
                d.dim_value or 1 for d in vi.type.tensor_type.shape.dim)
    return shapes


def check(model, variables=False):
    """Imports the model (a path, bytes or an onnx.ModelProto), symbolic
    dimensions taken as 1, without reaching the daemon: raises
    UnsupportedError when Salus does not run it."""
    model = read_model(model)
    init_names = {i.name for i in model.graph.initializer}
    Importer(model, TABLE, _trial_shapes(model, _declared_shapes(model, init_names)), variables)


class OnnxSession:
    """An ONNX model opened on salusd, made by ``salus.onnx.load``.

    ``run(feeds)`` takes a dict of input name to array and returns a dict
    of output name to array, in the model's dtypes. A model with symbolic
    dimensions gets one graph per set of input shapes fed, imported when
    first fed and added to the same session (``Session.add_graph``) so its
    weights are resident once; a graph needing more ephemeral memory than
    the session's lane holds reopens the session with it first (variables
    kept). ``session`` is the underlying salus.Session (None until the
    first graph is opened: at load for static shapes or ``batch_sizes``,
    else at the first run)."""

    def __init__(self, model, client=None, name=None, priority=0, weight=1.0,
                 variables=False, batch_sizes=()):
        self.model = read_model(model)
        self.name = name
        self._variables = variables
        self._open_args = dict(name=name, priority=priority, weight=weight)
        init_names = {i.name for i in self.model.graph.initializer}
        self._declared = _declared_shapes(self.model, init_names)
        #: The names of the inputs fed on every run, in the model's order.
        self.inputs = tuple(self._declared)
        #: The names of the outputs every run returns, in the model's order.
        self.outputs = tuple(o.name for o in self.model.graph.output)
        self._out_dtypes = {o.name: mapping.TENSOR_TYPE_TO_NP_TYPE[o.type.tensor_type.elem_type]
                            for o in self.model.graph.output
                            if o.type.tensor_type.elem_type}
        self._lock = threading.Lock()
        self._graphs = {}  # input shapes -> (session, graph name or None)
        self._built = {}  # input shapes -> its salus.Graph
        self._extra = []  # sessions of graphs the first session could not take
        self.session = None
        # Import now: an unsupported model is refused before the daemon hears of it.
        static = all(s is not None for s in self._declared.values())
        trial = _trial_shapes(self.model, self._declared)
        first = self._import(trial)
        self._own_client = client is None
        self._client = connect() if client is None else client
        try:
            if static:
                self._open(tuple(trial.values()), first)
            # The largest batch first: its lane holds the others' memory.
            for batch in sorted(set(batch_sizes), reverse=True):
                shapes = self._batch_shapes(batch)
                self._open(tuple(shapes.values()), self._import(shapes))
        except BaseException:
            self.close()
            raise

    def _batch_shapes(self, batch):
        """The input shapes with a symbolic leading dimension set to batch."""
        shapes = {}
        for vi in self.model.graph.input:
            if vi.name in self._declared:
                dims = list(vi.type.tensor_type.shape.dim)
                if not dims or dims[0].HasField("dim_value"):
                    raise ValueError(f"batch_sizes: input {vi.name!r} has no symbolic "
                                     f"leading dimension")
                shapes[vi.name] = (batch,) + tuple(d.dim_value or 1 for d in dims[1:])
        return shapes

    def _import(self, shapes):
        return Importer(self.model, TABLE, shapes, self._variables).g

    def _open(self, key, graph):
        self._built[key] = graph
        if self.session is None:
            self.session = self._client.session(graph, **self._open_args)
            self._graphs[key] = (self.session, None)
            return
        name = f"shapes {len(self._graphs)}"
        try:
            self.session.add_graph(graph, name)
            self._graphs[key] = (self.session, name)
        except ResourceError:
            self._reopen(key, graph)
        except GraphError:
            # Constants that depend on the shapes (the daemon takes no new
            # ones in an added graph): this graph gets a session of its own,
            # its weights resident a second time.
            extra = self._client.session(graph, **self._open_args)
            self._extra.append(extra)
            self._graphs[key] = (extra, None)

    def _reopen(self, key, graph):
        """The session again, opened with this graph (its lane holds the
        largest one's ephemeral memory), the others added, the variables kept."""
        old = self.session
        values = old.read_variables() if old.variables else None
        self.session = self._client.session(graph, values=values, **self._open_args)
        moved = {key: (self.session, None)}
        for other, (s, _) in self._graphs.items():
            if s is old:
                name = f"shapes {len(moved)}"
                self.session.add_graph(self._built[other], name)
                moved[other] = (self.session, name)
        self._graphs.update(moved)
        old.close()

    def run(self, feeds):
        """One inference: feeds a dict of input name to array; returns a dict
        of output name to array."""
        missing = [k for k in self.inputs if k not in feeds]
        unknown = [k for k in feeds if k not in self.inputs]
        if missing or unknown:
            raise KeyError(f"inputs missing: {', '.join(missing) or 'none'}; not inputs: "
                           f"{', '.join(unknown) or 'none'}; the model's inputs are "
                           f"{', '.join(self.inputs)}")
        key = tuple(tuple(np.shape(feeds[k])) for k in self.inputs)
        feeds = {k: feeds[k] for k in self.inputs}
        while True:
            with self._lock:
                if key not in self._graphs:
                    self._open(key, self._import(dict(zip(self.inputs, key))))
                session, graph = self._graphs[key]
            try:
                outs = session.run(feeds, graph=graph)
                break
            except NoSessionError:
                # Another thread reopened the session for a bigger batch: rerun there.
                with self._lock:
                    if self._graphs[key][0] is session:
                        raise
        for k, dtype in self._out_dtypes.items():
            if outs[k].dtype != dtype:
                outs[k] = outs[k].astype(dtype)
        return outs

    def close(self):
        """Closes the sessions (and the client, when load made it)."""
        for s in [self.session, *self._extra]:
            if s is not None:
                s.close()
        if self._own_client:
            self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return (f"<salus.onnx.OnnxSession {self.name!r}: inputs {list(self.inputs)}, "
                f"outputs {list(self.outputs)}, {len(self._graphs)} graphs>")


def load(model, client=None, name=None, priority=0, weight=1.0, variables=False,
         batch_sizes=()):
    """Opens an ONNX model (a path, bytes or an onnx.ModelProto) on salusd
    and returns an OnnxSession. ``client``: a salus.Client (default
    salus.connect()); ``name``, ``priority``, ``weight`` as for
    Client.session. Initializers become constants, or variables with
    ``variables=True`` (their values then written with
    ``session.session.write_variables``). ``batch_sizes``: the sizes of a
    symbolic leading (batch) dimension to open graphs for now, the largest
    first (others are added when fed). Raises UnsupportedError, before
    anything reaches the daemon, for what Salus does not run."""
    return OnnxSession(model, client, name, priority, weight, variables, batch_sizes)


__all__ = ["load", "check", "OnnxSession", "read_model"]
