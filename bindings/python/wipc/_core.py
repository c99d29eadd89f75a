"""What every wipc object shares: timeouts, Message, Info, the Handle base class, callbacks, and the
message I/O of connections and shm channels."""
import collections
import math

from . import _native as _n
from ._errors import BadHandle, Disconnected

_INT32_MAX = 0x7FFFFFFF


def _ms(timeout):
    """Seconds (int/float, 0 = poll) or None (wait forever) -> the C API's int32 milliseconds."""
    if timeout is None:
        return _n.WIPC_INFINITE
    if timeout < 0:
        raise ValueError(f"timeout must be None or >= 0 seconds, not {timeout!r}")
    return min(int(math.ceil(timeout * 1000)), _INT32_MAX)


def _options(**fields):
    """The dict the extension turns into an option struct (None values keep the library's defaults)."""
    opts = {k: v for k, v in fields.items() if v is not None}
    return opts or None


Info = collections.namedtuple("Info", [
    "kind", "transport", "flags", "peer_pid", "peer_uid", "messages_sent", "messages_received",
    "bytes_sent", "bytes_received", "connected", "max_message_size", "name"])
Info.__doc__ = """What wipc_get_info() reports about an object: kind (wipc.KIND_*), transport
(wipc.TRANSPORT_*), flags, peer_pid / peer_uid (0 if none or unknown), message and byte counters,
connected (1 while the peer is attached; servers: live connections), max_message_size, name."""


class Message:
    """One received message.

    ``data`` (bytes), ``type`` (the int tag the sender gave), ``request_id`` (nonzero: the sender waits
    in request() for an answer: call reply()), ``peer_pid`` (0 if unknown) and ``source`` (the
    Connection, ShmChannel or MsgEndpoint it arrived on).
    """

    __slots__ = ("data", "type", "request_id", "peer_pid", "source")

    def __init__(self, data, type, request_id=0, peer_pid=0, source=None):  # noqa: A002 (C name)
        self.data = data
        self.type = type
        self.request_id = request_id
        self.peer_pid = peer_pid
        self.source = source

    @property
    def is_request(self):
        """True if the sender waits for a reply (pipe and shm requests)."""
        return self.request_id != 0

    def reply(self, data, type=None):  # noqa: A002
        """Answers this request on the object it came from, tagged `type` (default: the request's)."""
        self.source.reply(self.request_id, data, self.type if type is None else type)

    def __repr__(self):
        extra = f", request_id={self.request_id}" if self.request_id else ""
        return f"Message(type={self.type}, data={self.data[:64]!r}, peer_pid={self.peer_pid}{extra})"


class Handle:
    """Base class of every wipc object: it owns one library handle.

    Close it with close() or a ``with`` block (an unreachable object without callbacks is closed by
    the garbage collector too). Objects with callbacks stay alive, and keep calling their callbacks,
    until they are closed or wipc.shutdown() runs (at interpreter exit at the latest).
    """

    def __init__(self, handle):
        self._h = handle
        self._closed = False
        self._callbacks = None

    @property
    def handle(self):
        """The library handle (an int), e.g. for logging; 0 is never valid."""
        return self._h

    @property
    def closed(self):
        """True once close() was called."""
        return self._closed

    def info(self):
        """An Info with this object's kind, transport, peer, counters and name."""
        return Info(**_n.wipcpy_get_info(self._h))

    def close(self):
        """Closes the object (a second call does nothing). Threads blocked on it get wipc.Closed; when
        close() returns, none of its callbacks runs any more (unless close() was called from one) and
        its callables are released."""
        if self._close_handle():
            self._release_callbacks()

    def _close_handle(self):
        if self._closed:
            return False
        self._closed = True
        try:
            _n.wipc_close(self._h)
        except BadHandle:   # wipc.shutdown() closed it already
            pass
        return True

    def _set_callbacks(self, on_message, on_event):
        self._callbacks = _n.wipcpy_callbacks_new(on_message, on_event)
        _n.wipcpy_set_callbacks(self._h, self._callbacks)

    def _release_callbacks(self):
        if self._callbacks is not None:
            _n.wipcpy_callbacks_clear(self._callbacks)
            self._callbacks = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if not self._closed:
                self.close()
        except Exception:   # interpreter shutdown, or a handle closed by wipc.shutdown()
            pass

    def __repr__(self):
        state = "closed" if self._closed else f"handle={self._h:#x}"
        return f"<wipc.{type(self).__name__} {state}>"


class MessageIO(Handle):
    """Message I/O shared by pipe connections and shm channels: send, recv, request, reply, callbacks."""

    def __init__(self, handle):
        super().__init__(handle)
        self._max_reply = None

    def send(self, data, type=0, timeout=None):  # noqa: A002
        """Sends one message: `data` (bytes-like) tagged `type`; waits up to `timeout` seconds for room
        (None = forever). Message boundaries and order are kept."""
        _n.wipc_send(self._h, type, data, _ms(timeout))

    def recv(self, timeout=None):
        """Waits up to `timeout` seconds (None = forever) for the next message; returns a Message.
        Raises wipc.Timeout, wipc.Disconnected (peer gone, nothing queued), wipc.InvalidState (the
        object has callbacks)."""
        data, typ, request_id, pid = _n.wipcpy_recv(self._h, _ms(timeout))
        return Message(data, typ, request_id, pid, self)

    def request(self, data, type=0, timeout=None):  # noqa: A002
        """Sends a request and waits up to `timeout` seconds for its reply; returns the reply's bytes.
        Several threads may have requests in flight on one object."""
        if self._max_reply is None:
            self._max_reply = self.info().max_message_size
        return _n.wipcpy_request(self._h, type, data, self._max_reply, _ms(timeout))

    def reply(self, request_id, data, type=0):  # noqa: A002
        """Answers the request `request_id` (Message.request_id) with `data` tagged `type`."""
        _n.wipc_reply(self._h, request_id, type, data)

    def set_callbacks(self, on_message=None, on_event=None):
        """Delivers messages to on_message(msg) and events to on_event(source, event, related, status)
        on library threads (never concurrently for this object); recv() is then refused. Once per
        object. Exceptions raised by a callback are logged (logger "wipc") and ignored."""
        self._set_callbacks(_dispatch_message(self, on_message) if on_message else None,
                            _dispatch_event(self, on_event) if on_event else None)

    def __iter__(self):
        """Yields received messages until the peer disconnects."""
        while True:
            try:
                yield self.recv()
            except Disconnected:
                return


def _dispatch_message(source, on_message):
    """The trampoline target: (h, type, data, request_id, peer_pid) -> on_message(Message)."""
    def dispatch(h, typ, data, request_id, pid):
        return on_message(Message(data, typ, request_id, pid, source))
    return dispatch


def _dispatch_event(source, on_event):
    def dispatch(h, event, related, status):
        on_event(source, event, None, status)
    return dispatch
