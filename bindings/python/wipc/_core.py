"""What every wipc object shares: timeouts, argument checks, the event / kind enums, Message, Info,
the Handle base class, callbacks, and the message I/O of connections and shm channels.

Timeout policy (every blocking call, sync and asyncio): ``timeout`` is in seconds (int or float),
``0`` polls, ``None`` waits forever; a call given no timeout uses wipc.getdefaulttimeout(), which is
None (wait forever, as sockets do) until wipc.setdefaulttimeout() changes it. Waiting calls can be
interrupted by Ctrl-C (KeyboardInterrupt, within ~100 ms) and by close() from another thread.
"""
from __future__ import annotations

import enum
import logging
import math
import threading
import weakref
from typing import (Any, Callable, Dict, Iterator, NamedTuple, Optional, TypeVar, Union)

from . import _native as _n
from ._errors import BadHandle, Closed, Disconnected

_INT32_MAX = 0x7FFFFFFF
_UINT32_MAX = 0xFFFFFFFF

log = logging.getLogger("wipc")

#: What data arguments accept: any bytes-like object (bytes, bytearray, memoryview, array, ...).
Buffer = Union[bytes, bytearray, memoryview]


class _Default:
    """The type of DEFAULT (a timeout argument left out)."""

    def __repr__(self) -> str:
        return "wipc.DEFAULT"


#: A timeout argument left out: use getdefaulttimeout().
DEFAULT = _Default()
Timeout_ = Union[float, None, _Default]

_default_timeout: Optional[float] = None


def getdefaulttimeout() -> Optional[float]:
    """The timeout, in seconds, of every blocking call that is given none (None = wait forever, the
    initial value)."""
    return _default_timeout


def setdefaulttimeout(timeout: Optional[float]) -> None:
    """Sets the timeout, in seconds, of every blocking call that is given none (sync and asyncio,
    process-wide); None = wait forever."""
    global _default_timeout
    _ms(timeout)   # validates
    _default_timeout = None if timeout is None else float(timeout)


def _seconds(timeout: Timeout_) -> Optional[float]:
    """The timeout in seconds after applying the default (None = forever)."""
    if isinstance(timeout, _Default):
        return _default_timeout
    return timeout


def _ms(timeout: Timeout_) -> int:
    """Seconds (int/float, 0 = poll), None (wait forever) or DEFAULT -> the C API's int32 milliseconds."""
    timeout = _seconds(timeout)
    if timeout is None:
        return int(_n.WIPC_INFINITE)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    if math.isnan(timeout) or timeout < 0:
        raise ValueError(f"timeout must be None or >= 0 seconds, not {timeout!r}")
    return min(int(math.ceil(timeout * 1000)), _INT32_MAX)


def _name(name: object, what: str = "name") -> str:
    """Checks a name argument (pipe, channel, region, receiver): a str without NUL characters."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, not {type(name).__name__}")
    if "\0" in name:
        raise ValueError(f"{what} must not contain NUL characters: {name!r}")
    return name


def _type(type: object) -> int:  # noqa: A002
    """Checks a message type argument: an int in 0..2**32-1."""
    if isinstance(type, bool) or not isinstance(type, int):
        raise TypeError(f"type must be an int, not {_tname(type)}")
    if not 0 <= type <= _UINT32_MAX:
        raise ValueError(f"type must be in 0..{_UINT32_MAX}, not {type}")
    return type


def _data(data: object) -> Buffer:
    """Checks a data argument: a bytes-like object (None is refused: it is not an empty message)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    try:
        return memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"data must be a bytes-like object, not {_tname(data)}") from None


def _tname(v: object) -> str:
    return type(v).__name__


def _options(**fields: Any) -> Optional[Dict[str, Any]]:
    """The dict the extension turns into an option struct (None values keep the library's defaults)."""
    opts = {k: v for k, v in fields.items() if v is not None}
    return opts or None


class Event(enum.IntEnum):
    """What an event callback reports (WIPC_EVENT_*)."""
    CONNECTED = _n.WIPC_EVENT_CONNECTED        #: a client arrived (server) / an opener attached (shm creator)
    DISCONNECTED = _n.WIPC_EVENT_DISCONNECTED  #: the peer closed or died
    ERROR = _n.WIPC_EVENT_ERROR                #: the transport failed; the object is dead


