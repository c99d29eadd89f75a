"""wipc_stat (ABI 1.1): counters every endpoint publishes in its stats section, read from another
process without the owner's cooperation: right after N messages (C peers: the wipc tool; Python peers:
ctypes), per-connection slots folded when connections end, gone when the owner is killed or closes,
WIPC_*_NO_STATS, and the section as untrusted input (a corrupt section is WIPC_E_PROTOCOL)."""
import os
import re
import subprocess
import sys
import textwrap
import time
from ctypes import byref

import pytest

import wipc_ctypes as w
from conftest import Peer
from test_cli import CLI, wipc

TRANSPORT = {"pipe": w.WIPC_TRANSPORT_PIPE, "shm": w.WIPC_TRANSPORT_SHM, "msg": w.WIPC_TRANSPORT_MSG}


def stat_status(lib, name, transport=0):
    s = w.Stats.new()
    return lib.wipc_stat(name, transport, byref(s)), s


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.parametrize("transport", ["pipe", "shm", "msg"])
def test_counters_of_a_c_endpoint_after_n_messages_then_gone_when_killed(lib, name, cli_listener, transport):
    n = name.decode()
    t0 = time.time()
    proc = cli_listener(f"{transport}://{n}")
    s = w.stat(lib, name, TRANSPORT[transport])
    assert (s.owner_pid, s.transport, s.name) == (proc.pid, TRANSPORT[transport], name)
    assert s.messages_received == 0 and abs(s.created_unix_ms / 1000 - t0) < 60
    assert w.stat(lib, name).transport == TRANSPORT[transport]   # transport 0: the first found
    if transport == "msg":
        code, _, err = wipc("request", f"msg://{n}", "abcd", "--count", "25")
        assert code == 0, err
        want = dict(messages_received=25, bytes_received=100, messages_sent=0)
    else:
        code, _, err = wipc("request", f"{transport}://{n}", "abcd", "--count", "25")   # 25 requests, 25 replies
        assert code == 0, err
        assert wipc("send", f"{transport}://{n}", "x" * 1000)[0] == 0
        want = dict(messages_received=26, bytes_received=1100, messages_sent=25, bytes_sent=100)
    assert wait_for(lambda: w.stat(lib, name).messages_received == want["messages_received"]), w.stat(lib, name).messages_received
    s = w.stat(lib, name)
    for field, value in want.items():
        assert getattr(s, field) == value, field
    assert s.last_activity_unix_ms >= s.created_unix_ms and s.errors == 0 and s.queue_depth == 0
    if transport == "pipe":
        assert s.connections_total == 2 and wait_for(lambda: w.stat(lib, name).connections == 0)
    if transport == "shm":
        assert s.connections_total >= 1
    proc.kill()
    proc.wait(10)
    assert wait_for(lambda: stat_status(lib, name)[0] == w.WIPC_E_NOT_FOUND)


PY_SERVER = textwrap.dedent("""
    import sys, ctypes
    sys.path.insert(0, {tests!r})
    import wipc_ctypes as w
    lib = w.load()
    name = sys.argv[1].encode()
    h, q, conns = w.handle(), w.handle(), []
    w.check(lib, lib.wipc_pipe_listen(name, None, ctypes.byref(h)))
    w.check(lib, lib.wipc_msg_listen(name, None, ctypes.byref(q)))   # queue mode: nothing takes the messages
    print("READY", flush=True)
    for line in sys.stdin:                      # "N": accept one connection, read N messages, keep it open
        c = w.handle()
        w.check(lib, lib.wipc_pipe_accept(h, 10000, ctypes.byref(c)))
        for _ in range(int(line)):
            w.recv(lib, c)
        conns.append(c)
        print("DONE", flush=True)
""")


