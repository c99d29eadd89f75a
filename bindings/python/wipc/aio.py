"""wipc on asyncio: coroutines over the library's asynchronous operations (wipc 1.1).

::

    import asyncio, wipc.aio

    async def upper(msg: wipc.Message) -> bytes:      # runs on the event loop
        return msg.data.upper()                       # the return value is the reply

    async def main() -> None:
        async with wipc.aio.PipeServer("calc", on_request=upper):
            async with wipc.aio.connect("calc", timeout=2) as conn:
                print(await conn.request(b"hello"))   # b'HELLO'

    asyncio.run(main())

How it works: each call starts a wipc_*_async operation and awaits a future. The library completes
the operation on one of its own threads, which only hands the result to the loop
(loop.call_soon_threadsafe): no executor thread waits for anything, and 1,000s of operations may be
in flight on one connection. Cancelling the awaiting task (task.cancel(), asyncio.wait_for,
asyncio.timeout) cancels the operation with wipc_cancel: nothing is left waiting, asyncio.run()
returns at once, a cancelled request's late reply is dropped, and a message a cancelled recv() had
already taken is kept for the next recv() (nothing is lost).

Timeouts follow the package's policy (seconds, None = forever, default wipc.getdefaulttimeout()) and
errors are the package's (wipc.Timeout is a TimeoutError, wipc.RemoteError when the peer answered with
an error, ...). Objects are the sync ones' asyncio twins: Connection, ShmChannel, PipeServer; close()
is immediate (pending operations end with wipc.Closed), ``await aclose()`` also lets them finish.
reply() / reply_error() (and a PipeServer handler's reply) are plain calls: the frame is written at
once, waiting only while the peer's pipe is full. Needs libwipc 1.1 (wipc.aio.AVAILABLE).
"""
from __future__ import annotations

import asyncio
import collections
import inspect
from typing import (Any, Awaitable, Callable, Deque, Dict, Generator, Optional, Set, Tuple, TypeVar, Union, cast)

from . import _native as _n
from ._core import (DEFAULT, HAVE_ASYNC, Buffer, Handle, Message, Replier, Timeout_, _data, _handle_raised, _ms,
                    _name, _options, _seconds, _type, log)
from ._errors import WIPC_E_REMOTE, Closed, Disconnected, Error, NotFound, RemoteError, Timeout

#: True when the loaded extension has the asynchronous operations (libwipc 1.1).
AVAILABLE = HAVE_ASYNC

# What a completion carries: (status, related, data, type, request_id, peer_pid, msg_reply).
_Result = Tuple[int, int, Optional[bytes], int, int, int, int]
_Start = Callable[[Callable[..., None]], int]
A = TypeVar("A", bound="_AsyncIO")

#: A request handler: called with each message, on the loop; may be ``async def``. For a request, its
#: return value (bytes-like, None = b"") is the reply; if it raises, the caller gets RemoteError.
Handler = Callable[[Message], Union[Buffer, None, Awaitable[Union[Buffer, None]]]]


def _need() -> None:
    if not HAVE_ASYNC:
        raise NotImplementedError("wipc.aio needs libwipc 1.1 (its asynchronous operations)")


def _error(result: _Result, what: str) -> Error:
    """The exception of a failed completion."""
    status, _, data, typ = result[:4]
    if status == WIPC_E_REMOTE:
        code = typ - (1 << 32) if typ >= (1 << 31) else typ   # the peer's int32 code, carried as uint32
        return RemoteError(code, (data or b"").decode("utf-8", "replace"))
    return Error.of(status, f"{what}: {_n.wipc_status_name(status)}: {_n.wipc_strerror(status)}")


def _cancel(op: int) -> None:
    try:
        _n.wipc_cancel(op)
    except NotFound:   # it completed first: its completion is on its way
        pass


