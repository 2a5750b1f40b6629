#!/usr/bin/python3
"""Training steps of real models through salusd against the same model in
plain PyTorch on the CPU, with the same thread count, measured side by side
in alternating rounds: a ResNet-18 for CIFAR-10 (batch 32, 3x32x32) and a
transformer encoder (2 layers, batch 16, 64 tokens, width 256, 4 heads,
feed-forward 1024). The models are those of examples/python/models.py (the
end-to-end tests check that both sides compute the same losses).

    PYTHONPATH=build/bindings/python bench/bench-models.py --socket PATH [--threads N]

salusd must run its kernels with the same number of threads (bench/run.sh
starts it with --blas-threads and OMP_NUM_THREADS set alike). Prints steps/s
of each side per round, and the ratio salusd / PyTorch: median and spread.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "examples", "python"))
import models  # noqa: E402

import salus  # noqa: E402
from torch_threads import limit_threads  # noqa: E402

SPECS = {
    "resnet18": lambda: models.full_resnet18(batch=32),
    "transformer": lambda: models.transformer(batch=16, seq=64, dim=256, heads=4, ff=1024,
                                              layers=2, vocab=1000),
}


def rate(step, batches, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step(*next(batches))
    return steps / (time.perf_counter() - start)


def bench(client, name, spec, rounds, steps, device):
    """Alternating rounds of salusd and PyTorch (device None: salusd only)."""
    module = models.torch_model(spec)
    graph, _ = models.salus_graph(spec, module)
    opt = models.torch_optimizer(spec, module)
    if device:
        module.to(device)
    data = models.batches(spec, np.random.default_rng(0))
    with client.session(graph, name=f"bench-{name}") as s:
        def ours(x, y):
            s.run(models.feeds(x, y), fetch="loss")

        def theirs(x, y):
            models.torch_step(spec, module, opt, x, y)

        print(f"{name}: P {s.persistent_bytes / 2**20:.1f} MiB, "
              f"T {s.ephemeral_bytes / 2**20:.1f} MiB")
        rate(ours, data, 2)  # warm up both sides
        if device:
            rate(theirs, data, 2)
        ratios = []
        for r in range(rounds):
            a = rate(ours, data, steps)
            if not device:
                print(f"  round {r + 1}: salusd {a:.2f} steps/s")
                continue
            b = rate(theirs, data, steps)
            ratios.append(a / b)
            print(f"  round {r + 1}: salusd {a:.2f} steps/s, PyTorch {b:.2f} steps/s, "
                  f"ratio {a / b:.2f}x")
    if ratios:
        print(f"{name}: ratio salusd / PyTorch median {statistics.median(ratios):.2f}x "
              f"(min {min(ratios):.2f}x, max {max(ratios):.2f}x over {rounds} rounds)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--models", default=",".join(SPECS))
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="PyTorch's device; salusd runs on its own --device")
    args = ap.parse_args()
    device = args.device
    if device == "cuda" and not torch.cuda.is_available():
        print(f"torch {torch.__version__} has no CUDA: no PyTorch column")
        device = None
    limit_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"PyTorch {torch.__version__} on {device}, {args.threads} CPU thread(s) on both "
          f"sides")
    with salus.connect(args.socket, name="bench-models") as client:
        for name in args.models.split(","):
            bench(client, name, SPECS[name](), args.rounds, args.steps, device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
