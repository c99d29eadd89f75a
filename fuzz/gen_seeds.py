#!/usr/bin/env python3
"""gen_seeds.py - writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

The seeds are committed; run this again only to regenerate them after a wire-format change. Each
seed is a well-formed input (so the fuzzer starts from the accepted paths) or a classic bad one.
Layouts follow the targets' comments (fuzz_*.c) and dll/common/core/frame.h, shm_layout.h, msg_wire.h.
"""
import os
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAGIC, SHM_MAGIC, MSG_MAGIC = 0x43504957, 0x4D485357, 0x47534D57
DATA, REQUEST, REPLY, HELLO, BUSY = 1, 2, 3, 4, 5
ERROR = 7   # wipc 1.1: a reply carrying an error (code in type, UTF-8 text <= 4096 bytes)


def frame(kind, typ, payload=b"", rid=0, length=None):
    n = len(payload) if length is None else length
    return struct.pack("<IBBHIIQ", MAGIC, 1, kind, 24, typ, n, rid) + payload


def hello(maxmsg=16 << 20, pid=1234):
    return struct.pack("<IIII", 1, pid, maxmsg, 0)


def write(target, name, data):
    d = HERE / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def seeds_frame():
    m = struct.pack("<I", 1 << 20)
    write("fuzz_frame", "data", frame(DATA, 7, length=100) + m)
    write("fuzz_frame", "request", frame(REQUEST, 8, length=5, rid=42) + m)
    write("fuzz_frame", "reply", frame(REPLY, 9, length=0, rid=42) + m)
    write("fuzz_frame", "hello", frame(HELLO, 0, hello()) [:24] + m + hello())
    write("fuzz_frame", "busy", frame(BUSY, 0) + m)
    write("fuzz_frame", "too-large", frame(DATA, 1, length=0xFFFFFFFF) + m)
    write("fuzz_frame", "error", frame(ERROR, 0xFFFFFFF9, length=9, rid=42) + m)
    write("fuzz_frame", "error-text-too-long", frame(ERROR, 1, length=4097, rid=42) + m)
    write("fuzz_frame", "error-no-request-id", frame(ERROR, 1, length=0) + m)
    write("fuzz_frame", "bad-magic", b"GET / HTTP/1.1\r\nHost: x\r\n" + m)
    write("fuzz_frame", "hello-bad-version", frame(HELLO, 0, length=16) + m + struct.pack("<IIII", 2, 1, 100, 0))
    write("fuzz_frame", "hello-zero-max", frame(HELLO, 0, length=16) + m + struct.pack("<IIII", 1, 1, 0, 0))


def record(length, kind, typ, rid, payload=b""):
    rec = struct.pack("<IB3xIIQ", length, kind, typ, 0, rid) + payload
    pad = (-len(rec)) % 8
    return rec + b"\0" * pad


def seeds_ring():
    def ring_input(cap_sel, max_len, head, tail, ops, data):
        out = struct.pack("<BIQQB", cap_sel, max_len, head, tail, len(ops))
        for code, arg, v in ops:
            out += struct.pack("<BHQ", code, arg, v)
        return out + data
    PEEK, RELEASE, RESERVE, COMMIT, SET_HEAD, SET_TAIL, POKE, QUERY = range(8)
    r1 = record(5, DATA, 3, 0, b"hello") + record(0, REQUEST, 4, 9)
    write("fuzz_ring", "two-records", ring_input(0, 4096, len(r1), 0, [(PEEK, 0, 0), (RELEASE, 0, 0), (PEEK, 0, 0), (RELEASE, 0, 0)], r1))
    write("fuzz_ring", "produce-consume", ring_input(0, 4096, 0, 0,
          [(RESERVE, 0, 100), (COMMIT, 1, 100), (PEEK, 0, 0), (RELEASE, 0, 0), (RESERVE, 0, 4000), (COMMIT, 0, 4000),
           (PEEK, 0, 0), (RELEASE, 0, 0), (RESERVE, 0, 3000), (COMMIT, 2, 3000), (PEEK, 0, 0), (RELEASE, 0, 0), (QUERY, 0, 64)], b""))
    pad = struct.pack("<I", 0xFFFFFFFF)
    write("fuzz_ring", "wrap-pad", ring_input(0, 4096, 4096 + 32, 4096 - 16,
          [(PEEK, 0, 0), (RELEASE, 0, 0)], b"\0" * 0 + record(1, DATA, 1, 0, b"x") + b"\0" * (4096 - 16 - 32) + pad + b"\0" * 12))
    r2 = record(9, ERROR, 0xFFFFFFFE, 5, b"bad thing") + record(0, ERROR, 1, 0)
    write("fuzz_ring", "error-records", ring_input(0, 4096, len(r2), 0, [(PEEK, 0, 0), (RELEASE, 0, 0), (PEEK, 0, 0)], r2))
    write("fuzz_ring", "corrupt-head", ring_input(1, 100, 1 << 40, 0, [(PEEK, 0, 0), (SET_HEAD, 1, 8), (PEEK, 0, 0)], r1))
    write("fuzz_ring", "scribble", ring_input(0, 4096, len(r1), 0,
          [(POKE, 0, 0xFFFF000000000000), (PEEK, 0, 0), (SET_TAIL, 1, 1 << 63), (RESERVE, 0, 10)], r1))


