"""The Python package's surface as Python code expects it: errors
that are the builtin exceptions that fit, Python wording for bad arguments, closed objects, names
with NUL refused, IntEnums, one timeout policy, replies to callers that left logged at DEBUG,
handlers that raise answered with RemoteError.
"""
from __future__ import annotations

import errno
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from typing import Callable

import pytest

from swig_pkg import child_env, wipc


@pytest.fixture
def uname(name: bytes) -> str:
    return name.decode()


def echo_server(uname: str) -> wipc.PipeServer:
    def on_message(msg: wipc.Message) -> None:
        if msg.is_request:
            msg.reply(msg.data)
    return wipc.PipeServer(uname, on_message=on_message)


# ---- errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls, builtin, err", [
    ("Timeout", TimeoutError, errno.ETIMEDOUT),
    ("NotFound", FileNotFoundError, errno.ENOENT),
    ("AccessDenied", PermissionError, errno.EACCES),
    ("Disconnected", ConnectionError, errno.ECONNRESET),
    ("Disconnected", ConnectionResetError, errno.ECONNRESET),
    ("AddrInUse", OSError, errno.EADDRINUSE),
    ("InvalidArg", ValueError, errno.EINVAL),
    ("BadHandle", ValueError, errno.EBADF),
    ("NoMemory", MemoryError, errno.ENOMEM),
    ("Busy", BlockingIOError, errno.EBUSY),
])
def test_errors_are_the_builtin_exceptions_that_fit(cls: str, builtin: type, err: int) -> None:
    c = getattr(wipc, cls)
    assert issubclass(wipc.Error, OSError) and issubclass(c, wipc.Error) and issubclass(c, builtin)
    e = wipc.Error.of(c.status, "what failed")
    assert type(e) is c and e.errno == err and str(e) == "what failed" and e.status == c.status


def test_real_failures_raise_them(uname: str) -> None:
    with pytest.raises(FileNotFoundError) as nf:
        wipc.connect(uname, timeout=0)
    assert isinstance(nf.value, wipc.NotFound) and nf.value.errno == errno.ENOENT and uname in str(nf.value)
    with wipc.PipeServer(uname):
        with pytest.raises(OSError) as e:
            wipc.PipeServer(uname)
        assert isinstance(e.value, wipc.AddrInUse) and e.value.errno == errno.EADDRINUSE
    with wipc.PipeServer(uname) as srv, wipc.connect(uname, timeout=5) as c, srv.accept(timeout=5) as conn:
        with pytest.raises(TimeoutError):
            conn.recv(timeout=0.01)
        c.close()
        with pytest.raises(ConnectionError):
            conn.recv(timeout=5)


def test_errors_pickle() -> None:
    e = wipc.Error.of(wipc.Timeout.status, "slow")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is wipc.Timeout and str(e2) == "slow"
    r = pickle.loads(pickle.dumps(wipc.RemoteError(7, "KeyError: 'x'")))
    assert (r.code, r.remote_message) == (7, "KeyError: 'x'")


# ---- arguments -----------------------------------------------------------------------------------------

def test_bad_arguments_raise_python_errors_without_c_signatures(uname: str) -> None:
    def raises(exc: type[BaseException], fn: Callable[..., object], *args: object, **kw: object) -> str:
        with pytest.raises(exc) as e:
            fn(*args, **kw)
        text = str(e.value)
        assert "in method" not in text and "argument" not in text and "wipc_" not in text, text
        return text

    assert "name must be a str, not int" in raises(TypeError, wipc.connect, 42)
    assert "name must be a str" in raises(TypeError, wipc.PipeServer, b"bytes-name")
    raises(TypeError, wipc.ShmChannel.create, None)
    raises(TypeError, wipc.msg_send, 1.5, b"x")
    raises(TypeError, wipc.msg_list, 3)
    raises(TypeError, wipc.connect, uname, timeout="soon")
    raises(ValueError, wipc.connect, uname, timeout=-1)
    with echo_server(uname), wipc.connect(uname, timeout=5) as c:
        assert "bytes-like" in raises(TypeError, c.send, None)   # not an empty message
        raises(TypeError, c.send, "text")
        raises(TypeError, c.request, None)
        raises(TypeError, c.send, b"x", type="t")
        raises(ValueError, c.send, b"x", type=-1)
        raises(ValueError, c.send, b"x", type=1 << 32)
        assert c.request(b"still fine", timeout=5) == b"still fine"
    # the extension itself refuses them too (no SWIG wording)
    raises(TypeError, wipc._native.wipc_pipe_listen, 42, None)


