"""The binding leaks nothing: 10,000 iterations leave the resident memory of
this process and its count of Python objects where they were.

After a warm-up (allocator arenas and numpy's caches settle), the test runs
10,000 iterations feeding two arrays (4 KiB and 512 B) and getting three
back, then checks two bounds:

- resident memory grows by less than RSS_BOUND (1 MiB). Every C-side
  object of an iteration costs at least 100 bytes (a tensor handle and its
  shape, the request frame, the reply frame, an output's data of 1 KiB or
  more), so leaking any one of them per iteration grows the process by at
  least 1 MB, and leaking an output array by 10 MB;
- the interpreter's allocated blocks (sys.getallocatedblocks) grow by
  less than BLOCK_BOUND (500): a Python object leaked per iteration adds
  10,000 of them.

test_the_check_can_fail keeps every output and shows the RSS bound trips."""

import gc
import os
import sys

import numpy as np
import pytest

import salus

ITERATIONS = 10_000
WARMUP = 1_000
RSS_BOUND = 1 << 20
BLOCK_BOUND = 500


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def session(daemon):
    g = salus.Graph()
    x = g.input("x", (32, 32))
    labels = g.input("labels", (64,), dtype="int64")
    g.output(x * 2.0, name="y")
    g.output(g.reduce_sum(x, axis=0), name="col_sums")
    g.output(g.identity(labels), name="labels")
    with salus.connect(daemon.socket) as client, client.session(g, name="leaks") as s:
        yield s


def measure(session, iterations, keep=None):
    """(RSS growth, allocated-block growth) over `iterations` runs and a
    tenth as many futures."""
    rng = np.random.default_rng(0)
    feeds = {"x": rng.normal(size=(32, 32)).astype(np.float32),
             "labels": rng.integers(0, 10, 64)}

    def work(n):
        for _ in range(n):
            out = session.run(feeds)
            if keep is not None:
                keep.append(out)
        for _ in range(n // 10):
            session.submit(feeds).result()

    work(WARMUP)
    gc.collect()
    rss, blocks = rss_bytes(), sys.getallocatedblocks()
    work(iterations)
    gc.collect()
    return rss_bytes() - rss, sys.getallocatedblocks() - blocks


def test_ten_thousand_iterations_leak_nothing(session):
    rss, blocks = measure(session, ITERATIONS)
    # Under ASan (scripts/sanitize-tests.sh preloads it) freed memory waits in
    # quarantine: RSS says nothing of leaks there; LeakSanitizer checks salusd.
    if "libasan" not in os.environ.get("LD_PRELOAD", ""):
        assert rss < RSS_BOUND, f"resident memory grew by {rss} bytes"
    assert blocks < BLOCK_BOUND, f"{blocks} more Python blocks"
    assert session.status().iterations >= WARMUP + ITERATIONS


def test_the_check_can_fail(session):
    kept = []
    rss, blocks = measure(session, ITERATIONS, keep=kept)
    assert rss > RSS_BOUND and blocks > BLOCK_BOUND, (rss, blocks)
