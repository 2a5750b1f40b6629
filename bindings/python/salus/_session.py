"""Sessions: a graph opened on the daemon, its iterations and their futures."""

import operator
import threading
import time
import weakref
from collections.abc import Mapping

import numpy as np

from . import _capi
from ._errors import ConnectError, Error, InvalidArgumentError, NoSessionError
from ._graph import Tensor
from ._convert import as_array as _as_input
from ._lower import lower

# A blocked wait returns to Python this often to run signal handlers, so
# Ctrl-C interrupts a long iteration within about this many milliseconds.
_SLICE_MS = 100
# Variable values move in requests of at most this many bytes, well under
# the daemon's default frame limit of 256 MiB.
_CHUNK_BYTES = 64 << 20


def _close_handle(box):
    """Closes the session in box[0] once; for close() and the finalizer."""
    handle, box[0] = box[0], None
    if handle is not None:
        try:
            _capi.salus_session_close(handle)
        except (ConnectError, NoSessionError):
            pass  # the daemon is gone or forgot it: the handle is freed all the same


class _Signature:
    """What feeding and fetching one graph of a session needs: its inputs and
    outputs in the daemon's order."""

    def __init__(self, index, inputs, outputs):
        self.index = index
        self.specs = tuple(inputs)
        self.input_names = tuple(s.name for s in inputs)
        # Picks the fed values in input order, as a tuple.
        getter = operator.itemgetter(*self.input_names) if inputs else lambda feeds: ()
        self.pick = getter if len(inputs) != 1 else lambda feeds: (getter(feeds),)
        self.ids = tuple(s.id for s in inputs)
        self.dtypes = tuple(s.dtype.code for s in inputs)
        self.output_names = tuple(n for n, _ in outputs)
        self.output_index = {n: i for i, (n, _) in enumerate(outputs)}
        self.fetch_name = {}
        for i, (fetch, tensor) in enumerate(outputs):
            self.output_index.setdefault(tensor, i)
            self.fetch_name.setdefault(tensor, fetch)
        self.n_outputs = len(outputs)

    def feed_tuple(self, feeds):
        """The fed values in the order of the inputs."""
        try:
            if len(feeds) == len(self.input_names):
                return self.pick(feeds)
        except (KeyError, TypeError):
            pass
        if not isinstance(feeds, Mapping):
            raise InvalidArgumentError(
                f"feeds must be a dict of input name to array, got {type(feeds).__name__}")
        by_name = {}
        for key, value in feeds.items():
            name = key.name if isinstance(key, Tensor) else key
            if name not in self.input_names:
                raise InvalidArgumentError(
                    f"{key!r} is not an input of this session; its inputs are "
                    f"{', '.join(self.input_names)}")
            if name in by_name:
                raise InvalidArgumentError(f"input {name!r} is fed twice")
            by_name[name] = value
        missing = [n for n in self.input_names if n not in by_name]
        if missing:
            raise InvalidArgumentError(f"missing inputs: {', '.join(missing)} (every input is "
                                       f"fed on every iteration)")
        return tuple(by_name[n] for n in self.input_names)

    def convert(self, values):
        return tuple(_as_input(spec, v) for spec, v in zip(self.specs, values))

    def select(self, outs, fetch):
        if fetch is None:
            return dict(zip(self.output_names, outs))
        if isinstance(fetch, (str, Tensor)):
            return outs[self.output_at(fetch)]
        return {self.fetch_name.get(f, f): outs[self.output_at(f)] for f in fetch}

    def output_at(self, key):
        try:
            return self.output_index[key]
        except (KeyError, TypeError):
            raise InvalidArgumentError(
                f"{key!r} is not an output of this session; its outputs are "
                f"{', '.join(self.output_names) or 'none'} (declare them with Graph.output)"
            ) from None


