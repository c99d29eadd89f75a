"""The POSIX msg backend's connection reuse (dll/posix/msg_pool.c, msg_recv.c), across real processes
(c-tests/msg_peer): many messages over one connection, a receiver that restarts or dies under a
cached connection (no message lost, none delivered twice), a connected client that says nothing
holding up nobody, a timed-out message's late reply never taken for the next one's, fork, shutdown.
"""
import os
import socket
import sys
import threading
import time

import pytest

import wipc_ctypes as w
from conftest import assert_status
from test_msg import PyReceiver, endpoints, listen, msg_peer, msg_peer_path, reply_of, send  # noqa: F401

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX backend (counts /proc fds)")


def fd_count(pid="self"):
    return len(os.listdir(f"/proc/{pid}/fd"))


def socket_path(name):
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    base = f"{xdg}/wipc" if xdg and xdg.startswith("/") else f"/tmp/wipc-{os.geteuid()}"
    return f"{base}/m.{name.decode()}"


def send_ok(lib, name, typ, data, timeout_ms=5000):
    st, value = send(lib, name, typ, data, timeout_ms)
    assert_status(lib, st, w.WIPC_OK, f"wipc_msg_send type {typ}")
    assert value == reply_of(typ, data), "the reply belongs to this message"


def printed(peer, count, timeout=10):
    """The next `count` "MSG <name> <type> ..." lines of a --print peer, as types."""
    types = []
    for _ in range(count):
        line = peer.readline(timeout=timeout)
        assert line is not None, f"the receiver printed {len(types)} of {count} messages"
        types.append(int(line.split()[2]))
    return types


def assert_no_more_output(peer, wait=0.3):
    assert peer.readline(timeout=wait) is None, "the receiver got a message twice"


def test_many_messages_one_connection(lib, name, msg_peer):
    p = msg_peer("listen", name)
    peer_fds = fd_count(p.pid)
    send_ok(lib, name, 1, b"first")
    own = fd_count()
    assert fd_count(p.pid) == peer_fds + 1, "the receiver accepted one connection"
    for i in range(500):
        send_ok(lib, name, 2 + i, b"m%d" % i)
    assert fd_count() == own, "the sender reuses its connection"
    assert fd_count(p.pid) == peer_fds + 1, "500 messages, still one connection at the receiver"


def test_threads_share_a_bounded_pool(lib, name, msg_peer):
    p = msg_peer("listen", name)
    peer_fds = fd_count(p.pid)
    errors = []

    def worker(k):
        try:
            for i in range(100):
                send_ok(lib, name, k * 1000 + i, b"t%d-%d" % (k, i))
        except AssertionError as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[0]
    assert fd_count(p.pid) <= peer_fds + 8, "at most one connection per concurrent sending thread"


def test_receiver_restart_reached_without_loss_or_duplicate(lib, name, msg_peer):
    a = msg_peer("listen", name, "--print")
    for i in range(5):
        send_ok(lib, name, 10 + i, b"to a")
    assert printed(a, 5) == list(range(10, 15))
    a.kill()
    a.wait(10)
    b = msg_peer("listen", name, "--print")      # same name, new process; our cached connection is dead
    for i in range(5):
        send_ok(lib, name, 20 + i, b"to b")
    assert printed(b, 5) == list(range(20, 25))
    assert_no_more_output(b)
    b.kill()
    b.wait(10)
    st, _ = send(lib, name, 30, b"nobody")
    assert_status(lib, st, w.WIPC_E_NOT_FOUND, "the cached connection's receiver was killed, nobody listens")
    c = msg_peer("listen", name, "--print")
    send_ok(lib, name, 31, b"to c")
    assert printed(c, 1) == [31]
    assert_no_more_output(c)


def test_in_process_relisten_reached(lib, name, endpoints):
    rx = PyReceiver(lib, endpoints, name)
    send_ok(lib, name, 1, b"one")
    w.check(lib, lib.wipc_close(rx.h))
    endpoints.remove(rx.h)
    st, _ = send(lib, name, 2, b"closed")
    assert_status(lib, st, w.WIPC_E_NOT_FOUND, "endpoint closed")
    rx2 = PyReceiver(lib, endpoints, name)
    send_ok(lib, name, 3, b"three")
    assert [m[0] for m in rx.got] == [1]
    assert [m[0] for m in rx2.got] == [3]


def test_killed_mid_call_then_relisten(lib, name, msg_peer):
    p = msg_peer("listen", name, "--sleep-type", 7, "--sleep-ms", 5000)
    send_ok(lib, name, 1, b"warm")                # a cached connection now
    result = []
    t = threading.Thread(target=lambda: result.append(send(lib, name, 7, b"slow", 20000)))
    t.start()
    time.sleep(0.3)
    p.kill()
    t.join(20)
    assert result and result[0][0] == w.WIPC_E_DISCONNECTED, result
    p.wait(10)
    msg_peer("listen", name)
    send_ok(lib, name, 2, b"again")


def test_silent_client_blocks_nobody(lib, name, msg_peer, msg_peer_path):
    import subprocess
    msg_peer("listen", name)
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    silent.connect(socket_path(name))             # connects, never sends
    try:
        time.sleep(0.2)                           # the receiver has accepted it by now
        t0 = time.monotonic()
        send_ok(lib, name, 1, b"past the silent one")
        assert time.monotonic() - t0 < 1.0, "a silent connected client delayed a sender"
        t0 = time.monotonic()
        senders = [subprocess.Popen([msg_peer_path, "send", name.decode(), str(100 * k), "64", "200", "5000"],
                                    stdout=subprocess.DEVNULL) for k in range(8)]
        codes = [s.wait(60) for s in senders]
        assert codes == [0] * 8, "every message of 8 concurrent sender processes got its reply"
        assert time.monotonic() - t0 < 30
        send_ok(lib, name, 2, b"still served")
    finally:
        silent.close()


def test_timed_out_reply_not_taken_for_next(lib, name, msg_peer):
    p = msg_peer("listen", name, "--print", "--sleep-type", 7, "--sleep-ms", 600)
    send_ok(lib, name, 1, b"warm")
    st, _ = send(lib, name, 7, b"slow", 100)
    assert_status(lib, st, w.WIPC_E_TIMEOUT, "the receiver sleeps 600 ms")
    send_ok(lib, name, 2, b"next", 5000)          # waits behind the slow callback, gets its own reply
    send_ok(lib, name, 3, b"after")
    assert printed(p, 4) == [1, 7, 2, 3]
    assert_no_more_output(p)


def test_forked_child_does_not_share_connections(lib, name, msg_peer):
    p = msg_peer("listen", name, "--print")
    send_ok(lib, name, 1, b"parent")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            st, value = send(lib, name, 2, b"child")
            code = 0 if st == w.WIPC_OK and value == reply_of(2, b"child") else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the child's send got its own reply"
    send_ok(lib, name, 3, b"parent again")
    assert printed(p, 3) == [1, 2, 3]


def own_sockets():
    """The inodes of this process's open sockets ("socket:[123]")."""
    links = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return {link for link in links if link.startswith("socket:")}


def test_shutdown_closes_cached_connections(lib, name, msg_peer):
    msg_peer("listen", name)
    before = own_sockets()
    send_ok(lib, name, 1, b"x")
    cached = own_sockets() - before
    assert len(cached) == 1, "one cached connection"
    w.check(lib, lib.wipc_shutdown())
    assert not (own_sockets() & cached), "wipc_shutdown closed it"
    send_ok(lib, name, 2, b"after shutdown")    # the library restarts lazily
