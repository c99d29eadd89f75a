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
msg_send() / msg_broadcast() / msg_list() (msg); wipc.aio has the same on asyncio. Data is bytes in
and out; message types are ints (0..2**32-1); events and kinds are IntEnums (wipc.Event, wipc.Kind).
Every object is a context manager; a closed one raises ValueError("... is closed").

Timeouts: every blocking call takes ``timeout`` in seconds (0 polls, None waits forever); left out, it
is wipc.getdefaulttimeout(): None (wait forever, as sockets) unless wipc.setdefaulttimeout() set one.
Ctrl-C stops any waiting call with KeyboardInterrupt (the object stays usable), and so does close()
from another thread (wipc.Closed).

Errors: wipc.Error is an OSError; its subclasses are also the builtin exceptions that fit
(wipc.Timeout is a TimeoutError, wipc.NotFound a FileNotFoundError, wipc.Disconnected a
ConnectionResetError, wipc.AccessDenied a PermissionError, ...) and carry .status, .name, .errno and
the library's last-error message. A request the peer answered with an error raises
wipc.RemoteError(code, remote_message). Wrong argument types raise TypeError / ValueError.

Callbacks run on library threads and take the GIL. A message handler that raises while handling a
request answers it with RemoteError and is logged once at WARNING (logger "wipc"); a reply to a
caller that already left is logged at DEBUG. An object's callables are released when it is closed.
"""
from __future__ import annotations

import atexit as _atexit
from typing import Callable, Dict, Optional, Tuple

from . import _native
from ._core import (DEFAULT, Buffer, Event, Handle, Info, Kind, LogLevel, Message, MessageIO, Transport,
                    _mark_all_shut_down, getdefaulttimeout, setdefaulttimeout)
from ._errors import *  # noqa: F401,F403 (the exception classes)
from ._errors import Error, __all__ as _error_names
from ._msg import MsgEndpoint, msg_broadcast, msg_list, msg_send
from ._pipe import Connection, PipeServer, connect
from ._shm import Region, ShmChannel


def _constants(prefix: str) -> Dict[str, int]:
    return {name[len("WIPC_"):]: getattr(_native, name) for name in dir(_native) if name.startswith(prefix)}


# wipc.EVENT_CONNECTED, wipc.LOG_INFO, wipc.KIND_PIPE_SERVER, wipc.TRANSPORT_SHM, wipc.PIPE_RAW, ... (from wipc.h);
# the EVENT_, KIND_, TRANSPORT_ and LOG_ ones are the members of the enums Event, Kind, Transport, LogLevel.
_CONSTANTS: Dict[str, int] = {}
for _p in ("WIPC_PIPE_", "WIPC_SHM_", "WIPC_MSG_", "WIPC_REGION_"):
    _CONSTANTS.update(_constants(_p))
_CONSTANTS.update(OK=_native.WIPC_OK, NAME_MAX=_native.WIPC_NAME_MAX)
for _enum_cls, _prefix in ((Event, "EVENT_"), (Kind, "KIND_"), (Transport, "TRANSPORT_"), (LogLevel, "LOG_")):
    for _member in _enum_cls:
        _CONSTANTS[_prefix + _member.name] = _member
globals().update(_CONSTANTS)

#: the library's run-time version, "major.minor.patch"
__version__: str = _native.wipc_version_string()
#: (major, minor, patch) of the library loaded
version_info: Tuple[int, int, int] = ((_native.wipc_version() >> 16) & 0xFF, (_native.wipc_version() >> 8) & 0xFF,
                                      _native.wipc_version() & 0xFF)


def status_name(status: int) -> str:
    """The name of a status code, e.g. status_name(-4) == "WIPC_E_TIMEOUT"."""
    return str(_native.wipc_status_name(status))


def strerror(status: int) -> str:
    """A one-sentence description of a status code."""
    return str(_native.wipc_strerror(status))


def shutdown() -> None:
    """Closes every wipc object of this process (blocked calls raise wipc.Closed; the objects then
    say ``closed``), waits for running callbacks and stops the library's threads. The library can be
    used again afterwards. Called at interpreter exit."""
    _native.wipc_shutdown()
    _mark_all_shut_down()


def set_log_callback(callback: Optional[Callable[[int, str], object]], min_level: Optional[int] = None) -> None:
    """Sends the library's log lines at `min_level` (wipc.LogLevel, default LogLevel.INFO) and above to
    callback(level, text), on whatever thread logged them; None stops it. For example,
    ``wipc.set_log_callback(lambda lvl, text: logging.getLogger("wipc").info(text))``."""
    _native.wipcpy_set_log_callback(callback, int(LogLevel.INFO if min_level is None else min_level))


_atexit.register(_native.wipc_shutdown)

__all__ = (["PipeServer", "Connection", "connect", "ShmChannel", "Region", "MsgEndpoint", "msg_send",
            "msg_broadcast", "msg_list", "Message", "Info", "Handle", "MessageIO", "status_name", "strerror",
            "shutdown", "set_log_callback", "version_info", "Event", "Kind", "Transport", "LogLevel",
            "getdefaulttimeout", "setdefaulttimeout", "DEFAULT"] + list(_error_names) + sorted(_CONSTANTS))

from . import aio  # noqa: E402  (wipc.aio: the asyncio API; needs libwipc 1.1, see wipc.aio.AVAILABLE)
