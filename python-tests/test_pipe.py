"""The pipe transport driven from Python through ctypes: callback servers, threads, processes."""
import ctypes
import os
import threading
import time
from ctypes import byref, c_size_t

import wipc_ctypes as w
from conftest import Pair, assert_status

JOIN_S = 30  # no thread of these tests may stay blocked longer than this


def join_all(threads):
    for t in threads:
        t.join(JOIN_S)
        assert not t.is_alive(), f"HANG: thread {t.name} still blocked after {JOIN_S} s"


class CallbackServer:
    """A server with callbacks: answers requests with wipc_reply from inside on_message (same bytes,
    type+1), echoes plain messages with wipc_send (same bytes, type+1)."""

    def __init__(self, lib, name):
        self.lib = lib
        self.srv = w.handle()
        self.lock = threading.Lock()
        self.conns = []
        self.events = []
        self.requests = 0
        self.plain = 0
        self.errors = []
        self.busy = set()
        self.concurrent = 0
        self.callback_threads = set()
        self.on_message = w.MESSAGE_CB(self._on_message)   # kept alive by self
        self.on_event = w.EVENT_CB(self._on_event)
        w.check(lib, lib.wipc_pipe_listen(name, None, byref(self.srv)))
        w.check(lib, lib.wipc_set_callbacks(self.srv, self.on_message, self.on_event, None))

    def _enter(self, h):
        with self.lock:
            if h in self.busy:
                self.concurrent += 1
            self.busy.add(h)
            self.callback_threads.add(threading.get_ident())

    def _leave(self, h):
        with self.lock:
            self.busy.discard(h)

    def _on_message(self, h, m, user):
        self._enter(h)
        try:
            msg = m.contents
            data = msg.payload()
            # count before answering: the peer may check the count as soon as it has the answer
            if msg.request_id:
                with self.lock:
                    self.requests += 1
                st = self.lib.wipc_reply(h, msg.request_id, msg.type + 1, data, len(data))
            else:
                with self.lock:
                    self.plain += 1
                st = self.lib.wipc_send(h, msg.type + 1, data, len(data), 5000)
            if st != w.WIPC_OK:
                self.errors.append(f"answer: {w.STATUS_NAMES.get(st)}: {w.last_error(self.lib)}")
        except Exception as e:  # never let an exception vanish into ctypes
            self.errors.append(repr(e))
        finally:
            self._leave(h)
        return 0

    def _on_event(self, h, event, related, status, user):
        self._enter(h)
        with self.lock:
            self.events.append((h, event, related, status))
            if h == self.srv.value and event == w.WIPC_EVENT_CONNECTED:
                self.conns.append(related)
        self._leave(h)

    def wait_events(self, pred, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if pred(list(self.events)):
                    return True
            time.sleep(0.01)
        return False

    def close(self):
        for c in self.conns:
            self.lib.wipc_close(c)
        self.lib.wipc_close(self.srv)


def test_callback_server_serves_c_client(lib, name, spawn_peer):
    server = CallbackServer(lib, name)
    try:
        n = 100
        peer = spawn_peer("client", name, n, ready=False)
        code = peer.wait(60)
        line = peer.readline(5)
        assert code == 0, f"wipc_peer client exited {code}; server errors: {server.errors}"
        assert line == f"DONE {n}"
        assert not server.errors, server.errors
        assert server.requests == n
        assert server.plain == n // 4 + 1
        assert server.concurrent == 0
        assert threading.get_ident() not in server.callback_threads
        assert len(server.conns) == 1
        conn = server.conns[0]
        assert conn not in (0, server.srv.value)
        assert w.get_info(lib, conn).peer_pid == peer.pid
        assert server.wait_events(lambda ev: any(h == conn and e == w.WIPC_EVENT_DISCONNECTED and s == w.WIPC_E_DISCONNECTED
                                                 for h, e, _, s in ev)), server.events
    finally:
        server.close()


def test_request_reply_from_8_threads(lib, name):
    """8 Python threads keep requests in flight on one connection; the server collects 8 before
    answering them in reverse order, so replies must be matched by request id."""
    p = Pair(lib, name)
    threads_n, rounds = 8, 40
    errors = []

    def server():
        bufs = [ctypes.create_string_buffer(4096) for _ in range(threads_n)]
        for r in range(rounds):
            msgs = []
            for k in range(threads_n):
                m = w.Message.new()
                st = lib.wipc_recv_message(p.svc, bufs[k], 4096, byref(m), 15000)
                if st != w.WIPC_OK:
                    errors.append(f"server recv_message: {w.STATUS_NAMES.get(st)}")
                    return
                msgs.append((m.request_id, m.type, bufs[k].raw[:m.size]))
            if len({rid for rid, _, _ in msgs}) != threads_n:
                errors.append(f"round {r}: request ids not distinct")
            for rid, typ, data in reversed(msgs):
                st = lib.wipc_reply(p.svc, rid, typ + 1, data, len(data))
                if st != w.WIPC_OK:
                    errors.append(f"reply: {w.STATUS_NAMES.get(st)}")
                    return

    def client(i):
        for r in range(rounds):
            data = os.urandom(1 + (i * 131 + r * 17) % 3000)
            st, reply, _ = w.request(lib, p.cli, 100 + i, data, 4096, 15000)
            if st != w.WIPC_OK:
                errors.append(f"thread {i} round {r}: {w.STATUS_NAMES.get(st)}: {w.last_error(lib)}")
                return
            if reply != data:
                errors.append(f"thread {i} round {r}: got someone else's reply")
                return

    try:
        ts = [threading.Thread(target=server, name="server")]
        ts += [threading.Thread(target=client, args=(i,), name=f"client{i}") for i in range(threads_n)]
        for t in ts:
            t.start()
        join_all(ts)
        assert not errors, errors[:5]
    finally:
        p.close()


def test_request_reply_callbacks_8_threads(lib, name):
    """The same against a callback server answering from inside on_message."""
    server = CallbackServer(lib, name)
    c = w.handle()
    errors = []
    try:
        w.check(lib, lib.wipc_pipe_connect(name, None, 5000, byref(c)))

        def client(i):
            for r in range(50):
                data = os.urandom((i * 37 + r) % 2000)
                st, reply, _ = w.request(lib, c, 7, data, 4096, 15000)
                if st != w.WIPC_OK or reply != data:
                    errors.append(f"thread {i} round {r}: {w.STATUS_NAMES.get(st)} {len(reply)}/{len(data)}")
                    return

        ts = [threading.Thread(target=client, args=(i,), name=f"client{i}") for i in range(8)]
        for t in ts:
            t.start()
        join_all(ts)
        assert not errors, errors[:5]
        assert not server.errors, server.errors[:5]
        assert server.requests == 8 * 50
        assert server.concurrent == 0
    finally:
        if c.value:
            lib.wipc_close(c)
        server.close()


def test_peer_killed_while_blocked_in_recv(lib, name, spawn_peer):
    srv, conn = w.handle(), w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, byref(srv)))
    try:
        peer = spawn_peer("hold", name)
        w.check(lib, lib.wipc_pipe_accept(srv, 10000, byref(conn)))
        assert w.get_info(lib, conn).peer_pid == peer.pid
        killer = threading.Timer(0.3, peer.kill)
        killer.start()
        t0 = time.monotonic()
        st, _, _ = w.recv(lib, conn, 64, 15000)
        elapsed = time.monotonic() - t0
        killer.join(JOIN_S)
        assert_status(lib, st, w.WIPC_E_DISCONNECTED, "recv while the peer is killed")
        assert elapsed < 5.0, f"DISCONNECTED took {elapsed:.1f} s"
        assert peer.wait(10) == -9
        assert_status(lib, lib.wipc_send(conn, 1, b"x", 1, 1000), w.WIPC_E_DISCONNECTED, "send after peer death")
    finally:
        if conn.value:
            lib.wipc_close(conn)
        lib.wipc_close(srv)


