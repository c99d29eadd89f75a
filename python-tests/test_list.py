"""wipc_list (ABI 1.1): the live endpoints of this user on every transport, seen from another process,
made by C (the wipc tool) and by Python (ctypes) peers; gone once the owner is killed; argument checks
and the fixed-size record contract (BUFFER_TOO_SMALL with the count needed, record_size)."""
import ctypes
import os
import subprocess
import sys
import textwrap
import time
from ctypes import byref, c_size_t, sizeof

import pytest

import wipc_ctypes as w
from conftest import Peer


TRANSPORT = {"pipe": w.WIPC_TRANSPORT_PIPE, "shm": w.WIPC_TRANSPORT_SHM, "msg": w.WIPC_TRANSPORT_MSG}
KIND = {"pipe": w.WIPC_KIND_PIPE_SERVER, "shm": w.WIPC_KIND_SHM_CHANNEL, "msg": w.WIPC_KIND_MSG_ENDPOINT}

PY_PEER = textwrap.dedent("""
    import sys, time, ctypes
    sys.path.insert(0, {tests!r})
    import wipc_ctypes as w
    lib = w.load()
    name = sys.argv[1].encode()
    h = [w.handle() for _ in range(4)]
    w.check(lib, lib.wipc_pipe_listen(name + b"-p", None, ctypes.byref(h[0])))
    w.check(lib, lib.wipc_shm_create(name + b"-s", None, ctypes.byref(h[1])))
    w.check(lib, lib.wipc_msg_listen(name + b"-m", None, ctypes.byref(h[2])))
    w.check(lib, lib.wipc_region_create(name + b"-r", 4096, None, ctypes.byref(h[3])))
    print("READY", flush=True)
    time.sleep(120)
""")


def listed(lib, prefix, mask=0):
    return {(e.transport, e.name.decode()): e for e in w.list_endpoints(lib, mask, prefix)}


def wait_listed(lib, prefix, want, present=True, timeout=10.0):
    end = time.monotonic() + timeout
    while True:
        got = listed(lib, prefix)
        if all((k in got) == present for k in want) or time.monotonic() > end:
            return got
        time.sleep(0.05)


@pytest.mark.parametrize("transport", ["pipe", "shm", "msg"])
def test_c_peer_endpoint_listed_then_gone_when_killed(lib, name, cli_listener, transport):
    n = name.decode()
    t0 = time.time()
    proc = cli_listener(f"{transport}://{n}")
    key = (TRANSPORT[transport], n)
    got = wait_listed(lib, name, [key])
    assert key in got, got
    e = got[key]
    assert e.owner_pid == proc.pid and e.kind == KIND[transport] and e.struct_size == sizeof(w.Endpoint)
    assert abs(e.created_unix_ms / 1000 - t0) < 60
    assert list(listed(lib, name, 1 << TRANSPORT[transport])) == [key]
    others = sum(1 << v for k, v in TRANSPORT.items() if k != transport)
    assert key not in listed(lib, name, others)
    proc.kill()
    proc.wait(10)
    got = wait_listed(lib, name, [key], present=False)
    assert key not in got, f"{transport} endpoint of a killed owner still listed"


