"""The `wipc` command-line tool (tools/), run as a program: help, usage errors (exit 2, one line),
transport errors (exit 1, status name + last error), and listen/send/request/broadcast/list/info
over pipe, shm and msg.

The tool is $WIPC_CLI, else <dir of $WIPC_LIBRARY>/wipc (build/linux/wipc by default).
"""
import json
import os
import re
import struct
import time
import signal
import subprocess
import sys

import ctypes

import pytest

import wipc_ctypes as w
from conftest import Peer, cli_path, posix_endpoint_path

CLI = cli_path()
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
    (("send", "pipe://x", "-t"), "unknown option -t"),
    (("send", "pipe://x", "a", "--timeout=soon"), "--timeout takes a number"),
    (("send", "pipe://x", "a", "--timeout="), "--timeout takes a number"),
    (("listen", "pipe://x", "--quiet=1"), "--quiet takes no value"),
    (("listen", "pipe://x", "--raw", "--json"), "exclude each other"),
    (("send", "pipe://x", "--", "a", "b"), "unexpected argument 'b'"),
    (("send", "pipe://x", "--", "--file", "f"), "unexpected argument 'f'"),
    (("cat", "msg://x"), "does not take msg://"),
    (("cat", "pipe://x", "--file", "f"), "does not take --file"),
    (("bench", "tcp"), "bench takes pipe, shm or msg"),
    (("bench", "pipe", "--size", "0"), "--size takes a number"),
    (("--bogus",), "unknown command"),
    (("stat",), "needs an endpoint NAME or URI"),
    (("stat", "tcp://x"), "not an endpoint URI"),
    (("top", "--interval", "10"), "--interval takes a number"),
    (("top", "a", "b"), "unexpected argument 'b'"),
    (("ls", "--raw"), "does not take --raw"),
])
def test_usage_errors_exit_2_with_one_line(args, reason):
    assert reason in usage_error(*args)


@pytest.mark.parametrize("transport,status", [(t, "WIPC_E_NOT_FOUND") for t in TRANSPORTS])
def test_transport_error_exit_4_not_found_with_status_and_last_error(name, transport, status):
    code, out, err = wipc("request", f"{transport}://{name.decode()}", "hi", "--timeout", "100")
    assert code == 4 and out == ""
    assert err.startswith("wipc: ") and status in err and name.decode() in err and err.count("\n") == 1, err


def test_version():
    code, out, _ = wipc("--version")
    assert code == 0 and re.fullmatch(r"wipc \d+\.\d+\.\d+ \(library \d+\.\d+\.\d+, ABI 1\)\n", out), out


def test_info():
    code, out, _ = wipc("info")
    assert code == 0 and out.startswith("wipc 1.") and "(ABI 1" in out
    for t in TRANSPORTS:
        assert re.search(rf"^  {t} +(available|not available in this build)", out, re.M), out
    code, out, _ = wipc("info", "--json")
    info = json.loads(out)
    assert code == 0 and set(info["transports"]) == set(TRANSPORTS) and info["abi"] == 1


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
    assert code == 3 and "WIPC_E_TIMEOUT" in err


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
    assert wipc("listen", uri, "--timeout", "50")[0] == 3   # the name is free again: WIPC_E_TIMEOUT, not ADDR_IN_USE


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
    assert (code, out, err) == (5, "", "wipc: remote error 1: it broke\n")
    quiet = f"{uri}-quiet"
    listen(quiet, "--reply", "none", "--quiet")
    code, out, err = wipc("request", quiet, "hello?", "--timeout", "200")
    assert code == 3 and out == "" and "WIPC_E_TIMEOUT" in err and err.count("\n") == 1, err


