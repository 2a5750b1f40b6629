"""Every error raises its salus.Error subclass with a clear message: those a
live daemon or libsalus produce on demand, a fake daemon for the protocol
errors, and the mapping of every code."""

import os
import socket
import struct
import subprocess
import tempfile
import threading

import numpy as np
import pytest

import salus
from salus import _capi
from conftest import Daemon

CODES = {
    _capi.SALUS_EINVAL: (salus.InvalidArgumentError, ValueError),
    _capi.SALUS_ENOMEM: (salus.OutOfMemoryError, MemoryError),
    _capi.SALUS_ECONNECT: (salus.ConnectError, ConnectionError),
    _capi.SALUS_EPROTO: (salus.ProtocolError, None),
    _capi.SALUS_EVERSION: (salus.VersionError, None),
    _capi.SALUS_EGRAPH: (salus.GraphError, ValueError),
    _capi.SALUS_ENOSESSION: (salus.NoSessionError, None),
    _capi.SALUS_ESHAPE: (salus.ShapeError, ValueError),
    _capi.SALUS_ETOOBIG: (salus.TooBigError, ValueError),
    _capi.SALUS_EEXEC: (salus.ExecutionError, None),
    _capi.SALUS_ENOTSUP: (salus.NotSupportedError, None),
    _capi.SALUS_ERESOURCE: (salus.ResourceError, None),
    _capi.SALUS_ECANCELED: (salus.CanceledError, None),
    _capi.SALUS_EINTERNAL: (salus.InternalError, None),
    _capi.SALUS_ESHUTDOWN: (salus.ShutdownError, None),
    _capi.SALUS_EPERM: (salus.PermissionDeniedError, PermissionError),
}


def header_codes():
    """Every code libsalus knows: from -1 down to the first it calls unknown."""
    codes = []
    while _capi.salus_strerror(-len(codes) - 1) != "unknown error":
        codes.append(-len(codes) - 1)
    return codes


def test_every_code_has_its_class():
    assert sorted(CODES) == sorted(header_codes())
    for code, (cls, builtin) in CODES.items():
        e = salus._errors.error_from_code(code, "what went wrong")
        assert type(e) is cls and isinstance(e, salus.Error)
        assert e.code == code and e.message == "what went wrong"
        assert str(e) == "what went wrong"
        if builtin:
            assert isinstance(e, builtin)
        assert str(cls()) == _capi.salus_strerror(code)  # no message: the code's text
    unknown = salus._errors.error_from_code(-99, "odd")
    assert type(unknown) is salus.Error and unknown.code == -99


def small_graph(outputs=True):
    g = salus.Graph()
    x = g.input("x", (2, 3))
    y = g.relu(x, name="y")
    if outputs:
        g.output(y)
    return g


def test_connect_errors(tmp_path):
    with pytest.raises(salus.ConnectError, match="cannot connect to .*nobody.sock"):
        salus.connect(str(tmp_path / "nobody.sock"))
    with pytest.raises(salus.InvalidArgumentError, match="socket path too long"):
        salus.connect("/tmp/" + "x" * 200)


def test_daemon_refusals(client):
    with pytest.raises(salus.GraphError, match="graph has no outputs"):
        client.session(small_graph(outputs=False))
    with pytest.raises(salus.InvalidArgumentError, match="unknown policy|nope"):
        client.set_policy("nope")
    with client.session(small_graph()) as s:
        with pytest.raises(salus.ShapeError,
                           match=r'"x" has shape \[2, 3\] but was fed \[3, 2\]'):
            s.run({"x": np.zeros((3, 2), np.float32)})
        future = s.submit({"x": np.zeros(6, np.float32)})
        assert isinstance(future.exception(), salus.ShapeError)
        with pytest.raises(salus.ShapeError):
            future.result()
        assert s.run({"x": np.ones((2, 3), np.float32)})["y"].sum() == 6  # it goes on
    with pytest.raises(salus.NoSessionError, match="the session is closed"):
        s.run({"x": np.ones((2, 3), np.float32)})
    with pytest.raises(salus.NoSessionError, match="the session is closed"):
        s.submit({"x": np.ones((2, 3), np.float32)})


def test_a_closed_client(daemon):
    c = salus.connect(daemon.socket)
    c.close()
    c.close()  # idempotent
    with pytest.raises(salus.ConnectError, match="the client is closed"):
        c.session(small_graph())
    with pytest.raises(salus.ConnectError, match="the client is closed"):
        c.status()