def test_peer_killed_callback_gets_disconnected(lib, name, spawn_peer):
    server = CallbackServer(lib, name)
    try:
        peer = spawn_peer("hold", name)
        assert server.wait_events(lambda ev: any(e == w.WIPC_EVENT_CONNECTED for _, e, _, _ in ev))
        peer.kill()
        conn = server.conns[0]
        assert server.wait_events(lambda ev: any(h == conn and e == w.WIPC_EVENT_DISCONNECTED for h, e, _, _ in ev),
                                  5.0), f"no DISCONNECTED within 5 s: {server.events}"
    finally:
        server.close()


def _blocked_then_closed(lib, call, handle_to_close):
    result = {}

    def run():
        t0 = time.monotonic()
        result["st"] = call()
        result["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=run, name="blocked")
    t.start()
    time.sleep(0.2)
    closed = lib.wipc_close(handle_to_close)
    join_all([t])
    assert closed == w.WIPC_OK
    return result["st"], result["elapsed"]


def test_close_from_another_thread(lib, name):
    p = Pair(lib, name)
    try:
        buf = ctypes.create_string_buffer(64)
        size = c_size_t(0)
        st, el = _blocked_then_closed(lib, lambda: lib.wipc_recv(p.svc, buf, 64, byref(size), None, 10000), p.svc)
        p.svc.value = 0
        assert_status(lib, st, w.WIPC_E_CLOSED, "recv")
        assert el < 5

        c2, s2 = w.handle(), w.handle()
        w.check(lib, lib.wipc_pipe_connect(name, None, 5000, byref(c2)))
        w.check(lib, lib.wipc_pipe_accept(p.srv, 5000, byref(s2)))
        st, el = _blocked_then_closed(lib, lambda: lib.wipc_request(c2, 1, b"?", 1, buf, 64, byref(size), 10000), c2)
        assert_status(lib, st, w.WIPC_E_CLOSED, "request")
        assert el < 5
        lib.wipc_close(s2)

        out = w.handle()
        st, el = _blocked_then_closed(lib, lambda: lib.wipc_pipe_accept(p.srv, 10000, byref(out)), p.srv)
        p.srv.value = 0
        assert_status(lib, st, w.WIPC_E_CLOSED, "accept")
        assert out.value == 0
        assert el < 5
    finally:
        p.close()


def test_squatting(lib, name, make_name, spawn_peer):
    a, b = w.handle(), w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, byref(a)))
    assert_status(lib, lib.wipc_pipe_listen(name, None, byref(b)), w.WIPC_E_ADDR_IN_USE, "second listen")
    assert b.value == 0
    lib.wipc_close(a)
    assert_status(lib, lib.wipc_pipe_listen(name, None, byref(b)), w.WIPC_OK, "listen after close")
    lib.wipc_close(b)

    other = make_name("proc")
    peer = spawn_peer("squat", other)
    assert_status(lib, lib.wipc_pipe_listen(other, None, byref(b)), w.WIPC_E_ADDR_IN_USE, "listen on a name "
                  "another process serves")
    peer.kill()
    peer.wait(10)
    assert_status(lib, lib.wipc_pipe_listen(other, None, byref(b)), w.WIPC_OK, "listen after the squatter died")
    c, s = w.handle(), w.handle()
    w.check(lib, lib.wipc_pipe_connect(other, None, 5000, byref(c)))
    w.check(lib, lib.wipc_pipe_accept(b, 5000, byref(s)))
    for h in (c, s, b):
        lib.wipc_close(h)


