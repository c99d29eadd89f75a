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
msg_send() / msg_broadcast() / msg_list() (msg), NamedEvent (named events, 1.1); wipc.aio has the same on asyncio. Data is bytes in
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
from ._core import Buffer as Buffer  # noqa: F401 (wipc.Buffer: what data arguments accept)
from ._core import (DEFAULT, Event, Handle, Info, Kind, LogLevel, Message, MessageIO, Replier, Transport,
                    _mark_all_shut_down, getdefaulttimeout, setdefaulttimeout)
from ._errors import (AccessDenied, AddrInUse, BadHandle, BufferTooSmall, Busy, Cancelled, Closed, Disconnected,
                      Error, InvalidArg, InvalidState, NoMemory, NotFound, NotSupported, Protocol, RemoteError, System,
                      Timeout, TooLarge)
from ._errors import __all__ as _error_names
from ._msg import MsgEndpoint, msg_broadcast, msg_list, msg_send
from ._pipe import Connection, PipeServer, connect
from ._shm import Region, ShmChannel
from ._event import NamedEvent


# The constants of wipc.h without the WIPC_ prefix. Events, kinds, transports and log levels are the
# members of the IntEnums Event, Kind, Transport and LogLevel.
EVENT_CONNECTED = Event.CONNECTED
EVENT_DISCONNECTED = Event.DISCONNECTED
EVENT_ERROR = Event.ERROR
KIND_PIPE_SERVER = Kind.PIPE_SERVER
KIND_PIPE_CONN = Kind.PIPE_CONN
KIND_SHM_CHANNEL = Kind.SHM_CHANNEL
KIND_REGION = Kind.REGION
KIND_MSG_ENDPOINT = Kind.MSG_ENDPOINT
TRANSPORT_PIPE = Transport.PIPE
TRANSPORT_SHM = Transport.SHM
TRANSPORT_MSG = Transport.MSG
LOG_DEBUG = LogLevel.DEBUG
LOG_INFO = LogLevel.INFO
LOG_WARN = LogLevel.WARN
LOG_ERROR = LogLevel.ERROR
#: option flags (the `flags=` arguments) and limits
PIPE_ALLOW_REMOTE: int = _native.WIPC_PIPE_ALLOW_REMOTE
PIPE_RAW: int = _native.WIPC_PIPE_RAW
PIPE_ANY_USER: int = _native.WIPC_PIPE_ANY_USER
PIPE_WAIT_FOR_SERVER: int = _native.WIPC_PIPE_WAIT_FOR_SERVER   # since 1.1: connect waits for an absent server
PIPE_NO_STATS: int = _native.WIPC_PIPE_NO_STATS                 # since 1.1: publish no statistics (wipc_stat)
#: since 1.1: RAW pipe framed as a 4-byte little-endian length + payload, for foreign protocols (implies PIPE_RAW)
PIPE_LENGTH_PREFIX: int = _native.WIPC_PIPE_LENGTH_PREFIX
#: since 1.1: write-behind - Connection.send queues behind a busy pipe (batched writes); see Connection.flush
PIPE_WRITE_BEHIND: int = _native.WIPC_PIPE_WRITE_BEHIND
SHM_NO_STATS: int = _native.WIPC_SHM_NO_STATS
MSG_NO_STATS: int = _native.WIPC_MSG_NO_STATS
SHM_GLOBAL: int = _native.WIPC_SHM_GLOBAL
MSG_ALLOW_LOWER_INTEGRITY: int = _native.WIPC_MSG_ALLOW_LOWER_INTEGRITY
MSG_RAW: int = _native.WIPC_MSG_RAW   # since 1.1: a plain WM_COPYDATA receiver; msg_send("class:..."/"title:..."/"path:...") sends raw
MSG_MAX_MESSAGE_LIMIT: int = _native.WIPC_MSG_MAX_MESSAGE_LIMIT
REGION_READONLY: int = _native.WIPC_REGION_READONLY
NAME_MAX: int = _native.WIPC_NAME_MAX
OK: int = _native.WIPC_OK

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

__all__ = [
    "PipeServer", "Connection", "connect", "ShmChannel", "Region", "MsgEndpoint", "msg_send", "msg_broadcast",
    "msg_list", "Message", "Info", "Handle", "MessageIO", "Replier", "status_name", "strerror", "shutdown",
    "set_log_callback", "version_info", "Event", "Kind", "Transport", "LogLevel", "getdefaulttimeout",
    "setdefaulttimeout", "DEFAULT", "aio",
    # exceptions
    "Error", "InvalidArg", "BadHandle", "NoMemory", "Timeout", "NotFound", "AddrInUse", "AccessDenied",
    "Disconnected", "TooLarge", "BufferTooSmall", "Closed", "Protocol", "NotSupported", "Busy", "System",
    "InvalidState", "Cancelled", "RemoteError",
    # constants
    "EVENT_CONNECTED", "EVENT_DISCONNECTED", "EVENT_ERROR", "KIND_PIPE_SERVER", "KIND_PIPE_CONN",
    "KIND_SHM_CHANNEL", "KIND_REGION", "KIND_MSG_ENDPOINT", "TRANSPORT_PIPE", "TRANSPORT_SHM", "TRANSPORT_MSG",
    "LOG_DEBUG", "LOG_INFO", "LOG_WARN", "LOG_ERROR", "PIPE_ALLOW_REMOTE", "PIPE_RAW", "PIPE_ANY_USER",
    "PIPE_WAIT_FOR_SERVER", "PIPE_NO_STATS", "SHM_NO_STATS", "MSG_NO_STATS", "MSG_RAW",
    "SHM_GLOBAL", "MSG_ALLOW_LOWER_INTEGRITY", "MSG_MAX_MESSAGE_LIMIT", "REGION_READONLY", "NAME_MAX", "OK",
    "PIPE_LENGTH_PREFIX",
    "PIPE_WRITE_BEHIND",
    "NamedEvent",
]
assert set(__all__) >= set(_error_names), set(_error_names) - set(__all__)

from . import aio  # noqa: E402  (wipc.aio: the asyncio API; needs libwipc 1.1, see wipc.aio.AVAILABLE)
