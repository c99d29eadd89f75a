"""wipc.NamedEvent (ABI 1.1): the Python wrapper of wipc_event_*: a context manager
with set/reset/wait (wait returns a bool, as threading.Event.wait), auto and manual reset, close from
another thread ends a wait with wipc.Closed, another process sets it, and full object names."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from swig_pkg import child_env, wipc


@pytest.fixture
def uname(name: bytes) -> str:
    return name.decode()


def test_auto_reset(uname: str) -> None:
    with wipc.NamedEvent.create(uname) as ev, wipc.NamedEvent.open(uname) as other:
        assert ev.info().kind == wipc.Kind.EVENT
        assert other.wait(0) is False
        t0 = time.monotonic()
        assert other.wait(0.15) is False
        assert time.monotonic() - t0 >= 0.14
        ev.set()
        assert other.wait(0) is True
        assert other.wait(0) is False   # the wait took it
        with pytest.raises(wipc.AddrInUse):
            wipc.NamedEvent.create(uname)


def test_manual_reset_and_initial(uname: str) -> None:
    with wipc.NamedEvent.create(uname, manual_reset=True, initial=True) as ev:
        assert ev.wait(0) and ev.wait(0)
        ev.reset()
        assert ev.wait(0) is False


def test_close_ends_a_wait_in_another_thread(uname: str) -> None:
    ev = wipc.NamedEvent.create(uname)
    got: list[BaseException] = []

    def waiter() -> None:
        try:
            ev.wait(None)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            got.append(e)

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    ev.close()
    t.join(10)
    assert not t.is_alive()
    assert got and isinstance(got[0], (wipc.Closed, wipc.BadHandle, ValueError)), got
    with pytest.raises(ValueError):
        ev.set()


def test_another_process_sets_it(uname: str) -> None:
    full = ("Local\\" if os.name == "nt" else "/") + uname
    with wipc.NamedEvent.create(full) as ev:
        code = f"import wipc\nwith wipc.NamedEvent.open({full!r}) as e:\n    e.set()\n"
        r = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert ev.wait(10) is True


def test_bad_names(uname: str) -> None:
    with pytest.raises(wipc.NotFound):
        wipc.NamedEvent.open(uname)
    with pytest.raises(wipc.InvalidArg):
        wipc.NamedEvent.create("/a/b" if os.name != "nt" else "Local\\a\\b")