NUL_NAMES = ["x\0../../evil", "x\0", "\0x"]


@pytest.mark.parametrize("bad", NUL_NAMES)
def test_names_with_nul_are_refused_not_truncated(uname: str, bad: str) -> None:
    """Hardening attack 9: "x\\0../../evil" must not serve "x"."""
    bad = uname + bad
    makers: list[Callable[[], object]] = [lambda: wipc.PipeServer(bad), lambda: wipc.ShmChannel.create(bad),
                 lambda: wipc.MsgEndpoint(bad), lambda: wipc.Region.create(bad, 4096),
                 lambda: wipc.connect(bad, timeout=0), lambda: wipc.ShmChannel.open(bad, timeout=0),
                 lambda: wipc.msg_send(bad, b"x", timeout=0), lambda: wipc.msg_broadcast(bad, b"x", timeout=0),
                 lambda: wipc.msg_list(bad), lambda: wipc.Region.map_file("/tmp/" + bad, 10)]
    for make in makers:
        with pytest.raises(ValueError, match="NUL"):
            make()
    # the extension's own typemap refuses them as well (callers bypassing the package)
    with pytest.raises(ValueError, match="NUL"):
        wipc._native.wipc_pipe_listen(bad, None)
    # and nothing serves the part before the NUL
    with pytest.raises(wipc.NotFound):
        wipc.connect(uname, timeout=0)
    assert uname not in wipc.msg_list(uname)
    assert not os.path.exists("/tmp/" + uname)


# ---- closed objects ---------------------------------------------------------------------------------------

def test_closed_objects_raise_value_error(uname: str) -> None:
    srv = echo_server(uname)
    c = wipc.connect(uname, timeout=5)
    ch = wipc.ShmChannel.create(uname)
    r = wipc.Region.create(uname, 4096)
    ep = wipc.MsgEndpoint(uname)
    for obj in (c, srv, ch, r, ep):
        obj.close()
        assert obj.closed and "closed" in repr(obj)
    calls: list[Callable[[], object]] = [lambda: c.send(b"x"), lambda: c.recv(timeout=0), lambda: c.request(b"x"), c.info,
                 lambda: srv.accept(timeout=0), lambda: ch.send(b"x"), lambda: r.read(), lambda: r.size,
                 lambda: ep.recv(timeout=0)]
    for call in calls:
        with pytest.raises(ValueError, match="is closed"):
            call()
    with pytest.raises(ValueError, match="is closed"):
        with c:
            pass


