"""Shape inference of the builder: the daemon's rules (doc/ops.md), checked
when an op is added so that a mistake is reported where it is made.

Every function takes and returns shapes as tuples of ints and raises
GraphError with a message naming the op and the shapes involved."""

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


def normalize_axis(op, axis, rank, what):
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        fail(op, f"axis {axis} is out of range for {what} of rank {rank}")
    return a


def broadcast(op, a, b):
    """numpy broadcasting of two shapes."""
    rank = max(len(a), len(b))
    pa = (1,) * (rank - len(a)) + a
    pb = (1,) * (rank - len(b)) + b
    out = []
    for x, y in zip(pa, pb):
        if x != y and x != 1 and y != 1:
            fail(op, f"shapes {a} and {b} do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(out)


def broadcasts_to(a, target):
    """Whether a broadcasts to exactly target."""
    if len(a) > len(target):
        return False
    lead = len(target) - len(a)
    return all(d == 1 or d == target[lead + i] for i, d in enumerate(a))


def matmul(a, b, trans_a, trans_b):
    if len(a) != 2 or len(b) != 2:
        fail("matmul", f"needs rank-2 operands, got {a} and {b}")
    m, ka = (a[1], a[0]) if trans_a else a
    kb, n = (b[1], b[0]) if trans_b else b
    if ka != kb:
        fail("matmul", f"inner dimensions differ: {a}{' transposed' if trans_a else ''} "
                       f"times {b}{' transposed' if trans_b else ''}")
    return (m, n)


def reduce(op, x, axes, keepdims):
    """The shape after reducing axes (None: all)."""
    rank = len(x)
    if axes is None:
        axes = tuple(range(rank))
    norm = [normalize_axis(op, a, rank, f"input {x}") for a in axes]
    if len(set(norm)) != len(norm):
        fail(op, f"axes {tuple(axes)} name an axis of {x} more than once")
    if keepdims:
        return tuple(1 if i in norm else d for i, d in enumerate(x)), tuple(norm)
    return tuple(d for i, d in enumerate(x) if i not in norm), tuple(norm)


def expand(x, shape):
    shape = check_shape("expand", shape)
    if not broadcasts_to(x, shape):
        fail("expand", f"cannot broadcast {x} to {shape}")
    return shape


def reshape(x, shape):
    """numpy's reshape: one -1 is inferred (ONNX's 0 is not supported here)."""
    shape = tuple(int(d) for d in shape)
    if shape.count(-1) > 1:
        fail("reshape", f"shape {shape} has more than one -1")
    if any(d == 0 or d < -1 for d in shape):
        fail("reshape", f"shape {shape} has an invalid dimension")
    total = 1
    for d in x:
        total *= d
    known = 1
    for d in shape:
        if d != -1:
            known *= d
    if -1 in shape:
        if total % known:
            fail("reshape", f"cannot reshape {x} ({total} elements) to {shape}")
        shape = tuple(total // known if d == -1 else d for d in shape)
    elif known != total:
        fail("reshape", f"cannot reshape {x} ({total} elements) to {shape} ({known} elements)")
    return check_shape("reshape", shape)


def transpose(x, perm):
    if perm is None:
        perm = tuple(reversed(range(len(x))))
    perm = tuple(int(p) for p in perm)
    if sorted(perm) != list(range(len(x))):
        fail("transpose", f"perm {perm} is not a permutation of the {len(x)} axes of {x}")
    return tuple(x[p] for p in perm), perm


def same(op, what, shapes):
    """All shapes equal; `what` names them in the message."""
    if any(s != shapes[0] for s in shapes):
        listed = ", ".join(f"{w} {s}" for w, s in zip(what, shapes))
        fail(op, f"needs {' and '.join(what)} of one shape, got {listed}")
    return shapes[0]


def logits_labels(op, logits, labels):
    if len(logits) != 2 or logits != labels:
        fail(op, f"needs logits and labels of one [N, C] shape, got logits {logits} and "
                 f"labels {labels}")
