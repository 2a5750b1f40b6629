"""Salus from Python: share one accelerator among many deep-learning jobs.

salusd owns the device; a job connects, builds a computation graph, opens a
*session* with it (the daemon plans its memory exactly and admits it) and
runs *iterations*: it feeds the graph's inputs and gets its outputs back.

    import numpy as np, salus

    g = salus.Graph()
    x = g.input("x", (64, 784))
    y = g.input("y", (64,), dtype="int32")
    w = g.variable("w", np.random.randn(784, 10).astype("f4") * 0.01)
    loss = g.softmax_cross_entropy(g.matmul(x, w), y, name="loss")
    g.sgd(loss, [w], lr=0.1)                  # gradients, updates; loss is an output

    with salus.connect() as client:           # $SALUS_SOCKET or the default socket
        with client.session(g, name="mnist", iterations=1000) as s:
            for xb, yb in batches:
                print(s.run({"x": xb, "y": yb}, fetch="loss"))

What is here:

- ``connect`` / ``Client``: a connection; ``Client.session`` opens a
  ``Session``, ``Client.sessions`` and ``Client.status`` report on the daemon
  (``SessionStatus``, ``DaemonStatus``), ``Client.set_policy`` steers it.
- ``Session.run`` runs an iteration; ``Session.submit`` queues one and returns
  a ``Future``. Arrays go in and come out without extra copies; the GIL is
  released while waiting, and Ctrl-C interrupts a wait.
- ``Graph`` builds graphs with the daemon's ops (checking shapes as they are
  added), differentiates them (``Graph.gradients``) and adds training steps
  (``Graph.sgd``, ``Graph.adam``). ``Tensor`` is a symbolic tensor of a graph.
- Dtypes ``float32``, ``float16``, ``bfloat16`` (uint16 bits in numpy; see
  ``to_bfloat16``), ``int32``, ``int64``, ``bool_``, ``float64``. Computing ops
  take float32, arithmetic (``add``, ``sub``, ``mul``, ``div``) also float64,
  int32 and int64; every dtype can be fed, fetched, and passed through
  ``identity`` and ``reshape``.
- Errors: ``Error`` and one subclass per libsalus code, carrying the
  daemon's message (``GraphError``, ``ShapeError``, ``ConnectError``, ...).
"""

from . import _errors  # registers the exception factory with _capi first
from . import _capi
from ._builder import Graph
from ._client import Client, connect, default_socket_path
from ._dtypes import (
    DType,
    bfloat16,
    bool_,
    dtype,
    float16,
    float32,
    float64,
    from_bfloat16,
    int32,
    int64,
    to_bfloat16,
)
from ._errors import (
    CanceledError,
    ConnectError,
    Error,
    ExecutionError,
    GraphError,
    InternalError,
    InvalidArgumentError,
    NoSessionError,
    NotSupportedError,
    OutOfMemoryError,
    PermissionDeniedError,
    ProtocolError,
    ResourceError,
    ShapeError,
    ShutdownError,
    TooBigError,
    VersionError,
)
from ._graph import Node, Tensor
from ._session import Future, Session
from ._status import DaemonStatus, SessionStatus

#: The wire protocol version the underlying libsalus speaks.
PROTOCOL_VERSION = _errors._capi.SALUS_PROTOCOL_VERSION

__all__ = [
    "connect", "Client", "default_socket_path",
    "Session", "Future", "SessionStatus", "DaemonStatus",
    "Graph", "Tensor", "Node", "op_names",
    "DType", "dtype", "float32", "float16", "bfloat16", "int32", "int64", "bool_",
    "float64",
    "to_bfloat16", "from_bfloat16",
    "Error", "InvalidArgumentError", "OutOfMemoryError", "ConnectError", "ProtocolError",
    "VersionError", "GraphError", "NoSessionError", "ShapeError", "TooBigError",
    "ExecutionError", "NotSupportedError", "ResourceError", "CanceledError", "InternalError",
    "ShutdownError", "PermissionDeniedError",
    "PROTOCOL_VERSION",
]

def op_names():
    """The names of every op the daemon runs, in catalogue order (doc/ops.md
    describes each); ``Graph.op`` builds a node of any of them."""
    return [_capi.salus_op_name(i) for i in range(_capi.salus_op_count())]


# Public names present themselves as salus.X (in help(), reprs, tracebacks
# and pickles), not as the private module that defines them.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj) and not isinstance(_obj, DType):
        _obj.__module__ = __name__
del _name, _obj
