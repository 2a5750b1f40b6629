#!/usr/bin/python3
"""Generates trace.csv: 100 training jobs, fixed seed, heavy-tailed sizes and
arrivals (see EXPERIMENTS.md, experiment 1).

- workload: uniform over the data file's training workloads whose iter_s was
  measured (33 of them), so that no job depends on an assumed iteration time;
- duration alone on the device: lognormal, median 120 s, sigma 1.5 (mean
  ~370 s), clipped to [10 s, 3600 s]; iterations = round(duration / iter_s);
  the long tail of job durations that Philly shows (Tiresias, NSDI'19:
  most jobs are short, a few run for orders of magnitude longer);
- arrivals: Pareto (Lomax) inter-arrival times with shape 1.5 (bursty, heavy
  tail), scaled so that their mean equals the mean duration: an offered load
  of 1 on one lane, the first job at 0.

Usage: gen_trace.py [--jobs N] [--seed S] [OUT]   (defaults: 100, 13, trace.csv)
Python's random (Mersenne Twister) gives the same numbers for the same seed on
every Python 3, so the committed trace regenerates byte for byte.
"""
import argparse
import math
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

MEDIAN_S, SIGMA, MIN_S, MAX_S = 120.0, 1.5, 10.0, 3600.0
PARETO_SHAPE = 1.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("out", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "trace.csv"))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    train = sorted((r for r in common.load_data() if r["mode"] == "train" and r["iter_s"]),
                   key=lambda r: r["workload"])
    mean_d = MEDIAN_S * math.exp(SIGMA ** 2 / 2)
    # Lomax(shape a, scale s) has mean s / (a - 1).
    scale = mean_d * (PARETO_SHAPE - 1)
    t = 0.0
    lines = ["job,workload,iterations,submit_s,priority"]
    for i in range(a.jobs):
        w = rng.choice(train)
        d = min(MAX_S, max(MIN_S, rng.lognormvariate(math.log(MEDIAN_S), SIGMA)))
        iters = max(1, round(d / float(w["iter_s"])))
        if i > 0:
            t += scale * (rng.paretovariate(PARETO_SHAPE) - 1)
        lines.append("job%03d,%s,%d,%.3f,0" % (i, w["workload"], iters, t))
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
