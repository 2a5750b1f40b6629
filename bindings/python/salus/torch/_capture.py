"""Tracing a module into aten ops: make_fx over a functional form of the
model, then functionalization, so that in-place ops become explicit values
and buffer writes become ``copy_`` nodes at the end of the graph. Every fx
node carries ``meta["salus_module"]``, the module that made it ("" in the
backward pass), so that a refusal can name it."""

import contextlib
import threading

import torch
import torch.utils._pytree as pytree
from torch.fx.experimental.proxy_tensor import make_fx

from .._errors import GraphError

try:  # torch >= 2.0
    from torch.func import functional_call, functionalize
except ImportError:  # torch 1.13
    from functorch import functionalize
    from torch.nn.utils.stateless import functional_call

MODULE = "salus_module"


class UnsupportedError(GraphError):
    """A model salus.torch cannot run: an aten op without a Salus lowering,
    data-dependent control flow, or an in-place update Salus cannot express.
    Raised while capturing, before anything reaches the daemon."""


class _Origin:
    """The module running now: a stack kept by global module hooks while
    tracing, and the source node while functionalization replays a graph."""

    def __init__(self, names):
        self.names = names  # module object -> "layer1.0.conv1 (Conv2d)"
        self.stack = []
        self.replaying = None  # the fx node being replayed

    def current(self):
        if self.replaying is not None:
            return self.replaying.meta.get(MODULE, "")
        return self.stack[-1] if self.stack else ""

    def pre_hook(self, module, args):
        self.stack.append(self.names.get(module, type(module).__name__))
        if isinstance(module, torch.nn.RNNBase):
            # RNNs read their weights from a cached list, which functional_call
            # does not swap: point it at the traced values for this call.
            module._salus_saved = module._flat_weights
            module._flat_weights = [getattr(module, n) for n in module._flat_weights_names]

    def post_hook(self, module, args, out):
        if isinstance(module, torch.nn.RNNBase):
            module._flat_weights = module._salus_saved
            del module._salus_saved
        self.stack.pop()


@contextlib.contextmanager
def _tracking(model):
    """Tags every fx node made inside with meta[MODULE]."""
    names = {m: f"{n or 'model'} ({type(m).__name__})" for n, m in model.named_modules()}
    origin = _Origin(names)
    create_node = torch.fx.Graph.create_node

    def tagged(graph, *args, **kwargs):
        node = create_node(graph, *args, **kwargs)
        node.meta[MODULE] = origin.current()
        return node

    hooks = [torch.nn.modules.module.register_module_forward_pre_hook(origin.pre_hook),
             torch.nn.modules.module.register_module_forward_hook(origin.post_hook)]
    torch.fx.Graph.create_node = tagged
    try:
        yield origin
    finally:
        torch.fx.Graph.create_node = create_node
        for h in hooks:
            h.remove()


class _Replay(torch.fx.Interpreter):
    """Runs a traced graph, telling the origin which node runs (left set
    when the node fails, for the message)."""

    def __init__(self, gm, origin):
        super().__init__(gm)
        self.origin = origin

    def run_node(self, n):
        self.origin.replaying = n
        out = super().run_node(n)
        self.origin.replaying = None
        return out


def _traced(origin, run):
    """run(), a make_fx trace; its failures as UnsupportedError naming the module."""
    try:
        return run()
    except RuntimeError as e:
        where = origin.current()
        where = f"module {where}" if where else "the loss function or the backward pass"
        if "value out of a tracing tensor" in str(e):
            raise UnsupportedError(
                f"salus.torch: {where} has data-dependent control flow or reads a tensor's "
                f"value in Python (.item(), bool(), if on a tensor); a Salus graph is fixed "
                f"when it is captured") from None
        raise UnsupportedError(f"salus.torch cannot capture {where}: {e}") from e


# Tracing patches process-wide state (module hooks, fx's create_node, the
# RNG): captures in several threads take turns.
_TRACING = threading.Lock()


def trace(model, fn, args):
    """fn(*args) traced to a functionalized fx GraphModule of aten ops, its
    nodes tagged with the module that made them. The global RNG is left as
    it was (tracing runs the model on real tensors)."""
    with _TRACING, torch.random.fork_rng(devices=[]), _tracking(model) as origin:
        gm = _traced(origin, lambda: make_fx(fn)(*args))
        origin.stack.clear()
        replay = _Replay(gm, origin)
        # Gradients are explicit ops now; without requires_grad, a write into
        # a parameter becomes a copy_ like any other, for the translation to refuse.
        plain = pytree.tree_map(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, args)
        return _traced(origin, lambda: make_fx(functionalize(lambda *a: replay.run(*a)))(*plain))


def functional(model, names):
    """model as a function of its parameters and buffers (in the order of
    names), then its inputs."""
    def call(tensors, inputs):
        return functional_call(model, dict(zip(names, tensors)), tuple(inputs))
    return call
