"""The interop matrix: every ordered pair of {C, Python (SWIG), Python (ctypes), C#} exchanges checked
request/replies over pipe, shm and msg, each side in its own process (Linux); then C <-> C under
Wine (the mingw-w64 build), when it and Wine are there.

One server process per (server language, transport) serves the four clients one after the other.
The matrix is printed at the end of the module (also with -q); a failing cell fails its test. A cell
is skipped ("n/a") only if the server got WIPC_E_NOT_SUPPORTED (a transport missing from the build).
The peers and their protocol: demo/interop.py, demo/peer_common.py.
"""
import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demo"))
import interop  # noqa: E402
from conftest import posix_endpoint_path  # noqa: E402

COUNT = 200          # request/replies per cell
WINE_COUNT = 50
_servers = {}        # (server language, transport) -> interop.Server
_results = {}        # (server, client, transport) -> interop.Result


def _slug(s):
    return re.sub(r"[^A-Za-z0-9]+", "-", s.replace("#", "sharp")).strip("-").lower()


@pytest.fixture(scope="module", autouse=True)
def matrix(request):
    yield
    for server in _servers.values():
        server.__exit__(None, None, None)
    ran = any(k[0] in interop.LANGS for k in _results)
    text = interop.format_matrix(_results) if ran else "interop matrix: only the Wine cells ran"
    wine = [f"{t}: {_results[k].cell()}" for t in interop.TRANSPORTS if (k := ("C (Wine)", "C (Wine)", t)) in _results]
    if wine:
        text += "\n\nC <-> C under Wine (wipc.exe, p50 round trip in us): " + ", ".join(wine)
    capman = request.config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled():
        print("\n" + text)


@pytest.fixture(scope="module")
def tools():
    missing = interop.missing_tools()
    if missing:
        pytest.fail("the interop peers are not built: " + "; ".join(missing) + " (cmake --build build/linux)")


def _server(lang, transport, timeout=30.0):
    key = (lang, transport)
    if key not in _servers:
        server = interop.Server(lang, f"{transport}://interop-{os.getpid()}-{_slug(lang)}-{transport}")
        server.start(timeout)
        _servers[key] = server
    return _servers[key]


def _check(key, result):
    _results[key] = result
    if result.na:
        pytest.skip(result.detail)
    assert result.ok, result.detail


CELLS = [(s, t, c) for s in interop.LANGS for t in interop.TRANSPORTS for c in interop.LANGS]


@pytest.mark.parametrize("server_lang,transport,client_lang", CELLS,
                         ids=[f"{_slug(s)}-server-{t}-{_slug(c)}-client" for s, t, c in CELLS])
def test_interop(tools, server_lang, transport, client_lang):
    server = _server(server_lang, transport)
    _check((server_lang, client_lang, transport), interop.matrix_cell(server, client_lang, COUNT))


@pytest.mark.parametrize("transport", interop.TRANSPORTS)
def test_interop_wine(transport):
    if not interop.wine_available():
        pytest.skip(f"no Wine or no {interop.win64_build() / 'wipc.exe'} (or WIPC_TEST_SKIP_WINE=1)")
    server = _server("C (Wine)", transport, timeout=120.0)
    _check(("C (Wine)", "C (Wine)", transport), interop.matrix_cell(server, "C (Wine)", WINE_COUNT))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX names: socket files and /dev/shm objects")
def test_stopped_servers_leave_nothing_behind():
    """Every Linux server of the matrix closes its endpoint when it is stopped (the C and Python peers
    on SIGTERM, the C# peer at the end of its stdin): no socket file or shm object stays behind."""
    started = [(key, s) for key, s in _servers.items() if key[0] in interop.LANGS and s.proc]
    if not started:
        pytest.skip("no Linux server ran (filtered out)")
    left = []
    for (lang, transport), server in started:
        server.stop()
        path = posix_endpoint_path(transport, server.uri.partition("://")[2])
        if os.path.exists(path):
            left.append(f"{lang} {transport}: {path}")
    assert not left, "left behind by stopped servers: " + "; ".join(left)