async def _run(start: _Start, what: str, orphan: Optional[Callable[[_Result], None]] = None) -> _Result:
    """Starts an operation and waits for its completion; raises its error. If the awaiting task is
    cancelled, cancels the operation; a result that completed anyway goes to `orphan` (on the loop,
    or on the library thread if the loop is gone)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_Result] = loop.create_future()

    def resolve(result: _Result) -> None:
        if fut.done():
            if orphan is not None and result[0] == 0:
                orphan(result)
        else:
            fut.set_result(result)

    def complete(*args: Any) -> None:   # a library thread, holding the GIL
        result = cast(_Result, args)
        try:
            loop.call_soon_threadsafe(resolve, result)
        except RuntimeError:   # the loop is closed: nobody awaits this any more
            if orphan is not None and result[0] == 0:
                orphan(result)

    op = start(complete)
    try:
        result = await fut
    except asyncio.CancelledError:
        _cancel(op)
        raise
    if result[0] != 0:
        raise _error(result, what)
    return result


def _close_quietly(h: int) -> None:
    try:
        _n.wipc_close(h)
    except Error:
        pass


class _AsyncIO(Replier):
    """Message I/O on asyncio, shared by Connection and ShmChannel."""

    def __init__(self, handle: int) -> None:
        super().__init__(handle)
        self._kept: Deque[_Result] = collections.deque()   # messages a cancelled recv() had taken

    async def send(self, data: Buffer, type: int = 0, timeout: Timeout_ = DEFAULT) -> None:  # noqa: A002
        """Sends one message (bytes-like `data` tagged `type`), waiting up to `timeout` seconds for room.
        A cancelled send wrote nothing, or its whole message."""
        h, typ, buf, ms = self._check(), _type(type), _data(data), _ms(timeout)
        await _run(lambda cb: int(_n.wipcpy_send_async(h, typ, buf, ms, cb)), f"send on {self!r}")

    async def recv(self, timeout: Timeout_ = DEFAULT) -> Message:
        """The next message, waiting up to `timeout` seconds. Raises wipc.Timeout, wipc.Disconnected
        (peer gone, nothing queued), wipc.Closed (closed meanwhile)."""
        h, ms = self._check(), _ms(timeout)
        if self._kept:
            r = self._kept.popleft()
        else:
            r = await _run(lambda cb: int(_n.wipcpy_recv_async(h, ms, cb)), f"recv on {self!r}", self._kept.append)
        return Message(r[2] or b"", r[3], r[4], r[5], self)

    async def request(self, data: Buffer, type: int = 0, timeout: Timeout_ = DEFAULT) -> bytes:  # noqa: A002
        """Sends a request and returns its reply's bytes; many may be in flight at once. Raises
        wipc.Timeout, wipc.Disconnected, wipc.RemoteError (the peer answered with an error)."""
        h, typ, buf, ms = self._check(), _type(type), _data(data), _ms(timeout)
        r = await _run(lambda cb: int(_n.wipcpy_request_async(h, typ, buf, ms, cb)), f"request on {self!r}")
        return r[2] or b""

    def __aiter__(self: A) -> A:
        return self

    async def __anext__(self) -> Message:
        """``async for msg in conn``: the messages until the peer disconnects (or close())."""
        try:
            return await self.recv(timeout=None)
        except (Disconnected, Closed):
            raise StopAsyncIteration from None
        except ValueError:
            if self.closed:
                raise StopAsyncIteration from None
            raise

    async def aclose(self) -> None:
        """Closes the object; its pending operations end with wipc.Closed, and their tasks get to run."""
        self.close()
        await asyncio.sleep(0)

    async def __aenter__(self: A) -> A:
        self._check()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Connection(_AsyncIO):
    """A pipe connection on asyncio: from ``await wipc.aio.connect()`` or ``await server.accept()``."""

    @property
    def peer_pid(self) -> int:
        """The peer's process id (0 if unknown)."""
        return self.info().peer_pid


