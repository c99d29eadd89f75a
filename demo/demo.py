#!/usr/bin/python3
"""demo.py - the wipc demo (scripts/demo builds, then runs this with /usr/bin/python3).

1. Linux: this process is the server: the SWIG package `wipc` with callbacks, serving pipe://NAME,
   shm://NAME and msg://NAME at once (requests are answered upper-cased, msg messages with the sum of
   their bytes). From other processes, the C command-line tool (wipc) and a C# client (WipcPeer.dll
   under .NET) send, request and broadcast to it; the server counts what arrived.
2. Windows under Wine (when Wine and build/win64 are there, unless WIPC_DEMO_SKIP_WINE=1): the same
   exchanges between C processes: wipc.exe listen <- wipc.exe send / request / broadcast.

Prints a table (transport, client, messages, bytes, round trip p50/p99, result) and exits 0 only if
every exchange succeeded. A transport the library reports as WIPC_E_NOT_SUPPORTED is shown as "not
available in this build" (not a failure).
"""
import os
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import interop  # noqa: E402
import peer_common as pc  # noqa: E402

sys.path.insert(0, os.environ.get("WIPC_PYTHONPATH") or str(interop.linux_build() / "bindings" / "python"))
import wipc  # noqa: E402

LINUX_COUNT, WINE_COUNT = 1000, 200
NA = "not available in this build"


class Row:
    def __init__(self, transport, client):
        self.transport, self.client = transport, client
        self.messages = self.bytes = 0
        self.p50 = self.p99 = None
        self.result = "ok"

    def fail(self, why):
        if self.result in ("ok", NA):
            self.result = f"FAILED: {why}"


def step(row, argv, data, want_out=None, count=None):
    """Runs one client command that sends `data` (count times if count); checks its output."""
    if row.result != "ok":
        return
    if count:
        r = interop.run_requests(argv)
        if not r.ok:
            return row.fail(r.detail)
        row.p50, row.p99 = r.p50, r.p99
    else:
        code, out, err = interop.run(argv)
        if code != 0 or (want_out is not None and out.strip() != want_out):
            return row.fail(f"{' '.join(argv[-4:])}: exit {code}: {(err or out).strip()[-300:]}")
    row.messages += count or 1
    row.bytes += len(data) * (count or 1)


def exchanges(row, lang, uri, count):
    """send + request + `count` checked requests (+ broadcast on msg) by a `lang` client."""
    scheme, name = uri.split("://")
    hello = f"hello from {row.client}".encode()
    msg_reply = str(pc.byte_sum(hello)) if scheme == "msg" else None
    if lang == "C#":
        peer = interop.peer_argv("C#")
        step(row, peer + ["send", uri, hello.decode()], hello, msg_reply)
        step(row, peer + ["client", uri, str(count)], pc.payload("csharp", 0), count=count)
        if scheme == "msg":
            step(row, peer + ["broadcast", uri, hello.decode()], hello, "delivered to 1 receiver")
        return
    cli = interop.cli_argv(lang)
    step(row, cli + ["send", uri, hello.decode()], hello, msg_reply)
    step(row, cli + ["request", uri, hello.decode(), "--timeout", "20000"], hello, msg_reply or hello.upper().decode())
    step(row, interop.client_argv(lang, uri, count), pc.payload("c", 0), count=count)
    if scheme == "msg":
        step(row, cli + ["broadcast", f"msg://{name}", hello.decode(), "--timeout", "20000"], hello,
             "delivered to 1 receiver")


# ---- the Python server ---------------------------------------------------------------------------------