class Kind(enum.IntEnum):
    """What kind of object a handle is (Info.kind, WIPC_KIND_*)."""
    PIPE_SERVER = _n.WIPC_KIND_PIPE_SERVER
    PIPE_CONN = _n.WIPC_KIND_PIPE_CONN
    SHM_CHANNEL = _n.WIPC_KIND_SHM_CHANNEL
    REGION = _n.WIPC_KIND_REGION
    MSG_ENDPOINT = _n.WIPC_KIND_MSG_ENDPOINT
    EVENT = _n.WIPC_KIND_EVENT  #: a named event (NamedEvent; since 1.1)


class Transport(enum.IntEnum):
    """The transport of an object (Info.transport, WIPC_TRANSPORT_*)."""
    PIPE = _n.WIPC_TRANSPORT_PIPE
    SHM = _n.WIPC_TRANSPORT_SHM
    MSG = _n.WIPC_TRANSPORT_MSG


class LogLevel(enum.IntEnum):
    """The library's log levels (WIPC_LOG_*), for set_log_callback()."""
    DEBUG = _n.WIPC_LOG_DEBUG
    INFO = _n.WIPC_LOG_INFO
    WARN = _n.WIPC_LOG_WARN
    ERROR = _n.WIPC_LOG_ERROR


def _enum(cls: Any, value: int) -> Any:
    try:
        return cls(value)
    except ValueError:   # a newer library's value: keep the int
        return value


class Info(NamedTuple):
    """What wipc_get_info() reports about an object: kind (Kind), transport (Transport), flags,
    peer_pid / peer_uid (0 if none or unknown), message and byte counters, connected (1 while the
    peer is attached; servers: live connections), max_message_size, name."""
    kind: Kind
    transport: Transport
    flags: int
    peer_pid: int
    peer_uid: int
    messages_sent: int
    messages_received: int
    bytes_sent: int
    bytes_received: int
    connected: int
    max_message_size: int
    name: str


class Message:
    """One received message.

    ``data`` (bytes), ``type`` (the int tag the sender gave), ``request_id`` (nonzero: the sender waits
    in request() for an answer: call reply()), ``peer_pid`` (0 if unknown) and ``source`` (the
    Connection, ShmChannel or MsgEndpoint it arrived on).
    """

    __slots__ = ("data", "type", "request_id", "peer_pid", "source")

    def __init__(self, data: bytes, type: int, request_id: int = 0, peer_pid: int = 0,  # noqa: A002
                 source: Optional["Handle"] = None) -> None:
        self.data = data
        self.type = type
        self.request_id = request_id
        self.peer_pid = peer_pid
        self.source = source

    @property
    def is_request(self) -> bool:
        """True if the sender waits for a reply (pipe and shm requests)."""
        return self.request_id != 0

    def reply(self, data: Buffer, type: Optional[int] = None) -> bool:  # noqa: A002
        """Answers this request on the object it came from, tagged `type` (default: the request's).

        Returns True if the reply was sent; False if the caller is gone (it disconnected, or its
        connection was closed): normal life for a server, logged at DEBUG on the logger "wipc"."""
        source = self.source
        if not isinstance(source, Replier):
            raise ValueError("this message has no source to reply on")
        try:
            source.reply(self.request_id, data, self.type if type is None else type)
        except (Disconnected, Closed, BadHandle) as e:
            log.debug("reply to request %d dropped: the caller left (%s)", self.request_id, e)
            return False
        except ValueError as e:
            if not source.closed:
                raise
            log.debug("reply to request %d dropped: the caller left (%s)", self.request_id, e)
            return False
        return True

    def reply_error(self, code: int, message: str) -> bool:
        """Answers this request with an error: the caller's request() raises RemoteError(code,
        message). Returns False (logged at DEBUG) if the caller is gone. Since 1.1."""
        source = self.source
        if not isinstance(source, Replier):
            raise ValueError("this message has no source to reply on")
        try:
            source.reply_error(self.request_id, code, message)
        except (Disconnected, Closed, BadHandle) as e:
            log.debug("error reply to request %d dropped: the caller left (%s)", self.request_id, e)
            return False
        return True

    def __repr__(self) -> str:
        extra = f", request_id={self.request_id}" if self.request_id else ""
        return f"Message(type={self.type}, data={self.data[:64]!r}, peer_pid={self.peer_pid}{extra})"


# Every open object, so that shutdown() can mark them closed.
_live: "weakref.WeakSet[Handle]" = weakref.WeakSet()
_live_lock = threading.Lock()

H = TypeVar("H", bound="Handle")