class _Connecting:
    """What connect() returns: await it for a Connection, or use it with ``async with``."""

    def __init__(self, name: str, timeout: Timeout_, opts: Optional[Dict[str, Any]]) -> None:
        self._name, self._ms, self._opts = _name(name), _ms(timeout), opts
        self._conn: Optional[Connection] = None

    async def _connect(self) -> Connection:
        _need()
        name, opts, ms = self._name, self._opts, self._ms
        r = await _run(lambda cb: int(_n.wipcpy_connect_async(name, opts, ms, cb)), f"connect to {name!r}",
                       lambda late: _close_quietly(late[1]))
        return Connection(r[1])

    def __await__(self) -> Generator[Any, None, Connection]:
        return self._connect().__await__()

    async def __aenter__(self) -> Connection:
        self._conn = await self._connect()
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            await self._conn.aclose()


def connect(name: str, timeout: Timeout_ = DEFAULT, *, max_message_size: Optional[int] = None,
            flags: int = 0) -> _Connecting:
    """Connects to the pipe server `name`, waiting up to `timeout` seconds for one that is not up yet
    or busy: ``conn = await wipc.aio.connect(name)`` or ``async with wipc.aio.connect(name) as conn:``.
    Raises wipc.NotFound, wipc.Timeout, wipc.AccessDenied."""
    return _Connecting(name, timeout, _options(max_message_size=max_message_size, flags=flags or None))


class ShmChannel(_AsyncIO):
    """A shared-memory channel on asyncio: ``ShmChannel.create(name)`` in one process,
    ``await ShmChannel.open(name)`` in the other; then await send/recv/request as on a Connection.
    Needs the library's asynchronous operations on shm channels: a libwipc whose async core covers
    pipes only answers them with wipc.NotSupported."""

    @classmethod
    def create(cls, name: str, *, capacity: Optional[int] = None, max_message_size: Optional[int] = None,
               spin_us: Optional[int] = None, flags: int = 0) -> "ShmChannel":
        """Creates the channel `name` (does not wait). Raises wipc.AddrInUse."""
        _need()
        opts = _options(capacity=capacity, max_message_size=max_message_size, spin_us=spin_us, flags=flags or None)
        return cls(_n.wipc_shm_create(_name(name), opts))

    @classmethod
    async def open(cls, name: str, timeout: Timeout_ = DEFAULT, *, max_message_size: Optional[int] = None,
                   spin_us: Optional[int] = None) -> "ShmChannel":
        """Opens the channel `name`, waiting up to `timeout` seconds for its creator: polled every
        10 ms on the loop (the library has no asynchronous open). Raises wipc.NotFound / wipc.Timeout,
        wipc.Busy."""
        _need()
        opts = _options(max_message_size=max_message_size, spin_us=spin_us)
        name = _name(name)
        seconds = _seconds(timeout)
        _ms(timeout)   # validates
        loop = asyncio.get_running_loop()
        end = None if seconds is None else loop.time() + seconds
        while True:
            try:
                return cls(_n.wipc_shm_open(name, opts, 0))
            except (NotFound, Timeout):
                if end is not None and loop.time() >= end:
                    raise
            await asyncio.sleep(0.01)


async def msg_send(name: str, data: Buffer, type: int = 0, timeout: Timeout_ = DEFAULT) -> int:  # noqa: A002
    """Sends `data` tagged `type` to the msg receiver `name`; returns its int32 reply. Raises
    wipc.NotFound, wipc.Timeout, wipc.Busy, wipc.TooLarge."""
    _need()
    n, typ, buf, ms = _name(name), _type(type), _data(data), _ms(timeout)
    r = await _run(lambda cb: int(_n.wipcpy_msg_send_async(n, typ, buf, ms, cb)), f"msg_send to {n!r}")
    return r[6]