def test_python_server_live_connections_and_queue_depth(lib, name):
    """A Python server: per-connection slots (live and ended), and a msg receiver whose queue fills."""
    script = PY_SERVER.format(tests=os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-c", script, name.decode()], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    peer = Peer(proc)
    clients = []
    try:
        assert peer.readline(20) == "READY"
        for i in range(3):
            c = w.handle()
            w.check(lib, lib.wipc_pipe_connect(name, None, 5000, byref(c)))
            clients.append(c)
            for k in range(i + 1):
                w.check(lib, lib.wipc_send(c, 1, b"12345678", 8, 5000))
            proc.stdin.write(b"%d\n" % (i + 1))
            proc.stdin.flush()
            assert peer.readline(20) == "DONE"
        s = w.stat(lib, name, w.WIPC_TRANSPORT_PIPE)
        assert (s.connections, s.connections_total, s.messages_received, s.bytes_received) == (3, 3, 6, 48)
        lib.wipc_close(clients.pop(0))
        assert wait_for(lambda: w.stat(lib, name, w.WIPC_TRANSPORT_PIPE).connections == 2)
        s = w.stat(lib, name, w.WIPC_TRANSPORT_PIPE)   # the ended connection's counters stay in the totals
        assert (s.messages_received, s.bytes_received, s.connections_total) == (6, 48, 3)
        for i in range(5):
            w.check(lib, lib.wipc_msg_send(name, 0, b"q", 1, 5000, None))
        s = w.stat(lib, name, w.WIPC_TRANSPORT_MSG)
        assert (s.queue_depth, s.messages_received, s.owner_pid) == (5, 5, proc.pid)
    finally:
        for c in clients:
            lib.wipc_close(c)
        proc.kill()
        proc.wait(10)
        proc.stdin.close()
        proc.stdout.close()


def test_no_stats_flags_and_close(lib, name):
    o = w.pipe_options(lib, flags=w.WIPC_PIPE_NO_STATS)
    h = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, byref(o), byref(h)))
    assert stat_status(lib, name)[0] == w.WIPC_E_NOT_FOUND
    assert (w.WIPC_TRANSPORT_PIPE, name) in {(e.transport, e.name) for e in w.list_endpoints(lib, 0, name)}
    w.check(lib, lib.wipc_close(h))
    so = w.ShmOptions()
    lib.wipc_shm_options_init(byref(so))
    so.flags = w.WIPC_SHM_NO_STATS
    w.check(lib, lib.wipc_shm_create(name, byref(so), byref(h)))
    assert stat_status(lib, name, w.WIPC_TRANSPORT_SHM)[0] == w.WIPC_E_NOT_FOUND
    w.check(lib, lib.wipc_close(h))
    mo = w.MsgOptions()
    lib.wipc_msg_options_init(byref(mo))
    mo.flags = w.WIPC_MSG_NO_STATS
    w.check(lib, lib.wipc_msg_listen(name, byref(mo), byref(h)))
    assert stat_status(lib, name)[0] == w.WIPC_E_NOT_FOUND
    w.check(lib, lib.wipc_close(h))
    # published, then closed: gone at once
    w.check(lib, lib.wipc_msg_listen(name, None, byref(h)))
    assert w.stat(lib, name).owner_pid == os.getpid()
    w.check(lib, lib.wipc_close(h))
    assert stat_status(lib, name)[0] == w.WIPC_E_NOT_FOUND


def test_bad_arguments(lib):
    s = w.Stats.new()
    assert lib.wipc_stat(None, 0, byref(s)) == w.WIPC_E_INVALID_ARG
    assert lib.wipc_stat(b"a/b", 0, byref(s)) == w.WIPC_E_INVALID_ARG
    assert lib.wipc_stat(b"x", 4, byref(s)) == w.WIPC_E_INVALID_ARG
    assert lib.wipc_stat(b"x", 0, None) == w.WIPC_E_INVALID_ARG
    s.struct_size = 4
    assert lib.wipc_stat(b"x", 0, byref(s)) == w.WIPC_E_INVALID_ARG


@pytest.mark.skipif(sys.platform == "win32", reason="writes a POSIX /dev/shm object by hand")
@pytest.mark.parametrize("corrupt,status", [
    (lambda b: b, w.WIPC_OK),
    (lambda b: b[:100], w.WIPC_E_PROTOCOL),                                   # truncated
    (lambda b: b"XXXX" + b[4:], w.WIPC_E_PROTOCOL),                           # magic
    (lambda b: b[:12] + (7).to_bytes(4, "little") + b[16:], w.WIPC_E_PROTOCOL),   # slot count
    (lambda b: b[:48] + b"A" * 136 + b[184:], w.WIPC_E_PROTOCOL),             # name not terminated
    (lambda b: b[:512 + 64 + 32] + (5).to_bytes(4, "little") + b[512 + 64 + 36:], w.WIPC_E_PROTOCOL),  # slot flag
    (lambda b: b[:40] + (1).to_bytes(4, "little") + b[44:], w.WIPC_E_NOT_FOUND),   # closed
    (lambda b: bytes(len(b)), w.WIPC_E_NOT_FOUND),                            # being created
])
def test_corrupt_sections_are_refused(lib, name, corrupt, status):
    """A copy of a live section, altered, published under another name by hand."""
    h = w.handle()
    w.check(lib, lib.wipc_msg_listen(name, None, byref(h)))
    try:
        src = f"/dev/shm/wipc-{os.geteuid()}-st-m-{name.decode()}"
        data = bytearray(open(src, "rb").read())
        fake = name + b"f"
        data[48:48 + 136] = fake.ljust(136, b"\0")
        dst = f"/dev/shm/wipc-{os.geteuid()}-st-m-{fake.decode()}"
        with open(dst, "wb") as f:
            os.chmod(dst, 0o600)
            f.write(corrupt(bytes(data)))
        try:
            st, s = stat_status(lib, fake)
            assert st == status, w.status_name(lib, st)
            if st == w.WIPC_OK:
                assert s.owner_pid == os.getpid() and s.name == fake
        finally:
            os.unlink(dst)
    finally:
        lib.wipc_close(h)