def shm_header(cap, state=1, creator_pid=1, opener_ident=0, session=0, magic=SHM_MAGIC, version=1,
               heads=(0, 0), tails=(0, 0)):
    h = bytearray(704)
    struct.pack_into("<IIIIQIIQ", h, 0, magic, version, 4096, 24, cap, state, session, 4096 + 2 * cap)
    struct.pack_into("<QI", h, 64, creator_pid | (1 << 32), 1 << 20)
    struct.pack_into("<QI", h, 128, opener_ident, 1 << 20)
    for r in range(2):
        struct.pack_into("<Q", h, 192 + 256 * r, heads[r])
        struct.pack_into("<Q", h, 192 + 256 * r + 64, tails[r])
    return bytes(h)


def seeds_shm():
    recs = record(3, DATA, 5, 0, b"abc") + record(8, REQUEST, 6, 77, b"12345678") + record(0, REPLY, 7, 5)
    # opener: control 0 (copy reads), cap 4096, full size
    write("fuzz_shm", "opener-valid", bytes([0, 0, 0]) + shm_header(4096, heads=(len(recs), 0)) + recs)
    write("fuzz_shm", "opener-zero-copy", bytes([2, 0, 0]) + shm_header(4096, heads=(len(recs), 0)) + recs)
    write("fuzz_shm", "opener-small-max", bytes([4, 0, 0]) + shm_header(4096, heads=(len(recs), 0)) +
          record(200, DATA, 1, 0, b"z" * 200))
    write("fuzz_shm", "opener-dead-creator", bytes([0, 0, 0]) + shm_header(4096, creator_pid=3))
    write("fuzz_shm", "opener-short-section", bytes([0, 0, 4]) + shm_header(4096))
    write("fuzz_shm", "opener-bad-capacity", bytes([0, 0, 0]) + shm_header(3000))
    write("fuzz_shm", "opener-wrong-version", bytes([0, 0, 0]) + shm_header(4096, version=2))
    write("fuzz_shm", "opener-busy-slot", bytes([0, 0, 0]) + shm_header(4096, opener_ident=2 | (1 << 32)))
    # control bit 3: the peer rewrites capacity (offset 2*8, 8 bytes) to 1 GiB right after validation
    write("fuzz_shm", "opener-capacity-race", bytes([8, 0, 0, 2, 7]) + struct.pack("<Q", 1 << 30) +
          shm_header(4096, heads=(len(recs), 0)) + recs)
    # creator: opener ident, opener max, session, O2C head, C2O tail, [state], ring 1 data
    body = struct.pack("<QIIQQ", 1 | (1 << 32), 1 << 20, 1, len(recs), 0) + recs
    write("fuzz_shm", "creator-valid", bytes([1, 0, 0]) + body)
    write("fuzz_shm", "creator-zero-copy", bytes([3, 0, 0]) + body)
    write("fuzz_shm", "creator-opener-died", bytes([1, 0, 0]) + struct.pack("<QIIQQ", 3 | (1 << 32), 100, 1, len(recs), 0) + recs)


BULK = 6


def bulk_section(owner_pid, slot_size, payload):
    """A peer's bulk section as fuzz_pipe takes it (repeated to the section's size): the 4 KiB header
    (magic "WPBS", version 1, 1 slot, owner pid, slot size, state 1 = full, filled = len(payload)),
    then the slot."""
    h = struct.pack("<IIIIQIIIIQ", 0x53425057, 1, 1, owner_pid, slot_size, 1, 0, 1, 0, len(payload))
    return h + b"\0" * (4096 - len(h)) + payload + b"\0" * (4096 - len(payload) % 4096)


