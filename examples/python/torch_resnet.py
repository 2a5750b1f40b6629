#!/usr/bin/python3
"""A torchvision ResNet-18 trained through salusd with salus.torch, next to
the same training in plain PyTorch from the same initial weights and the same
batches: prints both loss curves side by side and saves them as a plot.

    PYTHONPATH=build/bindings/python examples/python/torch_resnet.py --socket PATH \\
        [--steps 30] [--plot resnet-losses.png]

The data is synthetic (no download): 32x32 images whose class sets the mean
of one colour channel and a stripe, so the loss visibly falls within a few
dozen steps. The three lines that make PyTorch training run on Salus are
marked below.

The two curves start identical and then drift apart step by step while both
fall: a small CNN with batch norm trained on batches of 16 amplifies rounding
differences (two plain PyTorch runs whose weights differ by 1e-7 drift the
same way). tests/python/test_torch.py compares every step from the same state.
"""

import argparse
import copy
import sys

import torch
import torch.nn.functional as F
import torchvision

import salus
import salus.torch  # 1. the adaptor


def synthetic_batches(batch, seed):
    g = torch.Generator().manual_seed(seed)
    while True:
        y = torch.randint(0, 10, (batch,), generator=g)
        x = torch.randn(batch, 3, 32, 32, generator=g) * 0.5
        rows = torch.arange(batch)
        x[rows, y % 3] += (y.float() / 5)[:, None, None]
        x[rows, :, (y * 3) % 32, :] += 1.0
        yield x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", help="salusd's socket (default: $SALUS_SOCKET or the default)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--plot", default="resnet-losses.png",
                    help="where to save the plot ('' for none)")
    args = ap.parse_args()
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    reference = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    ref_sched = torch.optim.lr_scheduler.StepLR(ref_opt, step_size=10, gamma=0.5)
    data = synthetic_batches(args.batch, 0)
    x0, y0 = next(synthetic_batches(args.batch, 0))

    client = salus.connect(args.socket, name="torch-resnet")
    # 2. the whole training step, captured once and run by salusd
    step = salus.torch.train_step(model, F.cross_entropy, opt, example_inputs=x0,
                                  example_target=y0, client=client, name="resnet18")
    ours, theirs = [], []
    print(f"{'step':>4}  {'salus.torch':>11}  {'PyTorch':>9}")
    for i in range(args.steps):
        x, y = next(data)
        ours.append(float(step(x, y)))  # 3. one Salus iteration
        sched.step()
        ref_opt.zero_grad()
        loss = F.cross_entropy(reference(x), y)
        loss.backward()
        ref_opt.step()
        ref_sched.step()
        theirs.append(loss.item())
        print(f"{i + 1:>4}  {ours[-1]:>11.4f}  {theirs[-1]:>9.4f}")
    step.copy_to(model)  # the trained weights back in the module
    gap = max(abs(a - b) for a, b in zip(ours, theirs))
    print(f"largest difference between the curves: {gap:.2e}")
    step.close()
    client.close()
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(range(1, args.steps + 1), theirs, label="PyTorch", linewidth=3, alpha=0.5)
        ax.plot(range(1, args.steps + 1), ours, "--", label="salus.torch (salusd)")
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
        ax.set_title("torchvision ResNet-18, SGD with momentum and StepLR")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"plot saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
