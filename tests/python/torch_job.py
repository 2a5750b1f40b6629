"""A PyTorch training job for test_torch_jobs.py: trains one of two small
models through salus.torch and prints its losses as JSON.

    torch_job.py SOCKET cnn|transformer STEPS
"""

import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import salus
import salus.torch


def job(kind):
    """A model, its optimizer, and a batch learnt over and over, from fixed seeds."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    if kind == "cnn":
        model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
        x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 5, (8,), generator=g)
        return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), x, y
    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True)
    model = nn.Sequential(nn.Embedding(50, 32), nn.TransformerEncoder(layer, 1), nn.Flatten(),
                          nn.Linear(32 * 6, 3))
    x, y = torch.randint(0, 50, (4, 6), generator=g), torch.randint(0, 3, (4,), generator=g)
    return model, torch.optim.Adam(model.parameters(), lr=1e-3), x, y


def main():
    socket, kind, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model, opt, x, y = job(kind)
    with salus.connect(socket, name=f"job-{kind}") as client:
        step = salus.torch.train_step(model, F.cross_entropy, opt, example_inputs=x,
                                      example_target=y, client=client, name=kind)
        print(json.dumps([float(step(x, y)) for _ in range(steps)]))
        step.close()


if __name__ == "__main__":
    main()
