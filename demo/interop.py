"""interop.py - runs wipc peers written in different languages against each other, in separate
processes, and tabulates the results. Used by python-tests/test_interop.py (the interop matrix) and
demo/demo.py (the demo).

Peers (all speak the protocol of demo/peer_common.py):
    C                the `wipc` CLI: `wipc listen URI --reply upper`, `wipc request URI --count N --expect R`
    Python (SWIG)    demo/peer_swig.py     (the SWIG package wipc)
    Python (ctypes)  demo/peer_ctypes.py   (the raw C ABI through ctypes)
    C#               WipcPeer.dll under .NET (`dotnet`; bindings/csharp/peer, the C# binding's net8.0 assembly)
    C (Wine)         wipc.exe of the mingw-w64 build, under scripts/wine-run

Build locations: the Linux build is the directory of $WIPC_LIBRARY (default <repo>/build/linux); the
Windows build is $WIPC_WIN64_BUILD (default <repo>/build/win64).
"""
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import peer_common as pc  # noqa: E402

PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
LANGS = ("C", "Python (SWIG)", "Python (ctypes)", "C#")
TRANSPORTS = ("pipe", "shm", "msg")
RTT_RE = re.compile(r"(\d+) requests of (\d+) bytes: round trip p50 ([\d.]+) us, p99 ([\d.]+) us")
NOT_SUPPORTED = "WIPC_E_NOT_SUPPORTED"


def linux_build():
    lib = os.environ.get("WIPC_LIBRARY")
    return Path(lib).resolve().parent if lib else REPO / "build" / "linux"


def win64_build():
    return Path(os.environ.get("WIPC_WIN64_BUILD") or REPO / "build" / "win64").resolve()


def dotnet_peer():
    """The .NET C# peer, built by `dotnet build bindings/csharp/peer -c Release` (scripts/test-bindings)."""
    return REPO / "build" / "dotnet" / "WipcPeer" / "bin" / "Release" / "net8.0" / "WipcPeer.dll"


def wine_available():
    """True if the Windows build and Wine are there (and WIPC_TEST_SKIP_WINE / WIPC_DEMO_SKIP_WINE are not 1)."""
    if "1" in (os.environ.get("WIPC_TEST_SKIP_WINE"), os.environ.get("WIPC_DEMO_SKIP_WINE")):
        return False
    wine = os.path.exists("/usr/lib/wine/wine64") or shutil.which("wine64") or shutil.which("wine")
    return bool(wine) and (win64_build() / "wipc.exe").exists()


def peer_env(argv=()):
    """The environment of a peer process (argv: its command line). The .NET peer gets no LD_PRELOAD:
    the reliability suite preloads a sanitizer runtime into its Python processes, and under TSan
    CoreCLR's own locking is reported (the C# peer's natives are the plain build's, not instrumented)."""
    env = dict(os.environ)
    if argv and Path(argv[0]).name == "dotnet":
        env.pop("LD_PRELOAD", None)
    env["WIPC_LIBRARY"] = str(linux_build() / "libwipc.so.1")
    env.setdefault("WIPC_PYTHONPATH", str(linux_build() / "bindings" / "python"))
    return env


def missing_tools(langs=LANGS):
    """What the peers of `langs` (default: all four) need and is not built or installed (a list of str).
    The C# peer alone needs only WipcPeer.dll and dotnet: a test running against an installed wheel
    (WIPC_LIBRARY inside site-packages, no CLI or SWIG build beside it) asks for just that."""
    b = linux_build()
    need = {}
    if "C" in langs:
        need["the wipc CLI"] = b / "wipc"
    if "Python (SWIG)" in langs:
        need["the SWIG package"] = b / "bindings" / "python" / "wipc" / "__init__.py"
    if "C#" in langs:
        need["WipcPeer.dll"] = dotnet_peer()
    missing = [f"{what} ({path})" for what, path in need.items() if not path.exists()]
    if "C#" in langs and not shutil.which("dotnet"):
        missing.append("dotnet (the .NET SDK 8.0 or later on PATH)")
    return missing


def _is_c(lang):
    return lang in ("C", "C (Wine)")


def cli_argv(lang):
    """The argv prefix of the C peer: the wipc CLI (under scripts/wine-run for \"C (Wine)\")."""
    if lang == "C (Wine)":
        return [str(REPO / "scripts" / "wine-run"), str(win64_build() / "wipc.exe")]
    return [str(linux_build() / "wipc")]


def server_argv(lang, uri):
    if _is_c(lang):
        return cli_argv(lang) + ["listen", uri, "--reply", "upper", "--quiet"]
    if lang == "C#":   # the C# peer closes its endpoint when its stdin ends (no signal handling needed)
        return peer_argv(lang) + ["serve", uri, "--until-eof"]
    return peer_argv(lang) + ["serve", uri]


