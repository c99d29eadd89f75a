"""Large pipe messages (>= 256 KiB) travel through the sender's shared section (dll/common/pipe/pipe_bulk.c),
transparently: these tests check that nothing about them differs from small messages - order, types,
request/reply matching, BUFFER_TOO_SMALL, counters, callbacks, many threads - and that the same holds
with the section switched off (WIPC_PIPE_BULK=0, read when a connection is made)."""
import ctypes
import threading
from ctypes import byref, c_size_t

import pytest

import wipc_ctypes as w
from conftest import Pair

MIB = 1024 * 1024
JOIN_S = 60


def pattern(n, seed):
    """n bytes that differ per seed and per position (cheap to make for MiBs)."""
    block = bytes((seed * 31 + i * 7) & 0xFF for i in range(4096))
    return (block * (n // 4096 + 1))[:n]


@pytest.fixture(params=["section", "no-section"])
def bulk_mode(request, monkeypatch):
    if request.param == "no-section":
        monkeypatch.setenv("WIPC_PIPE_BULK", "0")
    else:
        monkeypatch.delenv("WIPC_PIPE_BULK", raising=False)
    return request.param


def send_async(lib, h, typ, data, timeout_ms=20000):
    """wipc_send on a thread (a large message may wait for the receiver); returns (thread, result list)."""
    res = []
    t = threading.Thread(target=lambda: res.append(lib.wipc_send(h, typ, data, len(data), timeout_ms)))
    t.start()
    return t, res


def test_large_and_small_keep_their_order(lib, name, bulk_mode):
    p = Pair(lib, name)
    try:
        sizes = [10, 300 * 1024, 1, MIB, 64 * 1024, 3 * MIB + 7, 0, 256 * 1024, 5]
        msgs = [(0x100 + i, pattern(n, i)) for i, n in enumerate(sizes)]

        def sender():
            for typ, data in msgs:
                st = lib.wipc_send(p.cli, typ, data, len(data), 20000)
                assert st == w.WIPC_OK, w.last_error(lib)

        t = threading.Thread(target=sender)
        t.start()
        for typ, data in msgs:
            st, got, gtyp = w.recv(lib, p.svc, 4 * MIB, 20000)
            assert st == w.WIPC_OK, w.last_error(lib)
            assert gtyp == typ and got == data, f"message {typ:#x} of {len(data)} bytes"
        t.join(JOIN_S)
        assert not t.is_alive()
        ci, si = w.get_info(lib, p.cli), w.get_info(lib, p.svc)
        assert ci.messages_sent == si.messages_received == len(msgs)
        assert ci.bytes_sent == si.bytes_received == sum(sizes)
    finally:
        p.close()


def test_large_message_buffer_too_small_stays_queued(lib, name, bulk_mode):
    p = Pair(lib, name)
    try:
        data = pattern(MIB + 3, 9)
        t, res = send_async(lib, p.cli, 77, data)
        buf = ctypes.create_string_buffer(1000)
        size = c_size_t(0)
        st = lib.wipc_recv(p.svc, buf, 1000, byref(size), None, 20000)
        assert st == w.WIPC_E_BUFFER_TOO_SMALL
        assert size.value == len(data)
        st, got, typ = w.recv(lib, p.svc, 2 * MIB, 5000)
        assert st == w.WIPC_OK and typ == 77 and got == data
        t.join(JOIN_S)
        assert res == [w.WIPC_OK]
    finally:
        p.close()


def test_large_requests_and_replies_from_threads(lib, name, bulk_mode):
    """4 threads with large requests in flight; the server answers in reverse order with large
    replies; one reply is larger than its caller's buffer (BUFFER_TOO_SMALL with the size)."""
    p = Pair(lib, name)
    n_threads, rounds = 4, 6
    errors = []

    def server():
        for r in range(rounds):
            got = []
            for k in range(n_threads):
                buf = ctypes.create_string_buffer(2 * MIB)
                m = w.Message.new()
                st = lib.wipc_recv_message(p.svc, buf, 2 * MIB, byref(m), 20000)
                if st != w.WIPC_OK:
                    errors.append(f"server recv: {w.STATUS_NAMES.get(st)}: {w.last_error(lib)}")
                    return
                got.append((m.request_id, m.type, buf.raw[:m.size]))
            for rid, typ, data in reversed(got):
                reply = data[::-1] if typ != 999 else data + b"x" * 1000
                st = lib.wipc_reply(p.svc, rid, typ + 1, reply, len(reply))
                if st != w.WIPC_OK:
                    errors.append(f"reply: {w.STATUS_NAMES.get(st)}")
                    return

    def client(i):
        for r in range(rounds):
            data = pattern(256 * 1024 + (i * 97 + r * 13) % (700 * 1024), i * 10 + r)
            if i == 0 and r == rounds - 1:
                st, reply, size = w.request(lib, p.cli, 999, data, len(data), 20000)
                if st != w.WIPC_E_BUFFER_TOO_SMALL or size != len(data) + 1000:
                    errors.append(f"too-small reply: {w.STATUS_NAMES.get(st)} size {size}")
                continue
            st, reply, _ = w.request(lib, p.cli, 100 + i, data, 2 * MIB, 20000)
            if st != w.WIPC_OK or reply != data[::-1]:
                errors.append(f"thread {i} round {r}: {w.STATUS_NAMES.get(st)} {len(reply)}/{len(data)}")
                return

    try:
        ts = [threading.Thread(target=server)] + [threading.Thread(target=client, args=(i,)) for i in range(n_threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(JOIN_S)
            assert not t.is_alive(), "hang"
        assert not errors, errors[:5]
    finally:
        p.close()


def test_large_messages_to_callbacks(lib, name, bulk_mode):
    """The I/O thread takes large messages for a connection with callbacks."""
    p = Pair(lib, name)
    seen = []
    done = threading.Event()

    def on_message(h, m, user):
        msg = m.contents
        seen.append((msg.type, msg.payload()))
        if len(seen) == 4:
            done.set()
        return 0

    cb = w.MESSAGE_CB(on_message)
    try:
        w.check(lib, lib.wipc_set_callbacks(p.svc, cb, None, None))
        msgs = [(i, pattern(n, i)) for i, n in enumerate([2 * MIB, 100, MIB, 512 * 1024])]
        for typ, data in msgs:
            w.check(lib, lib.wipc_send(p.cli, typ, data, len(data), 20000))
        assert done.wait(30)
        assert seen == msgs
    finally:
        p.close()


def test_large_message_to_closed_peer(lib, name, bulk_mode):
    """A large send to a peer that closed its end fails with DISCONNECTED, and does not hang."""
    p = Pair(lib, name)
    try:
        w.check(lib, lib.wipc_close(p.svc))
        p.svc = w.handle()
        data = pattern(MIB, 1)
        st = w.WIPC_OK
        for _ in range(3):   # the first may still fit the pipe or the section
            st = lib.wipc_send(p.cli, 1, data, len(data), 5000)
            if st != w.WIPC_OK:
                break
        assert st == w.WIPC_E_DISCONNECTED, w.STATUS_NAMES.get(st)
    finally:
        p.close()
