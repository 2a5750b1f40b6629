"""Timing helpers of the Python benchmarks: mean seconds per call, and
latency of an inference path against PyTorch's model.eval() in alternating
rounds, printed with its spread."""

import statistics
import time

import torch


def timed(fn, args, calls):
    """Mean seconds per fn(*args()) over `calls` calls; args() makes each call's arguments."""
    start = time.perf_counter()
    for _ in range(calls):
        fn(*args())
    return (time.perf_counter() - start) / calls


def compare_inference(label, ours, model, x, rounds, calls):
    """Prints ours(x) against model(x) under no_grad: latency per batch
    (median and range over rounds), throughput and the ratio, and the
    largest difference of their outputs."""
    with torch.no_grad():
        diff = (torch.as_tensor(ours(x)) - model(x)).abs().max().item()
    ours_s, theirs_s = [], []
    for _ in range(rounds):
        ours_s.append(timed(ours, lambda: (x,), calls))
        with torch.no_grad():
            theirs_s.append(timed(model, lambda: (x,), calls))
    a, b = statistics.median(ours_s), statistics.median(theirs_s)
    batch = x.shape[0]
    print(f"{label}, batch {batch}: salusd {a * 1e3:.2f} ms ({min(ours_s) * 1e3:.2f}-"
          f"{max(ours_s) * 1e3:.2f}), {batch / a:.1f} samples/s; PyTorch {b * 1e3:.2f} ms "
          f"({min(theirs_s) * 1e3:.2f}-{max(theirs_s) * 1e3:.2f}), {batch / b:.1f} samples/s; "
          f"speed ratio {b / a:.2f}x; max |difference| {diff:.1e}")
