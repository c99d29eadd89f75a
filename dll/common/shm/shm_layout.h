/*
 * shm_layout.h - the layout of a shm channel's section, identical on Windows and POSIX.
 *
 * A channel is one named section: a 4096-byte header, then ring 0 (creator -> opener), then ring 1
 * (opener -> creator), each `capacity` bytes (a power of two, 4 KiB .. 1 GiB). Section size =
 * 4096 + 2 * capacity. All fields are fixed-width little-endian (the library builds only for
 * little-endian targets: checked below), every byte is accounted for by explicit padding, and the
 * fields written by different parties live on different 64-byte cache lines.
 *
 * Header (offsets in bytes):
 *
 *   line 0, identity: written by the creator before `state` becomes READY, then read-only
 *      0 u32 magic           0x4D485357 ("WSHM" in memory)
 *      4 u32 layout_version  WIPC__SHM_LAYOUT_VERSION (1); another value -> WIPC_E_PROTOCOL on open
 *      8 u32 header_size     4096: offset of ring 0's data
 *     12 u32 record_header   24: bytes of each record's header
 *     16 u64 capacity        bytes per ring
 *     24 u32 state           0 being created, 1 READY, 2 the creator closed the channel
 *     28 u32 session         bumped by every opener that attaches: its session number (see Sessions)
 *     32 u64 section_size    header_size + 2 * capacity
 *     40 24 bytes reserved, 0
 *   line 1 (64), creator; line 2 (128), opener: one wipc__shm_side each
 *     +0 u64 ident           liveness identity: pid (bits 0-31) | start-time key (bits 32-63);
 *                            0 = nobody. The opener's is claimed with compare-and-swap (0 or a
 *                            dead opener's ident -> its own), released to 0 when it closes.
 *     +8 u32 max_message_size  the largest payload that side accepts
 *    +12 u32 flags           WIPC__SHM_SIDE_ERRORS (wipc 1.1): this side reads ERROR records (remote
 *                            errors: kind 7, type = the code, payload = UTF-8 text). Was reserved (0):
 *                            a 1.0 side leaves it 0 and is never sent an ERROR record.
 *                            WIPC__SHM_SIDE_STREAM (streaming): this side reassembles streamed messages
 *                            (see "Streaming" below); only such a side is sent BEGIN / PART records, and
 *                            its max_message_size may exceed the ring (a side that predates
 *                            streaming - 1.0, early 1.1 - leaves the flag 0 and caps it at capacity - 24).
 *                            WIPC__SHM_SIDE_ASYM: this side's sleepers use the heavy fence
 *                            and its process is registered for it (see "Concurrency"): the other
 *                            side's publications towards it need no full fence of their own.
 *    +16 48 bytes reserved, 0
 *   ring controls: ring r at 192 + 256 * r, four cache lines each (wipc__shm_ring_ctl)
 *     +0   u64 head          bytes ever published by the producer (monotonic, never wraps in practice)
 *     +64  u64 tail          bytes ever released by the consumer
 *     +128 u32 data_wait     1: the consumer sleeps (or is about to) waiting for data; wake word 2r
 *     +192 u32 space_wait    1: the producer sleeps waiting for room;               wake word 2r+1
 *   704 .. 4095 reserved, 0
 *
 * Ring data: a record at index i lives at offset (i mod capacity). Records start on 8-byte
 * boundaries and never straddle the end of the ring. Record = 24-byte header + payload, padded to
 * a multiple of 8:
 *      0 u32 length          payload bytes; 0xFFFFFFFF = PAD marker (see below)
 *      4 u8  kind            1 DATA, 2 REQUEST, 3 REPLY, 7 ERROR (wipc 1.1; as in frame.h);
 *                            streaming: 0x80 | kind = BEGIN of a streamed message, 8 = PART
 *      5 u8[3] session       the writer's session number, bits 0-23 (little-endian); 0 = none (the
 *                            creator's records, and records of a writer that predates sessions)
 *      8 u32 type            the user's type tag
 *     12 u32 pid             the writer's process id; 0 = unknown (a writer that predates it)
 *     16 u64 request_id      REQUEST/REPLY: matches a reply to its request; DATA: 0
 *     24 payload
 *
 * Sessions (the opener -> creator direction): one creator serves a series of openers, one at a
 * time, through the same rings. The n-th opener to attach is session n:
 *   1. it claims opener.ident (compare-and-swap from 0 or a dead opener's ident),
 *   2. increments `session` and keeps the new value as its session number,
 *   3. stamps every record it writes with that number (low 24 bits) and its pid,
 *   4. when it closes, releases opener.ident to 0 after its last record is published.
 * The creator's reader attributes each record to the session and pid stamped in it, not to whoever
 * holds the opener slot when the record is read: an opener may attach, write and leave before the
 * creator looks, and the next one may already be attached. So the creator reports, in ring order,
 * for every session: CONNECTED, its messages (wipc_message.peer_pid = the stamped pid), then
 * DISCONNECTED, when a record of a later session arrives, or when the ring is empty and (read
 * before the ring was found empty) `session` has moved on, opener.ident no longer holds the
 * session's opener, or that process died. Sessions that wrote nothing are counted from `session`
 * alone (CONNECTED + DISCONNECTED each, at most 16 in a row). A record stamped 0 (or of a session
 * whose low 24 bits are 0) falls back to the opener slot and the counter. Stamps and the counter
 * are untrusted like everything else: they only pick which pid and events are reported, never an
 * index or a size.
 * Layout version 1 is kept: these fields were reserved and zero, a version-1 reader never looks at
 * them, and a version-1 writer leaves them 0 (which the reader takes as "unknown": its events keep
 * their order, the pid it reports is the slot's, as before).
 *
 * Wrap-around: a record that does not fit between its start and the end of the ring is not split.
 * The producer writes a PAD marker (only its length word, always >= 8 bytes before the end) that
 * covers the rest of the ring and publishes it at once, then writes the record at offset 0 when
 * there is room. So every record (and every zero-copy reservation or peek) is one contiguous span.
 * A record of exactly `capacity` bytes (payload capacity - 24) fits in an empty ring once the
 * reader has passed the PAD in front of it (a waiting reader skips PADs at once).
 *
 * Streaming: a message whose record would not fit the ring (24 + length > capacity) is
 * sent, only to a side with WIPC__SHM_SIDE_STREAM, as consecutive records of one writer (a blocking
 * send above WIPC__SHM_STREAM_ABOVE that fits is streamed too, so the reader copies while the writer
 * fills: shm_send.c, pieces_overlap; readers take the pieces of any message alike):
 *   BEGIN  kind = 0x80 | the message's kind, type and request_id = the message's; the payload is
 *          u64 total (the whole message's length) followed by the first bytes of the message;
 *   PART   kind = 8, type 0, request_id 0; the payload is the next bytes of the message;
 * until the pieces add up to `total`. Pieces are at most capacity / 4 bytes (and
 * WIPC__SHM_PIECE_MAX), so the reader copies
 * one while the writer fills the next. The reader checks `total` against its own
 * max_message_size before it allocates (above: WIPC_E_TOO_LARGE, the channel ends), holds at most
 * one message being assembled, and delivers it only when complete (pieces beyond `total`:
 * corrupt). A writer that gives up mid-message (timeout, cancel, death) writes nothing more of it:
 * the reader drops the incomplete message when the next record that is not a PART arrives (a later
 * message, or another session's), or when the channel closes, so a partial message is never
 * delivered. A PART with no message open (its BEGIN was read by a previous opener) is skipped.
 * One writer's records are never interleaved: the writer keeps its turn for the whole message.
 * Zero-copy reservations stay one record (at most capacity - 24 bytes). Layout version 1 is kept:
 * a side that predates streaming never sets WIPC__SHM_SIDE_STREAM, so it is never sent these kinds, and it
 * advertises a max_message_size within the ring, which is what a streaming writer then enforces.
 *
 * Concurrency: one producer and one consumer per ring (threads of one process are serialised by
 * process-local locks; nothing in the section is a lock a dead process could hold). The producer
 * writes the record, then stores head with release; the consumer loads head with acquire, reads,
 * then stores tail with release. Sleeping uses the wait words, Dekker-style: the sleeper stores 1
 * into its word, fences, re-checks the ring and sleeps only if it is still empty (full); the other
 * side publishes its index, fences, loads the word and, only if it is 1, swaps it to 0 and wakes.
 * So a busy channel makes no system calls, and a batch of messages written while the reader sleeps
 * costs one wake-up: the first publication swaps the word to 0, the following ones see 0.
 *
 * The fences: both sides need a StoreLoad barrier between their store (index / word) and
 * their load (word / index), else each may read the other's old value and the sleeper misses its
 * wake-up. A full fence per publication costs more than the rest of a small send: the index's cache
 * line was just read by the other CPU, so the fence stalls until that line comes back. The barrier is
 * asymmetric where the platform allows it: a side whose process registered for membarrier(2)
 * MEMBARRIER_CMD_GLOBAL_EXPEDITED sets WIPC__SHM_SIDE_ASYM, and its sleepers call
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) instead of the fence (on the way to a futex wait, about
 * 1 us more). A publisher whose own process is registered and whose peer side has WIPC__SHM_SIDE_ASYM
 * then only keeps the compiler from reordering its index store and word load. Why no wake-up is lost:
 * the system call returns only after every running thread of every registered process passed a full
 * barrier (and a thread not running is past one). If the publisher passed it after its index store,
 * that store is visible to the sleeper's re-check, made after the call returns; if before, its word
 * load comes after a barrier that follows the sleeper's word store (membarrier fences its caller on
 * entry), so it reads 1 and wakes. MEMBARRIER_CMD_GLOBAL (no registration) would do the same with an
 * RCU grace period: milliseconds per sleep, against a 50 us futex round trip. A side without
 * WIPC__SHM_SIDE_ASYM (Windows, kernels before 4.16, a library that predates it) keeps the full fence
 * on both of its paths, and its peer keeps it towards it; the flag is read at every publication, so
 * a new opener is followed at once. (Left open, in theory: an opener that predates the flag, attaching
 * right after one that had it, whose first sleep races the creator's last fence-free publication -
 * the creator's index store must stay in its store buffer, nanoseconds, across the opener's flag
 * store, its session increment, a wake-up system call and its fence. That wait would end at the
 * opener's slice: 100 ms, or 60 s while it watches the creator's process.)
 *
 * What is per record and what per batch: head is stored once per record (a lone wipc_send must be
 * seen without a later call: the API has no end-of-batch signal, and a record left unpublished would
 * wait for the next send, or forever). The consumer reloads head only when it has consumed all it
 * saw, and the producer reloads tail only when its cached room is short, so while one side is ahead
 * each index's cache line moves once per batch the other side picks up, not once per record. The
 * wait words are loaded per publication but stored only by a sleeper, so they stay shared in both
 * caches, and a wake-up (a system call) happens once per sleep, whatever the number of records
 * published meanwhile. tail is also stored per record: deferring it would save no transfer (the
 * producer does not read it while it has room) and would reintroduce the lost wake-up above when
 * the application stops reading while the producer waits for room.
 *
 * Untrusted memory: the peer may scribble anything. Every shared index and length is read once into
 * a local, checked against the capacity and the other side's index, and only the local copy is used:
 * a corrupt header or record gives WIPC_E_PROTOCOL, never an access outside the section.
 */