class PythonServer:
    """pipe, shm and msg endpoints of one name, with callbacks that answer and count."""

    def __init__(self, name):
        self.name, self.lock = name, threading.Lock()
        self.received = {t: [0, 0] for t in interop.TRANSPORTS}
        self.endpoints, self.unavailable = [], set()
        makers = {"pipe": lambda cb: wipc.PipeServer(name, on_message=cb),
                  "shm": lambda cb: wipc.ShmChannel.create(name, on_message=cb),
                  "msg": lambda cb: wipc.MsgEndpoint(name, on_message=cb)}
        for t, make in makers.items():
            try:
                self.endpoints.append(make(self._callback(t)))
            except wipc.NotSupported:
                self.unavailable.add(t)

    def _callback(self, transport):
        def on_message(msg):               # runs on a library thread, holding the GIL
            with self.lock:
                self.received[transport][0] += 1
                self.received[transport][1] += len(msg.data)
            if msg.is_request:
                msg.reply(pc.upper(msg.data))
            return pc.byte_sum(msg.data)
        return on_message

    def close(self):
        for e in self.endpoints:
            e.close()


def linux_part():
    name = f"demo-{os.getpid()}"
    server = PythonServer(name)
    print(f"== Linux: Python server (SWIG package wipc, callbacks), pid {os.getpid()}, serving "
          f"pipe://{name}, shm://{name}, msg://{name}")
    print("   clients in other processes: C (the wipc CLI) and C# (WipcPeer.dll under .NET)\n", flush=True)
    rows = []
    try:
        for t in interop.TRANSPORTS:
            for lang, label in (("C", "C (wipc CLI)"), ("C#", "C# (.NET)")):
                row = Row(t, label)
                rows.append(row)
                if t in server.unavailable:
                    row.result = NA
                else:
                    exchanges(row, lang, f"{t}://{name}", LINUX_COUNT)
    finally:
        server.close()
    for t in interop.TRANSPORTS:   # what the server received must be what the clients sent
        sent = [sum(r.messages for r in rows if r.transport == t), sum(r.bytes for r in rows if r.transport == t)]
        if t not in server.unavailable and server.received[t] != sent:
            rows[-1].fail(f"the server received {server.received[t]} (messages, bytes) on {t}, the clients sent {sent}")
    print_table(rows)
    total = {t: server.received[t][0] for t in interop.TRANSPORTS if t not in server.unavailable}
    print(f"   the Python server's callbacks received: {', '.join(f'{t} {n}' for t, n in total.items())} messages\n")
    return rows


def wine_part():
    name = f"demo-wine-{os.getpid()}"
    print(f"== Windows under Wine: C server (wipc.exe listen) <-> C client (wipc.exe), each in its own Wine "
          f"process; \\\\.\\pipe\\wipc-{name}, Local\\wipc-{name}, window class wipc-msg-{name}\n", flush=True)
    rows = []
    for t in interop.TRANSPORTS:
        row = Row(t, "C (wipc.exe)")
        rows.append(row)
        with interop.Server("C (Wine)", f"{t}://{name}") as server:
            if not server.start(timeout=120):
                row.result = NA if server.not_supported else f"FAILED: the server did not start: {server.error}"
                continue
            exchanges(row, "C (Wine)", f"{t}://{name}", WINE_COUNT)
    print_table(rows)
    return rows


def print_table(rows):
    print(f"   {'transport':<10}{'client':<16}{'messages':>9}{'bytes':>10}{'p50 (us)':>10}{'p99 (us)':>10}  result")
    for r in rows:
        p50 = f"{r.p50:.1f}" if r.p50 is not None else "-"
        p99 = f"{r.p99:.1f}" if r.p99 is not None else "-"
        print(f"   {r.transport + '://':<10}{r.client:<16}{r.messages:>9}{r.bytes:>10}{p50:>10}{p99:>10}  {r.result}")
    print(flush=True)


def main():
    missing = interop.missing_tools()
    if missing:
        print("demo: not built: " + "; ".join(missing), file=sys.stderr)
        return 1
    rows = linux_part()
    if interop.wine_available():
        rows += wine_part()
    else:
        print("== Windows under Wine: skipped (no Wine, no build/win64/wipc.exe, or WIPC_DEMO_SKIP_WINE=1)\n")
    failed = [r for r in rows if r.result.startswith("FAILED")]
    na = [r for r in rows if r.result == NA]
    if failed:
        print(f"demo: {len(failed)} of {len(rows)} exchanges FAILED")
        return 1
    note = f" ({len(na)} not available in this build)" if na else ""
    print(f"demo: every exchange succeeded{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
