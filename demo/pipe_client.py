#!/usr/bin/python3
"""demo/pipe_client.py - the Python side of the demo: a ctypes client of a wipc pipe server.

    pipe_client.py NAME [COUNT]

Connects to pipe://NAME, sends a few typed messages and COUNT requests of 64 bytes, checks every
reply, and prints what it did with round-trip p50/p99. Exit status 0 only if every exchange succeeded.
"""
import ctypes
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python-tests"))
import wipc_ctypes as w  # noqa: E402


def main():
    name = sys.argv[1].encode()
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    lib = w.load()
    conn = w.handle()
    w.check(lib, lib.wipc_pipe_connect(name, None, 5000, ctypes.byref(conn)))
    info = w.Info()
    info.struct_size = ctypes.sizeof(info)
    w.check(lib, lib.wipc_get_info(conn, ctypes.byref(info)))
    print(f"python client (pid {os.getpid()}): connected to pipe://{name.decode()}, server pid {info.peer_pid}")

    resp = ctypes.create_string_buffer(65536)
    got = ctypes.c_size_t()
    for text in (b"hello from Python", b"wipc keeps message boundaries"):
        w.check(lib, lib.wipc_request(conn, 7, text, len(text), resp, len(resp), ctypes.byref(got), 5000))
        print(f"python client: request {text!r} -> reply {resp.raw[:got.value]!r}")
        if resp.raw[:got.value] != text.upper():
            print("python client: FAILED: the reply is not the upper-cased request")
            return 1

    rtts = []
    for i in range(count):
        req = (b"%08d" % i) * 8                       # 64 bytes
        t0 = time.perf_counter()
        w.check(lib, lib.wipc_request(conn, 1, req, len(req), resp, len(resp), ctypes.byref(got), 5000))
        rtts.append((time.perf_counter() - t0) * 1e6)
        if resp.raw[:got.value] != req.upper():
            print(f"python client: FAILED: reply {i} does not match")
            return 1
    rtts.sort()
    w.check(lib, lib.wipc_get_info(conn, ctypes.byref(info)))
    print(f"python client: {count} requests of 64 B answered correctly; round trip p50 {rtts[len(rtts)//2]:.1f} us, "
          f"p99 {rtts[int(len(rtts)*0.99)]:.1f} us (incl. ctypes)")
    print(f"python client: counters: {info.messages_sent} messages / {info.bytes_sent} bytes sent, "
          f"{info.messages_received} / {info.bytes_received} received")
    lib.wipc_close(conn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