#ifndef WIPC_SHM_LAYOUT_H
#define WIPC_SHM_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "platform_wire.h" /* WIPC__SHM_MAGIC, WIPC__SHM_HEADER_SIZE, wipc__shm_once32 / _once64 */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#  error "the shm section layout is little-endian; this target is not"
#endif

#define WIPC__SHM_LAYOUT_VERSION 1u
#define WIPC__SHM_RECORD_HEADER  24u
#define WIPC__SHM_PAD            0xFFFFFFFFu
#define WIPC__SHM_MIN_CAPACITY   4096u
#define WIPC__SHM_MAX_CAPACITY   (1ull << 30)

#define WIPC__SHM_STATE_CREATING 0u
#define WIPC__SHM_STATE_READY    1u
#define WIPC__SHM_STATE_CLOSED   2u

#define WIPC__SHM_SIDE_ERRORS 0x1u /* wipc__shm_side.flags: this side reads ERROR records */
#define WIPC__SHM_SIDE_STREAM 0x2u /* wipc__shm_side.flags: this side reassembles streamed messages */
#define WIPC__SHM_SIDE_ASYM   0x4u /* wipc__shm_side.flags: this side's sleepers use the heavy fence */

#define WIPC__SHM_KIND_BEGIN    0x80u /* record kind bit: the first piece of a streamed message */
#define WIPC__SHM_KIND_PART     8u /* record kind: a following piece of a streamed message */
#define WIPC__SHM_STREAM_PREFIX 8u /* bytes of the u64 total at the start of a BEGIN payload */

