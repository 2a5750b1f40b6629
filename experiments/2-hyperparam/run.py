#!/usr/bin/python3
"""Experiment 2 (hyper-parameter exploration): for each of vae_64, superres_128
and resnet50_50, N jobs (300) of 500 iterations all submitted at 0; makespan
with pack (lanes 1, 2, 4, 8 and unlimited) against one job at a time (fifo, one
lane), 16 GiB, Safe admission (salusd's default) and Static admission.

Usage: run.py [SALUS_SIM] [--jobs N] [--iterations I] [--outdir DIR]
Writes the traces (gen_trace.py), results.csv, results.md and makespan.png.
"""
import argparse
import csv
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import common  # noqa: E402

WORKLOADS = ["vae_64", "superres_128", "resnet50_50"]
LANES = [1, 2, 4, 8, 0]
ADMISSIONS = ["safe", "static"]
POOL_MIB = 16 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sim", nargs="?", default=common.DEFAULT_SIM)
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--outdir", default=HERE)
    a = ap.parse_args()
    sim = os.path.abspath(a.sim)
    os.makedirs(a.outdir, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(HERE, "gen_trace.py"), "--jobs", str(a.jobs),
                    "--iterations", str(a.iterations), "--outdir", a.outdir], check=True)
    profiles = os.path.join(HERE, "..", "profiles.csv")
    prof = {r["workload"]: r for r in csv.DictReader(open(profiles))}
    rows = []
    for w in WORKLOADS:
        trace = os.path.join(a.outdir, "trace-%s.csv" % w)
        tmp = os.path.join(a.outdir, "jobs.tmp.csv")
        base = common.run_sim(sim, trace, profiles, "fifo", tmp, ["--lanes", "1"])
        mk0 = float(base["makespan_s"])
        # Jobs side by side, each in its own lane of P + T: the memory's bound
        # on parallelism, which the simulator (no interference) would turn
        # into a speedup of that much.
        side = min(a.jobs, int(POOL_MIB // float(prof[w]["peak_mb"])))
        rows.append((w, "fifo (one at a time)", "safe", "1", mk0, 1.0, int(base["lanes_peak"]), side))
        for mode in ADMISSIONS:
            for lanes in LANES:
                s = common.run_sim(sim, trace, profiles, "pack", tmp, ["--lanes", str(lanes), "--admission", mode])
                mk = float(s["makespan_s"])
                rows.append((w, "pack", mode, str(lanes) if lanes else "unlimited", mk, mk0 / mk,
                             int(s["lanes_peak"]), side))
        os.remove(tmp)
    with open(os.path.join(a.outdir, "results.csv"), "w") as f:
        f.write("workload,policy,admission,max_lanes,makespan_s,speedup_vs_one_at_a_time,lanes_used_peak,fit_side_by_side\n")
        for r in rows:
            f.write("%s,%s,%s,%s,%.2f,%.2f,%d,%d\n" % r)
    with open(os.path.join(a.outdir, "results.md"), "w") as f:
        f.write("| workload | policy | --admission | --lanes | makespan (s) | speedup vs one at a time | lanes used (peak) | jobs that fit side by side in own lanes |\n")
        f.write("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
        for r in rows:
            f.write("| %s | %s | %s | %s | %.1f | %.2fx | %d | %d |\n" % r)
    plt = common.plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    labels = ["pack, %s lane%s" % (l if l else "unlimited", "" if l == 1 else "s") for l in LANES]
    width = 0.8 / len(LANES)
    for ax, mode in zip(axes, ADMISSIONS):
      for i, lab in enumerate(labels):
        ys = [r[5] for r in rows if r[1] == "pack" and r[2] == mode
              and r[3] == (str(LANES[i]) if LANES[i] else "unlimited")]
        xs = [j + (i - (len(LANES) - 1) / 2) * width for j in range(len(WORKLOADS))]
        bars = ax.bar(xs, ys, width, label=lab)
        for b, y in zip(bars, ys):
            ax.annotate("%.2f" % y, (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=6)
      ax.axhline(1.0, color="k", lw=0.8)
      ax.axhline(2.38, color="r", ls="--", lw=0.8, label="original's claim (2.38x)")
      ax.set_yscale("log")
      ax.set_xticks(range(len(WORKLOADS)))
      ax.set_xticklabels(["%s x%d" % (w, a.jobs) for w in WORKLOADS])
      ax.set_title("--admission %s" % mode)
    axes[0].set_ylabel("makespan speedup vs one job at a time (log)")
    axes[0].legend(fontsize=7)
    fig.suptitle("Experiment 2: hyper-parameter exploration (salus-sim, 16 GiB; no interference between lanes)")
    fig.tight_layout()
    fig.savefig(os.path.join(a.outdir, "makespan.png"), dpi=100)
    print(open(os.path.join(a.outdir, "results.md")).read(), end="")


if __name__ == "__main__":
    main()
