"""The wipc exception hierarchy: wipc.Error (an OSError) and one subclass per status code, named after
it (WIPC_E_NOT_FOUND -> wipc.NotFound, WIPC_E_SYSTEM -> wipc.System, ...).

Every failing call raises the subclass of its status, built from the library's per-thread
last-error message (read in C right after the call). Each subclass also derives from the builtin
exception Python code expects for that situation, and carries the matching ``errno``:

=================  ==========================  ===========
class              also a                      errno
=================  ==========================  ===========
InvalidArg         ValueError                  EINVAL
BadHandle          ValueError                  EBADF
NoMemory           MemoryError                 ENOMEM
Timeout            TimeoutError                ETIMEDOUT
NotFound           FileNotFoundError           ENOENT
AddrInUse          OSError                     EADDRINUSE
AccessDenied       PermissionError             EACCES
Disconnected       ConnectionResetError        ECONNRESET
TooLarge           OSError                     EMSGSIZE
Busy               BlockingIOError             EBUSY
Cancelled          OSError                     ECANCELED
RemoteError        OSError                     EREMOTEIO
=================  ==========================  ===========

Mistakes in the arguments of a call (a name that is not a str, data that is not bytes-like, a NUL in
a name) raise TypeError / ValueError before the library is called; using a closed object raises
ValueError("... is closed"), as files and sockets do.
"""
from __future__ import annotations

import errno as _errno
import re as _re
from typing import ClassVar, Dict, List, Optional, Type

from . import _native as _n

# Fixed forever by wipc.h (ABI 1.1): used when the loaded extension predates them.
WIPC_E_CANCELLED = getattr(_n, "WIPC_E_CANCELLED", -17)
WIPC_E_REMOTE = getattr(_n, "WIPC_E_REMOTE", -18)


def _status_name(status: int) -> str:
    return str(_n.wipc_status_name(status))


class Error(OSError):
    """A wipc call failed (an OSError).

    Attributes: ``status`` (the negative status code, e.g. -4), ``name`` (e.g. "WIPC_E_TIMEOUT"),
    ``message`` (the library's last-error message: what failed, on which name, the OS error),
    ``os_error`` (the OS error code of the failure, GetLastError() / errno, 0 if none) and, as every
    OSError, ``errno`` (the POSIX errno that fits the status, see the table above) and ``strerror``.
    """

    status: Optional[int] = None
    errno_value: ClassVar[int] = _errno.EIO
    os_error: int = 0

    def __init__(self, status: int, message: str = "") -> None:
        name = _status_name(status)
        text = message or f"{name}: {_n.wipc_strerror(status)}"
        super().__init__(type(self).errno_value, text)
        self.status = status
        self.name = name
        self.message = text

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self)._from_native, (self.status, self.message))

    @classmethod
    def _from_native(cls, status: int, message: str) -> "Error":
        """What the extension calls to build the exception of a failing call."""
        return cls(status, message)

    @staticmethod
    def of(status: int, message: str = "") -> "Error":
        """The exception instance for `status` (the most specific class)."""
        return _BY_STATUS.get(status, Error)._from_native(status, message)


class InvalidArg(Error, ValueError):
    """WIPC_E_INVALID_ARG: a bad name, size, flag or option."""
    status = _n.WIPC_E_INVALID_ARG
    errno_value = _errno.EINVAL


class BadHandle(Error, ValueError):
    """WIPC_E_BAD_HANDLE: the object is closed (or the handle was never valid)."""
    status = _n.WIPC_E_BAD_HANDLE
    errno_value = _errno.EBADF


class NoMemory(Error, MemoryError):
    """WIPC_E_NO_MEMORY: an allocation failed."""
    status = _n.WIPC_E_NO_MEMORY
    errno_value = _errno.ENOMEM


class Timeout(Error, TimeoutError):
    """WIPC_E_TIMEOUT: the wait ran out (also: timeout 0 and nothing ready)."""
    status = _n.WIPC_E_TIMEOUT
    errno_value = _errno.ETIMEDOUT


class NotFound(Error, FileNotFoundError):
    """WIPC_E_NOT_FOUND: no endpoint of that name."""
    status = _n.WIPC_E_NOT_FOUND
    errno_value = _errno.ENOENT


