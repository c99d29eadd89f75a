"""Ctrl-C (issue 13 §1): a SIGINT sent to a child Python process blocked in a wipc call ends the call
with KeyboardInterrupt in < 1 s, and after catching it the same object still works (a round trip).

Each case is a child process that sets up the object, prints READY, blocks in the call, and on
KeyboardInterrupt prints INTERRUPTED, does a round trip on the same object and prints OK.
"""
from __future__ import annotations

import select
import signal
import subprocess
import sys
import textwrap
import time
from typing import Iterator

import pytest

from swig_pkg import child_env, wipc

PRELUDE = """
import sys, time, wipc
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
    return PRELUDE + textwrap.dedent(f"""
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


def read_line(p: subprocess.Popen[str], timeout: float) -> str:
    assert p.stdout is not None
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([p.stdout], [], [], max(0.0, end - time.monotonic()))
        if r:
            return p.stdout.readline().strip()
    return ""


@pytest.fixture
def echo(name: bytes) -> Iterator[str]:
    n = name.decode()
    with wipc.PipeServer(n, on_message=lambda m: m.reply(m.data) if m.is_request else None):
        yield n


@pytest.mark.parametrize("case", sorted(CASES))
def test_sigint_interrupts_blocking_call(case: str, echo: str) -> None:
    p = subprocess.Popen([sys.executable, "-c", child_code(case, echo)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=child_env())
    try:
        assert read_line(p, 30) == "READY", p.stderr.read() if p.poll() is not None and p.stderr else ""
        time.sleep(0.3)   # let it block in the call
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        line = read_line(p, 5)
        took = time.monotonic() - t0
        assert line == "INTERRUPTED", line
        assert took < 1.0, f"KeyboardInterrupt {took:.3f} s after SIGINT"
        assert read_line(p, 20) == "OK"
        assert p.wait(20) == 0
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        if p.returncode:
            print(p.stderr.read() if p.stderr else "")
