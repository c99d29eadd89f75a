"""The shm transport from Python (ctypes) against the C helper c-tests/shm_peer: 1 MiB messages and
request/replies both ways, zero-copy, peer death, bad input; a creator with callbacks and
short-lived openers (the `wipc` tool's `send`).

Environment: WIPC_SHM_PEER = the shm_peer program (default <library dir>/c-tests/shm_peer);
WIPC_CLI = the wipc tool (default <library dir>/wipc).
"""
import ctypes
import os
import subprocess
import threading
import time
from ctypes import byref, c_size_t, c_uint32, c_void_p
from pathlib import Path

import pytest

import wipc_ctypes as w
from conftest import assert_status, helper_program, peer_spawner

MIB = 1024 * 1024


@pytest.fixture(scope="session")
def shm_peer_path():
    return helper_program("WIPC_SHM_PEER", "shm_peer")


@pytest.fixture
def shm_peer(shm_peer_path):
    """shm_peer(*args) -> Peer (after its READY line); killed and reaped at the end of the test."""
    with peer_spawner(shm_peer_path) as spawn:
        yield spawn


def shm_options(lib, **fields):
    o = w.ShmOptions()
    lib.wipc_shm_options_init(byref(o))
    for k, v in fields.items():
        setattr(o, k, v)
    return o


def create(lib, name, capacity):
    h = w.handle()
    o = shm_options(lib, capacity=capacity)
    w.check(lib, lib.wipc_shm_create(name, byref(o), byref(h)))
    return h


