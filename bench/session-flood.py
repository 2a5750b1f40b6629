#!/usr/bin/python3
"""Sessions created one after another on one connection, each holding a
little persistent memory (a 16-float variable), none running: seconds per
1000 as the count grows. Flat means session creation costs the same however
many sessions are open; growing means work proportional to the open sessions
on each admission (issue 14's session flood).

    PYTHONPATH=build/bindings/python bench/session-flood.py --socket PATH [--sessions N]

salusd must allow that many sessions for the uid and the connection
(salusd --sessions-per-uid N --sessions-per-connection N)."""
import argparse
import time

import numpy as np

import salus


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--sessions", type=int, default=6000)
    args = ap.parse_args()
    g = salus.Graph()
    x = g.input("x", (4,))
    g.variable("v", np.ones(16, np.float32))
    g.output(g.relu(x), name="y")
    with salus.connect(args.socket, name="session-flood") as client:
        sessions = []
        t0 = time.perf_counter()
        for i in range(args.sessions):
            sessions.append(client.session(g, name=f"s{i}"))
            if (i + 1) % 1000 == 0:
                t1 = time.perf_counter()
                print(f"{i + 1} sessions: {t1 - t0:.2f} s for the last 1000", flush=True)
                t0 = t1


if __name__ == "__main__":
    main()
