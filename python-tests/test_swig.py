"""The SWIG Python binding (package `wipc`): classes, bytes in/out, context managers, the exception
hierarchy, callbacks (GIL, logged exceptions, release on close), GIL-free blocking calls, docstrings.

The package is found by swig_pkg.py ($WIPC_PYTHONPATH: a directory or "installed"; else the build tree's).
"""
import gc
import logging
import os
import subprocess
import sys
import threading
import time
import weakref

import pytest

import wipc_ctypes as w
from swig_pkg import child_env, wipc


@pytest.fixture
def uname(name):
    return name.decode()


def wait_for(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def upper_server(uname, **kw):
    def on_message(msg):
        if msg.is_request:
            msg.reply(msg.data.upper())
    return wipc.PipeServer(uname, on_message=on_message, **kw)


# ---- module surface ---------------------------------------------------------------------------------

def test_version_and_constants():
    assert wipc.__version__ == "1.1.0" and wipc.version_info == (1, 1, 0)
    assert wipc.EVENT_CONNECTED == 1 and wipc.LOG_ERROR == 3 and wipc.PIPE_RAW == 2
    assert wipc.status_name(-4) == "WIPC_E_TIMEOUT"


def test_one_exception_class_per_status():
    names = set()
    for code in range(-1, -17, -1):
        exc = wipc.Error.of(code, "m")
        assert type(exc) is not wipc.Error and isinstance(exc, wipc.Error), code
        assert exc.status == code and exc.name == wipc.status_name(code)
        names.add(type(exc).__name__)
        assert getattr(wipc, type(exc).__name__) is type(exc)
    assert len(names) == 16
    assert issubclass(wipc.Timeout, TimeoutError) and issubclass(wipc.InvalidArg, ValueError)
    assert issubclass(wipc.NotFound, FileNotFoundError) and issubclass(wipc.Disconnected, ConnectionError)


def test_docstrings_on_every_public_class_and_method():
    missing = []
    for name in wipc.__all__:
        obj = getattr(wipc, name)
        if callable(obj) and not (obj.__doc__ or "").strip():
            missing.append(name)
        if isinstance(obj, type):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and (callable(member) or isinstance(member, (property, classmethod))):
                    fn = member.__func__ if isinstance(member, classmethod) else member
                    if not (fn.__doc__ or "").strip():
                        missing.append(f"{name}.{attr}")
    assert not missing, f"no docstring: {missing}"


# ---- pipe -------------------------------------------------------------------------------------------

def test_pipe_request_reply_with_callbacks(uname):
    with upper_server(uname) as srv, wipc.connect(uname, timeout=5) as conn:
        assert conn.request(b"hello", timeout=5) == b"HELLO"
        assert conn.request(bytearray(b"abc"), type=3, timeout=5) == b"ABC"
        assert conn.request(memoryview(b"xyz"), timeout=5) == b"XYZ"
        big = b"a" * (1 << 20)
        assert conn.request(big, timeout=10) == b"A" * (1 << 20)
        assert conn.request(b"", timeout=5) == b""
        assert wait_for(lambda: len(srv.connections) == 1)
        assert conn.peer_pid == os.getpid()
        info = conn.info()
        assert info.kind == wipc.KIND_PIPE_CONN and info.transport == wipc.TRANSPORT_PIPE and info.name == uname
        assert info.messages_sent == 5
    assert wait_for(lambda: srv.connections == [])


def test_pipe_accept_send_recv_iterate(uname):
    with wipc.PipeServer(uname) as srv, wipc.connect(uname, timeout=5) as cli, srv.accept(timeout=5) as conn:
        cli.send(b"one", type=7)
        cli.send(b"\x00\xff", type=8)
        m = conn.recv(timeout=5)
        assert (m.data, m.type, m.request_id, m.peer_pid, m.source) == (b"one", 7, 0, os.getpid(), conn)
        assert not m.is_request and conn.recv(timeout=5).data == b"\x00\xff"
        with pytest.raises(wipc.Timeout) as e:
            conn.recv(timeout=0.05)
        assert e.value.status == -4 and e.value.name == "WIPC_E_TIMEOUT" and "wipc_recv" in e.value.message
        cli.send(b"last")
        cli.close()
        assert [m.data for m in conn] == [b"last"]   # iteration ends at the disconnect


def test_request_answered_from_recv(uname):
    with wipc.PipeServer(uname) as srv, wipc.connect(uname, timeout=5) as cli, srv.accept(timeout=5) as conn:
        def serve():
            m = conn.recv(timeout=5)
            m.reply(m.data[::-1])
        t = threading.Thread(target=serve)
        t.start()
        assert cli.request(b"abc", timeout=5) == b"cba"
        t.join()


def test_errors_carry_status_name_and_last_error(uname):
    with pytest.raises(wipc.NotFound) as e:
        wipc.connect(uname, timeout=0.05)
    assert e.value.status == w.WIPC_E_NOT_FOUND and e.value.name == "WIPC_E_NOT_FOUND"
    assert uname in str(e.value) and isinstance(e.value, FileNotFoundError)
    assert e.value.os_error == 2   # ENOENT: no socket of that name
    with pytest.raises(wipc.InvalidArg):
        wipc.PipeServer("bad name!")
    with wipc.PipeServer(uname):
        with pytest.raises(wipc.AddrInUse):
            wipc.PipeServer(uname)
    with pytest.raises(TypeError):
        wipc.PipeServer(uname, max_instances="many")
    with wipc.PipeServer(uname) as srv, wipc.connect(uname, timeout=5) as c:
        with pytest.raises(TypeError):
            c.send("str is not bytes")
        srv.close()


def test_context_manager_closes(uname):
    with wipc.PipeServer(uname) as srv:
        c = wipc.connect(uname, timeout=5)
        with c:
            pass
        assert c.closed
        c.close()   # idempotent
        with pytest.raises(ValueError, match="Connection is closed"):
            c.send(b"x")
    assert srv.closed
    with pytest.raises(wipc.NotFound):
        wipc.connect(uname, timeout=0)


def test_blocking_call_releases_the_gil_and_close_cancels_it(uname):
    with wipc.PipeServer(uname) as srv, wipc.connect(uname, timeout=5) as c, srv.accept(timeout=5):
        ticks = []
        stop = threading.Event()

        def ticker():
            while not stop.is_set():
                ticks.append(1)
                time.sleep(0.005)
        threading.Thread(target=ticker).start()
        threading.Timer(0.3, c.close).start()
        t0 = time.monotonic()
        with pytest.raises(wipc.Closed):
            c.recv()
        stop.set()
        assert 0.2 < time.monotonic() - t0 < 3.0
        assert len(ticks) > 10, "other Python threads ran while recv() blocked"


# ---- callbacks ----------------------------------------------------------------------------------------

def test_callbacks_run_on_library_threads_and_may_close_their_handle(uname):
    seen = []

    def on_message(msg):
        seen.append((threading.get_ident(), msg.data))
        msg.reply(b"bye")
        msg.source.close()

    events = []
    with wipc.PipeServer(uname, on_message=on_message, on_event=lambda *a: events.append(a[1])) as srv:
        with wipc.connect(uname, timeout=5) as c:
            assert c.request(b"x", timeout=5) == b"bye"
            with pytest.raises((wipc.Disconnected, wipc.Timeout)):
                c.request(b"y", timeout=1)
        assert seen[0][0] != threading.get_ident()
        assert wait_for(lambda: srv.connections == [])
    assert wipc.EVENT_CONNECTED in events


def test_callback_exception_is_logged_not_fatal(uname, caplog):
    calls = []

    def on_message(msg):
        calls.append(msg.data)
        if msg.data == b"boom":
            raise RuntimeError("boom from a callback")
        msg.reply(b"fine")

    with caplog.at_level(logging.WARNING, logger="wipc"):
        with wipc.PipeServer(uname, on_message=on_message), wipc.connect(uname, timeout=5) as c:
            c.send(b"boom")
            assert c.request(b"next", timeout=5) == b"fine"
        with wipc.MsgEndpoint(uname, on_message=lambda m: "not an int"):
            assert wipc.msg_send(uname, b"x") == 0
    text = caplog.text
    assert "a wipc message handler raised RuntimeError" in text and "boom from a callback" in text
    assert "must return an int" in text
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert sum("handler raised" in r.getMessage() for r in caplog.records) == 1   # logged once


def test_callables_released_when_the_handle_closes(uname):
    class Handler:
        def __call__(self, msg):
            msg.reply(b"ok")

    h = Handler()
    ref = weakref.ref(h)
    srv = wipc.PipeServer(uname, on_message=h)
    del h
    with wipc.connect(uname, timeout=5) as c:
        assert c.request(b"x", timeout=5) == b"ok"
    gc.collect()
    assert ref() is not None, "held while the server is open"
    srv.close()
    gc.collect()
    assert ref() is None, "released by close()"


def test_unreferenced_server_with_callbacks_keeps_serving(uname):
    srv_ref = weakref.ref(upper_server(uname))
    gc.collect()
    with wipc.connect(uname, timeout=5) as c:
        assert c.request(b"alive", timeout=5) == b"ALIVE"
    srv_ref().close()


def test_client_connection_callbacks_and_events(uname):
    got, events = [], []
    with wipc.PipeServer(uname) as srv:
        c = wipc.connect(uname, timeout=5)
        conn = srv.accept(timeout=5)
        c.set_callbacks(on_message=lambda m: got.append(m.data),
                        on_event=lambda src, ev, rel, st: events.append((src, ev, st)))
        with pytest.raises(wipc.InvalidState):
            c.recv(timeout=0)
        conn.send(b"push")
        assert wait_for(lambda: got == [b"push"])
        conn.close()
        assert wait_for(lambda: events and events[0][1] == wipc.EVENT_DISCONNECTED)
        assert events[0][0] is c and events[0][2] == w.WIPC_E_DISCONNECTED
        c.close()


# ---- shm, msg, region -----------------------------------------------------------------------------------

def test_shm_channel_request_reply_and_events(uname):
    events = []
    with wipc.ShmChannel.create(uname, capacity=1 << 16, on_message=lambda m: m.reply(m.data * 2),
                                on_event=lambda src, ev, rel, st: events.append(ev)) as creator:
        with wipc.ShmChannel.open(uname, timeout=5) as opener:
            assert opener.request(b"ab", timeout=5) == b"abab"
            assert opener.peer_pid == os.getpid()
            with pytest.raises(wipc.Busy):
                wipc.ShmChannel.open(uname, timeout=0)
        assert wait_for(lambda: wipc.EVENT_DISCONNECTED in events)
        with wipc.ShmChannel.open(uname, timeout=5) as again:   # the creator's channel takes a new opener
            assert again.request(b"c", timeout=5) == b"cc"
        assert creator.info().transport == wipc.TRANSPORT_SHM
    # larger than the 4 KiB ring: streamed through it in pieces to the reader; above max_message_size: TooLarge
    with wipc.ShmChannel.create(uname, capacity=4096, max_message_size=8192) as small, \
            wipc.ShmChannel.open(uname, timeout=5) as reader:
        got = []
        t = threading.Thread(target=lambda: got.append(reader.recv(timeout=10)))
        t.start()
        small.send(b"x" * 8192, timeout=10)
        t.join(20)
        assert got and got[0].data == b"x" * 8192
        with pytest.raises(wipc.TooLarge):
            small.send(b"x" * 8193, timeout=1)


def test_msg_endpoint_send_broadcast_list_queue(uname):
    with wipc.MsgEndpoint(uname, on_message=lambda m: len(m.data) + m.type):
        assert wipc.msg_send(uname, b"12345", type=10) == 15
        assert uname in wipc.msg_list(uname[:8]) and wipc.msg_list(uname) == [uname]
        assert wipc.msg_broadcast(uname, b"x") == 1
    with pytest.raises(wipc.NotFound):
        wipc.msg_send(uname, b"x", timeout=0.2)
    with wipc.MsgEndpoint(uname, queue_depth=4) as ep:
        assert wipc.msg_send(uname, b"queued", type=2) == 0
        m = ep.recv(timeout=5)
        assert (m.data, m.type, m.peer_pid, m.source) == (b"queued", 2, os.getpid(), ep)


def test_msg_raw_endpoint_and_raw_send(uname):
    """MsgEndpoint(flags=MSG_RAW) and msg_send to a raw target (class:wipc-msg-NAME names
    the endpoint's window on Windows and its socket on POSIX): no header, the plain reply; a queued
    raw message answers 1."""
    target = "class:wipc-msg-" + uname
    with wipc.MsgEndpoint(uname, on_message=lambda m: -len(m.data), flags=wipc.MSG_RAW):
        assert wipc.msg_send(target, b"1234", type=3) == -4
        assert wipc.msg_send(uname, b"12", type=3) == -2          # wipc's own header still understood
    with wipc.MsgEndpoint(uname, flags=wipc.MSG_RAW) as ep:
        assert wipc.msg_send(target, b"plain", type=5) == 1
        m = ep.recv(timeout=5)
        assert (m.data, m.type) == (b"plain", 5)
    with pytest.raises(wipc.InvalidArg):
        wipc.msg_send("class:", b"x")


def test_region_read_write_view(uname, tmp_path):
    with wipc.Region.create(uname, 4096) as r, wipc.Region.open(uname, readonly=True) as ro:
        r.write(b"hello", offset=100)
        assert ro.read(100, 5) == b"hello" and ro.size == 4096
        v = r.view()
        v[0:2] = b"hi"
        assert ro.view()[0:2] == b"hi" and ro.view().readonly
        with pytest.raises(wipc.AccessDenied):
            ro.write(b"x")
        with pytest.raises(ValueError):
            r.read(4000, 200)
    with pytest.raises(ValueError, match="released"):   # close() released the view: no access to unmapped memory
        v[0]
    f = tmp_path / "mapped.bin"
    with wipc.Region.map_file(str(f), 1000) as m:
        m.write(b"file!")
    assert f.read_bytes()[:5] == b"file!" and f.stat().st_size == 1000


# ---- process-wide ----------------------------------------------------------------------------------------

def run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=child_env())


