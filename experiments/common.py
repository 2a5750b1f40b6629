"""Shared helpers of the experiments: the workload profiles with the iteration
times the data file leaves blank filled in by a stated rule, and salus-sim runs.

Rules for a blank iter_s (see EXPERIMENTS.md):
  training: iter_s = k * peak_mb, k the median of iter_s / peak_mb over the
            training workloads whose iter_s was measured (time per MiB of the
            iteration's peak memory), at least 1 ms;
  inference at batch b: the forward pass (one third of a training iteration)
            of the same model's smallest measured training batch B, scaled
            linearly to b: iter_s(train, B) / 3 * b / B, at least 2 ms.
"""
import csv
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "salus-workloads.csv")
DEFAULT_SIM = os.path.join(ROOT, "build", "tools", "salus-sim", "salus-sim")
TRAIN_FLOOR_S = 0.001
INFER_FLOOR_S = 0.002


def load_data(path=DATA):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def train_k(rows):
    """Median seconds per MiB of peak memory over measured training workloads."""
    return statistics.median(float(r["iter_s"]) / float(r["peak_mb"])
                             for r in rows if r["mode"] == "train" and r["iter_s"])


def filled_profiles(rows=None):
    """Rows of the data file with iter_s filled in and iter_source saying how."""
    rows = rows if rows is not None else load_data()
    k = train_k(rows)
    out = []
    for r in rows:
        r = dict(r)
        if r["iter_s"]:
            r["iter_source"] = "measured"
        elif r["mode"] == "train":
            r["iter_s"] = "%.4f" % max(TRAIN_FLOOR_S, k * float(r["peak_mb"]))
            r["iter_source"] = "peak_mb x %.3g s/MiB" % k
        out.append(r)
    by_name = {r["workload"]: r for r in out}
    for r in out:
        if r["mode"] != "infer" or r["iter_s"]:
            continue
        train = [t for t in out if t["model"] == r["model"] and t["mode"] == "train"]
        smallest = min(train, key=lambda t: int(t["batch"]))
        b, big_b = int(r["batch"]), int(smallest["batch"])
        r["iter_s"] = "%.4f" % max(INFER_FLOOR_S, float(smallest["iter_s"]) / 3 * b / big_b)
        r["iter_source"] = "%s / 3 x %d/%d" % (smallest["workload"], b, big_b)
    assert all(by_name[r["workload"]]["iter_s"] for r in out)
    return out


def write_profiles(path):
    rows = filled_profiles()
    cols = ["workload", "model", "batch", "mode", "persistent_mb", "peak_mb", "iter_s", "iter_source"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def sim_path(argv):
    return os.path.abspath(argv[1]) if len(argv) > 1 else DEFAULT_SIM


def run_sim(sim, trace, profiles, policy, out, extra=()):
    """Runs salus-sim, writing per-job rows to out; returns the summary dict."""
    summary = out + ".summary"
    cmd = [sim, "--trace", trace, "--profiles", profiles, "--policy", policy,
           "--out", out, "--summary", summary, "--quiet"] + list(extra)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(summary, newline="") as f:
        s = {row[0]: row[1] for row in csv.reader(f) if row and row[0] != "metric"}
    os.remove(summary)
    return s


def read_jobs(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as p
    return p
