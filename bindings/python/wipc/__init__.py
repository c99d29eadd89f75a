"""wipc - Windows IPC (Named Pipes, shared memory, WM_COPYDATA) with a POSIX backend, for Python.

This package is the SWIG binding of the wipc C library (libwipc.so.1 / wipc.dll)::

    import wipc

    def on_message(msg):                      # runs on a library thread, with the GIL
        if msg.is_request:
            msg.reply(msg.data.upper())

    with wipc.PipeServer("calc", on_message=on_message):
        with wipc.connect("calc", timeout=2.0) as conn:
            print(conn.request(b"hello", timeout=2.0))     # b'HELLO'

Objects: PipeServer / Connection / connect() (pipe), ShmChannel / Region (shm), MsgEndpoint /
msg_send() / msg_broadcast() / msg_list() (msg). Data is bytes in and out; message types are ints;
timeouts are seconds (None = wait forever, 0 = poll). Every object is a context manager. Failures
raise wipc.Error subclasses (wipc.Timeout, wipc.NotFound, wipc.Disconnected, ...) carrying .status,
.name and the library's last-error message. Blocking calls release the GIL, so other threads run and
close() from another thread cancels them (wipc.Closed). Callbacks run on library threads: they take
the GIL, an exception they raise is logged (logger "wipc"), and an object's callables are released
when it is closed.
"""
import atexit as _atexit

from . import _native
from ._core import Handle, Info, Message, MessageIO
from ._errors import *  # noqa: F401,F403 (the exception classes)
from ._errors import Error, __all__ as _error_names
from ._msg import MsgEndpoint, msg_broadcast, msg_list, msg_send
from ._pipe import Connection, PipeServer, connect
from ._shm import Region, ShmChannel


def _constants(prefix, strip):
    return {name[len(strip):]: getattr(_native, name) for name in dir(_native) if name.startswith(prefix)}


# wipc.EVENT_CONNECTED, wipc.LOG_INFO, wipc.KIND_PIPE_SERVER, wipc.TRANSPORT_SHM, wipc.PIPE_RAW, ... (from wipc.h)
_CONSTANTS = {}
for _p in ("WIPC_EVENT_", "WIPC_LOG_", "WIPC_KIND_", "WIPC_TRANSPORT_", "WIPC_PIPE_", "WIPC_SHM_", "WIPC_MSG_",
           "WIPC_REGION_"):
    _CONSTANTS.update(_constants(_p, "WIPC_"))
_CONSTANTS.update(OK=_native.WIPC_OK, NAME_MAX=_native.WIPC_NAME_MAX)
globals().update(_CONSTANTS)

#: the library's run-time version, "major.minor.patch"
__version__ = _native.wipc_version_string()
#: (major, minor, patch) of the library loaded
version_info = tuple((_native.wipc_version() >> s) & 0xFF for s in (16, 8, 0))


def status_name(status):
    """The name of a status code, e.g. status_name(-4) == "WIPC_E_TIMEOUT"."""
    return _native.wipc_status_name(status)


def strerror(status):
    """A one-sentence description of a status code."""
    return _native.wipc_strerror(status)


def shutdown():
    """Closes every wipc object of this process (blocked calls raise wipc.Closed), waits for running
    callbacks and stops the library's threads. The library can be used again afterwards. Called at
    interpreter exit."""
    _native.wipc_shutdown()


def set_log_callback(callback, min_level=None):
    """Sends the library's log lines at `min_level` (wipc.LOG_DEBUG..LOG_ERROR, default LOG_INFO) and
    above to callback(level, text), on whatever thread logged them; None stops it. For example,
    ``wipc.set_log_callback(lambda lvl, text: logging.getLogger("wipc").info(text))``."""
    _native.wipcpy_set_log_callback(callback, _native.WIPC_LOG_INFO if min_level is None else min_level)


_atexit.register(_native.wipc_shutdown)

__all__ = (["PipeServer", "Connection", "connect", "ShmChannel", "Region", "MsgEndpoint", "msg_send",
            "msg_broadcast", "msg_list", "Message", "Info", "Handle", "MessageIO", "status_name", "strerror",
            "shutdown", "set_log_callback", "version_info"] + list(_error_names) + sorted(_CONSTANTS))
