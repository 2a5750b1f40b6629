"""Ctrl-C in the middle of an iteration: the script stops at once (the wait
is interruptible), the daemon closes its session and goes on serving."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import salus

JOB = os.path.join(os.path.dirname(__file__), "interrupted_job.py")


def wait_closed(client, name, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = [s for s in client.sessions() if s.name == name]
        if listed and all(s.state == "closed" for s in listed):
            return listed
        time.sleep(0.05)
    pytest.fail(f"session {name!r} is still open: {listed}")


@pytest.mark.parametrize("style", ["with", "bare"])
def test_sigint_during_an_iteration(client, daemon, style):
    name = f"interrupted-{style}"
    job = subprocess.Popen([sys.executable, JOB, daemon.socket, name, style],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        duration = float(job.stdout.readline().split()[1])
        assert job.stdout.readline().strip() == "running"
        time.sleep(min(0.2, duration / 4))  # well inside the second iteration
        assert [s.state for s in client.sessions() if s.name == name] == ["running"]
        sent = time.monotonic()
        job.send_signal(signal.SIGINT)
        line = job.stdout.readline()
        reacted = time.monotonic() - sent
        out, err = job.communicate(timeout=30)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert line.startswith("interrupted after"), (line, err)
    # The wait returns to Python every 100 ms: the interrupt came long
    # before the iteration (`duration` seconds) could have finished.
    assert reacted < 0.5 * duration + 0.1 and reacted < 1.0, (reacted, duration)
    assert "KeyboardInterrupt" in err
    assert job.returncode != 0

    (closed,) = wait_closed(client, name)
    assert closed.iterations >= 1
    assert daemon.alive()
    g = salus.Graph()
    g.output(g.relu(g.input("x", (3,))), name="y")
    with client.session(g) as s:
        assert np.array_equal(s.run({"x": np.array([-1, 0, 2], np.float32)})["y"], [0, 0, 2])
    status = client.status()
    assert status.open_sessions == 0
    assert status.free_bytes == status.pool_bytes  # the interrupted session's memory too
