"""The pipe transport: PipeServer, Connection and connect() (Named Pipes on Windows, AF_UNIX sockets
on POSIX)."""
import threading

from . import _native as _n
from ._core import Handle, Message, MessageIO, _ms, _options


class Connection(MessageIO):
    """A duplex pipe connection: from wipc.connect(), PipeServer.accept(), or made by a PipeServer
    with callbacks for each client (then the server owns it: it is closed when its client leaves or
    the server closes).

    send/recv/request/reply move whole messages (bytes) tagged with an int type; see MessageIO.
    """

    def __init__(self, handle, server=None):
        super().__init__(handle)
        self._server = server

    @property
    def peer_pid(self):
        """The peer's process id (0 if unknown)."""
        return self.info().peer_pid

    def close(self):
        """Closes the connection (see Handle.close)."""
        super().close()
        if self._server is not None:
            self._server._forget(self._h)


def connect(name, timeout=5.0, *, max_message_size=None, flags=0):
    """Connects to the pipe server `name`, waiting up to `timeout` seconds (None = forever) for one
    that is busy; returns a Connection. A name nobody serves raises wipc.NotFound at once, unless
    `flags` has wipc.WIPC_PIPE_WAIT_FOR_SERVER (since 1.1): then a server may still appear within
    `timeout`. Raises wipc.NotFound, wipc.Timeout (the server stayed busy), wipc.AccessDenied,
    wipc.Protocol."""
    opts = _options(max_message_size=max_message_size, flags=flags or None)
    return Connection(_n.wipc_pipe_connect(name, opts, _ms(timeout)))


class PipeServer(Handle):
    """Serves the pipe `name` (Windows: \\\\.\\pipe\\wipc-<name>, owner-only by default; POSIX: a socket
    in the private runtime directory).

    Without callbacks, call accept() for each client. With ``on_message`` and/or ``on_event`` the
    server accepts by itself, on library threads. Each client gets a Connection owned by the server
    (listed in ``connections``); the callbacks are then called as:

    - on_event(server, wipc.EVENT_CONNECTED, connection, 0) when a client arrives;
    - on_message(msg) for each of its messages (msg.source is the connection, msg.reply() answers a
      request; the return value is ignored on pipes);
    - on_event(connection, wipc.EVENT_DISCONNECTED or wipc.EVENT_ERROR, None, status) when it
      leaves; the server closes the connection right after.

    Callbacks of one connection never run concurrently (different connections may run at once);
    an exception a callback raises is logged to the logger "wipc" and ignored.
    """

    def __init__(self, name, on_message=None, on_event=None, *, max_instances=None, max_message_size=None,
                 buffer_size=None, flags=0, security_descriptor=None):
        opts = _options(max_instances=max_instances, max_message_size=max_message_size, buffer_size=buffer_size,
                        flags=flags or None, security_descriptor=security_descriptor)
        super().__init__(_n.wipc_pipe_listen(name, opts))
        self.name = name
        self._conns = {}
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
    def connections(self):
        """The live connections a server with callbacks accepted (a list)."""
        with self._lock:
            return list(self._conns.values())

    def accept(self, timeout=None):
        """Waits up to `timeout` seconds (None = forever) for the next client; returns its Connection
        (yours to close). Raises wipc.Timeout, wipc.Closed, wipc.InvalidState (callbacks set)."""
        return Connection(_n.wipc_pipe_accept(self._h, _ms(timeout)))

    def close(self):
        """Stops serving, closes the connections the server accepted by itself, releases the
        callbacks. Connections returned by accept() stay open (they are yours)."""
        if not self._close_handle():
            return
        for conn in self.connections:
            conn.close()
        self._release_callbacks()
        self._on_message = self._on_event = None

    def _forget(self, h):
        with self._lock:
            self._conns.pop(h, None)

    def _conn(self, h):
        with self._lock:
            conn = self._conns.get(h)
            if conn is None:
                conn = self._conns[h] = Connection(h, self)
            return conn

    def _dispatch_message(self, h, typ, data, request_id, pid):
        return self._on_message(Message(data, typ, request_id, pid, self._conn(h)))

    def _dispatch_event(self, h, event, related, status):
        if h == self._h:
            conn = self._conn(related) if event == _n.WIPC_EVENT_CONNECTED and related else None
            if self._on_event:
                self._on_event(self, event, conn, status)
            return
        conn = self._conn(h)
        try:
            if self._on_event:
                self._on_event(conn, event, None, status)
        finally:
            if event in (_n.WIPC_EVENT_DISCONNECTED, _n.WIPC_EVENT_ERROR):
                conn.close()
