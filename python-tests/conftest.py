"""pytest fixtures for the wipc Python tests (run with Debian's /usr/bin/python3 -m pytest).

Environment:
  WIPC_LIBRARY  the library to load (default <repo>/build/linux/libwipc.so.1)
  WIPC_PEER     the C helper program (default <repo>/build/linux/c-tests/wipc_peer, built by c-tests/)
"""
import contextlib
import glob
import ctypes
import itertools
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import wipc_ctypes as w  # noqa: E402

REPO = HERE.parent
_counter = itertools.count()


@pytest.fixture(scope="session")
def lib():
    path = w.default_library_path()
    if not Path(path).exists():
        pytest.fail(f"the wipc library {path} does not exist: build it first (cmake --build build/linux)")
    lib = w.load(path)
    yield lib
    lib.wipc_shutdown()


def _unique(tag):
    tag = re.sub(r"[^A-Za-z0-9._-]", "-", tag)[:40]
    return f"py-{os.getpid()}-{next(_counter)}-{tag}"


@pytest.fixture
def name(request):
    """A pipe name unique to this test (bytes)."""
    return _unique(request.node.name).encode()


@pytest.fixture
def make_name(request):
    """A factory of further unique names (bytes)."""
    return lambda tag="x": _unique(f"{request.node.name}-{tag}").encode()


@pytest.fixture(scope="session")
def peer_path():
    return helper_program("WIPC_PEER", "wipc_peer")


class Peer:
    """A running wipc_peer process."""

    def __init__(self, proc):
        self.proc = proc
        self.pid = proc.pid

    def readline(self, timeout=10.0):
        """One line of the peer's stdout (without newline), or None on timeout/EOF."""
        end = time.monotonic() + timeout
        line = b""
        fd = self.proc.stdout.fileno()
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                return None
            ch = os.read(fd, 1)
            if not ch:
                return None
            if ch == b"\n":
                return line.decode()
            line += ch

    def wait_ready(self, timeout=20.0):
        end = time.monotonic() + timeout
        while True:
            line = self.readline(max(0.0, end - time.monotonic()))
            if line is None:
                return False
            if line == "READY":
                return True

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)


def helper_program(env, name):
    """The path of a helper program built with c-tests (env var `env` overrides), or fail the test."""
    path = os.environ.get(env) or str(Path(w.default_library_path()).parent / "c-tests" / name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"the helper program {path} does not exist: build c-tests (cmake --build build/linux)")
    return path


def posix_endpoint_path(transport, name):
    """Where the POSIX backend keeps endpoint `name` (str) of `transport`: the socket file of a pipe
    server or msg receiver in the runtime directory, or the shm object under /dev/shm."""
    x = os.environ.get("XDG_RUNTIME_DIR")
    rundir = f"{x}/wipc" if x and x.startswith("/") else f"/tmp/wipc-{os.geteuid()}"
    return {"pipe": f"{rundir}/p.{name}", "msg": f"{rundir}/m.{name}",
            "shm": f"/dev/shm/wipc-{os.geteuid()}-{name}"}[transport]


@pytest.fixture(scope="session", autouse=True)
def _remove_leftovers_of_killed_peers():
    """Peers killed on purpose leave their socket and lock files or shm objects behind (POSIX reclaims
    them only when a listener takes the same name again, and every test name is unique): at the end of
    the session, remove the ones of this session's names (py-<pid>-..., _unique)."""
    yield
    if sys.platform == "win32":
        return
    mine = f"py-{os.getpid()}-"
    stats = {f"/dev/shm/wipc-{os.geteuid()}-st-{t}-{mine}*" for t in "psm"}   # stats sections (1.1)
    for pattern in {posix_endpoint_path(t, mine) + "*" for t in ("pipe", "msg", "shm")} | stats:
        for path in glob.glob(pattern):
            try:
                os.unlink(path)
            except OSError:
                pass


def cli_path():
    """The wipc tool: $WIPC_CLI, else <dir of the library under test>/wipc (build/linux/wipc)."""
    return os.environ.get("WIPC_CLI") or str(Path(w.default_library_path()).parent / "wipc")


