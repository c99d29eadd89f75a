"""The msg transport (WM_COPYDATA semantics) from Python (ctypes) against the C helper c-tests/msg_peer:
a Python receiver with a callback answering a C sender process, a Python sender against a C receiver,
queue mode, list / broadcast across processes, bad input.

Environment: WIPC_MSG_PEER = the msg_peer program (default <library dir>/c-tests/msg_peer).
"""
import ctypes
import os
import threading
import time
from ctypes import byref, c_int32, c_size_t, c_uint32

import pytest

import wipc_ctypes as w
from conftest import assert_status, helper_program, peer_spawner


def reply_of(typ, data):
    """The reply msg_peer's callback gives (msg_reply_of in c-tests/msg_peer.c)."""
    h = 2166136261 ^ typ
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    v = h ^ (len(data) & 0xFFFFFFFF)
    return v - (1 << 32) if v >= 1 << 31 else v


@pytest.fixture(scope="session")
def msg_peer_path():
    return helper_program("WIPC_MSG_PEER", "msg_peer")


@pytest.fixture
def msg_peer(msg_peer_path):
    """msg_peer(*args, ready=True) -> Peer; killed and reaped at the end of the test."""
    with peer_spawner(msg_peer_path) as spawn:
        yield spawn


@pytest.fixture
def endpoints(lib):
    """Handles to close at the end of the test (append to the list)."""
    hs = []
    yield hs
    for h in hs:
        lib.wipc_close(h)


def listen(lib, endpoints, name, **opts):
    o = w.MsgOptions()
    lib.wipc_msg_options_init(byref(o))
    for k, v in opts.items():
        setattr(o, k, v)
    h = w.handle()
    w.check(lib, lib.wipc_msg_listen(name, byref(o), byref(h)))
    endpoints.append(h)
    return h


def send(lib, name, typ, data, timeout_ms=5000):
    reply = c_int32(0)
    st = lib.wipc_msg_send(name, typ, data, len(data) if data else 0, timeout_ms, byref(reply))
    return st, reply.value


def listed(lib, prefix):
    needed = c_size_t(0)
    buf = ctypes.create_string_buffer(1 << 16)
    w.check(lib, lib.wipc_msg_list(prefix, buf, len(buf), byref(needed)))
    return [n for n in buf.raw[:needed.value].split(b"\0") if n]


class PyReceiver:
    """A msg endpoint whose on_message is a Python function: records every message (type, bytes, pid,
    thread) and answers reply_of(type, data) + `bias`."""

    def __init__(self, lib, endpoints, name, bias=0):
        self.lib = lib
        self.bias = bias
        self.got = []
        self.lock = threading.Lock()
        self.h = listen(lib, endpoints, name)
        self.cb = w.MESSAGE_CB(self._on_message)   # kept alive by self
        w.check(lib, lib.wipc_set_callbacks(self.h, self.cb, None, None))

    def _on_message(self, h, m, user):
        msg = m.contents
        data = msg.payload()
        with self.lock:
            self.got.append((msg.type, data, msg.peer_pid, threading.get_ident()))
        return reply_of(msg.type, data) + self.bias


def test_python_receiver_answers_c_sender(lib, name, endpoints, msg_peer):
    rx = PyReceiver(lib, endpoints, name, bias=0)
    count, size = 12, 1000
    p = msg_peer("send", name, 500, size, count, 10000, ready=False)
    replies = []
    for _ in range(count):
        line = p.readline(timeout=20)
        assert line is not None, "msg_peer send stopped answering"
        tag, i, st, value = line.split()
        assert tag == "REPLY"
        replies.append((int(i), int(st), int(value)))
    assert p.wait(20) == 0
    assert len(rx.got) == count
    main = threading.get_ident()
    for (i, st, value), (typ, data, pid, tid) in zip(replies, rx.got):
        assert st == w.WIPC_OK
        assert typ == 500 + i
        assert len(data) == size
        assert value == reply_of(typ, data), "the C sender got the Python callback's return value"
        assert pid == p.pid
        assert tid != main, "callbacks run on a library thread"
    info = w.get_info(lib, rx.h)
    assert info.kind == w.WIPC_KIND_MSG_ENDPOINT and info.transport == w.WIPC_TRANSPORT_MSG
    assert info.messages_received == count and info.bytes_received == count * size
    assert info.peer_pid == p.pid