class AddrInUse(Error):
    """WIPC_E_ADDR_IN_USE: that name is already served (errno EADDRINUSE)."""
    status = _n.WIPC_E_ADDR_IN_USE
    errno_value = _errno.EADDRINUSE


class AccessDenied(Error, PermissionError):
    """WIPC_E_ACCESS_DENIED: the OS or the peer-credential check refused."""
    status = _n.WIPC_E_ACCESS_DENIED
    errno_value = _errno.EACCES


class Disconnected(Error, ConnectionResetError):
    """WIPC_E_DISCONNECTED: the peer closed or died (a ConnectionResetError)."""
    status = _n.WIPC_E_DISCONNECTED
    errno_value = _errno.ECONNRESET


class TooLarge(Error):
    """WIPC_E_TOO_LARGE: the message is above max_message_size or the ring capacity."""
    status = _n.WIPC_E_TOO_LARGE
    errno_value = _errno.EMSGSIZE


class BufferTooSmall(Error):
    """WIPC_E_BUFFER_TOO_SMALL: a reply larger than the buffer (the binding sizes buffers itself)."""
    status = _n.WIPC_E_BUFFER_TOO_SMALL
    errno_value = _errno.ENOBUFS


class Closed(Error):
    """WIPC_E_CLOSED: the object was closed (or wipc.shutdown() ran) while the call waited."""
    status = _n.WIPC_E_CLOSED
    errno_value = _errno.EBADF


class Protocol(Error):
    """WIPC_E_PROTOCOL: a malformed frame, a version mismatch or a corrupt shared header."""
    status = _n.WIPC_E_PROTOCOL
    errno_value = _errno.EPROTO


class NotSupported(Error):
    """WIPC_E_NOT_SUPPORTED: the operation does not exist for this object or platform."""
    status = _n.WIPC_E_NOT_SUPPORTED
    errno_value = _errno.EOPNOTSUPP


class Busy(Error, BlockingIOError):
    """WIPC_E_BUSY: every server instance is busy, the shm channel has a peer, or a msg queue is full."""
    status = _n.WIPC_E_BUSY
    errno_value = _errno.EBUSY


class System(Error):
    """WIPC_E_SYSTEM: another OS error (see the message, and ``os_error``, for its code and text)."""
    status = _n.WIPC_E_SYSTEM


class InvalidState(Error):
    """WIPC_E_INVALID_STATE: e.g. recv() on an object that has callbacks."""
    status = _n.WIPC_E_INVALID_STATE
    errno_value = _errno.EINVAL


class Cancelled(Error):
    """WIPC_E_CANCELLED (v1.1): the operation was cancelled (wipc_cancel) before it completed."""
    status = WIPC_E_CANCELLED
    errno_value = _errno.ECANCELED


_REMOTE_TEXT = _re.compile(r"remote error (-?\d+): (.*)\Z", _re.S)


class RemoteError(Error):
    """WIPC_E_REMOTE (v1.1): the peer answered the request with an error instead of a reply.

    ``code`` is the peer's int32 error code and ``remote_message`` its text (for a Python handler that
    raised: "<ExceptionType>: <message>"). ``RemoteError(code, remote_message)`` builds one, e.g. to
    raise from a handler: it is passed to the caller as is.
    """
    status = WIPC_E_REMOTE
    errno_value = _errno.EREMOTEIO

    def __init__(self, code: int, remote_message: str = "") -> None:
        super().__init__(WIPC_E_REMOTE, f"remote error {code}: {remote_message}")
        self.code = code
        self.remote_message = remote_message

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (RemoteError, (self.code, self.remote_message))

    @classmethod
    def _from_native(cls, status: int, message: str) -> "Error":
        m = _REMOTE_TEXT.search(message)
        return cls(int(m.group(1)), m.group(2)) if m else cls(0, message)


_BY_STATUS: Dict[int, Type[Error]] = {cls.status: cls for cls in Error.__subclasses__() if cls.status is not None}
_n.wipcpy_set_errors({0: Error, **_BY_STATUS})

__all__: List[str] = ["Error"] + [cls.__name__ for cls in _BY_STATUS.values()]
