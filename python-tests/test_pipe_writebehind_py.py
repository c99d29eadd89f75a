"""wipc.PIPE_WRITE_BEHIND and Connection.flush through the SWIG binding, against
real peer processes (c-tests' wipc_peer): a lone message is written at once (flush(0) finds nothing
queued) and echoed; behind a peer that never reads, send() queues until the bounded queue is full,
flush times out, and once the peer is killed flush and send raise wipc.Disconnected."""
import pytest

from swig_pkg import wipc


def test_lone_message_is_written_at_once(name, spawn_peer):
    spawn_peer("echo-server", name)
    with wipc.connect(name.decode(), timeout=10, flags=wipc.PIPE_WRITE_BEHIND) as conn:
        for i in range(20):
            conn.send(b"x%d" % i, type=3, timeout=10)
            conn.flush(timeout=0)   # nothing queued: it went on this thread
            m = conn.recv(timeout=10)
            assert (m.data, m.type) == (b"x%d" % i, 4)   # the echo server answers type + 1


def test_killed_reader_is_reported_by_flush_and_send(name, spawn_peer):
    with wipc.PipeServer(name.decode(), flags=wipc.PIPE_WRITE_BEHIND) as srv:
        peer = spawn_peer("hold", name)   # connects and never reads
        with srv.accept(timeout=10) as conn:
            sent = 0
            try:
                while sent < 10_000_000:
                    conn.send(b"m" * 64, timeout=0)
                    sent += 1
            except wipc.Timeout:
                pass
            assert 0 < sent < 10_000_000
            with pytest.raises(wipc.Timeout):
                conn.flush(timeout=0.1)   # frames wait behind a peer that never reads
            peer.kill()
            peer.wait(10)
            with pytest.raises(wipc.Disconnected):
                conn.flush(timeout=20)
            with pytest.raises(wipc.Disconnected):
                conn.send(b"late", timeout=1)
