#!/usr/bin/python3
"""A torchvision ResNet-18 trained through salus.torch against the same model
in plain PyTorch on the CPU, with the same thread count, in alternating
rounds of one run; then the latency of salus.torch.inference against
model.eval()(x) at batch 1 and 32.

    PYTHONPATH=build/bindings/python bench/bench-torch.py --socket PATH [--threads N]

salusd must run its kernels with the same number of threads (bench/run.sh
starts it with --blas-threads and OMP_NUM_THREADS set alike). Prints steps/s
of each side per round and their ratio (median and spread), and the
adaptor's cost per step: the wall time of a salus.torch step less the
daemon's own time for the iteration (its mean_iteration_time), i.e. what
the client and the socket add (tensor conversion, the lr read, the
request and the reply).
"""

import argparse
import copy
import statistics
import sys

import torch
import torch.nn.functional as F
import torchvision

import salus
import salus.torch
from side_by_side import compare_inference, timed
from torch_threads import limit_threads


def batches(batch, image, seed):
    g = torch.Generator().manual_seed(seed)
    while True:
        yield (torch.randn(batch, 3, image, image, generator=g),
               torch.randint(0, 10, (batch,), generator=g))


def stepping(fn, data, steps):
    return timed(fn, lambda: next(data), steps)


def bench_training(client, args):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    theirs = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    their_opt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    data = batches(args.batch, args.image, 0)
    x0, y0 = next(data)
    step = salus.torch.train_step(model, F.cross_entropy, opt, example_inputs=x0,
                                  example_target=y0, client=client, name="bench-torch")

    def plain(x, y):
        their_opt.zero_grad(set_to_none=True)
        F.cross_entropy(theirs(x), y).backward()
        their_opt.step()

    theirs.train()
    stepping(step, data, 2)  # warm up both sides
    stepping(plain, data, 2)
    ratios, overheads = [], []
    for r in range(args.rounds):
        before = step.session.status()
        ours = stepping(step, data, args.steps)
        after = step.session.status()
        daemon = (after.run_time - before.run_time) / (after.iterations - before.iterations)
        torch_s = stepping(plain, data, args.steps)
        ratios.append(torch_s / ours)
        overheads.append(ours - daemon)
        print(f"  round {r + 1}: salus.torch {1 / ours:.2f} steps/s (daemon {daemon * 1e3:.1f} ms "
              f"of {ours * 1e3:.1f} ms), PyTorch {1 / torch_s:.2f} steps/s, "
              f"ratio {torch_s / ours:.2f}x")
    print(f"resnet18 training, batch {args.batch} at {args.image}x{args.image}: ratio "
          f"salus.torch / PyTorch median {statistics.median(ratios):.2f}x (min {min(ratios):.2f}x, "
          f"max {max(ratios):.2f}x over {args.rounds} rounds); adaptor cost per step median "
          f"{statistics.median(overheads) * 1e6:.0f} us (min {min(overheads) * 1e6:.0f}, "
          f"max {max(overheads) * 1e6:.0f})")
    step.close()


def bench_inference(client, args):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10).eval()
    for batch in (1, 32):
        x = torch.randn(batch, 3, args.image, args.image)
        infer = salus.torch.inference(model, example_inputs=x, client=client,
                                      name=f"bench-infer-{batch}")
        compare_inference("resnet18 inference through salus.torch", infer, model, x,
                          args.rounds, max(3, args.steps * (8 if batch == 1 else 1)))
        infer.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--image", type=int, default=32)
    args = ap.parse_args()
    limit_threads(args.threads)
    print(f"PyTorch {torch.__version__} on the CPU, {args.threads} thread(s) on both sides")
    with salus.connect(args.socket, name="bench-torch") as client:
        bench_training(client, args)
        bench_inference(client, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