@pytest.fixture
def cli_listener():
    """cli_listener(uri, *options) -> the Popen of a `wipc listen URI --quiet` (a C peer), after its
    "listening on" line; killed (SIGKILL: nothing cleaned up by the peer) at the end of the test."""
    procs = []

    def start(uri, *opts):
        proc = subprocess.Popen([cli_path(), "listen", uri, "--quiet", *opts], stdout=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        procs.append(proc)
        assert Peer(proc).readline(10).startswith("listening on")
        return proc

    yield start
    for p in procs:
        p.kill()
        p.wait(10)
        p.stdout.close()


def reliability_report(transport, category, case, result, **kv):
    """Appends a RELIABILITY line (docs/gen_reliability.py reads them) to $WIPC_RELIABILITY_LOG, if set."""
    line = "RELIABILITY|linux|%s|%s|%s|%s|%s\n" % (transport, category, case, result,
                                                  ",".join(f"{k}={v}" for k, v in kv.items()))
    path = os.environ.get("WIPC_RELIABILITY_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line)


@pytest.fixture(scope="session")
def rel_peer_path(peer_path):
    """c-tests/rel_peer (the reliability suite's peer program); $WIPC_REL_PEER overrides."""
    path = os.environ.get("WIPC_REL_PEER") or str(Path(peer_path).with_name("rel_peer"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"the helper program {path} does not exist: build c-tests (it is c-tests/rel_peer.c)")
    return path


@contextlib.contextmanager
def peer_spawner(*prefix):
    """Yields spawn(*args, ready=True, preexec_fn=None) -> Peer for the program `prefix` (a path, or an
    interpreter and its script) run with args (waiting for its READY line); every peer is killed and
    reaped on exit."""
    peers = []

    def spawn(*args, ready=True, preexec_fn=None):
        argv = [str(x) for x in prefix] + [a.decode() if isinstance(a, bytes) else str(a) for a in args]
        p = Peer(subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=preexec_fn))
        peers.append(p)
        if ready and not p.wait_ready():
            p.kill()
            pytest.fail(f"{' '.join(argv)} did not print READY (exit code {p.wait(10)})")
        return p

    try:
        yield spawn
    finally:
        for p in peers:
            p.kill()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass
            p.proc.stdout.close()


@pytest.fixture
def spawn_peer(peer_path):
    """spawn_peer(*args, ready=True) -> Peer. Killed and reaped at the end of the test."""
    with peer_spawner(peer_path) as spawn:
        yield spawn


@pytest.fixture
def rel(rel_peer_path):
    """rel(*args, ready=True) -> Peer running rel_peer; killed and reaped at the end of the test."""
    with peer_spawner(rel_peer_path) as spawn:
        yield spawn


class Pair:
    """An in-process server + client connection + server-side connection."""

    def __init__(self, lib, name, srv_opts=None, cli_opts=None):
        self.lib = lib
        self.name = name
        self.srv = w.handle()
        self.cli = w.handle()
        self.svc = w.handle()
        w.check(lib, lib.wipc_pipe_listen(name, ctypes.byref(srv_opts) if srv_opts else None, ctypes.byref(self.srv)))
        w.check(lib, lib.wipc_pipe_connect(name, ctypes.byref(cli_opts) if cli_opts else None, 5000,
                                           ctypes.byref(self.cli)))
        w.check(lib, lib.wipc_pipe_accept(self.srv, 5000, ctypes.byref(self.svc)))

    def close(self):
        for h in (self.cli, self.svc, self.srv):
            if h.value:
                self.lib.wipc_close(h)
                h.value = 0


@pytest.fixture
def pair(lib, name):
    p = Pair(lib, name)
    yield p
    p.close()


def assert_status(lib, got, expected, what=""):
    """Asserts a status, showing names and the last error message; for failures also checks that
    wipc_last_error_message() is not empty."""
    msg = w.last_error(lib)
    assert got == expected, (f"{what}: got {w.STATUS_NAMES.get(got, got)}, expected "
                             f"{w.STATUS_NAMES.get(expected, expected)}; last error: {msg!r}")
    if expected != w.WIPC_OK:
        assert msg, f"{what}: {w.STATUS_NAMES[expected]} with an empty wipc_last_error_message()"
