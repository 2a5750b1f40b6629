"""torch.compile(model, backend="salus") on torch 2.x: the graph dynamo
hands over is served by salusd as salus.torch.inference serves a module.
Inference only (dynamo may split a model into several graphs, each its own
session); train through salus.torch.train_step."""

import torch

from ._step import Inference


def salus_backend(gm, example_inputs):
    """A dynamo backend: gm (an fx GraphModule) as a function run by salusd.
    Its session opens at the first call, so that compiling costs no daemon
    round trip for a graph that never runs."""
    served = []

    def run(*args):
        if torch.is_grad_enabled() and any(getattr(a, "requires_grad", False) for a in args):
            raise RuntimeError("torch.compile(backend=\"salus\") serves inference; run it under "
                               "torch.no_grad(), or train with salus.torch.train_step")
        if not served:
            served.append(Inference(gm, example_inputs=tuple(example_inputs),
                                    name="torch.compile"))
        return served[0](*args)

    return run


def register():
    """Registers "salus" with dynamo where torch has it (torch >= 2.0)."""
    try:
        from torch._dynamo import register_backend
    except ImportError:  # torch 1.13: no torch.compile
        return False
    register_backend(salus_backend, name="salus")
    return True