# ---- the CLI: stat, top -----------------------------------------------------------------------------------

def test_cli_stat(name, cli_listener):
    n = name.decode()
    proc = cli_listener(f"pipe://{n}")
    assert wipc("request", f"pipe://{n}", "hello", "--count", "7")[0] == 0
    code, out, err = wipc("stat", n, "--json")
    assert code == 0, err
    import json
    s = json.loads(out)
    assert (s["transport"], s["kind"], s["pid"], s["messages_received"], s["bytes_sent"], s["connections_total"]) == \
        ("pipe", "server", proc.pid, 7, 35, 1)
    code, out, _ = wipc("stat", f"pipe://{n}")
    assert code == 0 and f"pipe://{n}  (server, pid {proc.pid})" in out and "received 7, sent 7" in out
    assert wipc("stat", f"shm://{n}")[0] == 4            # not found: exit 4
    assert wipc("stat")[0] == 2


def tmux(sock, *args):
    # without LD_PRELOAD: under the reliability suite's sanitizer runs, a preloaded runtime in tmux's
    # server (not an instrumented program) left the pane empty; the CLI in it is instrumented itself
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True, timeout=30, env=env)


@pytest.mark.skipif(sys.platform == "win32" or not __import__("shutil").which("tmux"), reason="needs tmux (scripts/deps)")
def test_top_in_a_real_terminal_updates_under_load_and_restores_the_terminal(cli_listener, tmp_path):
    n = f"py-{os.getpid()}-top"   # short: one table row per endpoint
    cli_listener(f"pipe://{n}-busy")
    cli_listener(f"shm://{n}-idle")
    sock = f"wipc-top-{os.getpid()}"
    script = tmp_path / "run.sh"
    script.write_text(f"echo BEFORE-TOP\n{CLI} top {n} --interval 250\necho EXIT=$?\nstty -a | tr ' ' '\\n' | "
                      f"grep -E '^-?(icanon|echo)$' | tr '\\n' ' '\necho\nsleep 60\n")
    load = None
    try:
        assert tmux(sock, "new-session", "-d", "-x", "132", "-y", "30", "sh", str(script)).returncode == 0
        load = subprocess.Popen([CLI, "request", f"pipe://{n}-busy", "ping", "--count", "2000000", "--timeout", "20000"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        screens, end = [], time.monotonic() + 30
        busy = re.compile(rf"^pipe +server +\d+ +1 +\d+ +([\d.]+k?) +\S+ +(\S+) .*{n}-busy$", re.M)
        while time.monotonic() < end:
            screen = tmux(sock, "capture-pane", "-p").stdout
            m = busy.search(screen)
            if m and m.group(1) != "0" and (not screens or screens[-1] != m.group(2)):
                screens.append(m.group(2))   # the busy row's total messages, as it changes
                last_screen = screen
                if len(screens) >= 3:
                    break
            time.sleep(0.2)
        assert len(screens) >= 3, f"the table did not update under load:\n{screen}"
        assert re.search(rf"^shm +channel +\d+ +0 +0 +0 +0 .*{n}-idle$", last_screen, re.M), last_screen
        assert last_screen.index(f"{n}-busy") < last_screen.index(f"{n}-idle"), "busiest first"
        print("\n" + last_screen)
        assert tmux(sock, "send-keys", "q").returncode == 0
        end = time.monotonic() + 10
        while "canon" not in (screen := tmux(sock, "capture-pane", "-p").stdout) and time.monotonic() < end:
            time.sleep(0.1)
        assert "EXIT=0" in screen, screen
        assert "BEFORE-TOP" in screen and "wipc top" not in screen, f"main screen not restored:\n{screen}"
        assert "icanon" in screen.split() and "echo" in screen.split(), f"terminal modes not restored:\n{screen}"
    finally:
        if load:
            load.kill()
            load.wait(10)
        tmux(sock, "kill-server")
