"""Fixtures of the Python binding's tests: a real salusd on a private socket
(the binary comes from meson through $SALUSD), and clients of it."""

import ctypes
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import salus

# $SALUSD_WRAPPER, e.g. "valgrind --error-exitcode=99": a command every
# salusd runs under; it slows the daemon, which then gets longer to start and
# stop (10x, as tests/capi/daemon_fixture.c).
WRAPPER = shlex.split(os.environ.get("SALUSD_WRAPPER", ""))
SLOWDOWN = 10 if WRAPPER else 1
START_TIMEOUT_S = 10 * SLOWDOWN
STOP_TIMEOUT_S = 5 * SLOWDOWN


def _die_with_parent():
    # Never outlive a test process that crashes: PR_SET_PDEATHSIG = 1.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def accepts(path):
    """Whether something accepts connections on the Unix socket path."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Daemon:
    """A salusd started on a private socket in a temporary directory."""

    def __init__(self, *extra_args):
        self.dir = tempfile.mkdtemp(prefix="salus-py-", dir="/tmp")
        self.socket = os.path.join(self.dir, "salusd.sock")
        self.log_path = os.path.join(self.dir, "salusd.log")
        self.log = open(self.log_path, "wb")
        binary = os.environ.get("SALUSD")
        if not binary:
            pytest.fail("$SALUSD is not set: run the tests with meson test")
        # $SALUSD_ARGS: options for every daemon of the run (the GPU proof
        # gives --device cuda and a pool small enough for several at once).
        run_args = os.environ.get("SALUSD_ARGS", "").split()
        self.proc = subprocess.Popen(
            [*WRAPPER, binary, "--socket", self.socket, "--workers", "2", "--blas-threads", "1",
             *run_args, *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not accepts(self.socket):
            if self.proc.poll() is not None:
                pytest.fail(f"salusd exited early ({self.proc.returncode}):\n{self.read_log()}")
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"salusd did not accept connections within {START_TIMEOUT_S} s")
            time.sleep(0.01)

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """SIGTERM and wait: salusd must stop cleanly, with status 0."""
        try:
            if self.alive():
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.kill()
                    pytest.fail(f"salusd ignored SIGTERM for {STOP_TIMEOUT_S} s")
            return self.proc.returncode
        finally:
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon():
    """One salusd for the tests of a module; it must stop cleanly at the end."""
    d = Daemon()
    yield d
    alive = d.alive()
    rc = d.stop()
    assert not alive or rc == 0, f"salusd stopped with status {rc}"


@pytest.fixture
def client(daemon):
    """A client of the module's daemon, closed after the test."""
    with salus.connect(daemon.socket, name="pytest") as c:
        yield c
