"""Translating a captured fx graph of aten ops onto a salus.Graph, op by op
through the table of _aten.py. Everything is checked first: ops without a
lowering, reads of buffers Salus does not hold, and in-place writes Salus
cannot express are refused together, naming each op and its module."""

import operator

import numpy as np
import torch

from .._errors import GraphError
from ._aten import ATEN, DTYPES, Empty
from ._capture import MODULE, UnsupportedError

# Ops that draw random numbers; functionalization may leave them in place.
RANDOM = {"bernoulli", "randn_like", "randn", "normal", "rand_like", "rand", "uniform"}
# Ops that may read an empty tensor (its shape only).
FILLS = {"empty", "empty_like", "new_empty", "new_empty_strided", "zero", "fill"}


class Host:
    """A buffer the client keeps (not a float32 tensor: BatchNorm's
    num_batches_tracked), whose only update is counting steps."""

    def __init__(self, name):
        self.name = name


class Random:
    """A random draw of the graph, made by the client at every run."""

    def __init__(self, name, shape, fill):
        self.name = name
        self.shape = shape
        self.fill = fill

    def sample(self):
        t = torch.empty(self.shape)
        self.fill(t)
        return t.numpy()


def _op_name(node):
    """The aten op's packet name, an in-place op's without its underscore."""
    name = node.target.overloadpacket.__name__
    return name[:-1] if name.endswith("_") and not name.startswith("_") else name


def _where(node):
    return f"in module {node.meta[MODULE]}" if node.meta.get(MODULE) else "in the backward pass"


class Translation:
    """The translation of one captured graph: run() returns the salus
    tensors of the fx graph's outputs (None where it has None)."""

    def __init__(self, gm, g, leaves):
        self.gm = gm
        self.g = g
        self.leaves = leaves  # per placeholder: a salus Tensor or a Host
        self.randoms = []  # Random, in trace order (the order eager torch draws them)
        self.counted = []  # Host buffers incremented by one each run
        self.op = None  # the aten op being lowered, for lowerings shared by several
        self._live = set()
        self.node = None  # the fx node being lowered

    # ---- for the lowerings ----------------------------------------------------------

    def random(self, shape, fill):
        """A graph input the client fills with fill(tensor) at every run."""
        name = f"random{len(self.randoms)}"
        self.randoms.append(Random(name, tuple(int(d) for d in shape), fill))
        if self.node not in self._live:
            return Empty(shape)
        return self.g.input(name, tuple(int(d) for d in shape))

    def updated_in_place(self, *tensors):
        """Checks that an op may update these tensors in place: model buffers."""
        for t in tensors:
            if t.kind != "variable":
                raise UnsupportedError(f"salus.torch: {self.op} {_where(self.node)} updates "
                                       f"{t.name!r} in place; only buffers can be")

    # ---- the translation -------------------------------------------------------------

    def run(self):
        nodes = list(self.gm.graph.nodes)
        placeholders = [n for n in nodes if n.op == "placeholder"]
        output = next(n for n in nodes if n.op == "output")
        results = list(output.args[0])
        writes = [n for n in nodes if n.op == "call_function" and n.target is
                  torch.ops.aten.copy_.default]
        leaf = dict(zip(placeholders, self.leaves))
        roots = [r for r in results if isinstance(r, torch.fx.Node)]
        problems = self._check_writes(writes, leaf)
        self._live = _ancestors(roots)
        needed = _ancestors(roots + [n for n in nodes if n.op == "call_function" and
                                     n.target is not operator.getitem and
                                     _op_name(n) in RANDOM])
        problems += self._check_ops([n for n in nodes if n in needed], leaf)
        if problems:
            raise UnsupportedError("salus.torch cannot run this model:\n  " +
                                   "\n  ".join(dict.fromkeys(problems)))
        env = {}
        for node in nodes:
            if node not in needed:
                continue
            self.node = node
            if node.op == "placeholder":
                env[node] = leaf[node]
            elif node.op == "get_attr":
                value = getattr(self.gm, node.target).detach().numpy()
                env[node] = self.g.constant(self.g._auto_name("const"), value,
                                            dtype=DTYPES[getattr(self.gm, node.target).dtype])
            elif node.target is operator.getitem:
                env[node] = env[node.args[0]][node.args[1]]
            else:
                env[node] = self._lower(node, env)
        return [env[r] if isinstance(r, torch.fx.Node) else None for r in results]

    def _lower(self, node, env):
        self.op = _op_name(node)
        args, kwargs = torch.fx.node.map_arg((node.args, node.kwargs), lambda n: env[n])
        kwargs = {k: v for k, v in kwargs.items()
                  if k not in ("device", "layout", "pin_memory", "memory_format",
                               "non_blocking", "generator")}
        if self.op not in RANDOM and self.op not in FILLS:
            for a in _flat(args, kwargs):
                if isinstance(a, Empty):
                    raise UnsupportedError(f"salus.torch: {node.target} {_where(node)} reads "
                                           f"an uninitialised tensor (torch.empty)")
        try:
            return ATEN[self.op](self, *args, **kwargs)
        except GraphError as e:  # the builder's refusal, or the lowering's
            raise UnsupportedError(f"{e} (aten.{node.target.overloadpacket.__name__} "
                                   f"{_where(node)})") from None

    def _check_ops(self, nodes, leaf):
        problems = []
        for n in nodes:
            if n.op != "call_function" or n.target is operator.getitem:
                continue
            name = _op_name(n)
            if name not in ATEN:
                problems.append(f"aten.{n.target.overloadpacket.__name__} {_where(n)}: "
                                f"no Salus lowering")
            elif name != n.target.overloadpacket.__name__ and name not in RANDOM:
                problems.append(f"aten.{n.target.overloadpacket.__name__} {_where(n)}: an "
                                f"in-place op functionalization left in place")
            for a in _flat(n.args, n.kwargs):
                if isinstance(leaf.get(a), Host):
                    problems.append(f"aten.{name} {_where(n)} reads buffer "
                                    f"{leaf[a].name!r}, which is not float32")
        return problems

    def _check_writes(self, writes, leaf):
        """copy_ into placeholders: buffer updates. A step counter (x + 1 of an
        integer buffer) is counted by the client; anything else is refused."""
        problems = []
        for w in writes:
            dst, src = w.args[0], w.args[1]
            target = leaf.get(dst)
            if isinstance(target, Host) and _is_increment(src, dst):
                self.counted.append(target)
                continue
            name = getattr(target, "name", dst.name)
            problems.append(f"{_where(src)} writes {name!r} in place "
                            f"(aten.{getattr(src.target, '__name__', src.target)}); Salus "
                            f"updates variables only by optimizers and batch norm")
        return problems


def _is_increment(src, dst):
    return (src.op == "call_function" and src.target is torch.ops.aten.add.Tensor and
            src.args[0] is dst and src.args[1] == 1)


def _flat(args, kwargs):
    out = []
    torch.fx.node.map_aggregate((args, kwargs), out.append)
    return out


def _ancestors(roots):
    seen, stack = set(), list(roots)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(n.all_input_nodes)
    return seen


def salus_dtype(t):
    """The builder's dtype of a torch tensor (None if Salus has none)."""
    return DTYPES.get(t.dtype)


def host_array(t):
    return np.ascontiguousarray(t.detach().cpu().numpy())

