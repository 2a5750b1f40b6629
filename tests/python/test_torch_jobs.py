"""PyTorch jobs as users run them: several processes training at once through
one salusd get the losses they get alone, and a checkpoint saved with
torch.save resumes in a new session on the same loss curve."""

import json
import os
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import salus.torch

HERE = os.path.dirname(os.path.abspath(__file__))


def start(daemon, kind, steps):
    return subprocess.Popen([sys.executable, os.path.join(HERE, "torch_job.py"), daemon.socket,
                             kind, str(steps)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def losses(proc):
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_jobs_in_processes_train_as_they_do_alone(daemon):
    alone = {kind: losses(start(daemon, kind, 8)) for kind in ("cnn", "transformer")}
    # Two of each at once, in four processes: lanes run them side by side.
    procs = [(kind, start(daemon, kind, 8)) for kind in ("cnn", "transformer") * 2]
    for kind, proc in procs:
        assert losses(proc) == alone[kind], kind
    assert alone["cnn"][-1] < alone["cnn"][0]


def test_a_saved_checkpoint_resumes_the_curve_in_a_new_session(client, tmp_path):
    def fresh():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                              nn.Linear(4 * 6 * 6, 3))
        return model, torch.optim.Adam(model.parameters(), lr=1e-2)

    g = torch.Generator().manual_seed(2)
    batches = [(torch.randn(4, 3, 8, 8, generator=g), torch.randint(0, 3, (4,), generator=g))
               for _ in range(6)]
    model, opt = fresh()
    step = salus.torch.train_step(model, F.cross_entropy, opt, example_inputs=batches[0][0],
                                  example_target=batches[0][1], client=client)
    for x, y in batches[:3]:
        step(x, y)
    torch.save(step.state_dict(), tmp_path / "ckpt.pt")
    curve = [float(step(x, y)) for x, y in batches[3:]]
    step.close()

    model, opt = fresh()  # the initial weights again: the checkpoint must replace them
    resumed = salus.torch.train_step(model, F.cross_entropy, opt, example_inputs=batches[0][0],
                                     example_target=batches[0][1], client=client)
    resumed.load_state_dict(torch.load(tmp_path / "ckpt.pt"))
    assert [float(resumed(x, y)) for x, y in batches[3:]] == pytest.approx(curve, rel=1e-6)
    # And into a plain module and optimizer, which then take the same step.
    plain, plain_opt = fresh()
    sd = torch.load(tmp_path / "ckpt.pt")
    plain.load_state_dict(sd["model"])
    plain_opt.load_state_dict(sd["optimizer"])
    x, y = batches[3]
    loss = F.cross_entropy(plain(x), y)
    assert float(loss) == pytest.approx(curve[0], rel=1e-5)
    resumed.close()