def peer_argv(lang):
    """The argv prefix of a Python or C# peer."""
    return {"Python (SWIG)": [PYTHON, str(HERE / "peer_swig.py")],
            "Python (ctypes)": [PYTHON, str(HERE / "peer_ctypes.py")],
            "C#": ["dotnet", str(dotnet_peer())]}[lang]


def client_argv(lang, uri, count):
    """A client doing `count` checked request/replies (msg: msg_send with its int reply)."""
    if _is_c(lang):
        data = pc.payload("c", 0)
        want = pc.expected(uri.partition("://")[0], data)
        want = want.decode() if isinstance(want, bytes) else str(want)
        return cli_argv(lang) + ["request", uri, "--count", str(count), "--timeout", "20000", "--expect", want,
                             data.decode()]
    return peer_argv(lang) + ["client", uri, str(count)]


class Result:
    """One exchange: ok, messages, bytes, p50/p99 round trip (us), detail (why it failed), na."""

    def __init__(self, ok=False, messages=0, nbytes=0, p50=None, p99=None, detail="", na=False):
        self.ok, self.messages, self.bytes, self.p50, self.p99 = ok, messages, nbytes, p50, p99
        self.detail, self.na = detail, na

    def cell(self):
        if self.na:
            return "n/a"
        return f"ok {self.p50:.0f}" if self.ok else "FAIL"


class Server:
    """A `lang` server of `uri` in its own process; start() waits for its "listening on" line."""

    def __init__(self, lang, uri, env=None):
        self.lang, self.uri, self.argv = lang, uri, server_argv(lang, uri)
        self.env, self.proc, self.error = env or peer_env(self.argv), None, ""

    def start(self, timeout=30.0):
        """True when it listens; else False with .error (its stderr), .not_supported set."""
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.PIPE if "--until-eof" in self.argv else subprocess.DEVNULL,
                                     env=self.env)
        line = _readline(self.proc.stdout, timeout)
        if line is not None and line.startswith("listening on"):
            return True
        self.stop()
        self.error = (self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else "").strip()
        self.error = self.error or f"no 'listening on' line within {timeout:.0f} s"
        return False

    @property
    def not_supported(self):
        return NOT_SUPPORTED in self.error

    def stop(self):
        """Ends the server so that it closes its endpoint: SIGTERM (the C and Python peers handle it), or
        end of file on stdin for a --until-eof peer; killed if it has not ended 5 s later."""
        if self.proc and self.proc.stdin:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        for f in (self.proc.stdout, self.proc.stderr) if self.proc else ():
            f.close()


def _readline(f, timeout):
    end, line = time.monotonic() + timeout, b""
    while time.monotonic() < end:
        r, _, _ = select.select([f], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        ch = os.read(f.fileno(), 1)
        if not ch:
            break
        if ch == b"\n":
            return line.decode(errors="replace")
        line += ch
    return None


def run(argv, timeout=120.0, env=None):
    """Runs a client to completion: (exit code, stdout, stderr); exit code None on a time-out."""
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout, env=env or peer_env(argv), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace"), f"timed out after {timeout:.0f} s"
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def run_requests(argv, timeout=120.0, env=None):
    """Runs a client doing checked request/replies; a Result from its round-trip line."""
    code, out, err = run(argv, timeout, env)
    m = RTT_RE.search(out)
    if code != 0 or not m:
        return Result(detail=f"exit {code}: {(err or out).strip()[-400:]}")
    n, size = int(m.group(1)), int(m.group(2))
    return Result(True, n, n * size, float(m.group(3)), float(m.group(4)))


def matrix_cell(server, client_lang, count):
    """One cell: a `client_lang` client doing `count` request/replies against a started Server."""
    if server.proc is None or server.proc.poll() is not None:
        return Result(na=server.not_supported, detail=f"the {server.lang} server did not start: {server.error}")
    return run_requests(client_argv(client_lang, server.uri, count))


def format_matrix(results, langs=LANGS, transports=TRANSPORTS, title="interop matrix"):
    """results: {(server, client, transport): Result} -> a text table per transport (p50 in us)."""
    width = max(len(s) for s in langs) + 2
    lines = [f"{title}: rows = server, columns = client; cells = p50 round trip in us, FAIL or n/a"]
    for t in transports:
        lines.append("")
        lines.append(f"{t + '://':<{width}}" + "".join(f"{c:>{width}}" for c in langs))
        for s in langs:
            cells = [results[(s, c, t)].cell() if (s, c, t) in results else "-" for c in langs]
            lines.append(f"{s:<{width}}" + "".join(f"{x:>{width}}" for x in cells))
    failures = [f"  {s} server, {c} client, {t}://: {r.detail}" for (s, c, t), r in results.items()
                if not r.ok and not r.na]
    if failures:
        lines += ["", "failures:"] + failures
    return "\n".join(lines)
