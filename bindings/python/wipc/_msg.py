"""The msg transport: small synchronous messages to named receivers (WM_COPYDATA semantics on
Windows, an AF_UNIX seqpacket emulation on POSIX): MsgEndpoint, msg_send, msg_broadcast, msg_list."""
from . import _native as _n
from ._core import Handle, Message, _ms, _options


class MsgEndpoint(Handle):
    """A named msg receiver.

    With ``on_message``, each message is handed to on_message(msg) on the receiver's library thread
    and the int it returns (None = 0) is the sender's reply: msg_send() returns it. Without it,
    messages are queued (``queue_depth``) for recv() and senders get 0. An exception the callback
    raises is logged to the logger "wipc" and the sender gets 0.
    """

    def __init__(self, name, on_message=None, *, queue_depth=None, max_message_size=None, flags=0):
        opts = _options(queue_depth=queue_depth, max_message_size=max_message_size, flags=flags or None)
        super().__init__(_n.wipc_msg_listen(name, opts))
        self.name = name
        if on_message:
            try:
                self._set_callbacks(self._dispatcher(on_message), None)
            except BaseException:
                self.close()
                raise

    def _dispatcher(self, on_message):
        def dispatch(h, typ, data, request_id, pid):
            return on_message(Message(data, typ, request_id, pid, self))
        return dispatch

    def recv(self, timeout=None):
        """Waits up to `timeout` seconds (None = forever) for the next queued message; returns a
        Message. Raises wipc.Timeout, wipc.InvalidState (the endpoint has a callback)."""
        data, typ, request_id, pid = _n.wipcpy_recv(self._h, _ms(timeout))
        return Message(data, typ, request_id, pid, self)


def msg_send(name, data, type=0, timeout=5.0):  # noqa: A002 (the C name)
    """Sends `data` (bytes-like, at most the receiver's max_message_size, 64 KiB by default) tagged
    `type` to the receiver `name` and waits up to `timeout` seconds for it to be handled; returns the
    receiver's int32 reply. Raises wipc.NotFound, wipc.Timeout, wipc.Busy (its queue is full),
    wipc.TooLarge."""
    return _n.wipc_msg_send(name, type, data, _ms(timeout))


def msg_broadcast(prefix, data, type=0, timeout=5.0):  # noqa: A002
    """Sends to every receiver whose name starts with `prefix` ("" = all); returns how many accepted."""
    return _n.wipc_msg_broadcast(prefix, type, data, _ms(timeout))


def msg_list(prefix=""):
    """The names of the live receivers whose name starts with `prefix`, as a list of str."""
    raw = _n.wipcpy_msg_list(prefix)
    return [n.decode("utf-8") for n in raw.split(b"\0") if n]
