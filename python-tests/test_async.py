"""Asynchronous operations and remote errors (ABI 1.1) through ctypes, across processes
and languages: a C server's wipc_reply_error reaches a Python caller (blocking wipc_request and
wipc_request_async), and a Python server's wipc_reply_error reaches a C caller (c-tests/async_peer
error-client). Completions run on library threads; each must come exactly once.
"""
import ctypes
import threading

import pytest

import wipc_ctypes as w
from conftest import assert_status, helper_program, peer_spawner


@pytest.fixture
def async_peer():
    with peer_spawner(helper_program("WIPC_ASYNC_PEER", "async_peer")) as spawn:
        yield spawn


class Completions:
    """Collects completions (op id -> (status, type, bytes, related)); counts duplicates."""

    def __init__(self):
        self.lock = threading.Lock()
        self.done = {}
        self.duplicates = 0
        self.event = threading.Condition(self.lock)
        self.cb = w.COMPLETE_CB(self._on_complete)   # kept alive as long as the collector

    def _on_complete(self, c, user):
        c = c.contents
        m = c.message
        entry = (c.status, m.contents.type if m else None, m.contents.payload() if m else None, c.related)
        with self.lock:
            if c.op in self.done:
                self.duplicates += 1
            self.done[c.op] = entry
            self.event.notify_all()

    def wait(self, n, timeout=20.0):
        with self.lock:
            assert self.event.wait_for(lambda: len(self.done) >= n, timeout), f"{len(self.done)} of {n} completed"
            return dict(self.done)


def test_c_server_remote_error_reaches_python_blocking_and_async(lib, name, async_peer):
    async_peer("error-server", name)
    h = w.handle()
    w.check(lib, lib.wipc_pipe_connect(name, None, 10000, ctypes.byref(h)))
    resp = ctypes.create_string_buffer(64)
    got = ctypes.c_size_t()
    st = lib.wipc_request(h, 99, b"boom", 4, resp, 64, ctypes.byref(got), 10000)
    assert st == w.WIPC_E_REMOTE, w.last_error(lib)
    assert w.last_error(lib) == "remote error 42: bad thing: boom"
    assert lib.wipc_last_remote_code() == 42
    comp = Completions()
    ops = []
    for i in range(50):
        op = w.wipc_op()
        req = b"e%d" % i
        t = 99 if i % 2 else 5
        w.check(lib, lib.wipc_request_async(h, t, req, len(req), 10000, comp.cb, None, ctypes.byref(op)))
        ops.append((op.value, t, req))
    done = comp.wait(len(ops))
    assert comp.duplicates == 0
    for op, t, req in ops:
        status, typ, data, _ = done[op]
        if t == 99:
            assert (status, ctypes.c_int32(typ).value, data) == (w.WIPC_E_REMOTE, 42, b"bad thing: " + req)
        else:
            assert (status, typ, data) == (w.WIPC_OK, 6, req)
    lib.wipc_close(h)


def test_python_server_remote_error_reaches_c_caller(lib, name, async_peer):
    srv = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, ctypes.byref(srv)))
    seen = []

    @w.MESSAGE_CB
    def on_message(h, m, user):
        m = m.contents
        seen.append(m.payload())
        lib.wipc_reply_error(h, m.request_id, -3, "Python says no: \u00e9".encode())
        return 0

    w.check(lib, lib.wipc_set_callbacks(srv, on_message, None, None))
    peer = async_peer("error-client", name, ready=False)
    line = peer.readline(20.0)
    assert peer.wait(20) == 0, line
    assert line == "REMOTE -3 remote error -3: Python says no: \u00e9"
    assert seen == [b"why?"]
    lib.wipc_close(srv)


def test_recv_async_cancel_close_exactly_once(lib, pair):
    comp = Completions()
    ops = []
    for _ in range(3):
        op = w.wipc_op()
        w.check(lib, lib.wipc_recv_async(pair.cli, w.WIPC_INFINITE, comp.cb, None, ctypes.byref(op)))
        ops.append(op.value)
    w.check(lib, lib.wipc_send(pair.svc, 7, b"one", 3, 5000))
    assert lib.wipc_cancel(ops[1]) == w.WIPC_OK
    comp.wait(2)
    lib.wipc_close(pair.cli)
    pair.cli.value = 0
    done = comp.wait(3)   # the close completed the last one before it returned
    assert comp.duplicates == 0
    assert done[ops[0]][:3] == (w.WIPC_OK, 7, b"one")
    assert done[ops[1]][0] == w.WIPC_E_CANCELLED
    assert done[ops[2]][0] == w.WIPC_E_CLOSED
    assert_status(lib, lib.wipc_cancel(ops[1]), w.WIPC_E_NOT_FOUND)


def test_start_error_never_calls_back(lib, pair):
    comp = Completions()
    op = w.wipc_op(99)
    assert lib.wipc_recv_async(0, 10, comp.cb, None, ctypes.byref(op)) == w.WIPC_E_BAD_HANDLE
    assert op.value == 0
    assert lib.wipc_recv_async(pair.cli, -5, comp.cb, None, None) == w.WIPC_E_INVALID_ARG
    assert lib.wipc_send_async(pair.srv, 1, b"x", 1, 10, comp.cb, None, None) == w.WIPC_E_NOT_SUPPORTED
    threading.Event().wait(0.2)
    assert comp.done == {}
