"""Real models end to end: a ResNet-style CNN with batch norm, a two-layer
transformer encoder and an LSTM language model, each built with the Python
builder (examples/python/models.py), trained 20 steps through salusd and
compared step by step with the same model in plain PyTorch from the same
initial values, on the same batches (and the same dropout masks, read back
from salusd)."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.environ.get("SALUS_EXAMPLES", "../../examples/python"))
import models  # noqa: E402

STEPS = 20

# Relative tolerance on each step's loss. The two sides round differently
# (summation orders, convolution algorithms), and 20 steps of training let
# those differences grow a little; measured on the CPU: at most 1e-7 (ResNet),
# 2e-7 (transformer), 8e-8 (LSTM). A GPU daemon (cuDNN's and cuBLAS's
# orders, PyTorch still on the CPU) gets ten times the room, unmeasured yet.
CPU_RTOL, GPU_RTOL = 1e-4, 1e-3
CASES = {
    "resnet": models.small_resnet(),
    "transformer": models.transformer(batch=4, seq=8, dim=32, heads=4, ff=64),
    "lstm": models.lstm(batch=4, seq=8, dim=16, vocab=24),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_trains_like_pytorch(client, kind):
    spec = CASES[kind]
    rtol = CPU_RTOL if client.status().device.startswith("cpu") else GPU_RTOL
    module = models.torch_model(spec)
    graph, num_masks = models.salus_graph(spec, module)
    opt = models.torch_optimizer(spec, module)
    data = models.batches(spec, np.random.default_rng(1))
    fetch = ["loss"] + [f"mask{i}" for i in range(num_masks)]
    ours, theirs = [], []
    with client.session(graph, name=f"model-{kind}") as s:
        for _ in range(STEPS):
            x, y = next(data)
            got = s.run(models.feeds(x, y), fetch=fetch)
            masks = [got[f"mask{i}"] for i in range(num_masks)]
            ours.append(float(got["loss"]))
            theirs.append(models.torch_step(spec, module, opt, x, y, masks or None))
    ours, theirs = np.array(ours), np.array(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, err_msg=f"{kind}: salusd vs PyTorch")
    # Training did something: the loss moved (a frozen model would pass the
    # comparison only if PyTorch were frozen too, which this rules out).
    assert abs(ours[-1] - ours[0]) > 1e-3, ours
