#!/usr/bin/python3
"""Experiment 4 (live JCT): a small version of experiment 1 run against the
live salusd (CPU backend, one lane), compared with what salus-sim predicts
for the same jobs and the profiles measured here.

1. Profile: each workload alone on a fresh salusd, with the experiment's
   pipelined client: P and T as the daemon planned them, seconds per
   iteration (after a warm-up). Written to profiles.csv.
2. Live: the 12 jobs of trace.csv under fifo, srtf, pack and fair, --reps
   times each (a fresh daemon per run, with --event-log): average JCT per run.
3. Simulated: salus-sim with the same trace and profiles.csv, one lane,
   pipelined clients.
4. results.csv / results.md: average JCT and its ratio to fifo, live (mean and
   spread over the repetitions) against simulated; gantt.png: one live
   run's lane switching between jobs, from its event log.

Usage: run.py [BUILD_DIR] [--reps N] [--outdir DIR] [--policies LIST]
BUILD_DIR (default build-nocuda) holds salusd, salus-sim and the Python binding.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import common  # noqa: E402

POLICIES = ["fifo", "srtf", "pack", "fair"]
# The fair run whose event log becomes the Gantt chart, and its window:
# from the first job switch, this many seconds.
GANTT_POLICY = "fair"
GANTT_SECONDS = 0.4


def write_profiles(path, profiles):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["workload", "persistent_mb", "peak_mb", "iter_s", "iter_source"])
        for name, (p, t, it) in profiles.items():
            w.writerow([name, "%.4f" % (p / 2**20), "%.4f" % ((p + t) / 2**20), "%.6f" % it,
                        "measured alone on this machine (experiments/4-live)"])


def ratio_rows(live, sim):
    """One row per policy: live JCTs per rep, their ratios to fifo's of the
    same rep, and the simulated ones."""
    rows = []
    for p in live:
        ratios = [f / x for f, x in zip(live["fifo"], live[p])]
        sim_ratio = sim["fifo"] / sim[p]
        mean_ratio = statistics.mean(ratios)
        rows.append({
            "policy": p,
            "live_avg_jct_s": "%.3f" % statistics.mean(live[p]),
            "live_avg_jct_min_s": "%.3f" % min(live[p]),
            "live_avg_jct_max_s": "%.3f" % max(live[p]),
            "live_ratio": "%.3f" % mean_ratio,
            "live_ratio_min": "%.3f" % min(ratios),
            "live_ratio_max": "%.3f" % max(ratios),
            "sim_avg_jct_s": "%.3f" % sim[p],
            "sim_ratio": "%.3f" % sim_ratio,
            "live_vs_sim": "%+.1f%%" % (100 * (mean_ratio / sim_ratio - 1)),
        })
    return rows


def write_results(outdir, rows, reps, profiles):
    cols = list(rows[0])
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("Profiles measured alone (P, T as planned by salusd; pipelined client):\n\n")
        f.write("| workload | P (MiB) | T (MiB) | s per iteration |\n| --- | ---: | ---: | ---: |\n")
        for name, (p, t, it) in profiles.items():
            f.write("| %s | %.2f | %.2f | %.4f |\n" % (name, p / 2**20, t / 2**20, it))
        f.write("\nAverage JCT of the 12 jobs, live (mean of %d runs, [min, max]) and "
                "simulated; fifo avg / policy avg:\n\n" % reps)
        f.write("| policy | live avg JCT (s) | sim avg JCT (s) | live fifo/policy | "
                "sim fifo/policy | live vs sim |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
        for r in rows:
            f.write("| %s | %s [%s, %s] | %s | %sx [%s, %s] | %sx | %s |\n" % (
                r["policy"], r["live_avg_jct_s"], r["live_avg_jct_min_s"],
                r["live_avg_jct_max_s"], r["sim_avg_jct_s"], r["live_ratio"],
                r["live_ratio_min"], r["live_ratio_max"], r["sim_ratio"], r["live_vs_sim"]))


def first_switch_s(log):
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    t0 = float(rows[0]["t_s"])
    for r in rows:
        if r["event"] == "switch":
            return float(r["t_s"]) - t0
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(common.ROOT, "build-nocuda"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--outdir", default=HERE)
    ap.add_argument("--policies", default=",".join(POLICIES))
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    salusd = os.path.join(build, "salusd", "server", "salusd")
    sim = os.path.join(build, "tools", "salus-sim", "salus-sim")
    sys.path.insert(0, os.path.join(build, "bindings", "python"))
    import salus  # noqa: E402
    import live  # noqa: E402
    policies = a.policies.split(",")
    if "fifo" not in policies:
        sys.exit("--policies must include fifo (the ratios' baseline)")
    os.makedirs(a.outdir, exist_ok=True)
    logs = os.path.join(a.outdir, "logs")
    os.makedirs(logs, exist_ok=True)

    trace = os.path.join(HERE, "trace.csv")
    jobs = common.read_jobs(trace)
    profiles = {}
    for w in sorted({j["workload"] for j in jobs}):
        profiles[w] = live.profile(salus, salusd, w)
        print("profile %s: P %d, T %d bytes, %.4f s per iteration" % ((w,) + profiles[w]),
              flush=True)
    prof_path = os.path.join(a.outdir, "profiles.csv")
    write_profiles(prof_path, profiles)

    live_avg = {p: [] for p in policies}
    for rep in range(a.reps):
        for p in policies:
            log = os.path.join(logs, "events-%s-%d.csv" % (p, rep + 1))
            jct = live.run_trace(salus, salusd, jobs, p, log)
            live_avg[p].append(statistics.mean(jct.values()))
            print("run %d %s: average JCT %.3f s" % (rep + 1, p, live_avg[p][-1]), flush=True)

    sim_avg = {}
    for p in policies:
        out = os.path.join(a.outdir, "sim-jobs-%s.csv" % p)
        s = common.run_sim(sim, trace, prof_path, p, out, ["--lanes", "1", "--check"])
        sim_avg[p] = float(s["jct_mean_s"])
    rows = ratio_rows(live_avg, sim_avg)
    write_results(a.outdir, rows, a.reps, profiles)
    with open(os.path.join(a.outdir, "results.md")) as f:
        print(f.read())

    if GANTT_POLICY in policies:
        log = os.path.join(logs, "events-%s-1.csv" % GANTT_POLICY)
        t = first_switch_s(log)
        subprocess.run([sys.executable, os.path.join(HERE, "..", "gantt.py"), log,
                        os.path.join(a.outdir, "gantt.png"), "--from", "%.6f" % t,
                        "--to", "%.6f" % (t + GANTT_SECONDS)], check=True)


if __name__ == "__main__":
    main()