def test_future_timeout(client):
    g = salus.Graph()
    a = g.constant("a", np.ones((768, 768), np.float32))
    g.output(g.reduce_sum(a @ a @ a @ a) * g.input("x", ()), name="y")
    with client.session(g) as s:
        futures = [s.submit({"x": np.float32(1)}) for _ in range(4)]
        with pytest.raises(TimeoutError, match="did not finish within 0.01 s"):
            futures[-1].result(timeout=0.01)
        assert futures[-1].result(timeout=60)["y"] > 0  # the wait can be resumed


def test_too_big_and_out_of_device_memory():
    d = Daemon("--max-frame-bytes", "65536", "--pool-bytes", "1M")
    try:
        with salus.connect(d.socket) as c:
            g = salus.Graph()
            x = g.input("x", (100000,))
            g.output(g.reduce_sum(x), name="sum")
            with c.session(g) as s:
                with pytest.raises(salus.TooBigError, match="frame limit of 65536"):
                    s.run({"x": np.zeros(100000, np.float32)})
            g.output(g.identity(x), name="copy")  # outputs that no reply can carry
            with pytest.raises(salus.TooBigError, match="over the frame limit of 65536"):
                c.session(g)
            # A small graph whose iteration needs 4 MiB: over the 1 MiB pool.
            big = salus.Graph()
            wide = big.expand(big.input("x", (1,)), (1024, 1024))
            big.output(big.reduce_sum(wide), name="sum")
            with pytest.raises(salus.ResourceError):
                c.session(big)
    finally:
        assert d.stop() == 0


def test_the_daemon_going_away():
    d = Daemon()
    try:
        c = salus.connect(d.socket)
        s = c.session(small_graph())
        assert s.run({"x": np.ones((2, 3), np.float32)})["y"].shape == (2, 3)
        d.kill()
        with pytest.raises(salus.ConnectError, match="closed the connection|failed"):
            s.run({"x": np.ones((2, 3), np.float32)})
        with pytest.raises(salus.ConnectError):
            c.sessions()
        s.close()  # still frees the handle, quietly
        c.close()
    finally:
        d.stop()


class FakeDaemon:
    """Accepts one connection, reads the Hello frame, answers with `reply`
    (a frame body) and keeps the connection until the client closes it."""

    def __init__(self, reply):
        self.dir = tempfile.mkdtemp(prefix="salus-fake-", dir="/tmp")
        self.path = os.path.join(self.dir, "fake.sock")
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(1)
        self.thread = threading.Thread(target=self._serve, args=(reply,), daemon=True)
        self.thread.start()

    def _serve(self, reply):
        conn, _ = self.server.accept()
        with conn:
            (size,) = struct.unpack("<I", conn.recv(4, socket.MSG_WAITALL))
            conn.recv(size, socket.MSG_WAITALL)
            conn.sendall(struct.pack("<I", len(reply)) + reply)
            conn.recv(1)  # until the client hangs up

    def close(self):
        self.server.close()
        self.thread.join(5)
        os.unlink(self.path)
        os.rmdir(self.dir)


def hello_reply(version, tmp_path):
    """A genuine HelloReply frame body for request 1, made by flatc from JSON."""
    (tmp_path / "reply.json").write_text(
        '{"id": 1, "body_type": "HelloReply", '
        f'"body": {{"protocol_version": {version}, "max_frame_bytes": 1048576}}}}')
    proto = os.environ["SALUS_PROTOCOL_DIR"]
    subprocess.run([os.environ["FLATC"], "-b", "-I", proto, "-o", str(tmp_path),
                    os.path.join(proto, "wire.fbs"), str(tmp_path / "reply.json")], check=True)
    return (tmp_path / "reply.bin").read_bytes()


def test_a_daemon_of_another_protocol_version(tmp_path):
    fake = FakeDaemon(hello_reply(99, tmp_path))
    try:
        with pytest.raises(salus.VersionError, match="protocol version 99, this library "
                                                     "version 1"):
            salus.connect(fake.path)
    finally:
        fake.close()


def test_a_daemon_sending_garbage():
    fake = FakeDaemon(b"\x10\x00\x00\x00" + b"\xff" * 12)
    try:
        with pytest.raises(salus.ProtocolError, match="malformed frame"):
            salus.connect(fake.path)
    finally:
        fake.close()


def test_a_genuine_reply_from_the_fake_daemon_connects(tmp_path):
    # The fake daemon itself is sound: with the right version, libsalus
    # accepts its reply (so the failure above is the version's).
    fake = FakeDaemon(hello_reply(salus.PROTOCOL_VERSION, tmp_path))
    try:
        salus.connect(fake.path).close()
    finally:
        fake.close()