typedef struct wipc__shm_side {
    _Atomic uint64_t ident;
    _Atomic uint32_t max_message_size;
    _Atomic uint32_t flags;
    uint8_t reserved[48];
} wipc__shm_side;

typedef struct wipc__shm_ring_ctl {
    _Atomic uint64_t head;
    uint8_t pad0[56];
    _Atomic uint64_t tail;
    uint8_t pad1[56];
    _Atomic uint32_t data_wait;
    uint8_t pad2[60];
    _Atomic uint32_t space_wait;
    uint8_t pad3[60];
} wipc__shm_ring_ctl;

typedef struct wipc__shm_header {
    uint32_t magic;
    uint32_t layout_version;
    uint32_t header_size;
    uint32_t record_header;
    uint64_t capacity;
    _Atomic uint32_t state;
    _Atomic uint32_t session;
    uint64_t section_size;
    uint8_t reserved0[24];
    wipc__shm_side creator;
    wipc__shm_side opener;
    wipc__shm_ring_ctl ring[2];
} wipc__shm_header;

typedef struct wipc__shm_record {
    uint32_t length;
    uint8_t kind;
    uint8_t session[3]; /* bits 0-23 of the writer's session number, little-endian */
    uint32_t type;
    uint32_t pid; /* the writer's process id */
    uint64_t request_id;
} wipc__shm_record;

