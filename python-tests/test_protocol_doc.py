"""docs/PROTOCOL.md is true and enough.

- Every `constants` block entry of the document equals the value compiled into the library: names
  without a prefix and offsetof()/sizeof() entries come from c-tests/proto_consts.c (wipc_proto_consts,
  built with c-tests), which prints the internal constants of dll/common/core/frame.h, msg_wire.h and
  shm_layout.h; `file:NAME` entries are read from the #define of NAME in dll/<file>. Every constant the
  program prints must be in the document, so a new protocol constant cannot be left out of it.
- The hex examples of the document are well-formed frames.
- A foreign client written from the document alone - a plain AF_UNIX socket, no wipc - does the HELLO
  handshake with a wipc server, sends a request and gets its reply, and gets an ERROR frame from the
  server's wipc_reply_error.
- A framed server that meets a client which does not speak wipc logs a WARN naming the client's pid
  and its first bytes in hex.
"""
import ctypes
import os
import re
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import REPO, helper_program, posix_endpoint_path
import wipc_ctypes as w

DOC = REPO / "docs" / "PROTOCOL.md"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the foreign client speaks to the POSIX backend")


# ---- the document's constants ------------------------------------------------------------------

def doc_blocks(lang, text=None):
    text = DOC.read_text(encoding="utf-8") if text is None else text
    return re.findall(r"^```" + lang + r"\n(.*?)^```", text, re.S | re.M)


def doc_constants(text=None):
    out = {}
    for block in doc_blocks("constants", text):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, value = line.partition("=")
            name, value = name.strip(), value.strip()
            assert name and value, f"PROTOCOL.md: constants line {line!r} is not NAME = value"
            assert name not in out, f"PROTOCOL.md lists {name} twice"
            out[name] = value
    return out


def parse_value(text):
    """A number (C literal, u/ull suffixes, + - * << and parentheses) or a "string"."""
    text = text.strip()
    if text.startswith('"'):
        return text
    expr = re.sub(r"(?<=[0-9a-fA-F])(ull|ul|u|ll|l)\b", "", text, flags=re.I)
    if not re.fullmatch(r"[0-9a-fA-FxX()+*<< \t-]+", expr):
        raise ValueError(f"not a constant expression: {text!r}")
    return int(eval(expr, {"__builtins__": {}}))  # digits and operators only (checked above)


def source_define(relpath, name):
    src = (REPO / "dll" / relpath).read_text(encoding="utf-8")
    src = re.sub(r"\\\n\s*", " ", src)   # a #define continued on the next line (clang-format breaks long ones)
    m = re.search(r"^#\s*define\s+" + re.escape(name) + r"\s+(.+?)\s*(/\*.*)?$", src, re.M)
    assert m, f"dll/{relpath} has no #define {name} (PROTOCOL.md names it)"
    return parse_value(m.group(1))


@pytest.fixture(scope="module")
def compiled():
    exe = helper_program("WIPC_PROTO_CONSTS", "wipc_proto_consts")
    out = subprocess.run([exe], capture_output=True, text=True, timeout=60, check=True).stdout
    values = {}
    for line in out.splitlines():
        name, _, value = line.partition(" = ")
        values[name] = int(value, 0)
    assert len(values) > 50, out
    return values


def mismatches(compiled, doc):
    wrong = []
    for name, text in doc.items():
        want = parse_value(text)
        if ":" in name:
            got = source_define(*name.split(":", 1))
        else:
            assert name in compiled, f"PROTOCOL.md lists {name}, which c-tests/proto_consts.c does not print"
            got = compiled[name]
        if got != want:
            wrong.append(f"{name}: document {text}, code {hex(got) if isinstance(got, int) else got}")
    return wrong


def test_doc_constants_match_the_code(compiled):
    wrong = mismatches(compiled, doc_constants())
    assert not wrong, "docs/PROTOCOL.md disagrees with the code:\n" + "\n".join(wrong)