class Session:
    """A graph opened on the daemon: ``run`` iterations synchronously, or
    ``submit`` them and collect their results later. Made by
    ``Client.session``; a context manager that closes it.

    Feeds are a dict of input name (or input Tensor) to array; outputs come
    back as numpy arrays over the received data, without a further copy.
    An array of the input's dtype, shape and C order is sent without a copy
    on this side; another is converted when numpy can without changing its
    kind (float64 to float32, a list to an array), else refused with
    ``salus.ShapeError``. Several threads may run iterations of one session,
    or of several, at once: the GIL is released while they wait.

    A session may hold several graphs over one set of variables
    (``add_graph``): the model in evaluation mode next to its training step,
    or the step at another batch size. ``run`` and ``submit`` take the
    graph's name; ``read_variables`` and ``write_variables`` move variable
    values between iterations (checkpoints, pretrained weights).
    """

    def __init__(self, client, handle, inputs, outputs, name, variables=()):
        self._client = client  # keeps the client, and so the connection, open
        self._box = [handle]  # emptied by close; read by _capi's helpers
        self._close_lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_handle, self._box)
        self._main = _Signature(0, inputs, outputs)
        self._graphs = {None: self._main}
        self._variables = {v.name: v for v in variables}
        #: The session's name, as the daemon lists it (None: unnamed).
        self.name = name
        #: The daemon's id of the session.
        self.id = _capi.salus_session_id(handle)
        #: Exact persistent device bytes P planned for the graph.
        self.persistent_bytes = _capi.salus_session_persistent_bytes(handle)
        #: Exact ephemeral device bytes T of one iteration.
        self.ephemeral_bytes = _capi.salus_session_ephemeral_bytes(handle)

    @property
    def inputs(self):
        """The names of the inputs every iteration of the first graph feeds."""
        return self._main.input_names

    @property
    def outputs(self):
        """The names of the outputs every iteration of the first graph returns."""
        return self._main.output_names

    @property
    def graphs(self):
        """The names of the graphs added with add_graph, in order."""
        return tuple(n for n in self._graphs if n is not None)

    @property
    def variables(self):
        """The names of the session's variables (read_variables, write_variables)."""
        return tuple(self._variables)

    @property
    def closed(self):
        """Whether close() was called."""
        return self._box[0] is None

    def add_graph(self, graph, name):
        """Adds ``graph`` (a salus.Graph) to the session under ``name``: it
        reads and updates the session's variables. Each of its variables
        and constants must be one of the session's (same name, dtype and
        shape; a constant the same value): their initial values here are
        ignored. Its T may be at most the room the session's lane holds
        (``salus.ResourceError`` beyond: open the session with its largest
        graph). Run it with ``run(feeds, graph=name)``."""
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError("a graph added to a session needs a name (a str)")
        if name in self._graphs:
            raise InvalidArgumentError(f"the session already has a graph named {name!r}")
        # Its variables are the session's: their values need not travel.
        c_graph, inputs, outputs, _, _ = lower(graph, defer_values=True)
        try:
            with self._close_lock:
                handle = self._box[0]
                if handle is None:
                    raise NoSessionError("the session is closed")
                index = _capi.salus_session_add_graph(handle, c_graph, name)
        finally:
            _capi.salus_graph_free(c_graph)
        self._graphs[name] = _Signature(index, inputs, outputs)

    def run(self, feeds, fetch=None, graph=None):
        """Runs one iteration and returns its outputs: a dict of output name
        to array (fetch=None), the arrays of the output names or tensors in a
        list or tuple fetch (as a dict by output name), or the one array of a
        name or tensor. ``graph``: the name of an added graph (None: the
        first). Ctrl-C interrupts the wait (the iteration still runs)."""
        sig = self._signature(graph)
        arrays = sig.feed_tuple(feeds)
        # Without fetch the C helper builds the dict of outputs itself.
        names = sig.output_names if fetch is None else None
        try:
            outs = _capi.run_arrays(self._box, sig.index, sig.ids, sig.dtypes, arrays,
                                    sig.n_outputs, names, _SLICE_MS)
        except TypeError:
            outs = _capi.run_arrays(self._box, sig.index, sig.ids, sig.dtypes,
                                    sig.convert(arrays), sig.n_outputs, names, _SLICE_MS)
        return outs if fetch is None else sig.select(outs, fetch)

    def submit(self, feeds, graph=None):
        """Queues one iteration and returns at once with a Future of its
        outputs. Iterations of a session (of all its graphs) run in the
        order they are submitted; several may be in flight. The arrays are
        copied before this returns: they may change afterwards."""
        sig = self._signature(graph)
        arrays = sig.feed_tuple(feeds)
        try:
            pending = _capi.submit_arrays(self._box, sig.index, sig.ids, sig.dtypes, arrays)
        except TypeError:
            pending = _capi.submit_arrays(self._box, sig.index, sig.ids, sig.dtypes,
                                          sig.convert(arrays))
        return Future(self, sig, pending)

    def read_variables(self, names=None):
        """The values of variables (default: all of them), as a dict of name
        to array, after the iterations submitted before this call. Values
        too big for one reply are read in several."""
        names = self.variables if names is None else tuple(names)
        for n in names:
            if n not in self._variables:
                raise InvalidArgumentError(f"{n!r} is not a variable of this session")
        values = {}
        for chunk in self._chunks(names):
            with self._close_lock:
                arrays = _capi.read_variables(self._box, chunk)
            values.update(zip(chunk, arrays))
        return values

    def write_variables(self, values):
        """Writes variables from a dict of name to array (each of the
        variable's shape; converted to its dtype as feeds are), before the
        iterations submitted after this call: resuming from a checkpoint,
        or loading pretrained weights."""
        arrays = {}
        for n, value in values.items():
            spec = self._variables.get(n)
            if spec is None:
                raise InvalidArgumentError(f"{n!r} is not a variable of this session")
            arrays[n] = _as_input(spec, value, "variable")  # every value checked before any is sent
        for chunk in self._chunks(tuple(arrays)):
            with self._close_lock:
                _capi.write_variables(self._box, chunk,
                                      tuple(self._variables[n].dtype.code for n in chunk),
                                      tuple(arrays[n] for n in chunk))

    def _chunks(self, names):
        """names in groups of at most _CHUNK_BYTES of values each."""
        group, size = [], 0
        for n in names:
            spec = self._variables[n]
            nbytes = int(np.prod(spec.shape, dtype=np.int64)) * spec.dtype.itemsize
            if group and size + nbytes > _CHUNK_BYTES:
                yield tuple(group)
                group, size = [], 0
            group.append(n)
            size += nbytes
        if group:
            yield tuple(group)

    def _signature(self, graph):
        try:
            return self._graphs[graph]
        except (KeyError, TypeError):
            raise InvalidArgumentError(
                f"the session has no graph {graph!r}; its graphs are the first (None)"
                + "".join(f", {n!r}" for n in self.graphs)) from None

    def status(self):
        """This session as the daemon lists it now: a SessionStatus."""
        for s in self._client.sessions():
            if s.id == self.id:
                return s
        raise NoSessionError(f"the daemon no longer lists session {self.id}")

    def close(self):
        """Closes the session on the daemon, after its queued iterations.
        Futures already submitted still get their results. Idempotent."""
        with self._close_lock:
            self._finalizer.detach()
            _close_handle(self._box)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "closed" if self.closed else "open"
        return (f"<salus.Session {self.id} {self.name!r} {state}: inputs "
                f"{list(self.inputs)}, outputs {list(self.outputs)}>")