def test_shutdown_cancels_and_interpreter_exit_is_clean(uname):
    code = f"""
import threading, time, wipc
srv = wipc.PipeServer({uname!r}, on_message=lambda m: m.reply(m.data))
c = wipc.connect({uname!r}, timeout=5)
assert c.request(b"x", timeout=5) == b"x"
errors = []
def blocked():
    try:
        wipc.MsgEndpoint({uname!r}).recv()
    except wipc.Closed as e:
        errors.append(e)
t = threading.Thread(target=blocked); t.start(); time.sleep(0.2)
wipc.shutdown()
t.join(5)
assert errors and not t.is_alive(), "shutdown() woke the blocked recv"
srv2 = wipc.PipeServer({uname!r} + "-2", on_message=lambda m: None)   # usable again; left open at exit
print("OK")
"""
    p = run_python(code)
    assert p.returncode == 0 and p.stdout.strip() == "OK", p.stderr


def test_log_callback(uname):
    lines = []
    wipc.set_log_callback(lambda level, text: lines.append((level, text)), wipc.LOG_DEBUG)
    try:
        with wipc.PipeServer(uname), wipc.connect(uname, timeout=5):
            pass
    finally:
        wipc.set_log_callback(None)
    assert lines and all(isinstance(t, str) and 0 <= lvl <= 3 for lvl, t in lines)
    with pytest.raises(wipc.InvalidArg):
        wipc.set_log_callback(print, 9)
