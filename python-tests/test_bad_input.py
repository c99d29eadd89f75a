"""The bad-input matrix through ctypes: every bad argument gives its documented status and a non-empty
wipc_last_error_message(), and never disturbs what is alive."""
import ctypes
import os
import random
from ctypes import byref, c_size_t, c_uint32

import pytest

import wipc_ctypes as w
from conftest import Pair, assert_status

BAD_NAMES = {
    "empty": b"",
    "129 chars": b"a" * 129,
    "slash": b"/",
    "backslash": b"\\",
    "space": b" ",
    "inner space": b"a b",
    "non-ASCII": "caf\u00e9".encode(),
    "CJK": "\u65e5\u672c".encode(),
    "colon": b"a:b",
    "NULL": None,
}


@pytest.mark.parametrize("label", list(BAD_NAMES))
def test_bad_names(lib, label):
    bad = BAD_NAMES[label]
    h = w.handle()
    assert_status(lib, lib.wipc_pipe_listen(bad, None, byref(h)), w.WIPC_E_INVALID_ARG, f"listen({label})")
    assert h.value == 0
    assert_status(lib, lib.wipc_pipe_connect(bad, None, 100, byref(h)), w.WIPC_E_INVALID_ARG, f"connect({label})")
    assert h.value == 0


def test_longest_name_is_valid(lib):
    name = (b"py-%d-" % os.getpid()).ljust(w.WIPC_NAME_MAX, b"L")
    assert len(name) == 128
    srv, c = w.handle(), w.handle()
    assert_status(lib, lib.wipc_pipe_listen(name, None, byref(srv)), w.WIPC_OK)
    assert_status(lib, lib.wipc_pipe_connect(name, None, 5000, byref(c)), w.WIPC_OK)
    assert w.get_info(lib, c).name == name
    lib.wipc_close(c)
    lib.wipc_close(srv)


def test_null_pointers(lib, pair, name):
    buf = ctypes.create_string_buffer(16)
    size = c_size_t(0)
    typ = c_uint32(0)
    cases = [
        ("listen out NULL", lambda: lib.wipc_pipe_listen(name + b"-x", None, None)),
        ("connect out NULL", lambda: lib.wipc_pipe_connect(name, None, 1000, None)),
        ("accept out NULL", lambda: lib.wipc_pipe_accept(pair.srv, 0, None)),
        ("get_info NULL", lambda: lib.wipc_get_info(pair.cli, None)),
        ("send data NULL size 5", lambda: lib.wipc_send(pair.cli, 1, None, 5, 1000)),
        ("recv buf NULL cap 5", lambda: lib.wipc_recv(pair.svc, None, 5, byref(size), byref(typ), 0)),
        ("recv_message out NULL", lambda: lib.wipc_recv_message(pair.svc, buf, 16, None, 0)),
        ("request req NULL size 5", lambda: lib.wipc_request(pair.cli, 1, None, 5, buf, 16, byref(size), 1000)),
        ("request resp NULL cap 5", lambda: lib.wipc_request(pair.cli, 1, b"x", 1, None, 5, byref(size), 1000)),
        ("reply data NULL size 5", lambda: lib.wipc_reply(pair.svc, 1, 1, None, 5)),
        ("reply id 0, nothing to answer", lambda: lib.wipc_reply(pair.svc, 0, 1, b"x", 1)),
        ("set_callbacks both NULL", lambda: lib.wipc_set_callbacks(pair.cli, None, None, None)),
        ("log level -1", lambda: lib.wipc_set_log_callback(None, -1, None)),
        ("log level 4", lambda: lib.wipc_set_log_callback(None, 4, None)),
    ]
    for label, call in cases:
        assert_status(lib, call(), w.WIPC_E_INVALID_ARG, label)
    # the connection is undisturbed
    assert_status(lib, lib.wipc_send(pair.cli, 3, b"fine", 4, 1000), w.WIPC_OK)
    st, data, t = w.recv(lib, pair.svc)
    assert (st, data, t) == (w.WIPC_OK, b"fine", 3)


def test_get_info_struct_size(lib, pair):
    info = w.Info()
    for size in (0, 4, 7):
        info.struct_size = size
        assert_status(lib, lib.wipc_get_info(pair.cli, byref(info)), w.WIPC_E_INVALID_ARG, f"struct_size {size}")


def _bad_handles(lib, pair):
    live = {pair.srv.value, pair.cli.value, pair.svc.value}
    closed = w.handle()
    assert_status(lib, lib.wipc_pipe_listen(pair.name + b"-closed", None, byref(closed)), w.WIPC_OK)
    assert_status(lib, lib.wipc_close(closed), w.WIPC_OK)
    rnd = random.Random(1234)
    handles = {"zero": 0, "closed": closed.value, "all ones": 2**64 - 1}
    for i in range(20):
        v = rnd.getrandbits(64)
        if v not in live:
            handles[f"random {i}"] = v
    for bit in range(64):
        v = pair.cli.value ^ (1 << bit)
        if v not in live:
            handles[f"cli^bit{bit}"] = v
    return handles


