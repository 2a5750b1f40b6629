#!/usr/bin/python3
"""Generates the traces of experiment 2: for each of vae_64, superres_128 and
resnet50_50, trace-<workload>.csv with N jobs (default 300) of 500 iterations,
all submitted at time 0 (a hyper-parameter sweep launched at once). Nothing is
random; --jobs and --iterations make smaller traces for the test.

Usage: gen_trace.py [--jobs N] [--iterations I] [--outdir DIR]
"""
import argparse
import os

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["vae_64", "superres_128", "resnet50_50"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--outdir", default=HERE)
    a = ap.parse_args()
    for w in WORKLOADS:
        with open(os.path.join(a.outdir, "trace-%s.csv" % w), "w") as f:
            f.write("job,workload,iterations,submit_s,priority\n")
            for i in range(a.jobs):
                f.write("%s-%03d,%s,%d,0,0\n" % (w, i, w, a.iterations))


if __name__ == "__main__":
    main()
