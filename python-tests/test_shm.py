"""The shm transport from Python (ctypes) against the C helper c-tests/shm_peer: 1 MiB messages and
request/replies both ways, zero-copy, peer death, bad input.

Environment: WIPC_SHM_PEER = the shm_peer program (default <library dir>/c-tests/shm_peer).
"""
import ctypes
import os
import subprocess
import time
from ctypes import byref, c_size_t, c_uint32, c_void_p
from pathlib import Path

import pytest

import wipc_ctypes as w
from conftest import Peer

MIB = 1024 * 1024


@pytest.fixture(scope="session")
def shm_peer_path():
    path = os.environ.get("WIPC_SHM_PEER") or str(Path(w.default_library_path()).parent / "c-tests" / "shm_peer")
    if not os.access(path, os.X_OK):
        pytest.fail(f"the helper program {path} does not exist: build c-tests (cmake --build build/linux)")
    return path


@pytest.fixture
def shm_peer(shm_peer_path):
    """shm_peer(*args) -> Peer (after its READY line); killed and reaped at the end of the test."""
    peers = []

    def spawn(*args):
        argv = [shm_peer_path] + [a.decode() if isinstance(a, bytes) else str(a) for a in args]
        p = Peer(subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL))
        peers.append(p)
        if not p.wait_ready():
            p.kill()
            pytest.fail(f"{' '.join(argv)} did not print READY (exit code {p.wait(10)})")
        return p

    yield spawn
    for p in peers:
        p.kill()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        p.proc.stdout.close()


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
