"""The `wipc` command-line tool (tools/), run as a program: help, usage errors (exit 2, one line),
transport errors (exit 1, status name + last error), and listen/send/request/broadcast/list/info
over pipe, shm and msg.

The tool is $WIPC_CLI, else <dir of $WIPC_LIBRARY>/wipc (build/linux/wipc by default).
"""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import wipc_ctypes as w
from conftest import Peer, posix_endpoint_path

CLI = os.environ.get("WIPC_CLI") or str(Path(w.default_library_path()).parent / "wipc")
TRANSPORTS = ("pipe", "shm", "msg")


@pytest.fixture(scope="module", autouse=True)
def cli_built():
    if not os.access(CLI, os.X_OK):
        pytest.fail(f"the wipc tool {CLI} is not built (cmake --build build/linux)")


def wipc(*args, timeout=30):
    p = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def listen(request):
    """listen(uri, *options) -> Peer running `wipc listen`, after its "listening on" line."""
    procs = []

    def start(uri, *options):
        proc = subprocess.Popen([CLI, "listen", uri, *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        peer = Peer(proc)
        procs.append(peer)
        line = peer.readline(10)
        assert line and line.startswith(f"listening on {uri} (pid {proc.pid})"), line
        return peer

    yield start
    for p in procs:
        p.proc.terminate()   # SIGTERM: the listener closes its endpoint (no socket file / shm object left)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
        p.proc.stdout.close()
        p.proc.stderr.close()


def usage_error(*args):
    code, out, err = wipc(*args)
    assert code == 2, (args, code, out, err)
    assert err.startswith("wipc: ") and err.count("\n") == 1, err
    return err


# ---- help and usage -----------------------------------------------------------------------------------

def test_help():
    code, out, _ = wipc("--help")
    assert code == 0
    for cmd in ("listen", "send", "request", "broadcast", "list", "info"):
        assert f"wipc {cmd}" in out
        code, one, _ = wipc(cmd, "--help")
        assert code == 0 and one.startswith(f"wipc {cmd}") and one.count("wipc ") <= 3
        assert wipc("help", cmd)[1] == one


@pytest.mark.parametrize("args,reason", [
    ((), "no command"),
    (("fly",), "unknown command"),
    (("send",), "needs an endpoint URI"),
    (("send", "pipe://x"), "TEXT or --file"),
    (("send", "pipe://x", "a", "--file", "f"), "TEXT or --file"),
    (("send", "tcp://x", "a"), "not an endpoint URI"),
    (("send", "pipe://", "a"), "has no name"),
    (("list", "pipe://x"), "does not take pipe://"),
    (("broadcast", "shm://x", "a"), "does not take shm://"),
    (("listen", "pipe://x", "--type", "3"), "does not take --type"),
    (("request", "pipe://x", "a", "--count", "0"), "--count takes a number"),
    (("request", "pipe://x", "a", "--timeout", "soon"), "--timeout takes a number"),
    (("listen", "pipe://x", "--reply", "shout"), "--reply takes"),
    (("send", "pipe://x", "a", "--bogus"), "unknown option --bogus"),
    (("send", "pipe://x", "a", "b"), "unexpected argument 'b'"),
    (("send", "pipe://x", "--type"), "--type needs a value"),
    (("send", "pipe://x", "--file", "/nonexistent/f"), "cannot open /nonexistent/f"),
    (("info", "extra"), "unexpected argument"),
])
def test_usage_errors_exit_2_with_one_line(args, reason):
    assert reason in usage_error(*args)


@pytest.mark.parametrize("transport,status", [(t, "WIPC_E_NOT_FOUND") for t in TRANSPORTS])
def test_transport_error_exit_1_with_status_and_last_error(name, transport, status):
    code, out, err = wipc("request", f"{transport}://{name.decode()}", "hi", "--timeout", "100")
    assert code == 1 and out == ""
    assert err.startswith("wipc: ") and status in err and name.decode() in err and err.count("\n") == 1, err


def test_info():
    code, out, _ = wipc("info")
    assert code == 0 and out.startswith("wipc 1.1.0 (ABI 1")
    for t in TRANSPORTS:
        assert re.search(rf"^  {t} +(available|not available in this build)", out, re.M), out


# ---- talking to a listener --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_listen_send_request(name, listen, transport, tmp_path):
    uri = f"{transport}://{name.decode()}"
    srv = listen(uri, "--reply", "upper")
    assert wipc("send", uri, "--type", "7", "hello there")[0] == 0
    code, out, err = wipc("request", uri, "ping")
    assert code == 0, err
    assert out == ("PING\n" if transport != "msg" else f"{sum(b'ping')}\n")
    f = tmp_path / "blob"
    f.write_bytes(bytes([0, 1, 2, 255]))
    code, out, _ = wipc("request", uri, "--file", f)
    assert code == 0 and out == ("000102ff\n" if transport != "msg" else "258\n")
    expected = [r'^\d\d:\d\d:\d\d\.\d{3} type=7 size=11 pid=\d+ "hello there"$',
                r' type=0 size=4 pid=[1-9]\d*( request)? "ping"$', r" type=0 size=4 pid=\d+( request)? 000102ff$"]
    text = ""
    while not all(re.search(e, text, re.M) for e in expected):
        line = srv.readline(10)
        assert line is not None, f"listen printed only:\n{text}"
        text += line + "\n"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_request_count_and_expect(name, listen, transport):
    uri = f"{transport}://{name.decode()}"
    listen(uri, "--reply", "upper", "--quiet")
    want = "ABC" if transport != "msg" else str(sum(b"abc"))
    code, out, err = wipc("request", uri, "abc", "--count", "200", "--expect", want)
    assert code == 0, err
    assert re.fullmatch(r"200 requests of 3 bytes: round trip p50 [\d.]+ us, p99 [\d.]+ us\n", out), out
    code, out, err = wipc("request", uri, "abc", "--expect", "nope")
    assert code == 1 and "does not match --expect" in err


def test_listen_count_and_timeout(name):
    uri = f"pipe://{name.decode()}"
    proc = subprocess.Popen([CLI, "listen", uri, "--count", "2", "--quiet"], stdout=subprocess.PIPE, text=True)
    assert Peer(proc).readline(10).startswith("listening on")
    assert wipc("send", uri, "1")[0] == 0 and wipc("send", uri, "2")[0] == 0
    assert proc.wait(10) == 0
    proc.stdout.close()
    code, out, err = wipc("listen", f"msg://{name.decode()}", "--timeout", "200")
    assert code == 1 and "WIPC_E_TIMEOUT" in err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX names: socket files and /dev/shm objects")
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_listen_stopped_by_signal_leaves_nothing_behind(name, transport, sig):
    uri = f"{transport}://{name.decode()}"
    path = posix_endpoint_path(transport, name.decode())
    proc = subprocess.Popen([CLI, "listen", uri, "--quiet"], stdout=subprocess.PIPE, text=True)
    assert Peer(proc).readline(10).startswith("listening on")
    assert os.path.exists(path), path
    proc.send_signal(sig)
    assert proc.wait(10) == 0
    proc.stdout.close()
    assert not os.path.exists(path), f"{path} left behind by a listener stopped with {sig.name}"
    assert not os.path.exists(path + ".lock")
    assert wipc("listen", uri, "--timeout", "50")[0] == 1   # the name is free again: WIPC_E_TIMEOUT, not ADDR_IN_USE


def test_listen_twice_is_a_transport_error(name, listen):
    uri = f"pipe://{name.decode()}"
    listen(uri)
    code, _, err = wipc("listen", uri)
    assert code == 1 and "WIPC_E_ADDR_IN_USE" in err


def test_msg_list_and_broadcast(make_name, listen):
    a, b = make_name("a").decode(), make_name("b").decode()
    prefix = os.path.commonprefix([a, b])
    listen(f"msg://{a}", "--quiet")
    listen(f"msg://{b}", "--quiet")
    code, out, _ = wipc("list", f"msg://{prefix}")
    assert code == 0 and sorted(out.split()) == sorted([a, b])
    code, out, _ = wipc("broadcast", f"msg://{prefix}", "to all")
    assert code == 0 and out == "delivered to 2 receivers\n"
    assert wipc("list", "msg://no-such-prefix-at-all")[1] == ""


@pytest.mark.parametrize("transport", ["pipe"])
def test_request_remote_error_and_timeout_have_their_own_exit_codes(name, listen, transport):
    uri = f"{transport}://{name.decode()}"
    listen(uri, "--reply", "error", "--quiet")
    code, out, err = wipc("request", uri, "it broke")
    assert (code, out, err) == (4, "", "wipc: remote error 1: it broke\n")
    quiet = f"{uri}-quiet"
    listen(quiet, "--reply", "none", "--quiet")
    code, out, err = wipc("request", quiet, "hello?", "--timeout", "200")
    assert code == 3 and out == "" and "WIPC_E_TIMEOUT" in err and err.count("\n") == 1, err
