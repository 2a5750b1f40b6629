"""Why a model is refused: raised at load, before anything reaches the daemon."""

from .._errors import NotSupportedError


class UnsupportedError(NotSupportedError):
    """The model uses what Salus does not run: an op, an opset, a dtype or
    an attribute value. ``op``, ``domain``, ``opset`` and ``node`` name the
    node that blocks it (None for a model-wide reason); ``reason`` says why."""

    def __init__(self, reason, op=None, domain=None, opset=None, node=None):
        self.reason, self.op, self.domain, self.opset, self.node = reason, op, domain, opset, node
        if op is None:
            message = reason
        else:
            message = (f"{op} (domain {domain or 'ai.onnx'}, opset {opset}) at node "
                       f"{node!r}: {reason}")
        super().__init__(message)

    def at(self, op, domain, opset, node):
        """This error, naming the node it was raised for."""
        e = type(self)(self.reason, op, domain, opset, node)
        e.value = getattr(self, "value", None)
        return e


class DataDependentError(UnsupportedError):
    """A shape of the model depends on the data fed: Salus plans memory for
    static shapes, so such a model is refused. ``value`` names the ONNX value
    that would have to be known at import."""

    value = None


class LoweringError(NotSupportedError):
    """The daemon's shape rules refused what an op claimed by salus.onnx
    lowered to: a bug of the import table (please report it)."""