def test_python_sender_c_receiver(lib, name, msg_peer):
    msg_peer("listen", name, "--print")
    for i, n in enumerate((0, 1, 100, 65536)):
        data = bytes((i * 7 + k) & 0xFF for k in range(n))
        st, value = send(lib, name, 10 + i, data if n else None)
        assert_status(lib, st, w.WIPC_OK, "wipc_msg_send")
        assert value == reply_of(10 + i, data)
    st, _ = send(lib, name, 1, b"x" * 65537)
    assert_status(lib, st, w.WIPC_E_TOO_LARGE, "above the receiver's default max_message_size")


def test_queue_mode_and_full_queue(lib, name, endpoints):
    h = listen(lib, endpoints, name, queue_depth=3)
    for i in range(3):
        assert send(lib, name, i, b"m%d" % i) == (w.WIPC_OK, 0)
    st, _ = send(lib, name, 9, b"full")
    assert_status(lib, st, w.WIPC_E_BUSY, "fourth message, queue_depth 3")
    for i in range(3):
        st, data, typ = w.recv(lib, h, timeout_ms=2000)
        assert (st, data, typ) == (w.WIPC_OK, b"m%d" % i, i)
    m = w.Message.new()
    buf = ctypes.create_string_buffer(16)
    assert send(lib, name, 7, None) == (w.WIPC_OK, 0)   # zero-length message
    w.check(lib, lib.wipc_recv_message(h, buf, len(buf), byref(m), 2000))
    assert (m.type, m.size, m.peer_pid) == (7, 0, os.getpid())


def test_list_and_broadcast_across_processes(lib, make_name, endpoints, msg_peer):
    base = make_name("bc")
    a, b, c = base + b"-a", base + b"-b", base + b"-c"
    p = msg_peer("listen", a + b"," + b, "--print")
    hc = listen(lib, endpoints, c)
    assert listed(lib, base) == [a, b, c]
    assert listed(lib, base + b"-b") == [b]
    delivered = c_uint32(0)
    w.check(lib, lib.wipc_msg_broadcast(base, 33, b"all", 3, 5000, byref(delivered)))
    assert delivered.value == 3
    lines = sorted(p.readline(timeout=10) for _ in range(2))
    assert lines == [f"MSG {n.decode()} 33 3 {os.getpid()}" for n in (a, b)]
    assert w.recv(lib, hc, timeout_ms=2000)[:3] == (w.WIPC_OK, b"all", 33)
    p.kill()
    p.wait(10)
    deadline = time.monotonic() + 10
    while listed(lib, base) != [c] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert listed(lib, base) == [c], "a killed process's endpoints leave the list"
    st, _ = send(lib, a, 1, b"x")
    assert st in (w.WIPC_E_NOT_FOUND, w.WIPC_E_DISCONNECTED)


def test_name_clash_and_stale_reclaim(lib, name, endpoints, msg_peer):
    p = msg_peer("squat", name)
    h = w.handle()
    assert_status(lib, lib.wipc_msg_listen(name, None, byref(h)), w.WIPC_E_ADDR_IN_USE, "name served by msg_peer")
    p.kill()
    p.wait(10)
    h = listen(lib, endpoints, name)   # the dead squatter's name is reclaimed
    assert send(lib, name, 1, b"hi") == (w.WIPC_OK, 0)
    again = w.handle()
    assert_status(lib, lib.wipc_msg_listen(name, None, byref(again)), w.WIPC_E_ADDR_IN_USE, "same process")


def test_bad_input(lib, name):
    h = w.handle()
    for bad in (b"", b"a b", b"x/y", b"a" * 129, None):
        assert_status(lib, lib.wipc_msg_listen(bad, None, byref(h)), w.WIPC_E_INVALID_ARG, f"listen {bad!r}")
        assert_status(lib, lib.wipc_msg_send(bad, 1, b"x", 1, 100, None), w.WIPC_E_INVALID_ARG, f"send {bad!r}")
    assert_status(lib, lib.wipc_msg_send(name, 1, None, 4, 100, None), w.WIPC_E_INVALID_ARG, "NULL data, size 4")
    assert_status(lib, lib.wipc_msg_send(name, 1, b"x", 1, 100, None), w.WIPC_E_NOT_FOUND, "nobody listens")
    assert_status(lib, lib.wipc_msg_list(b"a/b", None, 0, None), w.WIPC_E_INVALID_ARG, "bad prefix")
    needed = c_size_t(0)
    assert_status(lib, lib.wipc_msg_list(name, None, 0, byref(needed)), w.WIPC_E_BUFFER_TOO_SMALL, "cap 0")
    assert needed.value == 1