def test_doc_lists_every_compiled_constant(compiled):
    missing = sorted(set(compiled) - set(doc_constants()))
    assert not missing, f"constants of the code that docs/PROTOCOL.md does not list: {missing}"


def test_doc_checker_catches_a_wrong_value(compiled):
    """The comparison is not vacuous: a document with one changed value (header or source) fails it."""
    real = DOC.read_text(encoding="utf-8")
    for old, new in (("WIPC__FRAME_HEADER = 24", "WIPC__FRAME_HEADER = 32"),
                     ("common/pipe/pipe_bulk.c:BULK_HDR = 4096", "common/pipe/pipe_bulk.c:BULK_HDR = 8192")):
        changed = real.replace(old, new, 1)
        assert changed != real, old
        assert len(mismatches(compiled, doc_constants(changed))) == 1, new


# ---- a codec written from the document -----------------------------------------------------------

MAGIC, VERSION, HEADER = 0x43504957, 1, 24
DATA, REQUEST, REPLY, HELLO, BUSY, BULK, ERROR = 1, 2, 3, 4, 5, 6, 7
HELLO_ERRORS = 0x4


def frame(kind, typ, payload=b"", rid=0):
    return struct.pack("<IBBHIIQ", MAGIC, VERSION, kind, HEADER, typ & 0xFFFFFFFF, len(payload), rid) + payload


def decode_header(h):
    magic, version, kind, hsize, typ, length, rid = struct.unpack("<IBBHIIQ", h)
    assert (magic, version, hsize) == (MAGIC, VERSION, HEADER), h.hex()
    return kind, typ, length, rid


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, f"the server closed the connection after {len(buf)} of {n} bytes"
        buf += chunk
    return buf


def read_frame(s):
    kind, typ, length, rid = decode_header(read_exact(s, HEADER))
    return kind, typ, rid, read_exact(s, length)


def test_doc_examples_are_well_formed_frames():
    examples = doc_blocks("hex")
    assert len(examples) >= 4
    kinds = []
    for ex in examples:
        data = bytes.fromhex("".join(line[6:] for line in ex.splitlines() if line.strip()))
        kind, typ, length, rid = decode_header(data[:HEADER])
        assert len(data) == HEADER + length, ex
        assert data == frame(kind, typ, data[HEADER:], rid)
        kinds.append(kind)
        if kind == HELLO:
            version, pid, maxsize, flags = struct.unpack("<IIII", data[HEADER:])
            assert (version, length, rid) == (1, 16, 0)
    assert {HELLO, DATA, REQUEST, ERROR} <= set(kinds)


# ---- a foreign client against a wipc server ----------------------------------------------------

def serve(lib, server, log):
    """Accepts one connection; answers the first request with wipc_reply (upper-cased, type + 1), the
    second with wipc_reply_error(-5, "no such key"), then echoes one DATA message back."""
    conn = w.handle()
    st = lib.wipc_pipe_accept(server, 10000, ctypes.byref(conn))
    log.append(("accept", st))
    if st != w.WIPC_OK:
        return
    try:
        st, data, typ = w.recv(lib, conn, 4096, 10000)
        log.append(("recv1", st, data, typ))
        log.append(("reply", lib.wipc_reply(conn, 0, typ + 1, data.upper(), len(data))))
        st, data, typ = w.recv(lib, conn, 4096, 10000)
        log.append(("recv2", st, data, typ))
        log.append(("reply_error", lib.wipc_reply_error(conn, 0, -5, b"no such key")))
        st, data, typ = w.recv(lib, conn, 4096, 10000)
        log.append(("recv3", st, data, typ))
        log.append(("send", lib.wipc_send(conn, typ, data, len(data), 10000)))
    finally:
        lib.wipc_close(conn)