class Future:
    """The outputs of an iteration queued with Session.submit, to come.

    ``result()`` waits for them (Ctrl-C interrupts the wait, which can be
    resumed) and returns them as Session.run does; ``done()`` says whether
    they have arrived; ``exception()`` gives the error of a failed
    iteration. ``iteration`` is the 1-based index of the iteration in its
    session once the result is in.
    """

    def __init__(self, session, signature, pending):
        self._session = session
        self._signature = signature
        self._pending = pending
        self._lock = threading.Lock()
        self._outputs = None
        self._error = None
        #: The iteration's 1-based index in its session, after its result came.
        self.iteration = None

    def done(self):
        """Whether the result has arrived (result() will not block)."""
        if not self._lock.acquire(blocking=False):
            return False  # another thread is taking it right now
        try:
            return self._pending is None or bool(_capi.salus_pending_ready(self._pending))
        finally:
            self._lock.release()

    def result(self, timeout=None, fetch=None):
        """The iteration's outputs (fetch as in Session.run), waiting at most
        timeout seconds (None: no limit) before raising TimeoutError. Raises
        the iteration's salus.Error if it failed."""
        self._wait(timeout)
        if self._error is not None:
            raise self._error
        return self._signature.select(self._outputs, fetch)

    def exception(self, timeout=None):
        """The salus.Error of the failed iteration, or None once it succeeded."""
        self._wait(timeout)
        return self._error

    def _wait(self, timeout):
        with self._lock:
            if self._pending is None:
                return
            if timeout is not None:
                deadline = time.monotonic() + timeout
                while not _capi.salus_pending_poll(
                        self._pending, int(min(_SLICE_MS, max(0.0, deadline - time.monotonic())
                                               * 1000))):
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"the iteration did not finish within {timeout} s")
            try:
                self._outputs = _capi.take_outputs(self._pending, self._signature.n_outputs,
                                                   _SLICE_MS)
                self.iteration = _capi.salus_pending_iteration(self._pending)
            except Error as e:
                self._error = e
            pending, self._pending = self._pending, None
            _capi.salus_pending_free(pending)

    def __del__(self):
        pending = getattr(self, "_pending", None)
        if pending is not None:
            try:
                _capi.salus_pending_free(pending)
            except Exception:  # at interpreter exit, _capi may be torn down first
                pass

    def __repr__(self):
        state = "error" if self._error else "done" if self._pending is None else "pending"
        return f"<salus.Future of session {self._session.id}: {state}>"
