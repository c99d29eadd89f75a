"""Security proofs and hostile input from Python, POSIX backend.

What the OS has is read back with os.stat (modes, owners); a runtime directory that is a symlink,
someone else's or open to others is refused; forged handles, hostile names and option structs are
refused with a status, never a crash. The counts of bad inputs tried go to $WIPC_RELIABILITY_LOG.
"""
import ctypes
import os
import random
import stat
import sys
from ctypes import byref, c_int32, c_size_t, c_uint32

import pytest

import wipc_ctypes as w
from conftest import assert_status, reliability_report as report

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX backend")


def rundir():
    x = os.environ.get("XDG_RUNTIME_DIR")
    return f"{x}/wipc" if x and x.startswith("/") else f"/tmp/wipc-{os.geteuid()}"


@pytest.fixture
def scratch_xdg(tmp_path, monkeypatch):
    """XDG_RUNTIME_DIR pointed at a fresh private directory for the test (restored afterwards)."""
    d = tmp_path / "xdg"
    d.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(d))
    return d


def test_modes_read_back(lib, name):
    srv, ch, ep = w.handle(), w.handle(), w.handle()
    old = os.umask(0)
    try:
        w.check(lib, lib.wipc_pipe_listen(name, None, byref(srv)))
        w.check(lib, lib.wipc_shm_create(name, None, byref(ch)))
        w.check(lib, lib.wipc_msg_listen(name, None, byref(ep)))
    finally:
        os.umask(old)
    try:
        checks = {
            rundir(): (stat.S_IFDIR, 0o700),
            f"{rundir()}/p.{name.decode()}": (stat.S_IFSOCK, 0o600),
            f"{rundir()}/m.{name.decode()}": (stat.S_IFSOCK, 0o600),
            f"/dev/shm/wipc-{os.geteuid()}-{name.decode()}": (stat.S_IFREG, 0o600),
        }
        for path, (kind, mode) in checks.items():
            st = os.lstat(path)
            assert stat.S_IFMT(st.st_mode) == kind, path
            assert stat.S_IMODE(st.st_mode) == mode, f"{path}: {oct(stat.S_IMODE(st.st_mode))}"
            assert st.st_uid == os.geteuid(), path
    finally:
        for h in (srv, ch, ep):
            lib.wipc_close(h)
    report("pipe,shm,msg", "security", "python: modes read back with os.stat under umask 0", "pass", inputs=len(checks))


@pytest.mark.parametrize("how", ["symlink", "mode-0750", "file", "other-owner"])
def test_rundir_refused(lib, make_name, scratch_xdg, how):
    target = scratch_xdg / "wipc"
    if how == "symlink":
        real = scratch_xdg / "real"
        real.mkdir(mode=0o700)
        target.symlink_to(real)
    elif how == "mode-0750":
        target.mkdir()
        target.chmod(0o750)
    elif how == "file":
        target.write_bytes(b"")
    else:
        if os.geteuid() != 0:
            pytest.skip("needs root to hand the directory to another uid")
        target.mkdir(mode=0o700)
        os.chown(target, 65534, 65534)
    h = w.handle()
    n = make_name("rd")
    assert_status(lib, lib.wipc_pipe_listen(n, None, byref(h)), w.WIPC_E_ACCESS_DENIED, f"listen with a {how} runtime dir")
    assert_status(lib, lib.wipc_pipe_connect(n, None, 0, byref(h)), w.WIPC_E_ACCESS_DENIED, "connect")
    assert_status(lib, lib.wipc_msg_listen(n, None, byref(h)), w.WIPC_E_ACCESS_DENIED, "msg listen")
    report("pipe,msg", "security", f"python: runtime dir refused ({how})", "pass", inputs=3)


def test_forged_handles(lib):
    """Random, stale and wrong-kind handles: WIPC_E_BAD_HANDLE from every handle-taking call."""
    rng = random.Random(1234)
    buf = ctypes.create_string_buffer(64)
    size, typ = c_size_t(0), c_uint32(0)
    info = w.Info.new()
    n = 0
    for i in range(3000):
        h = rng.getrandbits(64) if i % 3 else (rng.getrandbits(16) | (rng.getrandbits(8) << 32))
        if h == 0:
            continue
        for st in (lib.wipc_close(h), lib.wipc_send(h, 1, b"x", 1, 0),
                   lib.wipc_recv(h, buf, 64, byref(size), byref(typ), 0),
                   lib.wipc_get_info(h, byref(info)), lib.wipc_reply(h, 1, 1, None, 0),
                   lib.wipc_shm_release(h), lib.wipc_pipe_accept(h, 0, byref(w.handle()))):
            assert st in (w.WIPC_E_BAD_HANDLE, w.WIPC_E_INVALID_ARG), (hex(h), w.STATUS_NAMES.get(st, st))
            n += 1
    report("core", "bad-input", "python: forged handles to 7 entry points", "pass", inputs=n)


HOSTILE_NAMES = [b"", b"a" * 129, b"../../etc/passwd", b"a/b", b"a\\b", b"a b", b"name\x01", b"\xff\xfe",
                 "n\u00e4me".encode(), b"a:b", b"*", b"?", b"wipc-%s%n", b"-" * 128 + b"x",
                 b"\x7f", b"a\tb", b"a\nb"]


def test_hostile_names(lib):
    h = w.handle()
    reply = c_int32(0)
    n = 0
    for name in HOSTILE_NAMES:
        for st in (lib.wipc_pipe_listen(name, None, byref(h)), lib.wipc_pipe_connect(name, None, 0, byref(h)),
                   lib.wipc_shm_create(name, None, byref(h)), lib.wipc_shm_open(name, None, 0, byref(h)),
                   lib.wipc_region_create(name, 4096, None, byref(h)), lib.wipc_region_open(name, 0, byref(h)),
                   lib.wipc_msg_listen(name, None, byref(h)), lib.wipc_msg_send(name, 1, b"x", 1, 0, byref(reply))):
            assert_status(lib, st, w.WIPC_E_INVALID_ARG, f"name {name!r}")
            n += 1
    report("core", "bad-input", "python: hostile names (path traversal, control bytes, non-ASCII, 129 chars) to 8 entry points",
           "pass", inputs=n)


def test_hostile_option_structs(lib, name):
    """Option structs with every struct_size from 0 to 64 and a non-zero tail: either defaults
    applied (valid prefix) or WIPC_E_INVALID_ARG; nothing crashes or reads past struct_size."""
    h = w.handle()
    n = 0
    for size in range(0, 65):
        raw = (ctypes.c_uint8 * max(size, 4))()
        ctypes.memset(raw, 0x41, len(raw))
        ctypes.c_uint32.from_buffer(raw).value = size
        for fn in ("pipe", "shm", "msg"):
            p = ctypes.cast(raw, ctypes.c_void_p)
            if fn == "pipe":
                st = lib.wipc_pipe_listen(name, ctypes.cast(p, ctypes.POINTER(w.PipeOptions)), byref(h))
            elif fn == "shm":
                st = lib.wipc_shm_create(name, ctypes.cast(p, ctypes.POINTER(w.ShmOptions)), byref(h))
            else:
                st = lib.wipc_msg_listen(name, ctypes.cast(p, ctypes.POINTER(w.MsgOptions)), byref(h))
            assert st in (w.WIPC_OK, w.WIPC_E_INVALID_ARG), (fn, size, w.STATUS_NAMES.get(st, st))
            if st == w.WIPC_OK:
                lib.wipc_close(h)
            n += 1
    report("core", "bad-input", "python: option structs with struct_size 0..64 and garbage fields", "pass", inputs=n)