class PipeServer(Handle):
    """A pipe server on asyncio.

    With ``on_request``, the server accepts clients by itself and calls ``on_request(msg)`` on the
    event loop for every message of every client (an ``async def`` handler is awaited; up to
    ``max_inflight`` per connection run at once, then that connection is not read until one ends).
    For a request, the handler's return value (bytes-like, None = b"") is the reply; if it raises,
    the client gets wipc.RemoteError with the exception's type and text (a wipc.RemoteError raised
    keeps its code) and the exception is logged once at WARNING (logger "wipc"). Without it, call
    ``await server.accept()``. Use ``async with`` or close() / ``await aclose()``; serving starts
    when the object is made inside a running loop (else at ``async with``).
    """

    def __init__(self, name: str, on_request: Optional[Handler] = None, *, max_instances: Optional[int] = None,
                 max_message_size: Optional[int] = None, flags: int = 0, security_descriptor: Optional[str] = None,
                 max_inflight: int = 64) -> None:
        _need()
        opts = _options(max_instances=max_instances, max_message_size=max_message_size, flags=flags or None,
                        security_descriptor=security_descriptor)
        super().__init__(_n.wipc_pipe_listen(_name(name), opts))
        self.name = name
        self._handler = on_request
        self._max_inflight = max_inflight
        self._kept: Deque[int] = collections.deque()   # connections a cancelled accept() had taken
        self._tasks: Set["asyncio.Task[Any]"] = set()
        self._conns: Set[Connection] = set()
        self._serving = False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._start_serving()

    def _start_serving(self) -> None:
        if self._handler is not None and not self._serving and not self.closed:
            self._serving = True
            self._spawn(self._serve())

    def _spawn(self, coro: Awaitable[Any]) -> "asyncio.Task[Any]":
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def accept(self, timeout: Timeout_ = DEFAULT) -> Connection:
        """The next client's Connection (yours to close), waiting up to `timeout` seconds. Raises
        wipc.Timeout, wipc.Closed."""
        h, ms = self._check(), _ms(timeout)
        if self._kept:
            return Connection(self._kept.popleft())
        r = await _run(lambda cb: int(_n.wipcpy_accept_async(h, ms, cb)), f"accept on {self!r}",
                       lambda late: self._kept.append(late[1]))
        return Connection(r[1])

    async def _serve(self) -> None:
        while not self.closed:
            try:
                conn = await self.accept(timeout=None)
            except (Closed, ValueError):
                return
            except Error as e:
                log.warning("wipc.aio.PipeServer %r: accept failed: %s", self.name, e)
                await asyncio.sleep(0.1)
                continue
            self._conns.add(conn)
            self._spawn(self._serve_connection(conn))

    async def _serve_connection(self, conn: Connection) -> None:
        slots = asyncio.Semaphore(self._max_inflight)
        try:
            async for msg in conn:
                await slots.acquire()
                task = self._spawn(self._handle(msg))
                task.add_done_callback(lambda _t: slots.release())
        except Error as e:   # the connection ended by an error (protocol, ...)
            log.info("wipc.aio.PipeServer %r: connection ended: %s", self.name, e)
        finally:
            self._conns.discard(conn)
            conn.close()

    async def _handle(self, msg: Message) -> None:
        handler = self._handler
        if handler is None:
            return
        try:
            returned = handler(msg)
            result = cast(Optional[Buffer], await returned if inspect.isawaitable(returned) else returned)
        except Exception as exc:
            _handle_raised(msg, exc)
            return
        if msg.is_request:
            msg.reply(b"" if result is None else result)

    def close(self) -> None:
        """Stops serving: closes the server and the connections it accepted by itself, cancels the
        running handlers. Connections returned by accept() stay open (they are yours)."""
        if not self._close_handle():
            return
        for conn in list(self._conns):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        while self._kept:
            _close_quietly(self._kept.popleft())

    async def aclose(self) -> None:
        """close(), then waits for the server's tasks to end."""
        tasks = list(self._tasks)
        self.close()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> "PipeServer":
        self._check()
        self._start_serving()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = ["AVAILABLE", "Connection", "ShmChannel", "PipeServer", "connect", "msg_send", "Handler"]