#define WIPC__SHM_SESSION_MASK 0xFFFFFFu /* the bits of a session number a record carries */

_Static_assert(sizeof(wipc__shm_side) == 64, "side is one cache line");
_Static_assert(sizeof(wipc__shm_ring_ctl) == 256, "ring control is four cache lines");
_Static_assert(offsetof(wipc__shm_ring_ctl, tail) == 64, "tail on its own line");
_Static_assert(offsetof(wipc__shm_ring_ctl, data_wait) == 128, "data_wait on its own line");
_Static_assert(offsetof(wipc__shm_ring_ctl, space_wait) == 192, "space_wait on its own line");
_Static_assert(offsetof(wipc__shm_header, capacity) == 16, "layout");
_Static_assert(offsetof(wipc__shm_header, state) == 24, "layout");
_Static_assert(offsetof(wipc__shm_header, section_size) == 32, "layout");
_Static_assert(offsetof(wipc__shm_header, creator) == 64, "layout");
_Static_assert(offsetof(wipc__shm_header, opener) == 128, "layout");
_Static_assert(offsetof(wipc__shm_header, ring) == 192, "layout");
_Static_assert(sizeof(wipc__shm_header) == 704, "layout");
_Static_assert(sizeof(wipc__shm_header) <= WIPC__SHM_HEADER_SIZE, "header fits its page");
_Static_assert(sizeof(wipc__shm_record) == WIPC__SHM_RECORD_HEADER, "record header");
_Static_assert(offsetof(wipc__shm_record, session) == 5 && offsetof(wipc__shm_record, pid) == 12, "record stamps");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && sizeof(_Atomic uint32_t) == 4, "lock-free plain-size atomics");

/* Ring r goes from the creator to the opener when r == 0. Wake word numbers of ring r. */
#define WIPC__SHM_RING_C2O      0
#define WIPC__SHM_RING_O2C      1
#define WIPC__SHM_WORD_DATA(r)  (2u * (unsigned)(r))
#define WIPC__SHM_WORD_SPACE(r) (2u * (unsigned)(r) + 1u)

static inline uint64_t wipc__shm_ident(uint32_t pid, uint32_t start_key)
{
    return (uint64_t)pid | ((uint64_t)start_key << 32);
}

#endif /* WIPC_SHM_LAYOUT_H */