class Handle:
    """Base class of every wipc object: it owns one library handle.

    Close it with close() or a ``with`` block (an unreachable object without callbacks is closed by
    the garbage collector too). Objects with callbacks stay alive, and keep calling their callbacks,
    until they are closed or wipc.shutdown() runs (at interpreter exit at the latest). Using a closed
    object raises ValueError("<object> is closed").
    """

    def __init__(self, handle: int) -> None:
        self._h = handle
        self._closed = False
        self._callbacks: Any = None
        with _live_lock:
            _live.add(self)

    @property
    def handle(self) -> int:
        """The library handle (an int), e.g. for logging; 0 is never valid."""
        return self._h

    @property
    def closed(self) -> bool:
        """True once close() was called (or wipc.shutdown() closed every object)."""
        return self._closed

    def _check(self) -> int:
        """The handle, or ValueError if the object is closed."""
        if self._closed:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._h

    def info(self) -> Info:
        """An Info with this object's kind, transport, peer, counters and name."""
        d = _n.wipcpy_get_info(self._check())
        d["kind"] = _enum(Kind, d["kind"])
        d["transport"] = _enum(Transport, d["transport"])
        return Info(**d)

    def close(self) -> None:
        """Closes the object (a second call does nothing). Threads blocked on it get wipc.Closed; when
        close() returns, none of its callbacks runs any more (unless close() was called from one) and
        its callables are released."""
        if self._close_handle():
            self._release_callbacks()

    def _close_handle(self) -> bool:
        if self._closed:
            return False
        self._closed = True
        with _live_lock:
            _live.discard(self)
        try:
            _n.wipc_close(self._h)
        except BadHandle:   # wipc.shutdown() closed it already
            pass
        return True

    def _mark_shut_down(self) -> None:
        """wipc.shutdown() closed the library handle: the object says so."""
        self._closed = True
        self._release_callbacks()

    def _set_callbacks(self, on_message: Optional[Callable[..., Any]], on_event: Optional[Callable[..., Any]]) -> None:
        self._callbacks = _n.wipcpy_callbacks_new(on_message, on_event)
        _n.wipcpy_set_callbacks(self._check(), self._callbacks)

    def _release_callbacks(self) -> None:
        if self._callbacks is not None:
            _n.wipcpy_callbacks_clear(self._callbacks)
            self._callbacks = None

    def __enter__(self: H) -> H:
        self._check()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._closed:
                self.close()
        except Exception:   # interpreter shutdown, or a handle closed by wipc.shutdown()
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"handle={self._h:#x}"
        return f"<wipc.{type(self).__name__} {state}>"


def _mark_all_shut_down() -> None:
    with _live_lock:
        objs = list(_live)
        _live.clear()
    for obj in objs:
        obj._mark_shut_down()


#: on_message(msg) of a connection / channel: the return value is ignored (reply with msg.reply()).
MessageCallback = Callable[[Message], Any]
#: on_event(source, event, related, status)
EventCallback = Callable[["Handle", Event, Optional["Handle"], int], Any]


#: True when the extension has the asynchronous operations of libwipc 1.1 (wipc.aio; Ctrl-C for
#: request, send and msg_send).
HAVE_ASYNC = hasattr(_n, "wipcpy_request_wait")
_send = _n.wipcpy_send_wait if HAVE_ASYNC else _n.wipc_send


class Replier(Handle):
    """What answers requests: pipe connections and shm channels, sync (MessageIO) and asyncio (wipc.aio)."""

    def reply(self, request_id: int, data: Buffer, type: int = 0) -> None:  # noqa: A002
        """Answers the request `request_id` (Message.request_id) with `data` tagged `type`."""
        _n.wipc_reply(self._check(), request_id, _type(type), _data(data))

    def reply_error(self, request_id: int, code: int, message: str) -> None:
        """Answers the request `request_id` with an error (wipc_reply_error): the caller gets
        RemoteError(code, message). `message` is UTF-8, cut at 4 KiB. Since 1.1."""
        h = self._check()
        fn = getattr(_n, "wipc_reply_error", None)
        if fn is None:
            raise NotImplementedError("this libwipc has no wipc_reply_error (needs 1.1)")
        if not isinstance(message, str):
            raise TypeError(f"message must be a str, not {_tname(message)}")
        fn(h, request_id, int(code), message.replace("\0", "\\0"))


