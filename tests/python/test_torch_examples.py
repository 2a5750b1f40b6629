"""The PyTorch examples run against a live daemon: the demo's two jobs
sharing it, a torchvision ResNet trained next to PyTorch (its curves plotted),
and a served model."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("torchvision", reason="the examples use torchvision (python3-torchvision)")

EXAMPLES = os.environ.get("SALUS_EXAMPLES", "../../examples/python")


def run(daemon, name, *args, timeout=240):
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), "--socket",
                          daemon.socket, *args], capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_the_demo_jobs_learn_together(daemon):
    out = run(daemon, "share_models.py", "--steps", "20")
    for job in ("cnn", "transformer"):
        losses = [float(line.rsplit(" ", 1)[1]) for line in out.splitlines()
                  if line.startswith(f"{job}: step")]
        assert len(losses) == 3 and losses[-1] < losses[0], out


def test_resnet_trains_like_pytorch_and_plots(daemon, tmp_path):
    pytest.importorskip("matplotlib", reason="the plot needs python3-matplotlib")
    plot = tmp_path / "losses.png"
    out = run(daemon, "torch_resnet.py", "--steps", "3", "--batch", "4", "--plot", str(plot))
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["1"], ["2"], ["3"])]
    ours, theirs = ([float(r[i]) for r in rows] for i in (1, 2))
    # The first step starts from the same state: rounding apart, the same
    # loss; the second stays within 1%. Later ones drift as rounding
    # differences grow through batch norm at batch 4 (plain PyTorch moves its
    # loss by several percent by step 3 when its weights change by 1e-7), so
    # test_torch.py compares every step from the same state instead.
    assert len(rows) == 3 and abs(ours[0] - theirs[0]) < 1e-5 * theirs[0], out
    assert abs(ours[1] - theirs[1]) < 0.01 * theirs[1], out
    assert plot.stat().st_size > 10_000


def test_served_model_agrees_with_pytorch(daemon):
    out = run(daemon, "torch_serve.py", "--requests", "3")
    diffs = [float(line.rsplit(" ", 1)[1]) for line in out.splitlines()
             if line.startswith("request")]
    assert len(diffs) == 3 and max(diffs) < 1e-4, out
