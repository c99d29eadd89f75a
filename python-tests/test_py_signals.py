"""Ctrl-C: a SIGINT sent to a child Python process blocked in a wipc call ends the call
with KeyboardInterrupt in < 1 s, and after catching it the same object still works (a round trip).

Each case is a child process that sets up the object, prints READY, blocks in the call, and on
KeyboardInterrupt prints INTERRUPTED, does a round trip on the same object and prints OK.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Dict, Iterator

import pytest

from swig_pkg import child_env, wipc

PRELUDE = """
import signal, sys, time, wipc
# Python keeps SIGINT ignored when it started ignored (a job started with & by a shell without job
# control, e.g. a CI runner's background step): the child takes Ctrl-C the way a terminal program does.
signal.signal(signal.SIGINT, signal.default_int_handler)
def ready():
    print("READY", flush=True)
def interrupted():
    print("INTERRUPTED", flush=True)
"""

# name -> (setup, blocking call, round trip on the same object afterwards); {n} is a unique name.
CASES = {
    "recv": ("c = wipc.connect('{n}', timeout=5)",
             "c.recv()",
             "assert c.request(b'after', timeout=5) == b'after'"),
    "accept": ("srv = wipc.PipeServer('{n}-own')",
               "srv.accept()",
               "c = wipc.connect('{n}-own', timeout=5); s = srv.accept(timeout=5); c.send(b'x'); "
               "assert s.recv(timeout=5).data == b'x'"),
    "connect": ("pass",
                "wipc.connect('{n}-nobody')",
                "c = wipc.connect('{n}', timeout=5); assert c.request(b'after', timeout=5) == b'after'"),
    "shm_open": ("pass",
                 "wipc.ShmChannel.open('{n}-nobody')",
                 "ch = wipc.ShmChannel.create('{n}-own'); "
                 "assert wipc.ShmChannel.open('{n}-own', timeout=5).request is not None"),
    "shm_recv": ("ch = wipc.ShmChannel.create('{n}-ch'); op = wipc.ShmChannel.open('{n}-ch', timeout=5)",
                 "ch.recv()",
                 "op.send(b'y'); assert ch.recv(timeout=5).data == b'y'"),
    "msg_recv": ("ep = wipc.MsgEndpoint('{n}-ep')",
                 "ep.recv()",
                 "import threading; threading.Thread(target=wipc.msg_send, args=('{n}-ep', b'z', 0, 5)).start(); "
                 "assert ep.recv(timeout=5).data == b'z'"),
}


def child_code(case: str, n: str) -> str:
    setup, call, after = (part.format(n=n) for part in CASES[case])
    return textwrap.dedent(f"""
        {setup}
        ready()
        try:
            {call}
        except KeyboardInterrupt:
            interrupted()
        else:
            sys.exit("the call returned")
        {after}
        print("OK", flush=True)
        """)


_pending: Dict[int, bytes] = {}   # pid -> bytes read from the child's stdout after the last whole line


def read_line(p: subprocess.Popen[str], timeout: float) -> str:
    """The child's next stdout line ("" after `timeout` s or at EOF). Reads the pipe's fd itself: a
    select() on the text stream misses lines its buffer already holds (two lines in one write)."""
    assert p.stdout is not None
    fd = p.stdout.fileno()
    buf = _pending.get(p.pid, b"")
    end = time.monotonic() + timeout
    while b"\n" not in buf:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            _pending[p.pid] = buf
            return ""
        chunk = os.read(fd, 4096)
        if not chunk:
            _pending[p.pid] = b""
            return buf.decode().strip()
        buf += chunk
    line, _, rest = buf.partition(b"\n")
    _pending[p.pid] = rest
    return line.decode().strip()


@pytest.fixture
def echo(name: bytes) -> Iterator[str]:
    n = name.decode()
    with wipc.PipeServer(n, on_message=lambda m: m.reply(m.data) if m.is_request else None):
        yield n


@pytest.mark.parametrize("case", sorted(CASES))
def test_sigint_interrupts_blocking_call(case: str, echo: str) -> None:
    p = run_child(child_code(case, echo))
    try:
        interrupt(p)
    finally:
        finish(p)


# ---- the calls that cannot be repeated in slices: started asynchronously, cancelled on Ctrl-C (1.1) ----

needs_async = pytest.mark.skipif(not hasattr(wipc._native, "wipcpy_request_wait"),
                                 reason="needs the asynchronous operations of libwipc 1.1")


def run_child(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=child_env())


def interrupt(p: subprocess.Popen[str], settle: float = 0.3) -> None:
    """Waits for READY, lets the child block, sends SIGINT and checks INTERRUPTED arrives in < 1 s."""
    assert read_line(p, 30) == "READY", p.stderr.read() if p.poll() is not None and p.stderr else ""
    time.sleep(settle)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    line = read_line(p, 5)
    took = time.monotonic() - t0
    assert line == "INTERRUPTED", line
    assert took < 1.0, f"KeyboardInterrupt {took:.3f} s after SIGINT"


def finish(p: subprocess.Popen[str]) -> None:
    try:
        assert read_line(p, 20) == "OK", p.stderr.read() if p.poll() is not None and p.stderr else ""
        assert p.wait(20) == 0
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


@needs_async
def test_sigint_interrupts_request_and_the_connection_still_works(name: bytes) -> None:
    n = name.decode()

    def on_message(m: wipc.Message) -> None:
        if m.data != b"hang":   # "hang" is never answered
            m.reply(m.data)

    with wipc.PipeServer(n, on_message=on_message):
        p = run_child(f"""
            c = wipc.connect('{n}', timeout=5)
            ready()
            try:
                c.request(b'hang')
            except KeyboardInterrupt:
                interrupted()
            assert c.request(b'after', timeout=5) == b'after'
            print("OK", flush=True)
            """)
        try:
            interrupt(p)
        finally:
            finish(p)


@needs_async
def test_sigint_interrupts_send_on_a_full_connection(name: bytes) -> None:
    n = name.decode()
    chunk = 64 * 1024
    with wipc.PipeServer(n) as srv:   # accepts, reads nothing until the child was interrupted
        p = run_child(f"""
            c = wipc.connect('{n}', timeout=5)
            ready()
            sent = 0
            try:
                while True:
                    c.send(bytes([sent % 251]) * {chunk})
                    sent += 1
            except KeyboardInterrupt:
                interrupted()
            print("SENT", sent, flush=True)
            try:
                assert c.request(b'after', timeout=20) == b'after'
            except wipc.Disconnected:
                print("ENDED", flush=True)   # the cancelled frame was partly written: the library ended it
                sys.exit(0)
            print("OK", flush=True)
            """)
        try:
            conn = srv.accept(timeout=10)
            interrupt(p, settle=1.0)
            sent_line = read_line(p, 5)
            assert sent_line.startswith("SENT "), sent_line
            sent = int(sent_line.split()[1])
            assert sent > 0
            got = 0
            ended = False
            while True:   # every frame whole (no torn frame), in order, then the request
                try:
                    m = conn.recv(timeout=10)
                except wipc.Disconnected:
                    ended = True
                    break
                if m.is_request:
                    m.reply(m.data)
                    break
                assert m.data == bytes([got % 251]) * chunk, f"message {got} is not whole"
                got += 1
            # the interrupted send either wrote nothing or, if part of its frame was in the pipe already,
            # completed whole (wipc_cancel finishes such a frame): one more message then
            assert got in (sent, sent + 1), (got, sent)
            assert not ended, "the connection was ended instead of finishing the cancelled frame"
            finish(p)
        finally:
            if p.poll() is None:
                p.kill()
            p.wait()


@needs_async
@pytest.mark.parametrize("call, after", [
    ("wipc.msg_send('{n}-a', b'slow')", "assert wipc.msg_send('{n}-a', b'four', timeout=20) == 4"),
    ("wipc.msg_broadcast('{n}-', b'slow')", "assert wipc.msg_broadcast('{n}-', b'fast', timeout=20) == 2"),
])
def test_sigint_interrupts_msg_send_and_broadcast(name: bytes, call: str, after: str) -> None:
    n = name.decode()
    release = threading.Event()

    def on_message(m: wipc.Message) -> int:
        if m.data == b"slow":
            release.wait(20)
        return len(m.data)

    with wipc.MsgEndpoint(n + "-a", on_message=on_message), wipc.MsgEndpoint(n + "-b", on_message=on_message):
        p = run_child(f"""
            ready()
            try:
                {call.format(n=n)}
            except KeyboardInterrupt:
                interrupted()
            {after.format(n=n)}
            print("OK", flush=True)
            """)
        try:
            interrupt(p)
            release.set()
        finally:
            release.set()
            finish(p)
