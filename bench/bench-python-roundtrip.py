#!/usr/bin/python3
"""Overhead of the Python binding: one iteration of the trivial graph of
bench-roundtrip (Identity on 16 floats) through salusd, from Python
(salus.Session.run, and the generated module's run_arrays under it) and from
C (salus_session_run, timed by bench-roundtrip --rounds in a child process),
in many short alternating rounds of one run so that both see the same
machine: on a VM the round trip is bimodal (about half the iterations find
the daemon's event loop thread asleep and pay for waking it) and the mix
drifts over seconds. The lower quartile compares the fast mode alone.

    PYTHONPATH=BUILD/bindings/python bench/bench-python-roundtrip.py \\
        --socket SALUSD_SOCKET --bench-roundtrip BUILD/bench/bench-roundtrip [--iterations N]
"""

import argparse
import subprocess
import time

import numpy as np

import salus
from salus import _capi

ROUNDS = 50
ELEMENTS = 16


def summary(us):
    us = np.asarray(us)
    p25, p50, p99 = np.percentile(us, [25, 50, 99])
    return {"p25": p25, "p50": p50, "p99": p99, "mean": us.mean()}


def timed(call, n):
    """n timed calls after a tenth as warm-up, in microseconds. The result is
    released after the clock stops, as bench-roundtrip frees its output
    after its own."""
    for _ in range(n // 10):
        call()
    out = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        result = call()
        t1 = clock()
        result = None
        out.append((t1 - t0) / 1000)
    del result
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--bench-roundtrip", required=True, help="the C benchmark's binary")
    parser.add_argument("--iterations", type=int, default=20000)
    args = parser.parse_args()
    per_round = max(100, args.iterations // ROUNDS)

    g = salus.Graph()
    x = g.input("x", (ELEMENTS,))
    g.output(g.identity(x), name="y")
    c_side = subprocess.Popen([args.bench_roundtrip, "--socket", args.socket, "--rounds"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    samples = {"C salus_session_run": [], "Python Session.run": [],
               "Python _capi.run_arrays": []}  # the generated module alone
    with salus.connect(args.socket, name="bench-python-roundtrip") as client:
        with client.session(g, name="trivial") as s:
            feeds = {"x": np.ones(ELEMENTS, np.float32)}
            raw = (s._box, s._ids, s._dtypes, (feeds["x"],), 1, None, 100)
            for _ in range(ROUNDS):
                c_side.stdin.write(f"{per_round}\n")
                c_side.stdin.flush()
                samples["C salus_session_run"] += [float(v) for v in
                                                   c_side.stdout.readline().split()]
                samples["Python Session.run"] += timed(lambda: s.run(feeds), per_round)
                samples["Python _capi.run_arrays"] += timed(lambda: _capi.run_arrays(*raw),
                                                            per_round)
    c_side.stdin.close()
    c_side.wait()

    print(f"python round trip, {per_round * ROUNDS} iterations each in {ROUNDS} alternating "
          f"rounds, Identity on {ELEMENTS} floats")
    stats = {name: summary(us) for name, us in samples.items()}
    for name, st in stats.items():
        print(f"  {name:24s} p25 {st['p25']:7.2f} us  p50 {st['p50']:7.2f} us  "
              f"p99 {st['p99']:7.2f} us  mean {st['mean']:7.2f} us")
    c, py = stats["C salus_session_run"], stats["Python Session.run"]
    print(f"  ratio Python / C:        p25 {py['p25'] / c['p25']:.2f}x  "
          f"p50 {py['p50'] / c['p50']:.2f}x  mean {py['mean'] / c['mean']:.2f}x  "
          f"(target <= 1.3x)")
    print(f"  Python's own time:       p25 {py['p25'] - c['p25']:.2f} us per iteration")


if __name__ == "__main__":
    main()
