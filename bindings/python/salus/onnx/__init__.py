"""ONNX models on Salus: import an ONNX model onto the daemon's ops and
serve it from salusd.

    import salus.onnx
    sess = salus.onnx.load("model.onnx", name="resnet-serving")
    out = sess.run({"input": batch})      # dict of numpy arrays by output name

``load`` imports the model (initializers become constants, or variables
with ``variables=True``; shape computations are folded) and opens a session;
what Salus cannot run (an op, an opset, a dtype, a shape that depends on the
data) is refused with ``UnsupportedError`` before anything reaches the
daemon (``check`` does the import alone). A symbolic batch dimension gets
one graph per batch size fed, in one session. ``backend`` implements
onnx.backend.base.Backend, for ONNX's backend tests and tools.
``supported_ops()`` lists the ops of the import table; doc/onnx.md
describes them.
"""

from ._backend import SalusBackend as backend
from ._backend import SalusRep
from ._errors import DataDependentError, LoweringError, UnsupportedError
from ._import import TABLE as _TABLE
from ._model import OnnxSession, check, load


def supported_ops():
    """The ONNX ops Salus imports, as sorted (domain, op_type, oldest
    version read) tuples; domain "" is ai.onnx."""
    return sorted((d, name, e.since) for (d, name), e in _TABLE.items())


__all__ = ["load", "check", "OnnxSession", "backend", "SalusRep", "UnsupportedError",
           "DataDependentError", "LoweringError", "supported_ops"]
