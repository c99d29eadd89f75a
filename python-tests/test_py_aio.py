"""wipc.aio: asyncio on the library's asynchronous operations, no executor threads.

1,000 concurrent request()s from one loop; wait_for(conn.recv(), 0.2) raises TimeoutError and
asyncio.run returns at once; an async def handler server serving C clients (the `wipc` CLI, a ctypes
client) in other processes; cancelling tasks in the middle of 100 in-flight requests leaves the
connection usable; a handler raising KeyError('x') reaches C clients (WIPC_E_REMOTE, text names
KeyError) and Python clients (RemoteError).
"""
from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

import pytest

import wipc_ctypes as w
from swig_pkg import child_env, wipc

pytestmark = pytest.mark.skipif(not wipc.aio.AVAILABLE, reason="wipc.aio needs libwipc 1.1")

T = TypeVar("T")


def run(coro_fn: Callable[[], Awaitable[T]], limit: float = 60) -> T:
    """asyncio.run with an overall limit, so that a hang fails the test instead of blocking it."""
    async def guarded() -> T:
        return await asyncio.wait_for(coro_fn(), limit)
    return asyncio.run(guarded())


@pytest.fixture
def uname(name: bytes) -> str:
    return name.decode()


async def upper(msg: wipc.Message) -> bytes:
    await asyncio.sleep(0)
    if msg.data == b"raise":
        raise KeyError("x")
    if msg.data.startswith(b"slow"):
        await asyncio.sleep(0.5)
    return msg.data.upper()


def cli_path() -> str:
    for p in (os.environ.get("WIPC_CLI", ""), str(Path(w.default_library_path()).parent / "wipc"),
              str(Path(__file__).resolve().parents[1] / "build" / "linux" / "wipc")):
        if p and os.access(p, os.X_OK) and not os.path.isdir(p):
            return p
    pytest.skip("the wipc CLI is not built (build/linux/wipc)")


# ---- basics ----------------------------------------------------------------------------------------------

def test_connect_request_send_recv_async_for_aclose(uname: str) -> None:
    async def main() -> None:
        async with wipc.aio.PipeServer(uname, on_request=upper):
            async with wipc.aio.connect(uname, timeout=5) as conn:
                assert await conn.request(b"hello", timeout=5) == b"HELLO"
                assert await conn.request(bytearray(b"x"), type=7) == b"X"
                assert conn.peer_pid == os.getpid()
            assert conn.closed
            conn2 = await wipc.aio.connect(uname, timeout=5)
            assert await conn2.request(b"again") == b"AGAIN"
            await conn2.aclose()
            with pytest.raises(ValueError, match="is closed"):
                await conn2.request(b"x")
        with pytest.raises(wipc.NotFound):
            await wipc.aio.connect(uname, timeout=0)
        with pytest.raises(TypeError):
            await wipc.aio.connect(42)  # type: ignore[arg-type]

        async with wipc.aio.PipeServer(uname) as srv:   # no handler: accept() and recv()/async for
            cli = await wipc.aio.connect(uname, timeout=5)
            conn = await srv.accept(timeout=5)
            for i in range(3):
                await cli.send(b"m%d" % i, type=i)
            await cli.aclose()
            got = [(m.data, m.type) async for m in conn]   # ends when the peer disconnected
            assert got == [(b"m0", 0), (b"m1", 1), (b"m2", 2)]
            await conn.aclose()
    run(main)


def test_thousand_concurrent_requests_from_one_loop(uname: str) -> None:
    async def main() -> None:
        async with wipc.aio.PipeServer(uname, on_request=upper), wipc.aio.connect(uname, timeout=5) as conn:
            replies = await asyncio.gather(*(conn.request(b"r%d" % i, timeout=30) for i in range(1000)))
            assert replies == [b"R%d" % i for i in range(1000)]
    threads = threading.active_count()
    run(main)
    assert threading.active_count() == threads   # no executor threads


