#!/usr/bin/python3
"""A small CNN and a transformer, defined in PyTorch, training at the same time
through one salusd: each job takes its module's initial weights, sends its
training step once, then only feeds batches and reads its loss.

    PYTHONPATH=build/bindings/python examples/python/share_models.py [--socket PATH]

The models are those of models.py (a ResNet-style CNN with batch norm, and a
two-layer transformer encoder with dropout); the data are random, so the loss
falls as each model learns its batches' labels.
"""

import argparse
import os
import sys
import threading

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

import salus  # noqa: E402


def job(socket, name, spec, steps, lines, errors):
    try:
        train(socket, name, spec, steps, lines)
    except Exception as e:  # reported by main, which exits 1
        errors.append(f"{name}: {type(e).__name__}: {e}")


def train(socket, name, spec, steps, lines):
    module = models.torch_model(spec)
    graph, _ = models.salus_graph(spec, module)
    rng = np.random.default_rng(0)
    x, y = next(models.batches(spec, rng))  # one batch, learnt over and over
    with salus.connect(socket, name=name) as client:
        with client.session(graph, name=name, iterations=steps) as s:
            lines.append(f"{name}: session {s.id}, P {s.persistent_bytes / 2**20:.2f} MiB, "
                         f"T {s.ephemeral_bytes / 2**20:.2f} MiB")
            for i in range(1, steps + 1):
                loss = float(s.run(models.feeds(x, y), fetch="loss"))
                if i == 1 or i % 10 == 0:
                    lines.append(f"{name}: step {i:3d} loss {loss:.4f}")
            st = s.status()
            lines.append(f"{name}: {st.iterations} iterations, mean "
                         f"{st.mean_iteration_time * 1e3:.1f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket")
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    jobs = {"cnn": models.small_resnet(batch=16),
            "transformer": models.transformer(batch=8, seq=16, dim=64, heads=4, ff=128)}
    lines, errors = [], []
    threads = [threading.Thread(target=job, args=(args.socket, n, s, args.steps, lines, errors))
               for n, s in jobs.items()]
    for t in threads:
        t.start()
    printed = 0
    while any(t.is_alive() for t in threads) or printed < len(lines):
        for t in threads:
            t.join(0.2)
        while printed < len(lines):
            print(lines[printed], flush=True)
            printed += 1
    for e in errors:
        print(e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
