#!/usr/bin/python3
"""A Gantt chart of one lane switching between jobs, from an event log:
salusd's (--event-log) or salus-sim's (--log), one format (salusd(8), EVENT
LOG). One row per job with a bar per iteration it ran on the lane; the lane's
holds for a synchronous client are drawn hatched on that client's row.

Usage: gantt.py LOG OUT.png [--lane N] [--from S] [--to S] [--title TEXT]

--from/--to are seconds since the log's first event (default: the whole log).
Without --lane the lane with the most job switches is drawn. Prints what it
drew: iterations, switches and holds in the window.
"""
import argparse
import csv
import os
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

HEADER = ["t_s", "event", "job", "lane", "detail"]


def read_log(path):
    """The log's rows; fails on another header."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != HEADER:
        sys.exit("%s: not an event log (expected the header %s)" % (path, ",".join(HEADER)))
    return [dict(zip(HEADER, r)) for r in rows[1:]]


def job_names(events):
    """Job column -> label: salusd's submit lines carry the session's name."""
    names = {}
    for e in events:
        if e["event"] == "submit" and e["detail"]:
            names[e["job"]] = "%s (%s)" % (e["detail"], e["job"])
    return names


def lane_intervals(events, lane):
    """[(job, start, end)] of the lane's iterations and [(job, start, end)] of its holds."""
    runs, holds = [], []
    running, held = {}, {}
    for e in events:
        if e["lane"] != lane:
            continue
        t = float(e["t_s"])
        if e["event"] == "start":
            running[lane] = (e["job"], t)
        elif e["event"] == "end" and lane in running:
            job, t0 = running.pop(lane)
            runs.append((job, t0, t))
        elif e["event"] == "hold":
            held[lane] = (e["job"], t)
        elif e["event"] == "unhold" and lane in held:
            job, t0 = held.pop(lane)
            holds.append((job, t0, t))
    return runs, holds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("out")
    ap.add_argument("--lane")
    ap.add_argument("--from", dest="t_from", type=float, default=None)
    ap.add_argument("--to", dest="t_to", type=float, default=None)
    ap.add_argument("--title", default=None)
    a = ap.parse_args()

    events = read_log(a.log)
    if not events:
        sys.exit("%s: no events" % a.log)
    switches = Counter(e["lane"] for e in events if e["event"] == "switch")
    starts = Counter(e["lane"] for e in events if e["event"] == "start")
    lane = a.lane
    if lane is None:
        if not starts:
            sys.exit("%s: no iteration ran" % a.log)
        lane = max(starts, key=lambda l: (switches[l], starts[l]))
    t0 = float(events[0]["t_s"])
    lo = t0 + (a.t_from or 0)
    hi = t0 + a.t_to if a.t_to is not None else float("inf")

    runs, holds = lane_intervals(events, lane)
    runs = [r for r in runs if r[2] > lo and r[1] < hi]
    holds = [h for h in holds if h[2] > lo and h[1] < hi]
    if not runs:
        sys.exit("%s: lane %s ran nothing in that window" % (a.log, lane))
    n_switches = sum(1 for e in events if e["event"] == "switch" and e["lane"] == lane
                     and lo <= float(e["t_s"]) <= hi)

    names = job_names(events)
    first = {}
    for job, s, _ in runs:
        first.setdefault(job, s)
    jobs = sorted(first, key=lambda j: first[j])
    row = {j: i for i, j in enumerate(jobs)}

    plt = common.plt()
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(jobs) + 1.6))
    colors = plt.get_cmap("tab10")
    by_job = defaultdict(list)
    for job, s, e in runs:
        by_job[job].append((s - t0, max(e - s, 1e-6)))
    for job, bars in by_job.items():
        ax.broken_barh(bars, (row[job] - 0.4, 0.8), facecolors=colors(row[job] % 10))
    held_by_job = defaultdict(list)
    for job, s, e in holds:
        if job in row:
            held_by_job[job].append((s - t0, max(e - s, 1e-6)))
    for job, bars in held_by_job.items():
        ax.broken_barh(bars, (row[job] - 0.4, 0.8), facecolors="none", edgecolors="grey",
                       hatch="////", linewidth=0.5)
    ax.set_yticks(range(len(jobs)))
    ax.set_yticklabels([names.get(j, j) for j in jobs])
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the log's first event")
    left = max(lo, min(s for _, s, _ in runs)) - t0
    right = min(hi, max(e for _, _, e in runs)) - t0
    ax.set_xlim(left, right)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(a.title or "lane %s: %d iterations, %d job switches, %d holds"
                 % (lane, len(runs), n_switches, len(holds)))
    fig.tight_layout()
    fig.savefig(a.out, dpi=120)
    print("lane %s, %.6f-%.6f s: %d iterations of %d jobs, %d switches, %d holds -> %s"
          % (lane, left, right, len(runs), len(jobs), n_switches, len(holds), a.out))


if __name__ == "__main__":
    main()