def test_wait_for_recv_times_out_and_asyncio_run_returns_at_once(uname: str) -> None:
    code = textwrap.dedent(f"""
        import asyncio, threading, time, wipc, wipc.aio
        async def main():
            async with wipc.aio.PipeServer({uname!r}) as srv, wipc.aio.connect({uname!r}, timeout=5) as conn:
                try:
                    await asyncio.wait_for(conn.recv(), 0.2)
                except asyncio.TimeoutError:
                    pass
                else:
                    raise SystemExit("recv returned")
                assert isinstance(asyncio.TimeoutError(), TimeoutError) or True
                peer = await srv.accept(timeout=5)
                await peer.send(b"still works")
                assert (await conn.recv(timeout=5)).data == b"still works"
                # a recv that stays pending when the loop ends: asyncio.run cancels it
                asyncio.get_running_loop().create_task(conn.recv())
                await asyncio.sleep(0.05)
                await peer.aclose()
        t0 = time.monotonic()
        asyncio.run(main())
        took = time.monotonic() - t0
        print("RAN", round(took, 3), threading.active_count(), flush=True)
        """)
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=child_env())
    assert p.returncode == 0, p.stderr
    _, took, threads = p.stdout.split()
    assert float(took) < 1.0, p.stdout
    assert threads == "1", "an executor thread was left"
    assert time.monotonic() - t0 < 30


def test_cancelling_100_in_flight_requests_leaves_the_connection_usable(uname: str) -> None:
    async def main() -> None:
        async with wipc.aio.PipeServer(uname, on_request=upper), wipc.aio.connect(uname, timeout=5) as conn:
            tasks = [asyncio.ensure_future(conn.request(b"slow%d" % i, timeout=30)) for i in range(100)]
            await asyncio.sleep(0.1)
            for t in tasks[::2]:
                t.cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            cancelled = [d for d in done if isinstance(d, asyncio.CancelledError)]
            assert len(cancelled) == 50
            assert [d for d in done if not isinstance(d, asyncio.CancelledError)] == \
                [b"SLOW%d" % i for i in range(1, 100, 2)]
            assert await conn.request(b"after", timeout=5) == b"AFTER"
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(conn.request(b"slow-again", timeout=30), 0.1)
            assert await conn.request(b"after2", timeout=5) == b"AFTER2"
    run(main)


def test_close_ends_pending_operations(uname: str) -> None:
    async def main() -> None:
        async with wipc.aio.PipeServer(uname) as srv:
            conn = await wipc.aio.connect(uname, timeout=5)
            pending = asyncio.ensure_future(conn.recv())
            acc = asyncio.ensure_future(srv.accept())
            await asyncio.sleep(0.05)
            conn.close()
            with pytest.raises(wipc.Closed):
                await pending
            (await acc).close()
    run(main)


def test_msg_send(uname: str) -> None:
    async def main() -> None:
        with wipc.MsgEndpoint(uname, on_message=lambda m: len(m.data)):
            assert await wipc.aio.msg_send(uname, b"12345", timeout=5) == 5
        with pytest.raises(wipc.NotFound):
            await wipc.aio.msg_send(uname, b"x", timeout=0.2)
    run(main)


def test_shm_channel(uname: str) -> None:
    async def main() -> None:
        a = wipc.aio.ShmChannel.create(uname)
        b = await wipc.aio.ShmChannel.open(uname, timeout=5)
        try:
            await a.send(b"probe")
        except wipc.NotSupported:
            a.close()
            b.close()
            pytest.xfail("this libwipc's async core has no shm channel operations yet (WIPC_E_NOT_SUPPORTED)")
        assert (await b.recv(timeout=5)).data == b"probe"
        async with a, b:
            await a.send(b"over shm", type=3)
            m = await b.recv(timeout=5)
            assert (m.data, m.type) == (b"over shm", 3)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(b.recv(), 0.1)
            await a.send(b"kept")
            assert (await b.recv(timeout=5)).data == b"kept"
        with pytest.raises(wipc.NotFound):
            await wipc.aio.ShmChannel.open(uname + "-none", timeout=0.05)
    run(main)


# ---- serving other processes, remote errors -----------------------------------------------------------------

