"""Fault injection across real processes, driven from Python through ctypes.

The peer is rel_peer (c-tests/rel_peer.c, next to wipc_peer; $WIPC_REL_PEER overrides it). Each
case kills it (SIGKILL) at a chosen moment while Python threads or ctypes callbacks are inside the
library, and checks that the survivor hears WIPC_E_DISCONNECTED (or the DISCONNECTED event) within a
few seconds, never hangs, and serves again. Every case appends a RELIABILITY line to
$WIPC_RELIABILITY_LOG when it is set (see docs/gen_reliability.py).
"""
import os
import struct
import threading
import time
from ctypes import byref, c_int32

import wipc_ctypes as w
from conftest import assert_status, reliability_report as report

JOIN_S = 60
SCALE = float(os.environ.get("WIPC_TEST_SCALE") or 1.0)


def join_all(threads, what):
    for t in threads:
        t.join(JOIN_S)
        assert not t.is_alive(), f"HANG: {what}: thread {t.name} still blocked after {JOIN_S} s"


def kill_later(peer, delay_s):
    stamp = {}

    def run():
        time.sleep(delay_s)
        stamp["t"] = time.monotonic()
        peer.kill()

    t = threading.Thread(target=run, name="killer")
    t.start()
    return t, stamp


# ---- pipe ------------------------------------------------------------------------------------------


def test_pipe_server_killed_while_python_threads_request(lib, name, rel, tmp_path):
    """4 Python threads in wipc_request on their own connections; the server process is killed and
    restarted: each thread hears DISCONNECTED, reconnects and finishes; every acknowledged request is
    in the answering server's log exactly once."""
    log = tmp_path / "served.log"
    srv = rel("req-server", name, log)
    n = max(20, int(200 * SCALE))
    acks = {}
    errors = []
    disconnects = [0] * 4
    lock = threading.Lock()

    def connect():
        deadline = time.monotonic() + 30
        while True:
            h = w.handle()
            st = lib.wipc_pipe_connect(name, None, 1000, byref(h))
            if st == w.WIPC_OK:
                return h
            if time.monotonic() > deadline:
                raise AssertionError(f"reconnect: {w.status_name(lib, st)}")

    at_gate = []
    gate = threading.Event()

    def client(cid):
        try:
            h = connect()
            for seq in range(n):
                if seq == n // 2:   # the restart happens while every client is connected, between requests
                    with lock:
                        at_gate.append(cid)
                    gate.wait(60)
                req = struct.pack("<II", cid, seq)
                while True:
                    st, resp, size = w.request(lib, h, 7, req, cap=64, timeout_ms=10000)
                    if st == w.WIPC_OK:
                        assert resp[:8] == req, f"client {cid} request {seq}: wrong reply {resp!r}"
                        with lock:
                            acks[(cid, seq)] = struct.unpack("<I", resp[8:12])[0]
                        break
                    assert st == w.WIPC_E_DISCONNECTED, f"client {cid} request {seq}: {w.status_name(lib, st)}"
                    disconnects[cid] += 1
                    lib.wipc_close(h)
                    h = connect()
            lib.wipc_close(h)
        except Exception as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,), name=f"client{i}") for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(at_gate) < 4 and time.monotonic() < deadline and not errors:
        time.sleep(0.005)
    assert len(at_gate) == 4, (at_gate, errors)
    srv.kill()
    srv.wait(10)
    last = rel("req-server", name, log)
    gate.set()
    join_all(threads, "clients across a server restart")
    last.kill()
    last.wait(10)
    reclaim = w.handle()   # take the killed server's name over so its socket file is removed
    w.check(lib, lib.wipc_pipe_listen(name, None, byref(reclaim)))
    lib.wipc_close(reclaim)
    assert not errors, errors
    assert len(acks) == 4 * n
    assert all(d >= 1 for d in disconnects), disconnects
    served = {}
    for line in log.read_text().split("\n"):
        if line:
            cid, seq, pid = map(int, line.split())
            served.setdefault((cid, seq, pid), 0)
            served[(cid, seq, pid)] += 1
    for (cid, seq), pid in acks.items():
        assert served.get((cid, seq, pid)) == 1, f"request {cid}/{seq} answered {served.get((cid, seq, pid))} times by {pid}"
    report("pipe", "fault", "python: server killed and restarted under 4 requesting threads", "pass",
           faults=1, messages=4 * n, lost=0, disconnects_seen=sum(disconnects))


