"""wipc.PIPE_LENGTH_PREFIX through the SWIG binding: a foreign peer - a plain
AF_UNIX socket written by this test, no wipc - speaks "4-byte little-endian length + payload" to a
wipc server, trickling bytes; a 4 GiB claim ends its connection (wipc.TooLarge) and the server
serves the next client. POSIX only (the foreign side is a socket; C tests cover Windows)."""
import os
import socket
import struct
import sys
import tempfile
import time

import pytest

from swig_pkg import wipc

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the foreign peer is an AF_UNIX socket")


def read_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        assert chunk, "the server hung up"
        out += chunk
    return out


def test_length_prefix_server_and_foreign_socket():
    path = os.path.join(tempfile.mkdtemp(prefix="wipc-lp-"), "s")
    with wipc.PipeServer(path, flags=wipc.PIPE_LENGTH_PREFIX, max_message_size=1 << 20) as srv:
        for trickle in (False, True):
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
                with srv.accept(timeout=5) as conn:
                    assert conn.info().flags & wipc.PIPE_RAW
                    for payload in (b"hello", b"", bytes(range(256)) * 300):
                        wire = struct.pack("<I", len(payload)) + payload
                        if trickle:
                            for i in range(0, min(len(wire), 64)):
                                s.sendall(wire[i:i + 1])
                                time.sleep(0.001)
                            s.sendall(wire[64:])
                        else:
                            s.sendall(wire)
                        m = conn.recv(timeout=5)
                        assert (m.data, m.type, m.request_id) == (payload, 0, 0)
                        conn.send(payload[::-1])
                        (n,) = struct.unpack("<I", read_exact(s, 4))
                        assert n == len(payload) and read_exact(s, n) == payload[::-1]
                    with pytest.raises(wipc.NotSupported):
                        conn.request(b"q", timeout=1)
        # a 4 GiB claim: refused before allocating, the connection ends, the server goes on
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            with srv.accept(timeout=5) as conn:
                s.sendall(struct.pack("<I", 0xFFFFFFFF) + b"x" * 16)
                with pytest.raises(wipc.TooLarge):
                    conn.recv(timeout=5)
                s.settimeout(5)
                assert s.recv(1) == b""   # hung up
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            with srv.accept(timeout=5) as conn:
                s.sendall(struct.pack("<I", 2) + b"ok")
                assert conn.recv(timeout=5).data == b"ok"
