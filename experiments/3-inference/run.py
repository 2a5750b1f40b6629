#!/usr/bin/python3
"""Experiment 3 (inference packing): the 42 inference jobs (3 x 14 models,
batch 1).

1. Devices of 16 GiB needed: one job per device; static partitioning (each
   device holds jobs while sum(P + T) <= C); the safety condition (sum(P) +
   max(T) <= C). Jobs are placed first-fit decreasing (by P + T) and every
   device's set is checked with salus-sim (--admission static|safe --check):
   all of its jobs must be admitted at time 0 and none wait or be refused.
2. Per-request latency under fair sharing of one device: all 42 jobs on one
   16 GiB device, synchronous clients (one request at a time) that think
   THINK seconds between a reply and the next request, --lanes 1 (pure
   time-slicing) and unlimited, holds on (5000 us, the default) and off;
   latency = (wait_s + run_s) / iterations.

Usage: run.py [SALUS_SIM] [--requests N] [--outdir DIR]
Writes trace.csv (gen_trace.py), devices.csv, latency.csv, results.md, inference.png.
"""
import argparse
import collections
import csv
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import common  # noqa: E402

POOL_MIB = 16 * 1024
THINKS = [0.01, 0.05, 0.2, 1.0]
LANES = [1, 0]
HOLDS = [5000, 0]


def fits(group, mode):
    p = sum(j[1] for j in group)
    if mode == "static":
        return p + sum(j[2] for j in group) <= POOL_MIB
    return p + max(j[2] for j in group) <= POOL_MIB


def ffd(jobs, mode):
    devices = []
    for j in sorted(jobs, key=lambda j: -(j[1] + j[2])):
        for d in devices:
            if fits(d + [j], mode):
                d.append(j)
                break
        else:
            devices.append([j])
    return devices


