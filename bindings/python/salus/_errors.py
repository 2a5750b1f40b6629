"""Errors: one exception class per libsalus error code, all under salus.Error."""

from . import _capi


class Error(Exception):
    """Base class of every error of libsalus and the daemon.

    ``code`` is the negative ``SALUS_E...`` code of the C API and ``message``
    the detailed message of libsalus or the daemon (also ``str(error)``).
    Subclasses name the code; some also derive from the built-in exception
    a Python user would catch (``ValueError``, ``ConnectionError``, ...).
    """

    code = None

    def __init__(self, message=""):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message or _capi.salus_strerror(self.code or 0)


class InvalidArgumentError(Error, ValueError):
    """A call got an invalid argument (``SALUS_EINVAL``)."""

    code = _capi.SALUS_EINVAL


class OutOfMemoryError(Error, MemoryError):
    """Host memory ran out (``SALUS_ENOMEM``)."""

    code = _capi.SALUS_ENOMEM


class ConnectError(Error, ConnectionError):
    """The daemon cannot be reached, or it went away (``SALUS_ECONNECT``)."""

    code = _capi.SALUS_ECONNECT


class ProtocolError(Error):
    """A malformed or unexpected message (``SALUS_EPROTO``)."""

    code = _capi.SALUS_EPROTO


class VersionError(Error):
    """The daemon speaks another protocol version (``SALUS_EVERSION``)."""

    code = _capi.SALUS_EVERSION


class GraphError(Error, ValueError):
    """The graph is invalid (``SALUS_EGRAPH``): raised by the builder as soon
    as an op is added with inputs it cannot take, and by the daemon."""

    code = _capi.SALUS_EGRAPH


class NoSessionError(Error):
    """The session is unknown to the daemon or closed (``SALUS_ENOSESSION``)."""

    code = _capi.SALUS_ENOSESSION


class ShapeError(Error, ValueError):
    """A fed array has the wrong dtype, shape or size (``SALUS_ESHAPE``); the
    session goes on."""

    code = _capi.SALUS_ESHAPE


class TooBigError(Error, ValueError):
    """Over a configured size limit, such as the daemon's frame limit
    (``SALUS_ETOOBIG``)."""

    code = _capi.SALUS_ETOOBIG


class ExecutionError(Error):
    """A kernel failed during an iteration (``SALUS_EEXEC``)."""

    code = _capi.SALUS_EEXEC


class NotSupportedError(Error):
    """Valid, but not supported by this daemon (``SALUS_ENOTSUP``)."""

    code = _capi.SALUS_ENOTSUP


class ResourceError(Error):
    """The daemon lacks device memory for this, ever (``SALUS_ERESOURCE``)."""

    code = _capi.SALUS_ERESOURCE


class CanceledError(Error):
    """The iteration was dropped before it ran (``SALUS_ECANCELED``)."""

    code = _capi.SALUS_ECANCELED


class InternalError(Error):
    """A bug in libsalus or the daemon (``SALUS_EINTERNAL``): please report it."""

    code = _capi.SALUS_EINTERNAL


class ShutdownError(Error):
    """The daemon is draining (``salusctl drain``) or shutting down and takes
    no new work, or its drain timeout ended this iteration
    (``SALUS_ESHUTDOWN``); another daemon may take it later."""

    code = _capi.SALUS_ESHUTDOWN


class PermissionDeniedError(Error, PermissionError):
    """Not permitted to this user (``SALUS_EPERM``): a request that needs
    root or membership of the daemon's admin group (the message names it),
    or another user's tenant."""

    code = _capi.SALUS_EPERM


_BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        OutOfMemoryError,
        ConnectError,
        ProtocolError,
        VersionError,
        GraphError,
        NoSessionError,
        ShapeError,
        TooBigError,
        ExecutionError,
        NotSupportedError,
        ResourceError,
        CanceledError,
        InternalError,
        ShutdownError,
        PermissionDeniedError,
    )
}


def error_from_code(code, message):
    """The exception for a libsalus code and message (an unknown code gives a
    plain Error carrying it)."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    error = Error(message)
    error.code = code
    return error


_capi.set_error_factory(error_from_code)
