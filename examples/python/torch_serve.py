#!/usr/bin/python3
"""A PyTorch model served by salusd: salus.torch.inference runs
model.eval()(x) in the daemon, and batches of several sizes share the one
resident copy of the weights (each new size adds a graph to the session,
not another model). Prints each request's latency and its distance from
PyTorch's own answer.

    PYTHONPATH=build/bindings/python examples/python/torch_serve.py --socket PATH
"""

import argparse
import sys
import time

import torch
import torchvision

import salus
import salus.torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", help="salusd's socket (default: $SALUS_SOCKET or the default)")
    ap.add_argument("--requests", type=int, default=6)
    args = ap.parse_args()
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2(num_classes=10).eval()
    with salus.connect(args.socket, name="torch-serve") as client:
        infer = salus.torch.inference(model, example_inputs=torch.randn(8, 3, 32, 32),
                                      client=client, name="mobilenet")
        for i in range(args.requests):
            x = torch.randn((8, 1, 3)[i % 3], 3, 32, 32)
            start = time.perf_counter()
            y = infer(x)
            ms = (time.perf_counter() - start) * 1e3
            with torch.no_grad():
                diff = (y - model(x)).abs().max().item()
            print(f"request {i + 1}: batch {x.shape[0]}, {ms:.1f} ms, classes "
                  f"{y.argmax(1).tolist()}, max |difference from PyTorch| {diff:.1e}")
        infer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
