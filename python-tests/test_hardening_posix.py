"""Hardening, POSIX: a peer must never crash, flood or starve a wipc process, and wipc must
never delete a user's file.

Each attack runs in this (pytest) process with raw OS calls only - AF_UNIX sockets speaking the
wire format of dll/common/core/frame.h, files under /dev/shm, mmap - against a victim wipc process
(hardening_victim.py), whose death, RSS / VmData and CPU time are read from the OS. Every case
prints a RELIABILITY row (docs/RELIABILITY.md) with what it measured.
"""
import ctypes
import mmap
import os
import resource
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wipc_ctypes as w
from conftest import peer_spawner, posix_endpoint_path, reliability_report

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX attacks (AF_UNIX, /dev/shm)")

HERE = Path(__file__).resolve().parent
VICTIM = str(HERE / "hardening_victim.py")

FRAME_MAGIC = 0x43504957
KIND_DATA, KIND_HELLO, KIND_BULK = 1, 4, 6
HELLO_BULK = 0x1
MiB = 1024 * 1024
# Memory and CPU bounds mean nothing under a sanitizer runtime (ASan quarantine and shadow, TSan)
# or valgrind: the runs that use one set LD_PRELOAD / WIPC_NO_RSS_CHECK (c-tests/test_fault_lib.h).
SANITIZED = any(x in os.environ.get("LD_PRELOAD", "") for x in ("asan", "tsan")) or \
    os.environ.get("WIPC_NO_RSS_CHECK", "0") not in ("", "0")


# ---- the attacker's side of the wire format (dll/common/core/frame.h, pipe_bulk.c) --------------------------

def frame(kind, length, typ=0, request_id=0):
    return struct.pack("<IBBHIIQ", FRAME_MAGIC, 1, kind, 24, typ, length, request_id)


def hello(flags=0, pid=None, max_message=16 * MiB):
    return frame(KIND_HELLO, 16) + struct.pack("<IIII", 1, pid or os.getpid(), max_message, flags)


