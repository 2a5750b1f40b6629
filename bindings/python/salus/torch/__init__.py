"""PyTorch on Salus: a module's whole training step (forward, backward and
the optimizer's update) captured once and run by salusd at every step.

    import torch, torchvision, salus.torch

    model = torchvision.models.resnet18(num_classes=10)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = salus.torch.train_step(model, torch.nn.functional.cross_entropy, opt,
                                  example_inputs=x0, example_target=y0, name="resnet")
    for x, y in loader:
        loss = step(x, y)          # one Salus iteration; the loss as a 0-d tensor
    step.copy_to(model)            # the trained weights back in the module

How: ``torch.fx.experimental.proxy_tensor.make_fx`` traces
``loss_fn(model(*inputs), target)`` and ``torch.autograd.grad`` of it over
the model's parameters into aten ops (forward and backward), functionalized
so that in-place ops become plain values; each aten op is lowered onto the
daemon's ops by the table of ``_aten.py`` (doc/torch.md lists it), and
torch.optim's SGD (momentum, Nesterov, weight decay, dampening), Adam and
AdamW become the daemon's update ops. An op without a lowering,
data-dependent control flow, or an in-place write Salus cannot express is
refused with ``UnsupportedError`` naming the op and its module, before
anything reaches the daemon.

Names: the session's variables are the module's parameters and buffers
(``model.layer1.0.conv1.weight``) and the optimizer's state
(``optim.<param>.momentum_buffer``, ``.exp_avg``, ``.exp_avg_sq``,
``.step``); the inputs are ``input0``..., ``target`` and ``lr`` (``lr.<i>``
per param group when there are several), read from the optimizer at every
step so that LR schedulers work; the output is ``loss``.

Randomness: every random op of the trace (dropout's bernoulli, randn_like,
rand) becomes a graph input that the client draws with torch's own
generator, in trace order, at every step. Salus therefore uses exactly the
numbers eager PyTorch would draw under the same seed: the same model trains
identically with dropout on, in both.

torch.compile: on torch >= 2.0, ``torch.compile(model, backend="salus")``
serves inference through salusd (each graph dynamo hands over becomes a
session, opened at its first call; see ``HAS_COMPILE_BACKEND``). Training
goes through ``train_step``. Debian's torch 1.13 has no torch.compile.

Batch norm's ``num_batches_tracked`` (the only non-float32 buffer) is kept
by the client, counted up at each training step.
"""

from . import _dynamo
from ._capture import UnsupportedError
from ._step import Inference, TrainStep


def train_step(model, loss_fn, opt, example_inputs, example_target, **session):
    """A TrainStep: ``step(*inputs, target)`` runs one training iteration of
    model (an nn.Module), loss_fn(model(*inputs), target) and opt (SGD, Adam
    or AdamW over the model's parameters) on salusd and returns the loss.
    example_inputs (a tensor or a tuple of them) and example_target fix the
    graph's shapes; another batch size gets its own graph when first seen.
    ``session`` passes client (a salus.Client; default salus.connect()),
    name, iterations, priority and weight to the session."""
    return TrainStep(model, loss_fn, opt, example_inputs, example_target, **session)


def inference(model, example_inputs, **session):
    """An Inference: ``infer(*inputs)`` returns model.eval()(*inputs)
    computed by salusd, with the module's weights as they are now."""
    return Inference(model, example_inputs, **session)


__all__ = ["train_step", "inference", "TrainStep", "Inference", "UnsupportedError"]

#: Whether torch.compile(model, backend="salus") is available (torch >= 2.0).
HAS_COMPILE_BACKEND = _dynamo.register()

# Public names present themselves as salus.torch.X, as salus's do.
for _obj in (TrainStep, Inference, UnsupportedError):
    _obj.__module__ = __name__
del _obj