def test_foreign_client_speaks_the_documented_protocol(lib, name):
    server = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, ctypes.byref(server)))
    log = []
    t = threading.Thread(target=serve, args=(lib, server, log), daemon=True)
    t.start()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    try:
        s.connect(posix_endpoint_path("pipe", name.decode()))
        s.sendall(frame(HELLO, 0, struct.pack("<IIII", 1, os.getpid(), 1 << 20, HELLO_ERRORS)))
        kind, typ, rid, body = read_frame(s)
        assert (kind, typ, rid, len(body)) == (HELLO, 0, 0, 16)
        version, pid, maxsize, flags = struct.unpack("<IIII", body)
        assert version == 1 and pid == os.getpid()       # the server runs in this process
        assert 1 <= maxsize <= 1 << 30
        assert flags & HELLO_ERRORS                      # a 1.1 server offers remote errors

        s.sendall(frame(REQUEST, 7, b"ping", rid=1))
        assert read_frame(s) == (REPLY, 8, 1, b"PING")

        s.sendall(frame(REQUEST, 9, b"lookup", rid=0x1122334455))
        kind, typ, rid, body = read_frame(s)
        assert (kind, rid, body) == (ERROR, 0x1122334455, b"no such key")
        assert struct.unpack("<i", struct.pack("<I", typ))[0] == -5

        s.sendall(frame(DATA, 3, b"and back"))
        assert read_frame(s) == (DATA, 3, 0, b"and back")
    finally:
        s.close()
        t.join(20)
        lib.wipc_close(server)
    assert ("accept", w.WIPC_OK) in log, log
    assert ("recv1", w.WIPC_OK, b"ping", 7) in log and ("reply", w.WIPC_OK) in log, log
    assert ("recv2", w.WIPC_OK, b"lookup", 9) in log and ("reply_error", w.WIPC_OK) in log, log
    assert ("send", w.WIPC_OK) in log, log


def test_foreign_client_without_error_flag_gets_no_error_frame(lib, name):
    """HELLO flags 0 (a 1.0 peer): wipc_reply_error refuses (WIPC_E_NOT_SUPPORTED) and sends nothing."""
    server = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, ctypes.byref(server)))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    conn = w.handle()
    try:
        s.connect(posix_endpoint_path("pipe", name.decode()))
        s.sendall(frame(HELLO, 0, struct.pack("<IIII", 1, os.getpid(), 1 << 20, 0)))
        assert read_frame(s)[0] == HELLO
        w.check(lib, lib.wipc_pipe_accept(server, 10000, ctypes.byref(conn)))
        s.sendall(frame(REQUEST, 1, b"q", rid=5))
        assert w.recv(lib, conn, 64, 10000) == (w.WIPC_OK, b"q", 1)
        assert lib.wipc_reply_error(conn, 0, -1, b"x") == w.WIPC_E_NOT_SUPPORTED
        assert lib.wipc_reply(conn, 0, 2, b"ok", 2) == w.WIPC_OK
        assert read_frame(s) == (REPLY, 2, 5, b"ok")
    finally:
        s.close()
        lib.wipc_close(conn)
        lib.wipc_close(server)


# ---- a non-wipc client: the server says so -----------------------------------------------------

def test_non_wipc_client_is_logged_with_pid_and_bytes(lib, name):
    lines = []
    got_it = threading.Event()

    def on_log(level, text, user):
        lines.append((level, text.decode("utf-8", "replace")))
        if b"does not speak wipc" in text:
            got_it.set()

    cb = w.LOG_CB(on_log)
    server = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name, None, ctypes.byref(server)))
    w.check(lib, lib.wipc_set_log_callback(cb, w.WIPC_LOG_WARN, None))
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(15)
        s.connect(posix_endpoint_path("pipe", name.decode()))
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert got_it.wait(15), f"no WARN about the foreign client; log: {lines}"
        # the server hangs up on it
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
    finally:
        lib.wipc_set_log_callback(None, w.WIPC_LOG_WARN, None)
        lib.wipc_close(server)
    warn = [t for lvl, t in lines if lvl == w.WIPC_LOG_WARN and "does not speak wipc" in t]
    assert warn, lines
    text = warn[0]
    assert f"pid {os.getpid()}" in text, text
    assert "47 45 54 20 2f 20 48 54" in text, text        # "GET / HT" in hex
    assert '"GET / HT' in text, text                       # and as text
    assert name.decode() in text, text