def verify(sim, devices, mode, profiles, outdir):
    """Every device's jobs admitted at 0 by salus-sim's admission, none waiting."""
    tr = os.path.join(outdir, "device.tmp.csv")
    out = os.path.join(outdir, "device-jobs.tmp.csv")
    ok = True
    for d in devices:
        with open(tr, "w") as f:
            f.write("job,workload,iterations,submit_s\n")
            for j in d:
                f.write("%s,%s,1,0\n" % (j[0], j[3]))
        common.run_sim(sim, tr, profiles, "fair", out,
                       ["--admission", mode, "--memory", "16G", "--check"])
        ok &= all(r["status"] == "done" and float(r["admitted_s"]) == 0.0 for r in common.read_jobs(out))
    os.remove(tr)
    os.remove(out)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sim", nargs="?", default=common.DEFAULT_SIM)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--outdir", default=HERE)
    a = ap.parse_args()
    sim = os.path.abspath(a.sim)
    os.makedirs(a.outdir, exist_ok=True)
    trace = os.path.join(a.outdir, "trace.csv")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_trace.py"), "--requests", str(a.requests), trace],
                   check=True)
    profiles = os.path.join(HERE, "..", "profiles.csv")
    prof = {r["workload"]: r for r in csv.DictReader(open(profiles))}
    jobs = []
    for r in common.read_jobs(trace):
        p = prof[r["workload"]]
        pm, peak = float(p["persistent_mb"]), float(p["peak_mb"])
        jobs.append((r["job"], pm, peak - pm, r["workload"]))

    dev_rows = [("one job per device", len(jobs), "yes (trivially)")]
    for name, mode in (("static partitioning: sum(P + T) <= C", "static"),
                       ("Salus safety condition: sum(P) + max(T) <= C", "safe")):
        devs = ffd(jobs, mode)
        dev_rows.append((name, len(devs), "yes" if verify(sim, devs, mode, profiles, a.outdir) else "NO"))
    sum_pt = sum(j[1] + j[2] for j in jobs)
    with open(os.path.join(a.outdir, "devices.csv"), "w") as f:
        f.write("scheme,devices,salus_sim_admits_each_device_at_0\n")
        for r in dev_rows:
            f.write("%s,%d,%s\n" % r)

    lat_rows = []
    per_model = {}
    for lanes, hold, think in [(l, h, t) for l in LANES for h in HOLDS for t in THINKS]:
            out = os.path.join(a.outdir, "jobs.tmp.csv")
            s = common.run_sim(sim, trace, profiles, "fair", out,
                               ["--lanes", str(lanes), "--client", "sync", "--think", str(think),
                                "--hold-max-us", str(hold),
                                "--memory", "16G", "--check"])
            js = common.read_jobs(out)
            os.remove(out)
            lat = {j["job"]: (float(j["wait_s"]) + float(j["run_s"])) / int(j["iterations"]) for j in js}
            solo = {j["job"]: float(j["run_s"]) / int(j["iterations"]) for j in js}
            slow = [lat[k] / solo[k] for k in lat]
            ms = sorted(v * 1e3 for v in lat.values())
            lat_rows.append((lanes if lanes else "unlimited", hold, think, sum(ms) / len(ms), ms[len(ms) // 2], ms[-1],
                             sum(slow) / len(slow), max(slow), int(s["lanes_peak"]), s["done"]))
            m = collections.defaultdict(list)
            for k, v in lat.items():
                m[k.rsplit("-", 1)[0]].append(v * 1e3)
            per_model[lanes, hold, think] = {k: sum(v) / len(v) for k, v in m.items()}
    with open(os.path.join(a.outdir, "latency.csv"), "w") as f:
        f.write("lanes,hold_max_us,think_s,mean_latency_ms,median_job_latency_ms,worst_job_latency_ms,"
                "mean_slowdown_vs_alone,worst_slowdown_vs_alone,lanes_used_peak,done\n")
        for r in lat_rows:
            f.write("%s,%d,%g,%.2f,%.2f,%.2f,%.2f,%.2f,%d,%s\n" % r)
    with open(os.path.join(a.outdir, "results.md"), "w") as f:
        f.write("Devices of 16 GiB needed by the 42 jobs (sum of P + T: %.0f MiB; "
                "sum of P: %.0f MiB, largest T: %.0f MiB):\n\n"
                % (sum_pt, sum(j[1] for j in jobs), max(j[2] for j in jobs)))
        f.write("| scheme | devices | salus-sim admits every device's jobs at once |\n| --- | ---: | --- |\n")
        for r in dev_rows:
            f.write("| %s | %d | %s |\n" % r)
        f.write("\nPer-request latency of the 42 jobs sharing one device under fair, synchronous clients "
                "(%d requests each; a job's latency is the mean over its requests):\n\n" % a.requests)
        f.write("| --lanes | --hold-max-us | think (s) | mean latency (ms) | median job (ms) | worst job (ms) "
                "| mean slowdown vs alone | worst slowdown | lanes used | jobs done |\n")
        f.write("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
        for r in lat_rows:
            f.write("| %s | %d | %g | %.2f | %.2f | %.2f | %.2fx | %.2fx | %d | %s |\n" % r)
    plt = common.plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 2.2]})
    bars = ax1.bar(["one per\ndevice", "static\npartitioning", "Salus\n(safety cond.)"],
                   [r[1] for r in dev_rows], color=["grey", "tab:orange", "tab:blue"])
    for b in bars:
        ax1.annotate(str(int(b.get_height())), (b.get_x() + b.get_width() / 2, b.get_height()),
                     ha="center", va="bottom")
    ax1.set_ylabel("16 GiB devices for 42 inference jobs")
    ax1.set_title("devices needed")
    models = sorted(per_model[LANES[0], HOLDS[0], THINKS[0]])
    solo_ms = {w: float(prof[w]["iter_s"]) * 1e3 for w in models}
    width = 0.8 / (len(THINKS) + 1)
    xs = range(len(models))
    ax2.bar([x - 0.4 + width / 2 for x in xs], [solo_ms[w] for w in models], width, label="alone", color="k")
    for i, think in enumerate(THINKS):
        ax2.bar([x - 0.4 + width * (i + 1.5) for x in xs], [per_model[1, 5000, think][w] for w in models], width,
                label="fair, 1 lane, think %g s" % think)
    ax2.set_yscale("log")
    ax2.set_xticks(list(xs))
    ax2.set_xticklabels([w.replace("eval_1", "") for w in models], rotation=45, ha="right", fontsize=8)
    ax2.set_ylabel("mean latency per request (ms, log)")
    ax2.set_title("42 jobs on one device, fair sharing, sync clients")
    ax2.legend(fontsize=7)
    fig.suptitle("Experiment 3: inference packing (salus-sim)")
    fig.tight_layout()
    fig.savefig(os.path.join(a.outdir, "inference.png"), dpi=100)
    print(open(os.path.join(a.outdir, "results.md")).read(), end="")


if __name__ == "__main__":
    main()