def test_python_peer_endpoints_listed_then_gone_when_killed(lib, name):
    n = name.decode()
    script = PY_PEER.format(tests=os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-c", script, n], stdout=subprocess.PIPE, env=os.environ)
    try:
        assert Peer(proc).readline(20) == "READY"
        want = {(w.WIPC_TRANSPORT_PIPE, n + "-p"): w.WIPC_KIND_PIPE_SERVER,
                (w.WIPC_TRANSPORT_SHM, n + "-s"): w.WIPC_KIND_SHM_CHANNEL,
                (w.WIPC_TRANSPORT_SHM, n + "-r"): w.WIPC_KIND_REGION,
                (w.WIPC_TRANSPORT_MSG, n + "-m"): w.WIPC_KIND_MSG_ENDPOINT}
        got = listed(lib, name)
        assert set(got) == set(want), got
        assert [got[k].kind for k in want] == list(want.values())
        assert all(got[k].owner_pid == proc.pid for k in want if k[1] != n + "-r")
        assert list(got) == sorted(got, key=lambda k: (k[0], got[k].kind, k[1])), "sorted by transport, kind, name"
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    got = wait_listed(lib, name, [(w.WIPC_TRANSPORT_PIPE, n + "-p"), (w.WIPC_TRANSPORT_SHM, n + "-s"),
                                  (w.WIPC_TRANSPORT_MSG, n + "-m")], present=False)
    # a region has no owner to check: it stays (POSIX) until removed, as wipc_region_create documents
    assert set(got) <= {(w.WIPC_TRANSPORT_SHM, n + "-r")}, got
    os.unlink(f"/dev/shm/wipc-{os.geteuid()}-r-{n}-r")


def test_own_endpoints_and_record_contract(lib, name):
    hs = []
    try:
        for i in range(3):
            h = w.handle()
            w.check(lib, lib.wipc_msg_listen(name + b"-%d" % i, None, byref(h)))
            hs.append(h)
        count = c_size_t(99)
        assert lib.wipc_list(0, name, None, 0, 0, byref(count)) == w.WIPC_E_BUFFER_TOO_SMALL and count.value == 3
        arr = (w.Endpoint * 2)()
        assert lib.wipc_list(0, name, arr, 2, sizeof(w.Endpoint), byref(count)) == w.WIPC_E_BUFFER_TOO_SMALL
        assert count.value == 3 and [e.name for e in arr] == [name + b"-0", name + b"-1"]
        # a caller that knows a larger record (fields appended later): the rest is zeroed, stride kept
        big = sizeof(w.Endpoint) + 16
        raw = (ctypes.c_ubyte * (big * 3))(*([0xAA] * (big * 3)))
        w.check(lib, lib.wipc_list(w.WIPC_LIST_MSG, name, ctypes.cast(raw, ctypes.POINTER(w.Endpoint)), 3, big, byref(count)))
        for i in range(3):
            rec = w.Endpoint.from_buffer_copy(bytes(raw[i * big:i * big + sizeof(w.Endpoint)]))
            assert rec.name == name + b"-%d" % i and rec.owner_pid == os.getpid() and rec.struct_size == sizeof(w.Endpoint)
            assert bytes(raw[i * big + sizeof(w.Endpoint):(i + 1) * big]) == bytes(16)
        # a smaller (older) record: only its bytes are written
        small = 24 + 129
        raw = (ctypes.c_ubyte * (small * 3))()
        w.check(lib, lib.wipc_list(0, name, ctypes.cast(raw, ctypes.POINTER(w.Endpoint)), 3, small, byref(count)))
        assert bytes(raw[small + 24:small + 24 + len(name) + 2]) == name + b"-1"
    finally:
        for h in hs:
            lib.wipc_close(h)
    assert listed(lib, name) == {}


@pytest.mark.parametrize("args,why", [
    ((0, None, None, 0, 0), "prefix NULL"),
    ((0, b"bad/prefix", None, 0, 0), "prefix not a name"),
    ((1, b"", None, 0, 0), "unknown mask bit"),
    ((0x10, b"", None, 0, 0), "unknown mask bit"),
    ((0, b"", None, 1, 160), "out NULL with cap"),
    ((0, b"", "array", 1, 152), "record_size too small"),
])
def test_bad_arguments(lib, args, why):
    mask, prefix, out, cap, rsize = args
    arr = (w.Endpoint * 1)() if out else None
    count = c_size_t(7)
    assert lib.wipc_list(mask, prefix, arr, cap, rsize, byref(count)) == w.WIPC_E_INVALID_ARG, why
    assert count.value == 0
    assert lib.wipc_list(0, b"", None, 0, 0, None) == w.WIPC_E_INVALID_ARG


def test_stale_lock_files_and_foreign_shm_objects_are_skipped(lib, name):
    """A lock file nobody holds (a dead owner's), and /dev/shm objects that are not live channels."""
    import conftest
    n = name.decode()
    rundir = os.path.dirname(conftest.posix_endpoint_path("pipe", n))
    stale = os.path.join(rundir, f"p.{n}.lock")
    with open(stale, "w") as f:
        f.write(n)
    junk = f"/dev/shm/wipc-{os.geteuid()}-{n}"
    with open(junk, "wb") as f:
        f.write(b"WSHM" + bytes(4092))   # right magic, nonsense header
    try:
        assert listed(lib, name) == {}
    finally:
        os.unlink(stale)
        os.unlink(junk)
