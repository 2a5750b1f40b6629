"""The builder's check of the shapes it is given (inputs, variables,
constants). What ops make of shapes is the daemon's business: Graph asks
libsalus (salus_graph_tensor_shape), which runs the daemon's own rules."""

from ._errors import GraphError

MAX_RANK = 8


def fail(op, message):
    raise GraphError(f"{op}: {message}")


def check_shape(op, shape):
    """A valid static shape: at most MAX_RANK positive dimensions."""
    shape = tuple(int(d) for d in shape)
    if len(shape) > MAX_RANK:
        fail(op, f"shape {shape} has rank {len(shape)}, over the maximum of {MAX_RANK}")
    if any(d <= 0 for d in shape):
        fail(op, f"shape {shape} has a non-positive dimension")
    return shape
