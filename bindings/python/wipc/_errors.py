"""The wipc exception hierarchy: wipc.Error and one subclass per status code, named after it
(WIPC_E_NOT_FOUND -> wipc.NotFound, WIPC_E_SYSTEM -> wipc.System, ...).

Every failing call raises the subclass of its status, built from the library's per-thread
last-error message (read in C right after the call). Some subclasses also derive from the builtin
exception Python code expects for that situation (wipc.Timeout is a TimeoutError, ...).
"""
from . import _native as _n


class Error(Exception):
    """A wipc call failed.

    Attributes: ``status`` (the negative status code, e.g. -4), ``name`` (e.g. "WIPC_E_TIMEOUT"),
    ``message`` (the library's last-error message: what failed, on which name, the OS error) and
    ``os_error`` (the OS error code of the failure, GetLastError() / errno, 0 if none).
    """

    status = None
    os_error = 0

    def __init__(self, status, message=""):
        super().__init__(status, message)
        self.status = status
        self.name = _n.wipc_status_name(status)
        self.message = message or f"{self.name}: {_n.wipc_strerror(status)}"

    def __str__(self):
        return self.message

    @staticmethod
    def of(status, message=""):
        """The exception instance for `status` (the most specific class)."""
        return _BY_STATUS.get(status, Error)(status, message)


class InvalidArg(Error, ValueError):
    """WIPC_E_INVALID_ARG: a bad name, size, flag or option."""
    status = _n.WIPC_E_INVALID_ARG


class BadHandle(Error):
    """WIPC_E_BAD_HANDLE: the object is closed (or the handle was never valid)."""
    status = _n.WIPC_E_BAD_HANDLE


class NoMemory(Error, MemoryError):
    """WIPC_E_NO_MEMORY: an allocation failed."""
    status = _n.WIPC_E_NO_MEMORY


class Timeout(Error, TimeoutError):
    """WIPC_E_TIMEOUT: the wait ran out (also: timeout 0 and nothing ready)."""
    status = _n.WIPC_E_TIMEOUT


class NotFound(Error, FileNotFoundError):
    """WIPC_E_NOT_FOUND: no endpoint of that name."""
    status = _n.WIPC_E_NOT_FOUND


class AddrInUse(Error):
    """WIPC_E_ADDR_IN_USE: that name is already served."""
    status = _n.WIPC_E_ADDR_IN_USE


class AccessDenied(Error, PermissionError):
    """WIPC_E_ACCESS_DENIED: the OS or the peer-credential check refused."""
    status = _n.WIPC_E_ACCESS_DENIED


class Disconnected(Error, ConnectionError):
    """WIPC_E_DISCONNECTED: the peer closed or died."""
    status = _n.WIPC_E_DISCONNECTED


class TooLarge(Error):
    """WIPC_E_TOO_LARGE: the message is above max_message_size or the ring capacity."""
    status = _n.WIPC_E_TOO_LARGE


class BufferTooSmall(Error):
    """WIPC_E_BUFFER_TOO_SMALL: a reply larger than the buffer (the binding sizes buffers itself)."""
    status = _n.WIPC_E_BUFFER_TOO_SMALL


class Closed(Error):
    """WIPC_E_CLOSED: the object was closed (or wipc.shutdown() ran) while the call waited."""
    status = _n.WIPC_E_CLOSED


class Protocol(Error):
    """WIPC_E_PROTOCOL: a malformed frame, a version mismatch or a corrupt shared header."""
    status = _n.WIPC_E_PROTOCOL


class NotSupported(Error):
    """WIPC_E_NOT_SUPPORTED: the operation does not exist for this object or platform."""
    status = _n.WIPC_E_NOT_SUPPORTED


class Busy(Error):
    """WIPC_E_BUSY: every server instance is busy, the shm channel has a peer, or a msg queue is full."""
    status = _n.WIPC_E_BUSY


class System(Error, OSError):
    """WIPC_E_SYSTEM: another OS error (see the message for its code and text)."""
    status = _n.WIPC_E_SYSTEM


class InvalidState(Error):
    """WIPC_E_INVALID_STATE: e.g. recv() on an object that has callbacks."""
    status = _n.WIPC_E_INVALID_STATE


_BY_STATUS = {cls.status: cls for cls in Error.__subclasses__()}
_n.wipcpy_set_errors({0: Error, **_BY_STATUS})

__all__ = ["Error"] + [cls.__name__ for cls in _BY_STATUS.values()]
