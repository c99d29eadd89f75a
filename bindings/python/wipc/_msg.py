"""The msg transport: small synchronous messages to named receivers (WM_COPYDATA semantics on
Windows, an AF_UNIX seqpacket emulation on POSIX): MsgEndpoint, msg_send, msg_broadcast, msg_list."""
from __future__ import annotations

from typing import Any, Callable, List, Optional

from . import _native as _n
from ._core import HAVE_ASYNC, DEFAULT, Buffer, Handle, Message, Timeout_, _data, _ms, _name, _options, _type, log

#: on_message(msg) of a MsgEndpoint: returns the int32 reply the sender gets (None = 0).
MsgCallback = Callable[[Message], Optional[int]]


class MsgEndpoint(Handle):
    """A named msg receiver.

    With ``on_message``, each message is handed to on_message(msg) on the receiver's library thread
    and the int it returns (None = 0) is the sender's reply: msg_send() returns it. Without it,
    messages are queued (``queue_depth``) for recv() and senders get 0. An exception the callback
    raises is logged once at WARNING (logger "wipc") and the sender gets 0.
    """

    def __init__(self, name: str, on_message: Optional[MsgCallback] = None, *, queue_depth: Optional[int] = None,
                 max_message_size: Optional[int] = None, flags: int = 0) -> None:
        opts = _options(queue_depth=queue_depth, max_message_size=max_message_size, flags=flags or None)
        super().__init__(_n.wipc_msg_listen(_name(name), opts))
        self.name = name
        if on_message:
            try:
                self._set_callbacks(self._dispatcher(on_message), None)
            except BaseException:
                self.close()
                raise

    def _dispatcher(self, on_message: MsgCallback) -> Callable[..., Any]:
        def dispatch(h: int, typ: int, data: bytes, request_id: int, pid: int) -> Optional[int]:
            try:
                return on_message(Message(data, typ, request_id, pid, self))
            except Exception as exc:
                log.warning("a wipc msg handler raised %s (the sender gets 0)", type(exc).__name__, exc_info=exc)
                return 0
        return dispatch

    def recv(self, timeout: Timeout_ = DEFAULT) -> Message:
        """Waits up to `timeout` seconds (see the timeout policy) for the next queued message; returns
        a Message. Raises wipc.Timeout, wipc.InvalidState (the endpoint has a callback);
        KeyboardInterrupt on Ctrl-C."""
        data, typ, request_id, pid = _n.wipcpy_recv_wait(self._check(), _ms(timeout))
        return Message(data, typ, request_id, pid, self)


def msg_send(name: str, data: Buffer, type: int = 0, timeout: Timeout_ = DEFAULT) -> int:  # noqa: A002
    """Sends `data` (bytes-like, at most the receiver's max_message_size, 64 KiB by default) tagged
    `type` to the receiver `name` and waits up to `timeout` seconds (see the timeout policy) for it to
    be handled; returns the receiver's int32 reply. Raises wipc.NotFound, wipc.Timeout, wipc.Busy
    (its queue is full), wipc.TooLarge; KeyboardInterrupt on Ctrl-C (the send is cancelled).
    Since 1.1 `name` may be a raw target instead: "class:CLASS", "title:TITLE",
    "class:CLASS;title:TITLE" (Windows: any window) or "path:/socket" (POSIX): a plain WM_COPYDATA
    without wipc's header, and the receiver's LRESULT (low 32 bits) is returned (wipc.h, WIPC_MSG_RAW)."""
    send = _n.wipcpy_msg_send_wait if HAVE_ASYNC else _n.wipc_msg_send
    return int(send(_name(name), _type(type), _data(data), _ms(timeout)))


def msg_broadcast(prefix: str, data: Buffer, type: int = 0, timeout: Timeout_ = DEFAULT) -> int:  # noqa: A002
    """Sends to every receiver whose name starts with `prefix` ("" = all), one after the other, each
    given up to `timeout` seconds; returns how many accepted. KeyboardInterrupt on Ctrl-C (the send
    in progress is cancelled, the remaining receivers are not sent to)."""
    broadcast = _n.wipcpy_msg_broadcast_wait if HAVE_ASYNC else _n.wipc_msg_broadcast
    return int(broadcast(_name(prefix, "prefix"), _type(type), _data(data), _ms(timeout)))


def msg_list(prefix: str = "") -> List[str]:
    """The names of the live receivers whose name starts with `prefix`, as a list of str."""
    raw = _n.wipcpy_msg_list(_name(prefix, "prefix"))
    return [n.decode("utf-8") for n in raw.split(b"\0") if n]
