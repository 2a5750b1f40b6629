#!/usr/bin/python3
"""Generates trace.csv of experiment 3: the 42 inference jobs, three instances
of each of the 14 models at batch 1 (the data file's *eval_1 workloads), all
submitted at 0, each serving --requests requests (default 1000). Nothing is
random.

Usage: gen_trace.py [--requests N] [OUT]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import common  # noqa: E402


def workloads():
    return sorted(r["workload"] for r in common.load_data()
                  if r["mode"] == "infer" and r["batch"] == "1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("out", nargs="?", default=os.path.join(HERE, "trace.csv"))
    a = ap.parse_args()
    ws = workloads()
    assert len(ws) == 14, ws
    with open(a.out, "w") as f:
        f.write("job,workload,iterations,submit_s,priority\n")
        for k in range(3):
            for w in ws:
                f.write("%s-%d,%s,%d,0,0\n" % (w, k, w, a.requests))


if __name__ == "__main__":
    main()
