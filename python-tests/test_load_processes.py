"""Bounded load from Python: a ctypes-callback pipe server in this process answers
8 rel_peer client processes x 2,000 request/replies (each client checks every reply's bytes), and a
Python receiver drains 200,000 checksummed shm messages from a rel_peer sender. Counts scale with
$WIPC_TEST_SCALE (the sanitizer runs use less). RELIABILITY lines go to $WIPC_RELIABILITY_LOG.
"""
import ctypes
import os
import struct
import threading
import time
from ctypes import byref, c_size_t, c_uint32

import wipc_ctypes as w
from conftest import reliability_report as report

SCALE = float(os.environ.get("WIPC_TEST_SCALE") or 1.0)


def test_load_pipe_callback_server(lib, name, rel):
    n = max(100, int(2000 * SCALE))
    clients = 8
    lk = threading.Lock()
    state = {"replies": 0, "bad": 0, "closed": 0}

    def on_message(h, m, user):
        msg = m.contents
        data = msg.payload()
        st = lib.wipc_reply(h, msg.request_id, msg.type, data, len(data)) if msg.request_id else -1
        with lk:
            state["replies" if st == w.WIPC_OK else "bad"] += 1
        return 0

    def on_event(h, event, related, status, user):
        if event in (w.WIPC_EVENT_DISCONNECTED, w.WIPC_EVENT_ERROR):
            with lk:
                state["closed"] += 1
            lib.wipc_close(h)

    mcb, ecb = w.MESSAGE_CB(on_message), w.EVENT_CB(on_event)
    srv = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, byref(srv)))
    w.check(lib, lib.wipc_set_callbacks(srv, mcb, ecb, None))
    t0 = time.monotonic()
    peers = [rel("load-client", name, n, i, ready=False) for i in range(clients)]
    for i, p in enumerate(peers):
        line = p.readline(timeout=300)
        assert line and line.startswith(f"DONE {n}"), f"client {i}: {line!r}"
        assert p.wait(30) == 0
    deadline = time.monotonic() + 10
    while state["closed"] < clients and time.monotonic() < deadline:
        time.sleep(0.01)
    lib.wipc_close(srv)
    assert state["bad"] == 0
    assert state["replies"] == clients * n
    report("pipe", "load", "python: 8 client processes x request/replies on a ctypes callback server", "pass",
           messages=2 * clients * n, lost=0, ms=int((time.monotonic() - t0) * 1000))


def _mix(x):
    m = 0xFFFFFFFFFFFFFFFF
    x = (x + 0x9E3779B97F4A7C15) & m
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
    return x ^ (x >> 31)


def _fnv32(b):
    h = 2166136261
    for c in b:
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def test_load_shm_checksummed(lib, name, rel):
    """The sender tags every message with the FNV-1a of its payload; the payload starts with its
    sequence number: a lost, duplicated, reordered or corrupt message fails."""
    n = max(2000, int(200000 * SCALE))
    ch = w.handle()
    w.check(lib, lib.wipc_shm_create(name, None, byref(ch)))
    p = rel("shm-load-send", name, n, 42, ready=False)
    buf = ctypes.create_string_buffer(256)
    size, typ = c_size_t(0), c_uint32(0)
    t0 = time.monotonic()
    try:
        for i in range(n):
            st = lib.wipc_recv(ch, buf, 256, byref(size), byref(typ), 30000)
            assert st == w.WIPC_OK, f"message {i}: {w.status_name(lib, st)}"
            data = buf.raw[:size.value]
            assert struct.unpack_from("<Q", data)[0] == i, f"message {i} carries sequence {struct.unpack_from('<Q', data)[0]}"
            assert typ.value == _fnv32(data), f"message {i}: checksum mismatch"
            assert size.value == 8 + _mix(42 ^ ((i * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF)) % 121, f"message {i}: size"
        assert p.readline(timeout=30) == f"DONE {n}"
        st = lib.wipc_recv(ch, buf, 256, byref(size), byref(typ), 100)
        assert st == w.WIPC_E_TIMEOUT, "a message beyond the last one"
    finally:
        lib.wipc_close(ch)
        p.wait(30)
    report("shm", "load", "python: checksummed shm messages drained by a Python receiver", "pass", messages=n, lost=0,
           ms=int((time.monotonic() - t0) * 1000))