def recv_exact(s, n, timeout=5.0):
    s.settimeout(timeout)
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def raw_connect(name, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(posix_endpoint_path("pipe", name))
    return s


# ---- the victim -------------------------------------------------------------------------------------

@pytest.fixture
def victim():
    with peer_spawner(sys.executable, VICTIM) as spawn:
        yield spawn


def proc_status_kb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def proc_cpu_s(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime


def lines_until(peer, prefix, count, timeout):
    """Reads the victim's lines until `count` of them start with `prefix` (or timeout); returns how many did."""
    seen = 0
    end = time.monotonic() + timeout
    while seen < count:
        line = peer.readline(max(0.0, end - time.monotonic()))
        if line is None:
            break
        if line.startswith(prefix):
            seen += 1
    return seen


def connect_legit(lib, name, timeout_ms):
    h = w.handle()
    t0 = time.monotonic()
    st = lib.wipc_pipe_connect(name.encode(), None, timeout_ms, ctypes.byref(h))
    return st, h, time.monotonic() - t0


# ---- 7: RAW listen never deletes what wipc did not create ----------------------------------------------

@pytest.mark.parametrize("what", ["regular-file", "directory"])
def test_raw_listen_leaves_foreign_path_alone(lib, tmp_path, what):
    path = tmp_path / "target"
    if what == "regular-file":
        path.write_bytes(b"precious user data\n")
    else:
        path.mkdir()
        (path / "inside").write_text("x")
    o = w.pipe_options(lib, flags=w.WIPC_PIPE_RAW)
    h = w.handle()
    st = lib.wipc_pipe_listen(str(path).encode(), ctypes.byref(o), ctypes.byref(h))
    if st == w.WIPC_OK:
        lib.wipc_close(h)
    if what == "regular-file":
        kept = path.is_file() and path.read_bytes() == b"precious user data\n"
    else:
        kept = (path / "inside").is_file()
    reliability_report("pipe", "security", f"raw_listen_on_{what.replace('-', '_')}",
                       "pass" if kept and st == w.WIPC_E_ADDR_IN_USE else "FAIL", inputs=1, status=w.STATUS_NAMES.get(st, st))
    assert kept, f"wipc_pipe_listen(RAW) replaced the {what} at {path}"
    assert st == w.WIPC_E_ADDR_IN_USE, w.last_error(lib)


def test_raw_listen_reclaims_only_a_stale_socket_of_ours(lib, tmp_path):
    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()   # a dead server's socket file: nobody answers
    o = w.pipe_options(lib, flags=w.WIPC_PIPE_RAW)
    h = w.handle()
    w.check(lib, lib.wipc_pipe_listen(str(path).encode(), ctypes.byref(o), ctypes.byref(h)))
    h2 = w.handle()   # a live one is refused
    assert lib.wipc_pipe_listen(str(path).encode(), ctypes.byref(o), ctypes.byref(h2)) == w.WIPC_E_ADDR_IN_USE
    lib.wipc_close(h)
    assert not path.exists(), "the listener's own socket file stays after close"


# ---- 5: the accept loop at the descriptor limit ---------------------------------------------------------

@pytest.mark.skipif(SANITIZED, reason="CPU share and a 64-descriptor limit under a sanitizer runtime")
def test_accept_at_fd_limit_does_not_spin(lib, name, victim):
    nofile = 64

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    peer = victim("serve", name.decode(), "instances=255", preexec_fn=low_limit)
    socks = []
    for _ in range(nofile + 40):   # more than the victim can accept: accept4 fails with EMFILE
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(posix_endpoint_path("pipe", name.decode()))
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(0.5)
    cpu0, t0 = proc_cpu_s(peer.pid), time.monotonic()
    time.sleep(2.0)
    busy = (proc_cpu_s(peer.pid) - cpu0) / (time.monotonic() - t0)
    for s in socks:
        s.close()
    st, h, took = connect_legit(lib, name.decode(), 10000)   # it serves again once descriptors free up
    if st == w.WIPC_OK:
        lib.wipc_close(h)
    alive = peer.proc.poll() is None
    reliability_report("pipe", "security", "accept_at_fd_limit", "pass" if busy < 0.3 and st == w.WIPC_OK else "FAIL",
                       inputs=len(socks), cpu_share="%.2f" % busy, nofile=nofile)
    assert alive
    assert busy < 0.3, f"the victim's I/O thread spins at the fd limit: {busy:.0%} of a CPU"
    assert st == w.WIPC_OK, w.last_error(lib)


# ---- 8: handshake squatters ----------------------------------------------------------------------------

@pytest.mark.parametrize("handshake_ms", [None, 500])
def test_handshake_squatters_lose_their_slots(lib, name, victim, handshake_ms):
    instances = 4
    args = ["serve", name.decode(), f"instances={instances}"]
    if handshake_ms:
        args.append(f"handshake_ms={handshake_ms}")
    peer = victim(*args)
    squatters = [raw_connect(name.decode()) for _ in range(instances)]   # connect, never say HELLO
    time.sleep(0.2)
    st, h, took = connect_legit(lib, name.decode(), 12000)
    if st == w.WIPC_OK:
        lib.wipc_close(h)
    # the squatters were disconnected by the server (EOF after its HELLO)
    dropped = 0
    for s in squatters:
        try:
            recv_exact(s, 40, 1.0)
            s.settimeout(2.0)
            dropped += s.recv(1) == b""
        except OSError:
            dropped += 1
        s.close()
    deadline = handshake_ms or w.WIPC_DEFAULT_HANDSHAKE_TIMEOUT_MS
    reliability_report("pipe", "security", "handshake_squatters" + ("" if handshake_ms is None else "_short_deadline"),
                       "pass" if st == w.WIPC_OK else "FAIL", inputs=instances, deadline_ms=deadline,
                       legit_connect_ms=int(took * 1000))
    assert peer.proc.poll() is None
    assert st == w.WIPC_OK, f"a legitimate client stayed locked out by {instances} squatters: {w.last_error(lib)}"
    assert dropped == instances


# ---- 10: claimed sizes never drive allocations -----------------------------------------------------------

def test_claimed_sizes_do_not_commit_memory(lib, name, victim):
    peer = victim("serve", name.decode())
    data0, rss0 = proc_status_kb(peer.pid, "VmData"), proc_status_kb(peer.pid, "VmRSS")
    socks = []
    for _ in range(60):
        s = raw_connect(name.decode())
        recv_exact(s, 40)                      # the server's HELLO
        s.sendall(hello() + frame(KIND_DATA, 16 * MiB - 64) + b"x" * 40)   # claims 16 MiB, sends 40 bytes
        socks.append(s)
    time.sleep(1.0)
    data1, rss1 = proc_status_kb(peer.pid, "VmData"), proc_status_kb(peer.pid, "VmRSS")
    for s in socks:
        s.close()
    grew_mib = (data1 - data0) / 1024
    reliability_report("pipe", "security", "claimed_16MiB_headers_x60", "pass" if grew_mib < 64 else "FAIL", inputs=60,
                       vmdata_growth_mib="%.1f" % grew_mib, rss_growth_mib="%.1f" % ((rss1 - rss0) / 1024),
                       bytes_sent=60 * (40 + 24 + 40 + 24))
    assert peer.proc.poll() is None
    assert SANITIZED or grew_mib < 64, f"60 headers claiming 16 MiB made the victim reserve {grew_mib:.0f} MiB"


# ---- 4: back-pressure in callback mode ----------------------------------------------------------------------

def test_callback_flood_is_bounded(lib, name, victim):
    peer = victim("serve", name.decode(), "delay=0.5")
    st, h, _ = connect_legit(lib, name.decode(), 5000)
    w.check(lib, st)
    payload = ctypes.create_string_buffer(16 * MiB)
    rss0 = proc_status_kb(peer.pid, "VmRSS")
    peak = rss0
    sent = timeouts = other = 0
    end = time.monotonic() + 4.0
    while time.monotonic() < end:
        st = lib.wipc_send(h, 1, payload, 16 * MiB, 500)
        if st == w.WIPC_OK:
            sent += 1
        elif st == w.WIPC_E_TIMEOUT:
            timeouts += 1
        else:
            other += 1
            break
        peak = max(peak, proc_status_kb(peer.pid, "VmRSS"))
    for _ in range(10):
        time.sleep(0.1)
        peak = max(peak, proc_status_kb(peer.pid, "VmRSS"))
    # the connection is still usable once the callbacks catch up
    st_after = lib.wipc_send(h, 2, b"ping", 4, 10000)
    lib.wipc_close(h)
    peak_mib = peak / 1024
    reliability_report("pipe", "load", "callback_flood_16MiB_slow_callback", "pass" if peak_mib < 200 and timeouts else "FAIL",
                       messages=sent, timeouts=timeouts, rss_start_mib=rss0 // 1024, rss_peak_mib=int(peak_mib), lost=0)
    assert peer.proc.poll() is None
    assert other == 0, w.last_error(lib)
    assert timeouts > 0, f"{sent} messages of 16 MiB accepted in 4 s by a callback that takes 0.5 s each: no back-pressure"
    assert SANITIZED or peak_mib < 200, f"the victim's RSS reached {peak_mib:.0f} MiB"
    assert st_after == w.WIPC_OK, w.last_error(lib)


# ---- 2: a shared value is read once (the capacity flipped during wipc_shm_open) ---------------------------

FLIPPER = r"""
import mmap, os, struct, sys
name, seconds, layout = sys.argv[1], float(sys.argv[2]), sys.argv[3]
key = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19]) & 0xFFFFFFFF
path = "/dev/shm/wipc-%d-%s" % (os.geteuid(), name)
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
small, big = 4096, 1 << 30
if layout == "1.1":   # the name holds a locator to our sealed memfd (dll/posix/shm.c)
    os.write(fd, struct.pack("<IIII", 0x50485357, 1, os.getpid(), key))
    fd = os.memfd_create("wipc-ch-" + name, os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, 4096 + 2 * small)
    import fcntl
    fcntl.fcntl(fd, 1033, 1 | 2 | 4)   # F_ADD_SEALS: F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW
else:                 # 1.0: the name is the section
    os.ftruncate(fd, 4096 + 2 * small)
m = mmap.mmap(fd, 4096 + 2 * small)
m[0:40] = struct.pack("<IIIIQIIQ", 0x4D485357, 1, 4096, 24, small, 1, 0, 4096 + 2 * small)
m[64:76] = struct.pack("<QI", os.getpid() | key << 32, small - 24)
a, b = struct.pack("<Q", small), struct.pack("<Q", big)
print("READY", flush=True)
import time
end = time.monotonic() + seconds
while time.monotonic() < end:
    for _ in range(10000):
        m[16:24] = b
        m[16:24] = a
os.unlink(path)
"""


@pytest.mark.parametrize("layout", ["1.0", "1.1"])
def test_shm_open_survives_capacity_flips(lib, name, victim, layout):
    """The flipper is the channel's creator, in the layout of wipc 1.0 (the name is the section) or
    1.1 POSIX (the name locates a sealed memfd); a library refuses the other one (WIPC_E_PROTOCOL)."""
    flipper = subprocess.Popen([sys.executable, "-c", FLIPPER, name.decode(), "30", layout], stdout=subprocess.PIPE)
    try:
        assert flipper.stdout.readline().strip() == b"READY"
        tries = 400
        peer = victim("shm_open", name.decode(), tries)
        results = {}
        for _ in range(tries):
            line = peer.readline(20)
            if line is None or not line.startswith("OPEN "):
                break
            results[line[5:]] = results.get(line[5:], 0) + 1
        code = peer.wait(20) if peer.readline(5) is None else None
    finally:
        flipper.kill()
        flipper.wait()
        try:
            os.unlink(posix_endpoint_path("shm", name.decode()))
        except OSError:
            pass
    crashed = peer.proc.poll() is not None and peer.proc.returncode < 0
    reliability_report("shm", "security", "capacity_flipped_during_open_layout_" + layout.replace(".", "_"),
                       "FAIL" if crashed else "pass", inputs=sum(results.values()),
                       **{k.lower(): v for k, v in results.items()})
    assert not crashed, f"wipc_shm_open crashed (signal {-peer.proc.returncode}) after {results}"
    assert sum(results.values()) == tries, results


# ---- 1: a bulk section shrunk under the receiver ----------------------------------------------------------

BULK_HDR, SLOT = 4096, 1 * MiB
F_ADD_SEALS, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW = 1033, 1, 2, 4


def bulk_section(flags_offered, number, seal):
    """The attacker's bulk section as the victim's protocol version wants it: a named /dev/shm object
    (1.0, HELLO flag 0x1) or a memfd in our descriptor table (1.1 POSIX, flag 0x2). Returns (fd, mmap)."""
    size = BULK_HDR + 2 * SLOT
    name = f"wipc-pb-{os.getpid()}-{number}"
    if flags_offered & 0x2:
        fd = os.memfd_create(name, os.MFD_ALLOW_SEALING)
        os.ftruncate(fd, size)
        if seal:
            import fcntl
            fcntl.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
    else:
        fd = os.open(f"/dev/shm/wipc-{os.geteuid()}-pb-{os.getpid()}-{number}", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.ftruncate(fd, size)
    m = mmap.mmap(fd, size)
    m[0:32] = struct.pack("<IIIIQII", 0x53425057, 1, 2, os.getpid(), SLOT, 0, 0)
    return fd, m


def bulk_frame(number, length):
    desc = struct.pack("<IBBHIIQQ", 0x4B4C4250, KIND_DATA, 0, 0, number, 0, length, SLOT)
    return frame(KIND_BULK, len(desc), typ=7) + desc


@pytest.mark.parametrize("seal", [False, True])
def test_bulk_section_shrunk_under_the_receiver(lib, name, victim, seal):
    peer = victim("serve", name.decode())
    s = raw_connect(name.decode())
    server_hello = recv_exact(s, 40)
    offered = struct.unpack("<I", server_hello[36:40])[0] & 0x3
    assert offered, "the server offers no bulk sections"
    s.sendall(hello(flags=offered))
    number = 1
    fd, m = bulk_section(offered, number, seal)
    length = 256 * 1024
    m[BULK_HDR:BULK_HDR + length] = b"B" * length
    m[24:28] = struct.pack("<I", 1)    # slot 0 FULL
    s.sendall(bulk_frame(number, length))
    took = lines_until(peer, f"MSG {length}", 1, 5.0)
    truncated = False
    if took:
        end = time.monotonic() + 5
        while struct.unpack("<I", m[24:28])[0] != 0 and time.monotonic() < end:
            time.sleep(0.01)       # the victim copied it out and freed the slot
        try:
            os.ftruncate(fd, BULK_HDR)   # the attack: shrink the section under the victim's mapping ...
            truncated = True
        except OSError:
            pass                       # sealed: the kernel refuses
        m[24:28] = struct.pack("<I", 1)  # ... mark the slot full again and resend the descriptor
        try:
            s.sendall(bulk_frame(number, length))
        except OSError:
            pass
    time.sleep(1.0)
    killed = peer.proc.poll() is not None
    s.close()
    m.close()
    os.close(fd)
    if not offered & 0x2:
        os.unlink(f"/dev/shm/wipc-{os.geteuid()}-pb-{os.getpid()}-{number}") if os.path.exists(
            f"/dev/shm/wipc-{os.geteuid()}-pb-{os.getpid()}-{number}") else None
    # the victim still serves, and large messages of a legitimate client still go through a section
    ok = False
    if not killed:
        st, h, _ = connect_legit(lib, name.decode(), 5000)
        if st == w.WIPC_OK:
            big = b"L" * MiB
            ok = lib.wipc_send(h, 1, big, len(big), 5000) == w.WIPC_OK and lines_until(peer, f"MSG {MiB}", 1, 5.0) == 1
            # ... through our sealed memfd section (1.1: /proc/self/fd holds it while the connection lives)
            links = [os.readlink(f"/proc/self/fd/{n}") for n in os.listdir("/proc/self/fd") if n.isdigit()
                     and os.path.islink(f"/proc/self/fd/{n}")]
            ok = ok and any(x.startswith(f"/memfd:wipc-pb-{os.getpid()}-") for x in links)
            lib.wipc_close(h)
    case = "bulk_section_shrunk" + ("_sealed" if seal else "_unsealed")
    reliability_report("pipe", "security", case, "pass" if not killed and ok else "FAIL", inputs=2,
                       accepted_first=took, truncated=int(truncated), signal=-peer.proc.returncode if killed else 0)
    assert not killed, f"the victim died with signal {-peer.proc.returncode} after its peer's section was shrunk"
    assert not (truncated and took), "the victim accepted a section its peer could shrink"
    assert ok, "the victim no longer serves large messages"


# ---- 3: the channel's shared memory truncated under both peers -------------------------------------------

def test_shm_channel_truncated_under_both_peers(lib, name, victim):
    peer = victim("shm_pair", name.decode(), 3)
    assert lines_until(peer, "OK", 1, 10.0) == 1
    tried = []
    # whatever the name leads to in /dev/shm, and every memfd of the victim: truncate it
    obj = posix_endpoint_path("shm", name.decode())
    try:
        fd = os.open(obj, os.O_RDWR)
        try:
            os.ftruncate(fd, 0)
            tried.append("name:truncated")
        except OSError as e:
            tried.append(f"name:{e.errno}")
        os.close(fd)
    except OSError as e:
        tried.append(f"name-open:{e.errno}")
    fddir = f"/proc/{peer.pid}/fd"
    for n in os.listdir(fddir):
        try:
            if not os.readlink(f"{fddir}/{n}").startswith("/memfd:wipc-"):
                continue
            fd = os.open(f"{fddir}/{n}", os.O_RDWR)
        except OSError:
            continue
        try:
            os.ftruncate(fd, 0)
            tried.append("memfd:truncated")
        except OSError as e:
            tried.append(f"memfd:{e.errno}")
        os.close(fd)
    end = None
    while True:
        line = peer.readline(10.0)
        if line is None or line.startswith("END"):
            end = line
            break
    code = peer.wait(10)
    reliability_report("shm", "security", "channel_truncated_under_both_peers",
                       "pass" if code == 0 and end == "END WIPC_OK" else "FAIL", inputs=len(tried),
                       attempts="+".join(tried).replace(",", ";"), signal=-code if code < 0 else 0)
    assert code == 0, f"the victim died (exit {code}) after {tried}"
    assert end == "END WIPC_OK", f"{end} after {tried}"