# ---- shell habits: --opt=value, -, --, --raw, --json, whole messages, exit codes ------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_opt_equals_stdin_and_double_dash(name, listen, transport):
    uri = f"{transport}://{name.decode()}"
    srv = listen(uri, "--reply=upper")
    p = subprocess.run([CLI, "send", uri, "--type=9", "--file", "-"], input=b"from stdin", capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert wipc("send", uri, "--timeout=3000", "--", "-t")[0] == 0
    text = read_until(srv, [r' type=9 size=10 pid=\d+ "from stdin"$', r' type=0 size=2 pid=\d+ "-t"$'])
    assert "error" not in text
    if transport != "msg":
        code, out, _ = wipc("request", uri, "--", "-x")
        assert code == 0 and out == "-X\n"


def read_until(srv, patterns, timeout=10):
    text = ""
    while not all(re.search(e, text, re.M) for e in patterns):
        line = srv.readline(timeout)
        assert line is not None, f"listen printed only:\n{text}"
        text += line + "\n"
    return text


@pytest.mark.parametrize("transport", ("pipe", "shm"))
def test_listen_prints_whole_messages_and_a_leaving_client_is_no_error(name, listen, transport):
    uri = f"{transport}://{name.decode()}"
    srv = listen(uri)
    big = "x" * 5000 + "END"
    assert wipc("send", uri, big)[0] == 0
    text = read_until(srv, [rf'size=5003 pid=\d+ "{big}"$', r"disconnected pid=\d+$"])
    assert "error" not in text and "WIPC_E_" not in text, text


def test_listen_json_and_raw(name, listen):
    uri = f"pipe://{name.decode()}"
    proc = subprocess.Popen([CLI, "listen", uri, "--json", "--count", "2"], stdout=subprocess.PIPE, text=True)
    peer = Peer(proc)
    first = json.loads(peer.readline(10))
    assert first == {"listening": uri, "pid": proc.pid}
    assert wipc("send", uri, "--type", "4", 'a "q"\n')[0] == 0
    assert subprocess.run([CLI, "send", uri, "--file", "-"], input=bytes([0, 255]), timeout=30).returncode == 0
    seen = []
    while len([x for x in seen if "size" in x]) < 2:
        line = peer.readline(10)
        assert line is not None, seen
        seen.append(json.loads(line))
    msgs = [x for x in seen if "size" in x]
    assert msgs[0]["type"] == 4 and msgs[0]["text"] == 'a "q"\n' and msgs[0]["request"] is False
    assert msgs[1]["hex"] == "00ff" and msgs[1]["size"] == 2
    assert proc.wait(10) == 0
    proc.stdout.close()
    raw_uri = f"shm://{name.decode()}r"
    proc = subprocess.Popen([CLI, "listen", raw_uri, "--raw", "--count", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stderr.readline().startswith(b"listening on")
    payload = bytes(range(256)) * 3
    assert subprocess.run([CLI, "send", raw_uri, "--file", "-"], input=payload, timeout=30).returncode == 0
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out == payload


@pytest.mark.parametrize("transport", ("pipe", "shm"))
def test_request_raw_and_json(name, listen, transport):
    uri = f"{transport}://{name.decode()}"
    listen(uri, "--quiet")
    payload = b"line1\nline2\x00\xff\xfe"
    p = subprocess.run([CLI, "request", uri, "--raw", "--file", "-"], input=payload, capture_output=True, timeout=30)
    assert p.returncode == 0 and p.stdout == payload
    code, out, _ = wipc("request", uri, "--json", "hi\tthere")
    assert code == 0 and json.loads(out) == {"size": 8, "text": "hi\tthere"}
    code, out, _ = wipc("request", "msg://" + name.decode() + "-none", "--json", "x", "--timeout", "100")
    assert code == 4 and out == ""


def test_exit_code_timeout_is_3(name):
    code, _, err = wipc("listen", f"pipe://{name.decode()}", "--timeout", "50")
    assert code == 3 and "WIPC_E_TIMEOUT" in err


# ---- cat ------------------------------------------------------------------------------------------------

@pytest.fixture
def echo_server(lib, name):
    """A pipe server in this (Python) process answering each request with its bytes reversed."""
    def on_message(h, m, user):
        data = ctypes.string_at(m.contents.data, m.contents.size)[::-1] if m.contents.size else b""
        if m.contents.request_id:
            lib.wipc_reply(h, m.contents.request_id, m.contents.type, data, len(data))
        return 0

    cb = w.MESSAGE_CB(on_message)
    h = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, ctypes.byref(h)))
    w.check(lib, lib.wipc_set_callbacks(h, cb, None, None))
    yield f"pipe://{name.decode()}"
    w.check(lib, lib.wipc_close(h))


def test_cat_round_trips_10000_lines_through_a_python_echo_server(echo_server):
    lines = [f"line {i} " + "y" * (i % 50) for i in range(10000)]
    p = subprocess.run([CLI, "cat", echo_server], input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:-1] == [x[::-1] for x in lines]


def test_cat_records(echo_server):
    recs = [b"", b"\n\x00binary\r\n", bytes(range(256)) * 40]
    data = b"".join(struct.pack("<I", len(r)) + r for r in recs)
    p = subprocess.run([CLI, "cat", echo_server, "--records"], input=data, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"".join(struct.pack("<I", len(r)) + r[::-1] for r in recs)
    p = subprocess.run([CLI, "cat", echo_server, "--records"], input=b"\x05\x00\x00\x00ab", capture_output=True,
                       timeout=60)
    assert p.returncode == 2 and b"truncated" in p.stderr


def test_cat_oneway(name, listen):
    uri = f"shm://{name.decode()}"
    srv = listen(uri)
    p = subprocess.run([CLI, "cat", uri, "--oneway", "--type=3"], input=b"one\ntwo\n", capture_output=True, timeout=30)
    assert p.returncode == 0 and p.stdout == b""
    read_until(srv, [r'type=3 size=3 pid=\d+ "one"$', r'type=3 size=3 pid=\d+ "two"$'])


# ---- bench ----------------------------------------------------------------------------------------------

def test_bench_one_transport_and_json():
    code, out, err = wipc("bench", "shm", "--count", "50", "--size", "4096", timeout=120)
    assert code == 0, err
    assert re.search(r"^shm +[\d.]+ +[\d.]+ +\d+ +[\d.]+$", out, re.M) and "|#" in out, out
    code, out, err = wipc("bench", "--count=20", "--size=1024", "--json", timeout=120)
    assert code == 0, err
    rows = json.loads(out)
    assert [r["transport"] for r in rows] == list(TRANSPORTS)
    assert all(r["rtt_p50_us"] > 0 and r["msgs_per_s"] > 0 for r in rows)


# ---- ls -------------------------------------------------------------------------------------------------

def test_ls_text_and_json(name, listen):
    n = name.decode()
    srv = {t: listen(f"{t}://{n}", "--quiet") for t in TRANSPORTS}
    code, out, _ = wipc("ls", "--json", n)
    assert code == 0
    rows = json.loads(out)
    assert [(r["transport"], r["kind"], r["name"], r["pid"]) for r in rows] == [
        ("pipe", "server", n, srv["pipe"].pid), ("shm", "channel", n, srv["shm"].pid), ("msg", "receiver", n, srv["msg"].pid)]
    code, out, _ = wipc("ls", f"shm://{n}")
    assert code == 0 and re.fullmatch(rf"TRANS +KIND +PID +AGE +NAME\nshm +channel +{srv['shm'].pid} +\d+s +{n}\n", out), out
    assert wipc("ls", "nobody-has-this-prefix") == (0, "", "")
    code, _, err = wipc("ls", "bad/name")
    assert code == 1 and "WIPC_E_INVALID_ARG" in err


# ---- connecting to a name nobody serves (1.1): NOT_FOUND at once, unless --wait -----------------------

def test_not_found_at_once_without_wait(lib, name):
    """The library call: median of 5 connects to a name nobody serves, timeout 5 s, is under 50 ms
    (1.0 waited the whole timeout); with WIPC_PIPE_WAIT_FOR_SERVER it waits for a server to appear."""
    took = []
    for _ in range(5):
        h = w.handle()
        t0 = time.monotonic()
        assert lib.wipc_pipe_connect(name, None, 5000, ctypes.byref(h)) == w.WIPC_E_NOT_FOUND
        took.append(time.monotonic() - t0)
    assert sorted(took)[2] < 0.05, took
    o = w.pipe_options(lib, flags=w.WIPC_PIPE_WAIT_FOR_SERVER)
    t0 = time.monotonic()
    assert lib.wipc_pipe_connect(name, ctypes.byref(o), 300, ctypes.byref(h)) == w.WIPC_E_NOT_FOUND
    assert time.monotonic() - t0 >= 0.25
    code, out, err = wipc("send", f"pipe://{name.decode()}", "x")
    assert code == 4 and "WIPC_E_NOT_FOUND" in err


def test_wait_for_a_server_that_starts_later(name):
    uri = f"pipe://{name.decode()}"
    client = subprocess.Popen([CLI, "request", uri, "late", "--wait", "--timeout=20000"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert client.poll() is None, "gave up before the server came"
    srv = subprocess.Popen([CLI, "listen", uri, "--quiet", "--count", "1"], stdout=subprocess.DEVNULL)
    try:
        out, err = client.communicate(timeout=30)
        assert client.returncode == 0 and out == "late\n", err
    finally:
        srv.wait(10)
    assert wipc("cat", uri, "--wait", "--timeout", "200")[0] == 4   # waited, nobody came: not found


# ---- foreign pipe peers: listen / send --raw and --length-prefix ----------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="the foreign peer is an AF_UNIX socket")
def test_listen_and_send_length_prefix_and_raw(tmp_path):
    import socket
    path = str(tmp_path / "lp.sock")
    proc = subprocess.Popen([CLI, "listen", "pipe://" + path, "--length-prefix", "--reply", "upper", "--count", "3",
                             "--json"], stdout=subprocess.PIPE)
    assert json.loads(proc.stdout.readline())["listening"] == "pipe://" + path
    with socket.socket(socket.AF_UNIX) as s:   # a foreign client: length, then payload, in two writes
        s.connect(path)
        for text in (b"hello", b""):
            s.sendall(struct.pack("<I", len(text)))
            s.sendall(text)
            hdr = b""
            while len(hdr) < 4:
                hdr += s.recv(4 - len(hdr))
            (n,) = struct.unpack("<I", hdr)
            body = b""
            while len(body) < n:
                body += s.recv(n - len(body))
            assert body == text.upper()
    assert wipc("send", "pipe://" + path, "--length-prefix", "from wipc send")[0] == 0
    out, _ = proc.communicate(timeout=10)
    msgs = [json.loads(x) for x in out.decode().splitlines() if '"size"' in x]
    assert [(m["size"], m.get("text")) for m in msgs] == [(5, "hello"), (0, ""), (14, "from wipc send")]
    # --raw: a RAW pipe, the payload bytes alone on stdout
    raw = str(tmp_path / "raw.sock")
    proc = subprocess.Popen([CLI, "listen", "pipe://" + raw, "--raw", "--count", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stderr.readline().startswith(b"listening on")
    assert wipc("send", "pipe://" + raw, "--raw", "plain bytes")[0] == 0
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out == b"plain bytes"
    assert wipc("send", "shm://x", "--raw", "a")[0] == 2 and wipc("listen", "shm://x", "--length-prefix")[0] == 2


@pytest.mark.skipif(sys.platform == "win32", reason="the foreign peers are POSIX seqpacket sockets")
def test_msg_raw_listen_and_send(name, tmp_path):
    """`listen msg:// --raw` takes a plain (headerless) packet from a non-wipc sender and
    answers the byte sum as a plain number; `send --raw msg://NAME` and `send msg://path:SOCK` send
    plain packets and print the answer."""
    import socket
    import threading
    n = name.decode()
    proc = subprocess.Popen([CLI, "listen", f"msg://{n}", "--raw", "--count", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert proc.stderr.readline().decode().startswith(f"listening on msg://{n}")   # --raw: on stderr
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(15)
        s.connect(posix_endpoint_path("msg", n))
        s.send(struct.pack("<II", 3, 0) + b"AB")
        assert struct.unpack("<q", s.recv(64))[0] == 65 + 66      # the reply, not a wipc reply word
        s.close()
        code, out, err = wipc("send", "--raw", f"msg://{n}", "hi")
        assert (code, out) == (0, "209\n"), err
        out, _ = proc.communicate(timeout=15)
        assert out == b"ABhi"                                      # --raw prints the bytes as they are
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    path = str(tmp_path / "plain.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(1)
    got = []

    def serve():
        c, _ = srv.accept()
        c.settimeout(15)
        pkt = c.recv(1024)
        got.append(pkt)
        c.send(struct.pack("<q", -42))
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    code, out, err = wipc("send", "--type", "7", f"msg://path:{path}", "plain")
    t.join(15)
    srv.close()
    assert (code, out) == (0, "-42\n"), err
    assert got == [struct.pack("<II", 7, 0) + b"plain"]       # no wipc header