class MessageIO(Replier):
    """Message I/O shared by pipe connections and shm channels: send, recv, request, reply, callbacks."""

    def __init__(self, handle: int) -> None:
        super().__init__(handle)
        self._max_reply: Optional[int] = None

    def send(self, data: Buffer, type: int = 0, timeout: Timeout_ = DEFAULT) -> None:  # noqa: A002
        """Sends one message: `data` (bytes-like) tagged `type` (an int 0..2**32-1); waits up to
        `timeout` seconds for room (see the timeout policy). Message boundaries and order are kept.
        Raises wipc.Timeout (no room in time), wipc.Disconnected, wipc.TooLarge; KeyboardInterrupt on
        Ctrl-C (the send is cancelled: nothing of it was written, the object stays usable)."""
        _send(self._check(), _type(type), _data(data), _ms(timeout))

    def recv(self, timeout: Timeout_ = DEFAULT) -> Message:
        """Waits up to `timeout` seconds for the next message; returns a Message. Raises wipc.Timeout,
        wipc.Disconnected (peer gone, nothing queued), wipc.InvalidState (the object has callbacks).
        Ctrl-C interrupts the wait (KeyboardInterrupt); nothing is lost: the object stays usable."""
        data, typ, request_id, pid = _n.wipcpy_recv_wait(self._check(), _ms(timeout))
        return Message(data, typ, request_id, pid, self)

    def request(self, data: Buffer, type: int = 0, timeout: Timeout_ = DEFAULT) -> bytes:  # noqa: A002
        """Sends a request and waits up to `timeout` seconds for its reply; returns the reply's bytes.
        Several threads may have requests in flight on one object. Raises wipc.Timeout,
        wipc.Disconnected, wipc.RemoteError (the peer answered with an error, e.g. its handler raised);
        KeyboardInterrupt on Ctrl-C (the request is cancelled, its late reply dropped)."""
        h, type, data = self._check(), _type(type), _data(data)
        if HAVE_ASYNC:
            return bytes(_n.wipcpy_request_wait(h, type, data, _ms(timeout)))
        if self._max_reply is None:   # libwipc 1.0: a reply buffer of max_message_size
            self._max_reply = self.info().max_message_size
        return bytes(_n.wipcpy_request(h, type, data, self._max_reply, _ms(timeout)))

    def set_callbacks(self, on_message: Optional[MessageCallback] = None,
                      on_event: Optional[EventCallback] = None) -> None:
        """Delivers messages to on_message(msg) and events to on_event(source, event, related, status)
        on library threads (never concurrently for this object); recv() is then refused. Once per
        object. If on_message raises while handling a request, the caller gets RemoteError (the
        exception's type and text) and the exception is logged once at WARNING (logger "wipc")."""
        self._set_callbacks(_dispatch_message(self, on_message) if on_message else None,
                            _dispatch_event(self, on_event) if on_event else None)

    def __iter__(self) -> Iterator[Message]:
        """Yields received messages until the peer disconnects."""
        while True:
            try:
                yield self.recv()
            except Disconnected:
                return


def _handle_raised(msg: Message, exc: BaseException) -> None:
    """A message callback raised: log it once (WARNING) and, for a request, answer with a RemoteError."""
    from ._errors import RemoteError
    if msg.is_request:
        if isinstance(exc, RemoteError):
            code, text = exc.code, exc.remote_message
        else:
            code, text = -1, f"{type(exc).__name__}: {exc}".replace("\0", "\\0")
        log.warning("a wipc message handler raised %s (request %d answered with RemoteError)",
                    type(exc).__name__, msg.request_id, exc_info=exc)
        try:
            msg.reply_error(code, text)
        except NotImplementedError:
            pass
    else:
        log.warning("a wipc message handler raised %s (ignored)", type(exc).__name__, exc_info=exc)


def _call_handler(on_message: Callable[[Message], Any], msg: Message) -> Any:
    try:
        return on_message(msg)
    except Exception as exc:
        _handle_raised(msg, exc)
        return None


def _dispatch_message(source: Handle, on_message: MessageCallback) -> Callable[..., Any]:
    """The trampoline target: (h, type, data, request_id, peer_pid) -> on_message(Message)."""
    def dispatch(h: int, typ: int, data: bytes, request_id: int, pid: int) -> Any:
        return _call_handler(on_message, Message(data, typ, request_id, pid, source))
    return dispatch


def _dispatch_event(source: Handle, on_event: EventCallback) -> Callable[..., Any]:
    def dispatch(h: int, event: int, related: int, status: int) -> None:
        on_event(source, _enum(Event, event), None, status)
    return dispatch