def test_bad_handles(lib, pair):
    buf = ctypes.create_string_buffer(16)
    size = c_size_t(0)
    for label, hv in _bad_handles(lib, pair).items():
        out = w.handle()
        info = w.Info.new()
        m = w.Message.new()
        calls = {
            "close": lambda: lib.wipc_close(hv),
            "get_info": lambda: lib.wipc_get_info(hv, byref(info)),
            "send": lambda: lib.wipc_send(hv, 1, b"x", 1, 100),
            "recv": lambda: lib.wipc_recv(hv, buf, 16, byref(size), None, 0),
            "recv_message": lambda: lib.wipc_recv_message(hv, buf, 16, byref(m), 0),
            "request": lambda: lib.wipc_request(hv, 1, b"x", 1, buf, 16, byref(size), 100),
            "reply": lambda: lib.wipc_reply(hv, 1, 1, b"x", 1),
            "accept": lambda: lib.wipc_pipe_accept(hv, 0, byref(out)),
        }
        for fn, call in calls.items():
            assert_status(lib, call(), w.WIPC_E_BAD_HANDLE, f"{fn}({label} = {hv:#x})")
        assert out.value == 0
    # live handles unaffected
    assert_status(lib, lib.wipc_send(pair.svc, 1, b"ok", 2, 1000), w.WIPC_OK)
    assert w.recv(lib, pair.cli)[1] == b"ok"


def test_wrong_kind(lib, pair):
    out = w.handle()
    buf = ctypes.create_string_buffer(16)
    size = c_size_t(0)
    assert_status(lib, lib.wipc_pipe_accept(pair.cli, 0, byref(out)), w.WIPC_E_BAD_HANDLE, "accept on a connection")
    assert_status(lib, lib.wipc_pipe_accept(pair.svc, 0, byref(out)), w.WIPC_E_BAD_HANDLE, "accept on a connection")
    assert_status(lib, lib.wipc_send(pair.srv, 1, b"x", 1, 100), w.WIPC_E_NOT_SUPPORTED, "send on a server")
    assert_status(lib, lib.wipc_recv(pair.srv, buf, 16, byref(size), None, 0), w.WIPC_E_NOT_SUPPORTED,
                  "recv on a server")
    assert_status(lib, lib.wipc_request(pair.srv, 1, b"x", 1, buf, 16, byref(size), 100), w.WIPC_E_NOT_SUPPORTED,
                  "request on a server")


def test_oversize_messages(lib, name):
    big = ctypes.create_string_buffer(w.WIPC_DEFAULT_MAX_MESSAGE + 1)
    size = c_size_t(0)
    resp = ctypes.create_string_buffer(16)
    small = w.pipe_options(lib, max_message_size=1000)
    for label, srv_opts, cli_opts, limit in (("default", None, None, w.WIPC_DEFAULT_MAX_MESSAGE),
                                            ("client 1000", None, small, 1000),
                                            ("server 1000", small, None, 1000)):
        p = Pair(lib, name + label.replace(" ", "-").encode(), srv_opts, cli_opts)
        try:
            for h in (p.cli, p.svc):
                assert_status(lib, lib.wipc_send(h, 1, big, limit + 1, 1000), w.WIPC_E_TOO_LARGE, f"{label} send")
            assert_status(lib, lib.wipc_request(p.cli, 1, big, limit + 1, resp, 16, byref(size), 1000),
                          w.WIPC_E_TOO_LARGE, f"{label} request")
            assert_status(lib, lib.wipc_send(p.cli, 2, b"next", 4, 1000), w.WIPC_OK)
            assert w.recv(lib, p.svc)[1:] == (b"next", 2)  # nothing of the refused sends arrived
        finally:
            p.close()


@pytest.mark.parametrize("field,value", [("max_message_size", 0),
                                         ("max_message_size", w.WIPC_MAX_MESSAGE_LIMIT + 1),
                                         ("max_instances", 0),
                                         ("max_instances", 256),
                                         ("flags", 0x80000000)])
def test_bad_option_values(lib, name, field, value):
    o = w.pipe_options(lib, **{field: value})
    h = w.handle()
    assert_status(lib, lib.wipc_pipe_listen(name, byref(o), byref(h)), w.WIPC_E_INVALID_ARG, f"{field}={value}")
    assert h.value == 0


def _big_options(lib, tail):
    """A wipc_pipe_options followed by `tail` (bytes), with struct_size covering both."""
    base = w.pipe_options(lib)
    n = ctypes.sizeof(base)
    raw = ctypes.create_string_buffer(n + len(tail) + 8)  # + 8: keep the pointer field aligned
    ctypes.memmove(raw, byref(base), n)
    ctypes.memmove(ctypes.addressof(raw) + n, tail, len(tail))
    opts = ctypes.cast(raw, ctypes.POINTER(w.PipeOptions))
    opts.contents.struct_size = n + len(tail)
    return raw, opts


def test_struct_size_rules(lib, name, make_name):
    h = w.handle()
    o = w.pipe_options(lib)
    o.struct_size = 0
    assert_status(lib, lib.wipc_pipe_listen(name, byref(o), byref(h)), w.WIPC_E_INVALID_ARG, "struct_size 0")
    assert_status(lib, lib.wipc_pipe_connect(name, byref(o), 100, byref(h)), w.WIPC_E_INVALID_ARG, "struct_size 0")

    keep, opts = _big_options(lib, b"\0" * 24)
    assert_status(lib, lib.wipc_pipe_listen(name, opts, byref(h)), w.WIPC_OK, "larger struct, zero tail")
    c = w.handle()
    assert_status(lib, lib.wipc_pipe_connect(name, opts, 5000, byref(c)), w.WIPC_OK, "larger struct, zero tail")
    lib.wipc_close(c)
    lib.wipc_close(h)

    for at in (0, 7, 23):
        tail = bytearray(24)
        tail[at] = 0x01
        keep, opts = _big_options(lib, bytes(tail))
        h2 = w.handle()
        assert_status(lib, lib.wipc_pipe_listen(make_name(f"t{at}"), opts, byref(h2)), w.WIPC_E_INVALID_ARG,
                      f"larger struct, tail byte {at} non-zero")
        assert h2.value == 0
        assert_status(lib, lib.wipc_pipe_connect(name, opts, 100, byref(h2)), w.WIPC_E_INVALID_ARG,
                      f"connect: larger struct, tail byte {at} non-zero")