def test_pipe_clients_killed_under_callback_server(lib, name, rel):
    """A ctypes-callback server; 6 client processes hammering it are killed at random moments: the
    server gets one DISCONNECTED event per client, closes them from inside the callback, and a new
    client is served fully afterwards."""
    lk = threading.Lock()
    state = {"replies": 0, "connected": 0, "disconnected": 0, "bad": 0}

    def on_message(h, m, user):
        msg = m.contents
        data = msg.payload()
        st = lib.wipc_reply(h, msg.request_id, msg.type, data, len(data)) if msg.request_id else -1
        with lk:
            if st == w.WIPC_OK:
                state["replies"] += 1
            elif st not in (w.WIPC_E_DISCONNECTED, w.WIPC_E_CLOSED):   # a killed client's last request
                state["bad"] += 1
        return 0

    def on_event(h, event, related, status, user):
        with lk:
            if event == w.WIPC_EVENT_CONNECTED:
                state["connected"] += 1
            elif event in (w.WIPC_EVENT_DISCONNECTED, w.WIPC_EVENT_ERROR):
                state["disconnected"] += 1
        if event in (w.WIPC_EVENT_DISCONNECTED, w.WIPC_EVENT_ERROR):
            lib.wipc_close(h)

    mcb, ecb = w.MESSAGE_CB(on_message), w.EVENT_CB(on_event)
    srv = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, byref(srv)))
    w.check(lib, lib.wipc_set_callbacks(srv, mcb, ecb, None))
    peers = [rel("load-client", name, 1000000, i, ready=False) for i in range(6)]
    deadline = time.monotonic() + 30   # every client connected (a slow machine starts them late) and busy
    while (state["replies"] < 300 or state["connected"] < 6) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state["connected"] == 6, f"not every client connected in 30 s: {state}"
    for i, p in enumerate(peers):
        time.sleep(0.01 * i)
        p.kill()
    deadline = time.monotonic() + 15
    while state["disconnected"] < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state["connected"] == 6 and state["disconnected"] == 6, state
    n = max(50, int(500 * SCALE))
    ok = rel("load-client", name, n, 99, ready=False)
    assert ok.readline(timeout=60).startswith(f"DONE {n}")
    assert ok.wait(30) == 0
    assert state["bad"] == 0
    lib.wipc_close(srv)
    report("pipe", "fault", "python: 6 client processes killed mid-request under a ctypes callback server", "pass",
           faults=6, messages=2 * state["replies"], lost=0)


# ---- shm ----------------------------------------------------------------------------------------------


def test_shm_opener_killed_holding_reservation(lib, name, rel):
    ch = w.handle()
    o = w.ShmOptions()
    lib.wipc_shm_options_init(byref(o))
    o.capacity = 64 * 1024
    w.check(lib, lib.wipc_shm_create(name, byref(o), byref(ch)))
    p = rel("shm-hold-reserve", name, "open", 40000)
    t, stamp = kill_later(p, 0.3)
    st, data, _ = w.recv(lib, ch, cap=64, timeout_ms=15000)
    returned = time.monotonic()
    join_all([t], "killer")
    elapsed = returned - stamp["t"]
    assert_status(lib, st, w.WIPC_E_DISCONNECTED, "recv while the reserving opener is killed")
    assert elapsed < 3
    echo = rel("shm-echo", name)
    st, resp, _ = w.request(lib, ch, 5, b"again", timeout_ms=10000)
    assert_status(lib, st, w.WIPC_OK, "request to the next opener")
    assert resp == b"again"
    lib.wipc_close(ch)
    echo.wait(10)
    report("shm", "fault", "python: opener killed holding a reserved slot; next opener served", "pass", faults=1, messages=1, lost=0)


# ---- msg ----------------------------------------------------------------------------------------------


def test_msg_receiver_killed_in_callback(lib, name, rel):
    p = rel("msg-block", name)
    result = {}

    def send():
        reply = c_int32(0)
        result["st"] = lib.wipc_msg_send(name, 9, b"ping", 4, 20000, byref(reply))
        result["t"] = time.monotonic()

    t = threading.Thread(target=send, name="msg-sender")
    t.start()
    line = p.readline(timeout=10)
    assert line == "INCB 9", line
    killed = time.monotonic()
    p.kill()
    join_all([t], "msg sender")
    assert result["st"] == w.WIPC_E_DISCONNECTED, w.status_name(lib, result["st"])
    assert result["t"] - killed < 5
    ep = w.handle()
    w.check(lib, lib.wipc_msg_listen(name, None, byref(ep)))
    reply = c_int32(-1)
    w.check(lib, lib.wipc_msg_send(name, 1, b"x", 1, 5000, byref(reply)))
    lib.wipc_close(ep)
    report("msg", "fault", "python: receiver killed inside its callback; sender gets DISCONNECTED", "pass", faults=1)


# ---- close racing blocked calls -------------------------------------------------------------------------


def test_close_races_blocked_python_threads(lib, name, rel):
    """8 Python threads blocked in wipc_recv / wipc_request / wipc_send on one connection whose peer
    never reads; another thread closes the handle: every blocked call returns CLOSED (or DISCONNECTED
    when the peer is killed first), none hangs. 10 rounds, alternating close and kill."""
    srv = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, byref(srv)))
    rounds = max(4, int(10 * SCALE))
    for r in range(rounds):
        p = rel("pipe-hold", name)
        c = w.handle()
        w.check(lib, lib.wipc_pipe_accept(srv, 10000, byref(c)))
        big = b"z" * (4 << 20)
        results = []

        def blocked(kind):
            if kind == 0:
                st, _, _ = w.recv(lib, c, cap=16, timeout_ms=20000)
            elif kind == 1:
                st, _, _ = w.request(lib, c, 1, b"q", cap=16, timeout_ms=20000)
            else:
                st = lib.wipc_send(c, 1, big, len(big), 20000)
            results.append((kind, st))

        threads = [threading.Thread(target=blocked, args=(i % 3,), name=f"blocked{i}") for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        if r % 2 == 0:
            lib.wipc_close(c)
            allowed = {w.WIPC_E_CLOSED, w.WIPC_OK}   # a send may have completed before the close
        else:
            p.kill()
            allowed = {w.WIPC_E_DISCONNECTED, w.WIPC_OK}
        join_all(threads, "calls blocked on a closing / dying connection")
        bad = [(k, w.STATUS_NAMES.get(s, s)) for k, s in results if s not in allowed]
        assert not bad, f"round {r}: {bad}"
        if r % 2:
            lib.wipc_close(c)
        p.kill()
    lib.wipc_close(srv)
    report("pipe", "fault", "python: close / kill while 8 threads block in recv, request and send", "pass", faults=rounds)