# ---- a foreign msg sender (POSIX seqpacket form, PROTOCOL.md section 8) -------------------------

MSG_MAGIC, MSG_MARK = 0x47534D57, 0x574D


def msg_exchange(s, typ, user, header=None):
    if header is None:
        header = struct.pack("<IBBHII", MSG_MAGIC, 1, 16, 0, os.getpid(), 0)
    s.send(struct.pack("<II", typ, 0) + header + user)
    word = struct.unpack("<Q", s.recv(64))[0]
    return word >> 48, (word >> 32) & 0xFFFF, struct.unpack("<i", struct.pack("<I", word & 0xFFFFFFFF))[0]


def test_foreign_msg_sender(lib, name):
    got = []

    def on_message(h, m, user):
        msg = m.contents
        got.append((msg.type, msg.payload(), msg.peer_pid))
        return -len(got) if msg.type == 2 else 1000 + msg.type

    cb = w.MESSAGE_CB(on_message)
    h = w.handle()
    w.check(lib, lib.wipc_msg_listen(name, None, ctypes.byref(h)))
    try:
        w.check(lib, lib.wipc_set_callbacks(h, cb, None, None))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(15)
        s.connect(posix_endpoint_path("msg", name.decode()))
        assert msg_exchange(s, 7, b"note") == (MSG_MARK, 0, 1007)        # accepted, on_message's value
        assert msg_exchange(s, 2, b"") == (MSG_MARK, 0, -2)               # negative replies survive
        bad = struct.pack("<IBBHII", 0x12345678, 1, 16, 0, 0, 0)
        assert msg_exchange(s, 3, b"x", header=bad) == (0, 0, 0)   # not a wipc message: 0 ("not handled"), not delivered
        s.close()
    finally:
        lib.wipc_close(h)
    assert got == [(7, b"note", os.getpid()), (2, b"", os.getpid())]


def test_foreign_msg_sender_raw(lib, name):
    """PROTOCOL.md section 8.1: a WIPC_MSG_RAW receiver takes the packet prefix + the bare payload and
    answers on_message's int32 as a plain 8-byte LE number (sign-extended); a wipc header is still
    recognised (header stripped, reply word)."""
    got = []

    def on_message(h, m, user):
        msg = m.contents
        got.append((msg.type, msg.payload()))
        return -7 if msg.type == 2 else 500 + msg.type

    cb = w.MESSAGE_CB(on_message)
    opts = w.MsgOptions()
    lib.wipc_msg_options_init_size(ctypes.byref(opts), ctypes.sizeof(opts))
    opts.flags = w.WIPC_MSG_RAW
    h = w.handle()
    w.check(lib, lib.wipc_msg_listen(name, ctypes.byref(opts), ctypes.byref(h)))
    try:
        w.check(lib, lib.wipc_set_callbacks(h, cb, None, None))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(15)
        s.connect(posix_endpoint_path("msg", name.decode()))
        s.send(struct.pack("<II", 9, 0) + b"bare bytes")
        assert struct.unpack("<q", s.recv(64))[0] == 509
        s.send(struct.pack("<II", 2, 0))
        assert struct.unpack("<q", s.recv(64))[0] == -7
        assert msg_exchange(s, 4, b"framed") == (MSG_MARK, 0, 504)     # a wipc header: reply word
        s.close()
    finally:
        lib.wipc_close(h)
    assert got == [(9, b"bare bytes"), (2, b""), (4, b"framed")]
