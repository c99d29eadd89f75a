"""The pipe transport: PipeServer, Connection and connect() (Named Pipes on Windows, AF_UNIX sockets
on POSIX)."""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

from . import _native as _n
from ._core import (DEFAULT, Event, EventCallback, Handle, Message, MessageCallback, MessageIO, Timeout_,
                    _call_handler, _enum, _ms, _name, _options)


class Connection(MessageIO):
    """A duplex pipe connection: from wipc.connect(), PipeServer.accept(), or made by a PipeServer
    with callbacks for each client (then the server owns it: it is closed when its client leaves or
    the server closes).

    send/recv/request/reply move whole messages (bytes) tagged with an int type; see MessageIO.
    """

    def __init__(self, handle: int, server: Optional["PipeServer"] = None) -> None:
        super().__init__(handle)
        self._server = server

    @property
    def peer_pid(self) -> int:
        """The peer's process id (0 if unknown)."""
        return self.info().peer_pid

    def flush(self, timeout: Timeout_ = DEFAULT) -> None:
        """Waits up to `timeout` seconds (see the timeout policy) until every message that send()
        queued on a wipc.PIPE_WRITE_BEHIND connection is written into the pipe (handed to the OS, not
        necessarily read by the peer); returns at once on a connection without that flag (since 1.1,
        wipc_flush).

        With PIPE_WRITE_BEHIND, send() returns once a message is written or queued; a queued message
        that cannot be written ends the connection, and the next call (send, recv, flush) raises.
        Raises wipc.Timeout (messages still queued; they stay queued), wipc.Disconnected (the
        connection ended with messages queued, or one could not be written), wipc.Closed."""
        _n.wipc_flush(self._check(), _ms(timeout))

    def close(self) -> None:
        """Closes the connection (see Handle.close)."""
        super().close()
        if self._server is not None:
            self._server._forget(self._h)


def connect(name: str, timeout: Timeout_ = DEFAULT, *, max_message_size: Optional[int] = None,
            flags: int = 0) -> Connection:
    """Connects to the pipe server `name`, waiting up to `timeout` seconds (see the timeout policy:
    default wipc.getdefaulttimeout(), None = forever) for a server that is busy; returns a
    Connection. A name nobody serves raises wipc.NotFound at once, unless `flags` has
    wipc.PIPE_WAIT_FOR_SERVER (since 1.1): then a server may still appear within `timeout`.
    Raises wipc.NotFound, wipc.Timeout (the server stayed busy), wipc.AccessDenied,
    wipc.Protocol; KeyboardInterrupt on Ctrl-C."""
    opts = _options(max_message_size=max_message_size, flags=flags or None)
    return Connection(_n.wipcpy_connect(_name(name), opts, _ms(timeout)))


class PipeServer(Handle):
    """Serves the pipe `name` (Windows: \\\\.\\pipe\\wipc-<name>, owner-only by default; POSIX: a socket
    in the private runtime directory).

    Without callbacks, call accept() for each client. With ``on_message`` and/or ``on_event`` the
    server accepts by itself, on library threads. Each client gets a Connection owned by the server
    (listed in ``connections``); the callbacks are then called as:

    - on_event(server, wipc.Event.CONNECTED, connection, 0) when a client arrives;
    - on_message(msg) for each of its messages (msg.source is the connection, msg.reply() answers a
      request; the return value is ignored on pipes; if it raises while handling a request, the
      client gets wipc.RemoteError with the exception's type and text, and the exception is logged
      once at WARNING);
    - on_event(connection, wipc.EVENT_DISCONNECTED or wipc.EVENT_ERROR, None, status) when it
      leaves; the server closes the connection right after.

    Callbacks of one connection never run concurrently (different connections may run at once);
    an exception an event callback raises is logged to the logger "wipc" and ignored.
    """

    def __init__(self, name: str, on_message: Optional[MessageCallback] = None,
                 on_event: Optional[EventCallback] = None, *, max_instances: Optional[int] = None,
                 max_message_size: Optional[int] = None, buffer_size: Optional[int] = None, flags: int = 0,
                 security_descriptor: Optional[str] = None) -> None:
        opts = _options(max_instances=max_instances, max_message_size=max_message_size, buffer_size=buffer_size,
                        flags=flags or None, security_descriptor=security_descriptor)
        super().__init__(_n.wipc_pipe_listen(_name(name), opts))
        self.name = name
        self._conns: Dict[int, Connection] = {}
        self._lock = threading.Lock()
        self._on_message = on_message
        self._on_event = on_event
        if on_message or on_event:
            try:
                self._set_callbacks(self._dispatch_message if on_message else None, self._dispatch_event)
            except BaseException:
                self.close()
                raise

    @property
    def connections(self) -> List[Connection]:
        """The live connections a server with callbacks accepted (a list)."""
        with self._lock:
            return list(self._conns.values())

    def accept(self, timeout: Timeout_ = DEFAULT) -> Connection:
        """Waits up to `timeout` seconds (see the timeout policy) for the next client; returns its
        Connection (yours to close). Raises wipc.Timeout, wipc.Closed, wipc.InvalidState (callbacks
        set); KeyboardInterrupt on Ctrl-C."""
        return Connection(_n.wipcpy_accept(self._check(), _ms(timeout)))

    def close(self) -> None:
        """Stops serving, closes the connections the server accepted by itself, releases the
        callbacks. Connections returned by accept() stay open (they are yours)."""
        if not self._close_handle():
            return
        for conn in self.connections:
            conn.close()
        self._release_callbacks()
        self._on_message = self._on_event = None

    def _mark_shut_down(self) -> None:
        super()._mark_shut_down()
        for conn in self.connections:
            conn._mark_shut_down()

    def _forget(self, h: int) -> None:
        with self._lock:
            self._conns.pop(h, None)

    def _conn(self, h: int) -> Connection:
        with self._lock:
            conn = self._conns.get(h)
            if conn is None:
                conn = self._conns[h] = Connection(h, self)
            return conn

    def _dispatch_message(self, h: int, typ: int, data: bytes, request_id: int, pid: int) -> Any:
        on_message = self._on_message
        if on_message is None:
            return None
        return _call_handler(on_message, Message(data, typ, request_id, pid, self._conn(h)))

    def _dispatch_event(self, h: int, event: int, related: int, status: int) -> None:
        ev: Event = _enum(Event, event)
        if h == self._h:
            conn = self._conn(related) if ev == Event.CONNECTED and related else None
            if self._on_event:
                self._on_event(self, ev, conn, status)
            return
        conn = self._conn(h)
        try:
            if self._on_event:
                self._on_event(conn, ev, None, status)
        finally:
            if ev in (Event.DISCONNECTED, Event.ERROR):
                conn.close()