def test_async_handler_serves_c_clients_and_python_gets_remote_error(uname: str) -> None:
    cli = cli_path()
    ctypes_client = textwrap.dedent(f"""
        import ctypes, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import wipc_ctypes as w
        lib = w.load()
        h = ctypes.c_uint64()
        w.check(lib, lib.wipc_pipe_connect({uname.encode()!r}, None, 5000, ctypes.byref(h)))
        buf = ctypes.create_string_buffer(256); n = ctypes.c_size_t()
        st = lib.wipc_request(h, 0, b"raise", 5, buf, 256, ctypes.byref(n), 5000)
        print(st, lib.wipc_last_error_message().decode())
        st = lib.wipc_request(h, 0, b"ok", 2, buf, 256, ctypes.byref(n), 5000)
        print(st, buf.raw[:n.value].decode())
        """)

    async def main() -> None:
        async with wipc.aio.PipeServer(uname, on_request=upper):
            procs = [await asyncio.create_subprocess_exec(cli, "request", f"pipe://{uname}", f"hello{i}",
                                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for i in range(4)]
            outs = [await p.communicate() for p in procs]
            assert [o[0].decode().strip() for o in outs] == [f"HELLO{i}" for i in range(4)], outs
            p = await asyncio.create_subprocess_exec(cli, "request", f"pipe://{uname}", "raise",
                                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await p.communicate()
            assert p.returncode != 0 and b"remote error" in err and b"KeyError" in err, (out, err)
            p = await asyncio.create_subprocess_exec(sys.executable, "-c", ctypes_client, stdout=subprocess.PIPE,
                                                     stderr=subprocess.PIPE, env=child_env())
            out, err = await p.communicate()
            lines = out.decode().splitlines()
            assert p.returncode == 0 and len(lines) == 2, (out, err)
            assert lines[0].startswith(f"{wipc.RemoteError.status} ") and "KeyError" in lines[0] and "'x'" in lines[0]
            assert lines[1] == "0 OK"
            async with wipc.aio.connect(uname, timeout=5) as conn:
                with pytest.raises(wipc.RemoteError) as e:
                    await conn.request(b"raise", timeout=5)
                assert e.value.remote_message == "KeyError: 'x'" and isinstance(e.value, OSError)
                assert await conn.request(b"fine") == b"FINE"
            # the sync client too
            with wipc.connect(uname, timeout=5) as c:
                with pytest.raises(wipc.RemoteError, match="KeyError"):
                    await asyncio.get_running_loop().run_in_executor(None, c.request, b"raise", 0, 5)
    run(main)


def interop_module() -> Any:
    """demo/interop.py: how the interop matrix finds and starts its peers; only the C# one is needed here
    (under scripts/test-python-wheels the library is the wheel's, with no CLI or SWIG build beside it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demo"))
    mod = importlib.import_module("interop")
    missing = mod.missing_tools(("C#",))
    if missing:
        pytest.fail("the interop peers are not built: " + "; ".join(missing))
    return mod


@pytest.mark.parametrize("mode", ["client", "client-async"])
def test_async_handler_serves_csharp_clients(uname: str, mode: str) -> None:
    """An `async def` handler on the event loop serves the .NET C# peer in another process: 50 checked
    request/replies (the peer's blocking Request, or its await RequestAsync)."""
    interop = interop_module()
    uri = f"pipe://{uname}"
    argv = interop.peer_argv("C#") + [mode, uri, "50"]

    async def main() -> None:
        async with wipc.aio.PipeServer(uname, on_request=upper):
            p = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                     env=interop.peer_env(argv))
            out, err = await asyncio.wait_for(p.communicate(), 120)
            assert p.returncode == 0, (out, err)
            assert b"50 requests" in out, out
    run(main)


def test_sync_handler_raising_reaches_async_client(uname: str) -> None:
    def on_message(m: wipc.Message) -> None:
        raise wipc.RemoteError(404, "no such thing")

    async def main() -> None:
        with wipc.PipeServer(uname, on_message=on_message):
            async with wipc.aio.connect(uname, timeout=5) as conn:
                with pytest.raises(wipc.RemoteError) as e:
                    await conn.request(b"x", timeout=5)
                assert (e.value.code, e.value.remote_message) == (404, "no such thing")
    run(main)
