#!/usr/bin/env python3
"""hardening_victim.py - a wipc process for test_hardening_posix.py to attack.

The attacks run in the test process with raw OS calls (AF_UNIX sockets, /dev/shm files, mmap); the
victim is this separate process, so that a crash (SIGBUS, SIGSEGV) kills it and not pytest, and its
resource use (RSS, VmData, CPU time) can be read from /proc/<pid>. It loads the library under test
with ctypes (wipc_ctypes.py, $WIPC_LIBRARY) and prints READY once it serves, then one line per
event on stdout.

    hardening_victim.py serve NAME [key=value ...]   a pipe server with callbacks:
        delay=S          seconds each on_message call sleeps (0)
        instances=N      max_instances (64)
        handshake_ms=N   handshake_timeout_ms (unset: the library's default)
        queued_bytes=N   max_queued_bytes (unset: the default)
        prints "MSG <size>" per message, "CONN" / "DISC" per connection
    hardening_victim.py shm_open NAME TRIES       opens the channel TRIES times (each: open, send
        8 bytes, close) and prints "OPEN <status name>" for each
    hardening_victim.py shm_pair NAME SECONDS     creates the channel and opens it (both ends in this
        process), then moves a message each way every 5 ms for SECONDS, printing "OK <n>" every 50
        round trips and "END <status name>" when a call fails or the time is up
"""
import ctypes
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import wipc_ctypes as w  # noqa: E402


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def serve(lib, name, opts):
    delay = float(opts.get("delay", 0))
    o = w.pipe_options(lib, max_instances=int(opts.get("instances", 64)))
    if "handshake_ms" in opts:
        o.handshake_timeout_ms = int(opts["handshake_ms"])
    if "queued_bytes" in opts:
        o.max_queued_bytes = int(opts["queued_bytes"])

    @w.MESSAGE_CB
    def on_message(h, m, user):
        say("MSG %d" % m.contents.size)
        if delay:
            time.sleep(delay)
        return 0

    @w.EVENT_CB
    def on_event(h, event, related, status, user):
        if event == w.WIPC_EVENT_CONNECTED:
            say("CONN")
        elif event == w.WIPC_EVENT_DISCONNECTED:
            say("DISC")

    server = w.handle()
    w.check(lib, lib.wipc_pipe_listen(name.encode(), ctypes.byref(o), ctypes.byref(server)))
    w.check(lib, lib.wipc_set_callbacks(server, on_message, on_event, None))
    say("READY")
    for _ in sys.stdin:   # until the test closes our stdin (or kills us)
        pass
    while True:
        time.sleep(3600)


def shm_open(lib, name, tries):
    say("READY")
    for _ in range(tries):
        h = w.handle()
        st = lib.wipc_shm_open(name.encode(), None, 200, ctypes.byref(h))
        if st == w.WIPC_OK:
            lib.wipc_send(h, 1, b"12345678", 8, 0)
            lib.wipc_close(h)
        say("OPEN " + w.STATUS_NAMES.get(st, str(st)))
    say("DONE")


def shm_pair(lib, name, seconds):
    creator, opener = w.handle(), w.handle()
    o = w.ShmOptions()
    lib.wipc_shm_options_init(ctypes.byref(o))
    o.capacity = 64 * 1024
    w.check(lib, lib.wipc_shm_create(name.encode(), ctypes.byref(o), ctypes.byref(creator)))
    w.check(lib, lib.wipc_shm_open(name.encode(), None, 2000, ctypes.byref(opener)))
    say("READY")
    n, st = 0, w.WIPC_OK
    end = time.monotonic() + seconds
    while time.monotonic() < end and st == w.WIPC_OK:
        for a, b in ((opener, creator), (creator, opener)):
            st = lib.wipc_send(a, 1, b"x" * 1000, 1000, 1000)
            if st == w.WIPC_OK:
                st = w.recv(lib, b, 4096, 1000)[0]
            if st != w.WIPC_OK:
                break
        n += 1
        if n % 50 == 0:
            say("OK %d" % n)
        time.sleep(0.005)
    say("END " + w.STATUS_NAMES.get(st, str(st)))


def main():
    lib = w.load()
    mode, name = sys.argv[1], sys.argv[2]
    if mode == "serve":
        serve(lib, name, dict(a.split("=", 1) for a in sys.argv[3:]))
    elif mode == "shm_pair":
        shm_pair(lib, name, float(sys.argv[3]))
    elif mode == "shm_open":
        shm_open(lib, name, int(sys.argv[3]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
