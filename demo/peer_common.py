"""peer_common.py - the command line and protocol shared by the Python interop peers
(demo/peer_swig.py over the SWIG package, demo/peer_ctypes.py over the raw C ABI); the C# peer
(bindings/csharp/peer/WipcPeer.cs) and the C peer (the `wipc` CLI) speak the same protocol:

    peer serve URI                     serve URI until SIGTERM / Ctrl-C; prints "listening on URI (pid N)"
    peer client URI COUNT [SIZE]       COUNT checked request/replies of SIZE bytes (default 64), then
                                       "COUNT requests of SIZE bytes: round trip p50 X us, p99 Y us"
    peer send URI TEXT                 one plain message (msg: prints the receiver's reply)
    peer broadcast msg://PREFIX TEXT   prints "delivered to N receiver(s)"

Protocol: a pipe/shm request is answered with its bytes ASCII upper-cased (same type); a msg message
with the sum of its bytes (& 0x7fffffff). Exit status 0 only if every exchange checked out, 1 on a
wipc error or a wrong reply, 2 on a usage error.
"""
import os
import signal
import sys
import time

TIMEOUT_S = 10.0
SCHEMES = ("pipe", "shm", "msg")


def upper(data):
    """The pipe/shm reply to a request."""
    return bytes(data).upper()


def byte_sum(data):
    """The msg reply to a message."""
    return sum(data) & 0x7FFFFFFF


def payload(tag, i, size=64):
    """Request i of a client: lower-case ASCII, `size` bytes."""
    return f"{tag} request {i} ".ljust(size, "x")[:size].encode()


def expected(scheme, data):
    return byte_sum(data) if scheme == "msg" else upper(data)


def print_rtt(count, size, rtt_us):
    rtt_us.sort()
    print(f"{count} requests of {size} bytes: round trip p50 {rtt_us[count // 2]:.1f} us, "
          f"p99 {rtt_us[count * 99 // 100]:.1f} us", flush=True)


def serve_forever(scheme, name, keep, close):
    """Serves until SIGTERM or Ctrl-C, then closes the endpoint (no socket file or shm object stays)."""
    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:   # the line inside: a SIGTERM right after it still closes
        print(f"listening on {scheme}://{name} (pid {os.getpid()})", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        close(keep)


def run_client(backend, tag, scheme, name, count, size):
    request, close = backend.client(scheme, name)
    try:
        rtt = []
        for i in range(count):
            data = payload(tag, i, size)
            t0 = time.perf_counter()
            reply = request(data)
            rtt.append((time.perf_counter() - t0) * 1e6)
            if reply != expected(scheme, data):
                print(f"{tag} peer: reply {i} on {scheme}://{name} is {reply!r}, expected "
                      f"{expected(scheme, data)!r}", file=sys.stderr)
                return 1
    finally:
        close()
    print_rtt(count, size, rtt)
    return 0


def main(backend, tag, errors):
    """Runs the command in sys.argv with `backend` (an object with serve(scheme, name) -> keep-alive,
    close(keep-alive), client(scheme, name) -> (request, close), send(scheme, name, data) -> reply or None,
    broadcast(prefix, data) -> int); `errors` are the exception types that mean a wipc failure."""
    args = sys.argv[1:]
    scheme, _, name = args[1].partition("://") if len(args) > 1 else ("", "", "")
    if len(args) < 2 or scheme not in SCHEMES or args[0] not in ("serve", "client", "send", "broadcast"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        if args[0] == "serve":
            serve_forever(scheme, name, backend.serve(scheme, name), backend.close)
        elif args[0] == "client":
            return run_client(backend, tag, scheme, name, int(args[2]), int(args[3]) if len(args) > 3 else 64)
        elif args[0] == "send":
            reply = backend.send(scheme, name, args[2].encode())
            if reply is not None:
                print(reply)
        else:
            n = backend.broadcast(name, args[2].encode())
            print(f"delivered to {n} receiver{'' if n == 1 else 's'}")
    except errors as e:
        print(f"{tag} peer: {e}", file=sys.stderr)
        return 1
    return 0