def test_python_client_against_c_server(lib, name, spawn_peer):
    peer = spawn_peer("echo-server", name, "--count", "1")
    c = w.handle()
    w.check(lib, lib.wipc_pipe_connect(name, None, 10000, byref(c)))
    try:
        assert w.get_info(lib, c).peer_pid == peer.pid
        for i in range(50):
            data = os.urandom(i * 97 % 5000)
            st, reply, _ = w.request(lib, c, i, data, 8192, 10000)
            assert_status(lib, st, w.WIPC_OK, f"request {i}")
            assert reply == data
        assert_status(lib, lib.wipc_send(c, 41, b"plain", 5, 1000), w.WIPC_OK)
        assert w.recv(lib, c, 64, 10000) == (w.WIPC_OK, b"plain", 42)
    finally:
        lib.wipc_close(c)
    assert peer.wait(20) == 0


def test_log_callback(lib, name):
    lines = []
    cb = w.LOG_CB(lambda level, text, user: lines.append((level, text)))
    assert_status(lib, lib.wipc_set_log_callback(cb, w.WIPC_LOG_DEBUG, None), w.WIPC_OK)
    try:
        p = Pair(lib, name)
        p.close()
    finally:
        assert_status(lib, lib.wipc_set_log_callback(None, w.WIPC_LOG_DEBUG, None), w.WIPC_OK)
    assert lines, "no log line at WIPC_LOG_DEBUG for listen/connect/accept/close"
    assert all(w.WIPC_LOG_DEBUG <= lvl <= w.WIPC_LOG_ERROR and text for lvl, text in lines)