def pattern(seed, n):
    block = bytes((seed * 31 + i * 7) & 0xFF for i in range(251))
    return (block * (n // len(block) + 1))[:n]


def test_shm_python_and_c_exchange_1mib(lib, name, shm_peer):
    h = create(lib, name, 4 * MIB)
    try:
        peer = shm_peer("echo", name)
        for i in range(6):
            data = pattern(i, MIB - i)
            if i % 2:
                st, reply, size = w.request(lib, h, i, data, cap=MIB, timeout_ms=10000)
                assert st == w.WIPC_OK, w.last_error(lib)
                assert size == len(data) and reply == data
            else:
                w.check(lib, lib.wipc_send(h, i, data, len(data), 10000))
                st, echo, typ = w.recv(lib, h, cap=MIB, timeout_ms=10000)
                assert st == w.WIPC_OK, w.last_error(lib)
                assert typ == i + 1 and echo == data
        info = w.get_info(lib, h)
        assert info.peer_pid == peer.pid
        assert info.kind == w.WIPC_KIND_SHM_CHANNEL
        assert info.messages_sent == 6 and info.messages_received == 6   # echoes and replies
    finally:
        w.check(lib, lib.wipc_close(h))
    assert peer.wait(10) == 0   # the echo peer saw the creator leave and exited cleanly


def test_shm_python_zero_copy(lib, name, shm_peer):
    h = create(lib, name, 4 * MIB)
    try:
        shm_peer("echo", name)
        data = pattern(9, MIB)
        ptr = c_void_p()
        w.check(lib, lib.wipc_shm_reserve(h, MIB, byref(ptr), 5000))
        ctypes.memmove(ptr, data, MIB)
        w.check(lib, lib.wipc_shm_commit(h, 70, MIB))
        out = c_void_p()
        size = c_size_t()
        typ = c_uint32()
        w.check(lib, lib.wipc_shm_peek(h, byref(out), byref(size), byref(typ), 10000))
        assert size.value == MIB and typ.value == 71
        assert ctypes.string_at(out, size.value) == data
        w.check(lib, lib.wipc_shm_release(h))
        assert lib.wipc_shm_release(h) == w.WIPC_E_INVALID_STATE
    finally:
        w.check(lib, lib.wipc_close(h))


def test_shm_python_sees_peer_death(lib, name, shm_peer):
    h = create(lib, name, 64 * 1024)
    try:
        peer = shm_peer("hold", name)
        deadline = time.monotonic() + 5
        while not w.get_info(lib, h).connected and time.monotonic() < deadline:
            time.sleep(0.01)
        peer.kill()
        t0 = time.monotonic()
        st, _, _ = w.recv(lib, h, cap=64, timeout_ms=10000)
        assert st == w.WIPC_E_DISCONNECTED, w.last_error(lib)
        assert time.monotonic() - t0 < 1.5
    finally:
        w.check(lib, lib.wipc_close(h))


def test_shm_python_bad_input(lib, name):
    h = w.handle()
    for cap in (0, 1000, 3 << 12, 1 << 31):
        o = shm_options(lib, capacity=cap)
        assert lib.wipc_shm_create(name, byref(o), byref(h)) == w.WIPC_E_INVALID_ARG
        assert "capacity" in w.last_error(lib)
    h = create(lib, name, 4096)
    try:
        ptr = c_void_p()
        assert lib.wipc_shm_reserve(h, 4097, byref(ptr), 0) == w.WIPC_E_TOO_LARGE
        assert lib.wipc_shm_commit(h, 1, 1) == w.WIPC_E_INVALID_STATE
        assert lib.wipc_shm_release(h) == w.WIPC_E_INVALID_STATE
        region = w.handle()
        w.check(lib, lib.wipc_region_create(name + b"-r", 4096, None, byref(region)))
        assert lib.wipc_shm_reserve(region, 10, byref(ptr), 0) == w.WIPC_E_BAD_HANDLE
        assert lib.wipc_send(region, 1, b"x", 1, 0) == w.WIPC_E_NOT_SUPPORTED
        w.check(lib, lib.wipc_close(region))
    finally:
        w.check(lib, lib.wipc_close(h))


def test_shm_python_creator_follows_short_lived_openers(lib, name):
    """`wipc send shm://N msg<i>` five times, 0.2 s apart: each opener attaches, sends and leaves,
    maybe before the creator notices it. The creator's callbacks see, for each one in order,
    CONNECTED, its message with its pid, DISCONNECTED."""
    cli = os.environ.get("WIPC_CLI") or str(Path(w.default_library_path()).parent / "wipc")
    if not os.access(cli, os.X_OK):
        pytest.fail(f"the wipc tool {cli} is not built (cmake --build build/linux)")
    seen, lock = [], threading.Lock()

    def on_message(h, m, user):
        with lock:
            seen.append(("M", m.contents.peer_pid, ctypes.string_at(m.contents.data, m.contents.size).decode()))
        return 0

    def on_event(h, event, related, status, user):
        with lock:
            seen.append({w.WIPC_EVENT_CONNECTED: "C", w.WIPC_EVENT_DISCONNECTED: "D"}.get(event, f"E{event}"))

    cbs = (w.MESSAGE_CB(on_message), w.EVENT_CB(on_event))   # kept alive until the handle is closed
    h = create(lib, name, 64 * 1024)
    try:
        w.check(lib, lib.wipc_set_callbacks(h, cbs[0], cbs[1], None))
        expected = []
        for i in range(5):
            p = subprocess.run([cli, "send", "shm://" + name.decode(), f"msg{i}"], capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p.stderr
            expected += ["C", ("M", None, f"msg{i}"), "D"]
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while len(seen) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        with lock:
            got = list(seen)
        assert [e if isinstance(e, str) else e[::2] for e in got] == [e if isinstance(e, str) else e[::2] for e in expected]
        pids = [e[1] for e in got if not isinstance(e, str)]
        assert all(pids) and len(set(pids)) == 5, pids   # each message carries its own opener's pid
        assert w.get_info(lib, h).peer_pid == 0          # nobody is attached now
    finally:
        w.check(lib, lib.wipc_close(h))


def test_shm_request_timeout_covers_the_send(lib, name):
    """wipc_request's timeout is for the whole call: a request whose send first waits for room (the
    ring stays full until the creator drains it 0.6 s later) has only the rest of its timeout left
    for the reply, which never comes."""
    ch, op = w.handle(), w.handle()
    o = shm_options(lib, capacity=64 * 1024)
    w.check(lib, lib.wipc_shm_create(name, byref(o), byref(ch)))
    try:
        w.check(lib, lib.wipc_shm_open(name, None, 5000, byref(op)))
        chunk = b"f" * 4000
        sent = 0
        while lib.wipc_send(op, 1, chunk, len(chunk), 0) == w.WIPC_OK:   # fill the opener -> creator ring
            sent += 1
        assert sent > 0

        def drain():
            time.sleep(0.6)
            for _ in range(sent + 1):   # the queued messages, then the request (never answered)
                if w.recv(lib, ch, cap=8192, timeout_ms=3000)[0] != w.WIPC_OK:
                    break

        drainer = threading.Thread(target=drain, name="drainer")
        drainer.start()
        t0 = time.monotonic()
        st, _, _ = w.request(lib, op, 2, b"q", timeout_ms=1000)
        elapsed = time.monotonic() - t0
        drainer.join(30)
        assert_status(lib, st, w.WIPC_E_TIMEOUT, "request whose send waited for room")
        assert 0.9 <= elapsed < 1.4, f"wipc_request(timeout 1000 ms) returned after {elapsed * 1000:.0f} ms"
    finally:
        for h in (op, ch):
            if h.value:
                lib.wipc_close(h)