def test_shutdown_marks_objects_closed(uname: str) -> None:
    code = f"""
import wipc
srv = wipc.PipeServer({uname!r}, on_message=lambda m: m.reply(m.data))
c = wipc.connect({uname!r}, timeout=5)
assert c.request(b"x", timeout=5) == b"x"
ch = wipc.ShmChannel.create({uname!r})
wipc.shutdown()
assert srv.closed and c.closed and ch.closed, (srv, c, ch)
try:
    c.send(b"x")
except ValueError as e:
    assert "is closed" in str(e), e
else:
    raise AssertionError("send on a shut-down object")
with wipc.PipeServer({uname!r}) as again:   # the library works again
    assert not again.closed
print("OK")
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=child_env())
    assert p.returncode == 0 and p.stdout.strip() == "OK", p.stderr


# ---- enums, defaults ---------------------------------------------------------------------------------------

def test_events_and_kinds_are_int_enums(uname: str) -> None:
    import enum
    assert issubclass(wipc.Event, enum.IntEnum) and int(wipc.Event.CONNECTED) == 1 and wipc.EVENT_CONNECTED is wipc.Event.CONNECTED
    assert wipc.EVENT_DISCONNECTED is wipc.Event.DISCONNECTED and wipc.KIND_PIPE_SERVER is wipc.Kind.PIPE_SERVER
    assert wipc.LOG_WARN is wipc.LogLevel.WARN and wipc.TRANSPORT_SHM is wipc.Transport.SHM
    events: list[tuple[object, object]] = []
    done = threading.Event()

    def on_event(src: wipc.Handle, ev: wipc.Event, related: object, status: int) -> None:
        events.append((ev, type(ev)))
        done.set()

    with wipc.PipeServer(uname, on_event=on_event) as srv, wipc.connect(uname, timeout=5) as c:
        assert done.wait(5)
        info = c.info()
        assert info.kind is wipc.Kind.PIPE_CONN and info.transport is wipc.Transport.PIPE
        assert srv.info().kind is wipc.Kind.PIPE_SERVER
    assert events[0] == (wipc.Event.CONNECTED, wipc.Event)


def test_one_default_timeout_policy(uname: str) -> None:
    import inspect
    assert wipc.getdefaulttimeout() is None
    fns: list[Callable[..., object]] = [wipc.connect, wipc.PipeServer.accept, wipc.MessageIO.send, wipc.MessageIO.recv,
               wipc.MessageIO.request, wipc.ShmChannel.open, wipc.MsgEndpoint.recv, wipc.msg_send,
               wipc.msg_broadcast]
    for fn in fns:
        assert inspect.signature(fn).parameters["timeout"].default is wipc.DEFAULT, fn
    wipc.setdefaulttimeout(0.05)
    try:
        t0 = time.monotonic()
        with pytest.raises(wipc.NotFound):
            wipc.connect(uname)
        with wipc.PipeServer(uname) as srv:
            with pytest.raises(wipc.Timeout):
                srv.accept()
        assert time.monotonic() - t0 < 30
    finally:
        wipc.setdefaulttimeout(None)
    with pytest.raises(ValueError):
        wipc.setdefaulttimeout(-1)


# ---- replies to callers that left, handlers that raise --------------------------------------------------

def test_reply_to_a_caller_that_left_is_debug_not_error(uname: str, caplog: pytest.LogCaptureFixture) -> None:
    got = threading.Event()
    replied: list[bool] = []
    held: list[wipc.Message] = []

    def on_message(msg: wipc.Message) -> None:
        held.append(msg)
        got.set()

    with caplog.at_level(logging.DEBUG, logger="wipc"):
        with wipc.PipeServer(uname, on_message=on_message):
            c = wipc.connect(uname, timeout=5)
            t = threading.Thread(target=lambda: pytest.raises(Exception, c.request, b"q", timeout=5))
            t.start()
            assert got.wait(5)
            c.close()
            t.join(10)
            time.sleep(0.3)   # the server sees the disconnect and closes its connection
            replied.append(held[0].reply(b"late"))
    assert replied == [False]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert any(r.levelno == logging.DEBUG and "caller left" in r.getMessage() for r in caplog.records)


def test_handler_raising_answers_remote_error(uname: str, caplog: pytest.LogCaptureFixture) -> None:
    if not hasattr(wipc._native, "wipc_reply_error"):
        pytest.skip("this libwipc has no wipc_reply_error (1.1)")

    def on_message(msg: wipc.Message) -> None:
        if msg.data == b"raise":
            raise KeyError("x")
        if msg.data == b"remote":
            raise wipc.RemoteError(42, "told you")
        msg.reply(b"ok")

    with caplog.at_level(logging.WARNING, logger="wipc"):
        with wipc.PipeServer(uname, on_message=on_message), wipc.connect(uname, timeout=5) as c:
            with pytest.raises(wipc.RemoteError) as e:
                c.request(b"raise", timeout=5)
            assert "KeyError" in e.value.remote_message and "'x'" in e.value.remote_message
            assert e.value.status == wipc.RemoteError.status and isinstance(e.value, OSError)
            with pytest.raises(wipc.RemoteError) as e2:
                c.request(b"remote", timeout=5)
            assert (e2.value.code, e2.value.remote_message) == (42, "told you")
            assert c.request(b"fine", timeout=5) == b"ok"
    warned = [r for r in caplog.records if "handler raised" in r.getMessage()]
    assert len(warned) == 2 and all(r.levelno == logging.WARNING for r in warned)


def test_callbacks_after_close_find_no_freed_context(uname: str) -> None:
    """A server with callbacks closed while a client leaves: the library may still deliver the event of
    a connection it accepted after the server's callables were released. The binding looks contexts
    up by id, so that call finds nothing (it used to read freed memory: SIGSEGV within ~400 rounds)."""
    code = f"""
import gc, wipc
for i in range(400):
    srv = wipc.PipeServer({uname!r}, on_message=lambda m: m.reply(m.data) if m.is_request else None,
                          on_event=lambda *a: None)
    c = wipc.connect({uname!r}, timeout=5)
    c.close()
    srv.close()
    del srv
    gc.collect()
print("OK")
"""
    p = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code], capture_output=True, text=True,
                       timeout=300, env=child_env())
    assert p.returncode == 0 and p.stdout.strip() == "OK", (p.returncode, p.stderr[-3000:])