CHUNK = b"p" * (100 * 1024)   # below the bulk-section threshold: through the socket
N_FILL = 120                  # 12 MiB: more than the server's 8 MiB inbox and the socket buffers


def start_blocked_filler(lib, p):
    """A thread sending N_FILL chunks on p.cli with no timeout; returns (thread, results) once it is
    blocked (its sent count stops moving): the connection is full and that thread holds its writer."""
    sent = []
    filler = threading.Thread(target=lambda: sent.extend(
        lib.wipc_send(p.cli, 1, CHUNK, len(CHUNK), -1) for _ in range(N_FILL)), name="filler")
    filler.start()
    last, still_since = -1, time.monotonic()
    while time.monotonic() - still_since < 0.3:
        now = w.get_info(lib, p.cli).messages_sent
        if now != last:
            last, still_since = now, time.monotonic()
        time.sleep(0.02)
    assert last < N_FILL, "the filler was never blocked: the test needs a full connection"
    return filler, sent


def drain_later(lib, p, delay_s, count):
    """A thread that, after delay_s, receives `count` messages on p.svc (and answers none)."""
    def drain():
        time.sleep(delay_s)
        for _ in range(count):
            if w.recv(lib, p.svc, cap=len(CHUNK), timeout_ms=3000)[0] != w.WIPC_OK:
                break

    t = threading.Thread(target=drain, name="drainer")
    t.start()
    return t


def test_send_timeout_holds_behind_a_blocked_send(lib, name):
    """A send with a 300 ms timeout behind another thread's send that is blocked on a full connection
    (no timeout) returns WIPC_E_TIMEOUT after 300 ms, having sent nothing; the blocked send completes
    once the server side reads."""
    p = Pair(lib, name)
    try:
        filler, sent = start_blocked_filler(lib, p)
        t0 = time.monotonic()
        st = lib.wipc_send(p.cli, 2, b"late", 4, 300)
        elapsed = time.monotonic() - t0
        assert_status(lib, st, w.WIPC_E_TIMEOUT, "send behind a blocked send")
        assert "another thread" in w.last_error(lib)
        assert 0.25 <= elapsed < 0.8, f"wipc_send(timeout 300 ms) returned after {elapsed * 1000:.0f} ms"
        drainer = drain_later(lib, p, 0, N_FILL)
        filler.join(30)
        drainer.join(30)
        assert sent == [w.WIPC_OK] * N_FILL
    finally:
        p.close()


def test_request_timeout_covers_the_send(lib, name):
    """wipc_request's timeout is for the whole call: a request whose send first waits (another thread's
    send holds the connection, blocked until the server side drains 0.6 s later) has only the rest of
    its timeout left for the reply, which never comes."""
    p = Pair(lib, name)
    try:
        filler, sent = start_blocked_filler(lib, p)
        drainer = drain_later(lib, p, 0.6, N_FILL + 1)   # the filler's messages, then the request
        t0 = time.monotonic()
        st, _, _ = w.request(lib, p.cli, 2, b"q", timeout_ms=1000)
        elapsed = time.monotonic() - t0
        filler.join(30)
        drainer.join(30)
        assert_status(lib, st, w.WIPC_E_TIMEOUT, "request whose send had to wait")
        assert 0.9 <= elapsed < 1.4, f"wipc_request(timeout 1000 ms) returned after {elapsed * 1000:.0f} ms"
        assert sent == [w.WIPC_OK] * N_FILL
    finally:
        p.close()