def bulk_desc(kind, number, length, slot_size):
    return struct.pack("<IBBHIIQQ", 0x4b4c4250, kind, 0, 0, number, 0, length, slot_size)


def seeds_pipe():
    nobulk = struct.pack("<H", 0)
    seed = struct.pack("<I", 0x12345) + nobulk
    stream = (frame(HELLO, 0, hello(64 * 1024)) + frame(DATA, 1, b"hi") + frame(REQUEST, 2, b"ping", rid=1) +
              frame(DATA, 3, b"x" * 3000) + frame(REPLY, 4, b"stray", rid=99))
    write("fuzz_pipe", "server-framed", bytes([0]) + seed + stream)
    write("fuzz_pipe", "server-framed-split", bytes([0]) + struct.pack("<I", 7) + nobulk + stream)
    errors = (frame(HELLO, 0, struct.pack("<IIII", 1, 1234, 64 * 1024, 2)) + frame(ERROR, 42, "bad thing: \u20ac".encode(), rid=1) +
              frame(ERROR, 7, b"", rid=1 | (1 << 63)) + frame(DATA, 1, b"after") + frame(ERROR, 1, b"x" * 5000, rid=3))
    write("fuzz_pipe", "server-error-frames", bytes([0]) + seed + errors)
    write("fuzz_pipe", "client-error-frames", bytes([2]) + seed + errors)
    write("fuzz_pipe", "server-raw", bytes([1]) + seed + b"plain bytes from a foreign client" * 10)
    write("fuzz_pipe", "client-framed", bytes([2]) + seed + stream)
    write("fuzz_pipe", "client-busy", bytes([2]) + seed + frame(BUSY, 0))
    write("fuzz_pipe", "server-no-hello", bytes([0]) + seed + frame(DATA, 1, b"too early"))
    write("fuzz_pipe", "server-too-large", bytes([0]) + seed + frame(HELLO, 0, hello()) + frame(DATA, 1, length=1 << 20))
    write("fuzz_pipe", "server-second-hello", bytes([0]) + seed + frame(HELLO, 0, hello()) + frame(HELLO, 0, hello()))
    # a large message through the peer's bulk section (the BULK frame carries the descriptor)
    payload = bytes(range(256)) * 2
    sec = bulk_section(1234, 1 << 20, payload)
    bulk_stream = (frame(HELLO, 0, hello(64 * 1024, pid=1234)) + frame(BULK, 9, bulk_desc(DATA, 1, len(payload), 1 << 20)) +
                   frame(BULK, 10, bulk_desc(REQUEST, 1, 100, 1 << 20), rid=5) + frame(DATA, 11, b"after"))
    write("fuzz_pipe", "server-bulk", bytes([0]) + struct.pack("<I", 0x12345) + struct.pack("<H", len(sec)) + sec + bulk_stream)
    write("fuzz_pipe", "server-bulk-split", bytes([0]) + struct.pack("<I", 3) + struct.pack("<H", len(sec)) + sec + bulk_stream)
    one_bulk = frame(HELLO, 0, hello(64 * 1024, pid=1234)) + frame(BULK, 9, bulk_desc(DATA, 1, len(payload), 1 << 20))
    write("fuzz_pipe", "client-bulk", bytes([2]) + struct.pack("<I", 0x12345) + struct.pack("<H", len(sec)) + sec + one_bulk)
    write("fuzz_pipe", "client-old-protocol", bytes([2]) + seed + frame(HELLO, 0, struct.pack("<IIII", 9, 1, 100, 0)))


def msg_hdr(pid=1):
    return struct.pack("<IBBHII", MSG_MAGIC, 1, 16, 0, pid, 0)


def seeds_msg():
    pre = struct.pack("<IQ", 4096, 0x574D0000_00000005)
    def m(kind, body):
        return struct.pack("<BH", kind, len(body)) + body
    write("fuzz_msg", "valid", pre + m(1, b"hello") + m(3, b"") + m(0x81, b"x" * 100))
    write("fuzz_msg", "raw-header", pre + m(0, msg_hdr() + b"payload") + m(0x80, msg_hdr()))
    write("fuzz_msg", "bad-magic", pre + m(0, b"\0" * 40))
    write("fuzz_msg", "short", pre + m(0, b"WMSG"))
    write("fuzz_msg", "too-large", struct.pack("<IQ", 10, 0) + m(1, b"y" * 5000))
    write("fuzz_msg", "queue-full", pre + b"".join(m(1, bytes([i])) for i in range(12)))


