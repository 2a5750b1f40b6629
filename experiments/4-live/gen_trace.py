#!/usr/bin/python3
"""Generates trace.csv for experiment 4: 12 jobs of the live workloads, fixed
seed, the shape of experiment 1 at the scale of seconds.

- workload: uniform over live.WORKLOADS (three MLP sizes);
- duration alone on the lane: lognormal, median 1 s, sigma 1, clipped to
  [0.2 s, 6 s]; iterations = round(duration / NOMINAL_ITER_S[workload]),
  the seconds per iteration measured on this machine when the trace was
  made (run.py measures them again for the simulator);
- arrivals: Pareto (Lomax) inter-arrival times, shape 1.5, mean a third of
  the mean duration: an offered load of about 3 while jobs arrive, so that a
  queue builds (the order the policy picks matters) and then drains.

Usage: gen_trace.py [--seed S] [OUT]   (defaults: 1, trace.csv; seed 4, tried first, left the lane idle
for 15 of its 20 s)
"""
import argparse
import math
import os
import random

JOBS = 12
MEDIAN_S, SIGMA, MIN_S, MAX_S = 1.0, 1.0, 0.2, 6.0
PARETO_SHAPE = 1.5
LOAD = 3.0
# Seconds per iteration measured alone here (run.py's profiles), rounded.
NOMINAL_ITER_S = {"mlp-s": 0.0065, "mlp-m": 0.03, "mlp-l": 0.12}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("out", nargs="?",
                    default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "trace.csv"))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    workloads = sorted(NOMINAL_ITER_S)
    mean_d = MEDIAN_S * math.exp(SIGMA ** 2 / 2)
    # Lomax(shape a, scale s) has mean s / (a - 1).
    scale = mean_d / LOAD * (PARETO_SHAPE - 1)
    t = 0.0
    lines = ["job,workload,iterations,submit_s,priority"]
    for i in range(JOBS):
        w = rng.choice(workloads)
        d = min(MAX_S, max(MIN_S, rng.lognormvariate(math.log(MEDIAN_S), SIGMA)))
        iters = max(1, round(d / NOMINAL_ITER_S[w]))
        if i > 0:
            t += scale * (rng.paretovariate(PARETO_SHAPE) - 1)
        lines.append("job%02d,%s,%d,%.3f,0" % (i, w, iters, t))
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
