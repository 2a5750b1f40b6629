"""A job for test_interrupt.py: long iterations, Ctrl-C expected during one.

    interrupted_job.py SOCKET NAME with|bare

Prints "duration S" after a first iteration, "running" as the second
starts, and "interrupted after S" when KeyboardInterrupt reaches it; then
lets the exception end the program. With "with", client and session are
context managers; with "bare", nothing is closed explicitly."""

import sys
import time

import numpy as np

import salus

N, CHAIN = 1024, 32  # 32 products of 1024 x 1024 matrices: about 69 GFLOP


def graph():
    g = salus.Graph()
    a = g.constant("a", np.eye(N, dtype=np.float32))  # products stay bounded
    h = g.input("x", (N, N))
    for _ in range(CHAIN):
        h = h @ a
    g.output(g.reduce_sum(h), name="sum")
    return g


def iterate(session, x):
    start = time.monotonic()
    try:
        session.run({"x": x})
    except KeyboardInterrupt:
        print(f"interrupted after {time.monotonic() - start:.3f}", flush=True)
        raise
    return time.monotonic() - start


def main(socket, name, style):
    x = np.ones((N, N), np.float32)
    if style == "with":
        with salus.connect(socket) as client, client.session(graph(), name=name) as s:
            print(f"duration {iterate(s, x):.3f}", flush=True)
            print("running", flush=True)
            iterate(s, x)
    else:
        s = salus.connect(socket).session(graph(), name=name)
        print(f"duration {iterate(s, x):.3f}", flush=True)
        print("running", flush=True)
        iterate(s, x)


if __name__ == "__main__":
    main(*sys.argv[1:])
