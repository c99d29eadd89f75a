"""Named events (ABI 1.1): NamedEvent, an auto- or manual-reset event that other processes - wipc
programs or not - open by name (Windows: a kernel event, e.g. ``Local\\Name``; POSIX: a futex word in
a small shm object, ``/Name``; see wipc_event_create in wipc.h)."""
from __future__ import annotations

import time
from typing import Optional

from . import _native as _n
from ._core import DEFAULT, Handle, Timeout_, _ms, _name
from ._errors import Timeout

_SLICE_MS = 200   # longest wait between checks for Ctrl-C (KeyboardInterrupt)


class NamedEvent(Handle):
    """A named event: set() releases one wait (auto-reset) or every wait until reset() (manual
    reset). Use it as a context manager; close() (or the end of the ``with`` block) ends waits in
    other threads with wipc.Closed.

    The name is a wipc name (1-128 characters of [A-Za-z0-9._-]) or a full object name used as given
    (Windows ``Local\\...`` / ``Global\\...``, POSIX ``/...``), to meet programs that do not use wipc.
    """

    @classmethod
    def create(cls, name: str, *, manual_reset: bool = False, initial: bool = False,
               security_descriptor: Optional[str] = None) -> "NamedEvent":
        """Creates the event `name` (not set unless `initial`). `security_descriptor`: Windows SDDL
        for its DACL (None = owner-only); must be None on POSIX. Raises wipc.AddrInUse if the name
        exists (an existing object is never adopted), wipc.InvalidArg for a bad name."""
        flags = (_n.WIPC_EVENT_FLAG_MANUAL_RESET if manual_reset else 0) | (_n.WIPC_EVENT_FLAG_INITIAL_SET if initial else 0)
        sd = None if security_descriptor is None else _name(security_descriptor, "security_descriptor")
        return cls(_n.wipc_event_create(_name(name), flags, sd))

    @classmethod
    def open(cls, name: str) -> "NamedEvent":
        """Opens the existing event `name` (made by wipc or, under a full name, by another program).
        Raises wipc.NotFound, wipc.Protocol (the name holds something that is not an event)."""
        return cls(_n.wipc_event_open(_name(name), 0))

    def set(self) -> None:
        """Sets the event (SetEvent / futex word 1 + wake). Never blocks."""
        _n.wipc_event_set(self._check())

    def reset(self) -> None:
        """Resets the event to not set."""
        _n.wipc_event_reset(self._check())

    def wait(self, timeout: Timeout_ = DEFAULT) -> bool:
        """Waits up to `timeout` seconds (None = forever, 0 = only look; default: the module's
        default timeout) for the event to be set; True if it was (an auto-reset event is taken by
        this wait), False on timeout, as threading.Event.wait. Raises wipc.Closed if the event is
        closed meanwhile; KeyboardInterrupt on Ctrl-C (the wait runs in slices of 200 ms)."""
        ms = _ms(timeout)
        deadline = None if ms < 0 else time.monotonic() + ms / 1000.0
        while True:
            left = _SLICE_MS if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            try:
                _n.wipc_event_wait(self._check(), min(left, _SLICE_MS))
                return True
            except Timeout:
                if deadline is not None and time.monotonic() >= deadline:
                    return False