def seeds_options():
    def inp(sel, name, region, opts):
        return bytes([sel]) + name + b"\0" + struct.pack("<Q", region) + opts
    pipe = struct.pack("<IIIIIIQ", 32, 0, 1 << 20, 64, 0, 0, 0)
    shm = struct.pack("<IIIIQ", 24, 0, 1 << 16, 50, 1 << 16)
    msg = struct.pack("<IIII", 16, 0, 65536, 64)
    write("fuzz_options", "pipe-listen", inp(0, b"svc.name-1", 0, pipe))
    write("fuzz_options", "pipe-connect", inp(1, b"svc", 0, pipe))
    write("fuzz_options", "pipe-sddl", inp(0x40, b"svc", 0, pipe))
    write("fuzz_options", "pipe-bigger-struct", inp(0, b"svc", 0, struct.pack("<I", 48) + pipe[4:] + b"\0" * 16))
    write("fuzz_options", "pipe-bigger-struct-nonzero", inp(0, b"svc", 0, struct.pack("<I", 48) + pipe[4:] + b"\0" * 8 + b"\1" + b"\0" * 7))
    write("fuzz_options", "shm-create", inp(2, b"chan", 0, shm))
    write("fuzz_options", "shm-open", inp(3, b"chan", 0, shm))
    write("fuzz_options", "region", inp(4, b"reg", 12345, shm))
    write("fuzz_options", "msg-listen", inp(5, b"m", 0, msg))
    write("fuzz_options", "get-info", inp(6, b"x", 0, struct.pack("<I", 300) + b"\0" * 300))
    write("fuzz_options", "name-128", inp(0x80, b"a" * 128, 0, b""))
    write("fuzz_options", "name-129", inp(0x80, b"a" * 129, 0, b""))
    write("fuzz_options", "name-bad-chars", inp(0x80, "wipc/../ä\\name".encode(), 0, b""))
    write("fuzz_options", "struct-size-small", inp(2, b"c", 0, struct.pack("<I", 4)))


def stats_section(transport=1, kind=1, name=b"fz", pid=1, magic=0x41545357, slots=((1, 5, 6, 50, 60),), closed=0):
    hdr = struct.pack("<IIIIIIIIqII", magic, 1, 512, 120, transport, kind, pid, 1, 1_700_000_000_000, closed, 0)
    hdr += name.ljust(136, b"\0") + b"\0" * 8
    hdr += struct.pack("<QQIIq", 4, 0, 2, 1, 1_700_000_000_500) + b"\0" * 32 + struct.pack("<QQQQ", 1, 2, 3, 4)
    hdr = hdr.ljust(512, b"\0")
    body = b""
    for i in range(120):
        used, ms, mr, bs, br = slots[i] if i < len(slots) else (0, 0, 0, 0, 0)
        body += struct.pack("<QQQQIIq", ms, mr, bs, br, used, 0, 1_700_000_001_000 if used else 0) + b"\0" * 16
    return hdr + body


def seeds_stats():
    write("fuzz_stats", "pipe-valid", bytes([1]) + stats_section(slots=((1, 5, 6, 50, 60), (1, 1, 1, 1, 1), (0, 9, 9, 9, 9))))
    write("fuzz_stats", "any-transport", bytes([0]) + stats_section())
    write("fuzz_stats", "shm-valid", bytes([2]) + stats_section(transport=2, kind=3))
    write("fuzz_stats", "msg-valid", bytes([3]) + stats_section(transport=3, kind=5))
    write("fuzz_stats", "dead-owner", bytes([1]) + stats_section(pid=3))
    write("fuzz_stats", "closed", bytes([1]) + stats_section(closed=1))
    write("fuzz_stats", "being-created", bytes([1]) + stats_section(magic=0))
    write("fuzz_stats", "wrong-name", bytes([1]) + stats_section(name=b"other"))
    write("fuzz_stats", "short", bytes([1]) + stats_section()[:700])
    write("fuzz_stats", "bad-slot-flag", bytes([1]) + stats_section(slots=((7, 1, 1, 1, 1),)))


if __name__ == "__main__":
    seeds_stats()
    seeds_frame()
    seeds_ring()
    seeds_shm()
    seeds_pipe()
    seeds_msg()
    seeds_options()
    print("seeds written under", HERE / "corpus")
