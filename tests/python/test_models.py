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
# those differences grow a little; measured on the CPU (examples/python/models.py
# prints it): at most 1e-7 (ResNet),
# 2e-7 (transformer), 8e-8 (LSTM). A GPU daemon (cuDNN's and cuBLAS's
# orders, PyTorch still on the CPU) gets ten times the room, unmeasured yet.
CPU_RTOL, GPU_RTOL = 1e-4, 1e-3


@pytest.mark.parametrize("kind", list(models.SMALL))
def test_trains_like_pytorch(client, kind):
    rtol = CPU_RTOL if client.status().device.startswith("cpu") else GPU_RTOL
    ours, theirs = models.compare(client, models.SMALL[kind], STEPS)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, err_msg=f"{kind}: salusd vs PyTorch")
    # Training did something: the loss moved (a frozen model would pass the
    # comparison only if PyTorch were frozen too, which this rules out).
    assert abs(ours[-1] - ours[0]) > 1e-3, ours
