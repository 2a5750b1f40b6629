"""Connections to the daemon."""

import contextlib
import os
import threading
import weakref

import numpy as np

from . import _capi, _status
from ._errors import ConnectError
from ._lower import lower
from ._session import _CHUNK_BYTES, Session


def connect(socket=None, name=None):
    """Connects to salusd and returns a Client (a context manager).

    ``socket`` is the daemon's socket path; None means ``$SALUS_SOCKET``, else
    the default path (``default_socket_path()``). ``name`` is shown by the
    daemon (default: the program's name)."""
    return Client(socket, name)


def default_socket_path():
    """The socket salusd listens on by default: $XDG_RUNTIME_DIR/salus/salusd.sock
    for a user, /run/salus/salusd.sock for root ($SALUS_SOCKET not consulted)."""
    return _capi.default_socket_path()


class Client:
    """A connection to salusd, made by ``connect``. It opens sessions and
    reports on the daemon; it may be used from several threads at once.
    Closing it (or leaving its ``with`` block) closes its sessions."""

    def __init__(self, socket=None, name=None):
        path = None if socket is None else os.fspath(socket)
        handle = _capi.client_connect(path, name)
        self._handle = handle
        self._finalizer = weakref.finalize(self, _capi.salus_disconnect, handle)
        self._cond = threading.Condition()
        self._active = 0  # calls in progress: close() waits for them
        self._closed = False
        self._sessions = weakref.WeakSet()
        #: The socket path asked for (None: the default).
        self.socket = path

    @contextlib.contextmanager
    def _use(self):
        with self._cond:
            if self._closed:
                raise ConnectError("the client is closed")
            self._active += 1
        try:
            yield self._handle
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def session(self, graph, name=None, iterations=0, priority=0, weight=1.0, values=None,
                seed=0):
        """Opens a session running ``graph`` (a salus.Graph) and returns it.

        The daemon validates the graph, plans its memory and admits it; while
        its device memory is taken this waits in the admission queue.
        ``name`` is shown by the daemon; ``iterations`` is how many the job
        plans to run (0: unknown; the srtf policy uses it); ``priority``
        orders sessions under the priority policy, ``weight`` shares time
        under the fair policy; ``seed`` is mixed into every random op's seed
        (Dropout masks; 0 leaves the graph's own). ``values`` (a dict of variable name to array,
        e.g. what Session.read_variables returned) starts those variables
        from saved values instead of the graph's. Variables too large for
        one message are written in several after the session opens, before
        it runs anything."""
        large = sum(t.dtype.itemsize * int(np.prod(t.shape, dtype=np.int64))
                    for t in graph.variables) > _CHUNK_BYTES
        c_graph, inputs, outputs, variables, deferred = lower(graph, values, large)
        try:
            with self._use() as handle:
                session = _capi.session_open(handle, c_graph, name, int(iterations),
                                             int(priority), float(weight), int(seed))
        finally:
            _capi.salus_graph_free(c_graph)
        s = Session(self, session, inputs, outputs, name, variables)
        if deferred:
            try:
                s.write_variables(deferred)
            except BaseException:
                s.close()
                raise
        self._sessions.add(s)
        return s

    def sessions(self):
        """Every session of every client the daemon lists (recently closed
        ones too), as SessionStatus."""
        with self._use() as handle:
            return _status.list_sessions(handle)

    def status(self):
        """The daemon's DaemonStatus: device, policy, pool, lanes, switches."""
        with self._use() as handle:
            return _status.DaemonStatus._from_status(_capi.salus_get_status(handle))

    def set_policy(self, policy):
        """Switches the daemon's scheduling policy: "fifo", "srtf", "pack",
        "fair" or "priority", from the next iteration boundary."""
        with self._use() as handle:
            _capi.salus_set_policy(handle, policy)

    def close(self):
        """Closes the client's sessions and the connection, after the calls
        other threads have in progress on it. Idempotent."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            while self._active:
                self._cond.wait()
        for s in list(self._sessions):
            s.close()
        self._finalizer()

    @property
    def closed(self):
        """Whether close() was called."""
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        where = self.socket or "the default socket"
        return f"<salus.Client on {where}{' (closed)' if self._closed else ''}>"
