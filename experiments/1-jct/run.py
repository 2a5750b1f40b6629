#!/usr/bin/python3
"""Experiment 1 (JCT): the 100-job trace under fifo, srtf, pack and fair, on one
lane (pure time-slicing, the main result) and on 4 lanes; average JCT and its
ratio to fifo; a JCT CDF figure.

Usage: run.py [SALUS_SIM] [--trace FILE] [--outdir DIR]
Writes results.csv, results.md, jct-cdf.png and jobs-<policy>-<lanes>lane.csv.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import common  # noqa: E402

POLICIES = ["fifo", "srtf", "pack", "fair"]
LANES = [1, 4]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sim", nargs="?", default=common.DEFAULT_SIM)
    ap.add_argument("--trace", default=os.path.join(HERE, "trace.csv"))
    ap.add_argument("--outdir", default=HERE)
    a = ap.parse_args()
    sim = os.path.abspath(a.sim)
    profiles = os.path.join(HERE, "..", "profiles.csv")
    os.makedirs(a.outdir, exist_ok=True)
    res = {}
    jcts = {}
    for lanes in LANES:
        for p in POLICIES:
            out = os.path.join(a.outdir, "jobs-%s-%dlane.csv" % (p, lanes))
            s = common.run_sim(sim, a.trace, profiles, p, out,
                               ["--lanes", str(lanes), "--memory", "16G", "--check"])
            res[p, lanes] = s
            jcts[p, lanes] = sorted(float(j["jct_s"]) for j in common.read_jobs(out) if j["status"] == "done")
    rows = []
    for lanes in LANES:
        base = float(res["fifo", lanes]["jct_mean_s"])
        for p in POLICIES:
            s = res[p, lanes]
            m = float(s["jct_mean_s"])
            rows.append((lanes, p, m, base / m, float(s["jct_p95_s"]), float(s["makespan_s"]), s["done"]))
    with open(os.path.join(a.outdir, "results.csv"), "w") as f:
        f.write("lanes,policy,avg_jct_s,fifo_over_policy,p95_jct_s,makespan_s,done\n")
        for r in rows:
            f.write("%d,%s,%.1f,%.2f,%.1f,%.1f,%s\n" % r)
    with open(os.path.join(a.outdir, "results.md"), "w") as f:
        f.write("| lanes | policy | average JCT (s) | fifo avg / policy avg | p95 JCT (s) | makespan (s) | jobs done |\n")
        f.write("| ---: | --- | ---: | ---: | ---: | ---: | ---: |\n")
        for r in rows:
            f.write("| %d | %s | %.1f | %.2fx | %.1f | %.1f | %s |\n" % r)
    plt = common.plt()
    fig, axes = plt.subplots(1, len(LANES), figsize=(10, 4), sharey=True)
    for ax, lanes in zip(axes, LANES):
        for p in POLICIES:
            xs = jcts[p, lanes]
            ax.step(xs, [(i + 1) / len(xs) for i in range(len(xs))], where="post",
                    label="%s (avg %.0f s)" % (p, float(res[p, lanes]["jct_mean_s"])))
        ax.set_xscale("log")
        ax.set_xlabel("job completion time (s, log)")
        ax.set_title("%d lane%s, 16 GiB" % (lanes, "" if lanes == 1 else "s"))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_ylabel("fraction of jobs")
    fig.suptitle("Experiment 1: JCT CDF, %d jobs (salus-sim)" % len(jcts["fifo", 1]))
    fig.tight_layout()
    fig.savefig(os.path.join(a.outdir, "jct-cdf.png"), dpi=100)
    print(open(os.path.join(a.outdir, "results.md")).read(), end="")


if __name__ == "__main__":
    main()
