"""The live half of experiment 4: a salusd of the build on a temporary
socket, the workloads as Salus graphs, and the jobs of a trace run against
it by pipelined clients (two iterations in flight, as salus-sim's default
client: the next one is queued before the last one ends)."""
import collections
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

import numpy as np

# The workloads: MLP classifiers trained with SGD, batch 64, of three sizes
# (layer widths). Iteration times on this 2-core VM span about 10x.
WORKLOADS = {
    "mlp-s": [512, 512, 512, 10],
    "mlp-m": [1024, 1024, 1024, 10],
    "mlp-l": [1536, 2048, 2048, 10],
}
BATCH = 64
IN_FLIGHT = 2


def mlp_graph(salus, workload, seed):
    sizes = WORKLOADS[workload]
    rng = np.random.default_rng(seed)
    g = salus.Graph()
    x = g.input("x", (BATCH, sizes[0]))
    y = g.input("y", (BATCH,), dtype="int32")
    h = x
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        w = g.variable("w%d" % i, (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype("f4"))
        bias = g.variable("b%d" % i, np.zeros(b, dtype="f4"))
        h = g.add(g.matmul(h, w), bias)
        if i < len(sizes) - 2:
            h = g.relu(h)
    g.sgd(g.softmax_cross_entropy(h, y, name="loss"), lr=0.01)
    feeds = {"x": rng.standard_normal((BATCH, sizes[0])).astype("f4"),
             "y": rng.integers(0, sizes[-1], BATCH).astype("i4")}
    return g, feeds


class Daemon:
    """salusd on one lane of the CPU, policy `policy`, optionally logging events."""

    def __init__(self, salusd, policy, event_log=None):
        self.dir = tempfile.mkdtemp(prefix="salus-live-")
        self.socket = os.path.join(self.dir, "salusd.sock")
        args = [salusd, "--config", "/dev/null", "--socket", self.socket, "--device", "cpu",
                "--max-lanes", "1", "--policy", policy, "--pool-bytes", "4G"]
        if event_log:
            args += ["--event-log", event_log]
        self.stderr = open(os.path.join(self.dir, "salusd.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.stderr, stderr=self.stderr)
        deadline = time.monotonic() + 20
        while not self._accepts():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("salusd did not start: see " + self.stderr.name)
            time.sleep(0.02)

    def _accepts(self):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.stderr.close()
        if rc != 0:
            raise RuntimeError("salusd exited with %d: see %s" % (rc, self.stderr.name))
        os.remove(self.stderr.name)
        os.rmdir(self.dir)


def run_job(salus, sock, graph, feeds, name, iterations, priority=0):
    """One pipelined job; returns (P, T, seconds from create to the last result)."""
    with salus.connect(sock) as client:
        t0 = time.monotonic()
        with client.session(graph, name=name, iterations=iterations, priority=priority) as s:
            pending = collections.deque()
            for _ in range(iterations):
                pending.append(s.submit(feeds))
                if len(pending) >= IN_FLIGHT:
                    pending.popleft().result()
            while pending:
                pending.popleft().result()
            elapsed = time.monotonic() - t0
            st = s.status()
        return st.persistent_bytes, st.ephemeral_bytes, elapsed


def profile(salus, salusd, workload, seconds=1.5, warmup=10):
    """P, T and seconds per iteration of the workload alone on the lane,
    with the experiment's client, after `warmup` iterations."""
    graph, feeds = mlp_graph(salus, workload, 1)
    d = Daemon(salusd, "fifo")
    try:
        _, _, t = run_job(salus, d.socket, graph, feeds, workload, warmup)
        n = max(20, int(seconds / (t / warmup)))
        p, tt, elapsed = run_job(salus, d.socket, graph, feeds, workload, n)
    finally:
        d.stop()
    return p, tt, elapsed / n


def run_trace(salus, salusd, jobs, policy, event_log=None):
    """Runs the trace's jobs (dicts: job, workload, iterations, submit_s)
    against a fresh daemon; returns {job: JCT seconds} (from its submit time
    to its last result, session creation included)."""
    prepared = {j["job"]: mlp_graph(salus, j["workload"], k) for k, j in enumerate(jobs)}
    d = Daemon(salusd, policy, event_log)
    jct, errors = {}, []
    start = time.monotonic() + 0.2

    def job_thread(j):
        try:
            submit = start + float(j["submit_s"])
            time.sleep(max(0.0, submit - time.monotonic()))
            graph, feeds = prepared[j["job"]]
            run_job(salus, d.socket, graph, feeds, j["job"], int(j["iterations"]))
            jct[j["job"]] = time.monotonic() - submit
        except Exception as e:  # reported by the main thread
            errors.append("%s: %s" % (j["job"], e))

    threads = [threading.Thread(target=job_thread, args=(j,)) for j in jobs]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        d.stop()
    if errors:
        raise RuntimeError("; ".join(errors))
    return jct
