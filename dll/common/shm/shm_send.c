/*
 * shm_send.c - writing the channel's outgoing ring: wipc_send / wipc_reply / the request half of
 * wipc_request (ops->send) and the zero-copy wipc_shm_reserve + wipc_shm_commit.
 *
 * Senders of one process take turns: a compare-and-swap of tx_state (free -> busy) when nobody
 * else writes, else a wait on tx_cond with the caller's timeout; the one whose turn it is reserves room in the ring (spinning spin_us, then
 * sleeping on the ring's space word in slices that check the peer's liveness), copies, commits and
 * wakes the peer only if it sleeps.
 */
#include <stdio.h>
#include "common/shm/shm.h"

typedef struct room_arg {
    wipc__shm_chan *c;
    uint64_t rec;
} room_arg;

static bool room_ready(void *p)
{
    room_arg *a = p;
    return wipc__ring_writable(&a->c->tx, a->rec) || wipc__shm_closed(a->c) || atomic_load(&a->c->peer_gone);
}

static wipc_status peer_usable(wipc__shm_chan *c, const char *fn)
{
    if (wipc__shm_closed(c))
        return wipc__shm_ended(c, fn);
    if (atomic_load_explicit(&c->peer_gone, memory_order_relaxed) &&
        wipc__shm_peer_check(c, true) == WIPC_E_DISCONNECTED)
        return wipc__shm_ended(c, fn);
    if (atomic_load_explicit(&c->broken, memory_order_relaxed))
        return wipc__shm_ended(c, fn);
    return WIPC_OK;
}

static wipc_status check_size(wipc__shm_chan *c, size_t size, const char *fn)
{
    if (size > c->obj.max_message_size)
        return wipc__error(WIPC_E_TOO_LARGE, 0,
                           "%s on shm channel %s: %zu bytes is above this side's max_message_size %u", fn, c->obj.name,
                           size, (unsigned)c->obj.max_message_size);
    const wipc__shm_side *peer = c->creator ? &c->hdr->opener : &c->hdr->creator;
    uint32_t peer_max = atomic_load_explicit(&((wipc__shm_side *)peer)->max_message_size, memory_order_relaxed);
    if (peer_max && size > peer_max)
        return wipc__error(WIPC_E_TOO_LARGE, 0,
                           "%s on shm channel %s: %zu bytes is above the peer's max_message_size %u", fn, c->obj.name,
                           size, (unsigned)peer_max);
    return WIPC_OK;
}

static bool tx_try(wipc__shm_chan *c)
{
    int expected = WIPC__TX_FREE;
    return atomic_compare_exchange_strong(&c->tx_state, &expected, WIPC__TX_BUSY);
}

/* obj closed, or an open reservation this call may not wait for: the status, else WIPC_OK. */
static wipc_status tx_blocked(wipc__shm_chan *c, bool reserve, const char *fn)
{
    if (wipc__shm_closed(c))
        return wipc__shm_ended(c, fn);
    if (atomic_load(&c->tx_state) == WIPC__TX_RESERVED && (reserve || c->tx_reserve_thread == wipc__thread_self()))
        return wipc__error(WIPC_E_INVALID_STATE, 0,
                           "%s on shm channel %s: a wipc_shm_reserve is open; call wipc_shm_commit first", fn,
                           c->obj.name);
    return WIPC_OK;
}

/* Waits for this thread's turn to write. `reserve`: for wipc_shm_reserve (which keeps the turn). */
static wipc_status tx_acquire(wipc__shm_chan *c, wipc__timeout *deadline, bool reserve, const char *fn)
{
    if (tx_try(c))
        return WIPC_OK;
    wipc_status st = WIPC_OK;
    wipc__mutex_lock(&c->tx_lock);
    atomic_fetch_add(&c->tx_waiters, 1);
    while (!tx_try(c)) {
        if ((st = tx_blocked(c, reserve, fn)) != WIPC_OK)
            break;
        wipc__deadline until = wipc__timeout_deadline(deadline);
        if (wipc__deadline_passed(until)) {
            st = wipc__error(WIPC_E_TIMEOUT, 0, "%s on shm channel %s: another thread's send held the ring for %d ms",
                             fn, c->obj.name, (int)deadline->ms);
            break;
        }
        wipc__cond_wait_until(&c->tx_cond, &c->tx_lock, until);
    }
    atomic_fetch_sub(&c->tx_waiters, 1);
    wipc__mutex_unlock(&c->tx_lock);
    return st;
}

/* Ends the turn (to FREE, or to RESERVED for an open wipc_shm_reserve) and wakes waiting senders. */
static void tx_release(wipc__shm_chan *c, int to)
{
    if (to == WIPC__TX_RESERVED)
        c->tx_reserve_thread = wipc__thread_self();
    atomic_store(&c->tx_state, to);
    if (atomic_load(&c->tx_waiters) || wipc__shm_closed(c)) {
        wipc__mutex_lock(&c->tx_lock);
        wipc__cond_broadcast(&c->tx_cond);
        wipc__mutex_unlock(&c->tx_lock);
    }
}

/* Blocks until `rec` bytes may fit, the deadline passes, the handle closes or the peer goes. */
static wipc_status wait_room(wipc__shm_chan *c, uint64_t rec, wipc__timeout *deadline, const char *fn,
                             int32_t timeout_ms)
{
    room_arg a = { c, rec };
    if (wipc__shm_spin(c, room_ready, &a) && wipc__ring_writable(&c->tx, rec))
        return WIPC_OK;
    wipc__shm_ring_ctl *ctl = &c->hdr->ring[c->tx_index];
    for (;;) {
        if (wipc__shm_closed(c))
            return wipc__shm_ended(c, fn);
        if (wipc__shm_peer_check(c, false) == WIPC_E_DISCONNECTED)
            return wipc__shm_ended(c, fn);
        if (wipc__ring_writable(&c->tx, rec))
            return WIPC_OK;
        int32_t slice = wipc__shm_slice(c, deadline);
        if (slice == 0)
            return wipc__error(WIPC_E_TIMEOUT, 0,
                               "%s on shm channel %s: the ring stayed full for %d ms (the peer does not read)", fn,
                               c->obj.name, (int)timeout_ms);
        wipc__shm_sleep(c, WIPC__SHM_WORD_SPACE(c->tx_index), &ctl->space_wait, room_ready, &a, slice);
    }
}

/* Reserves room for `len` payload bytes (the caller has the turn). */
static wipc_status tx_room(wipc__shm_chan *c, uint64_t len, uint8_t **payload, wipc__timeout *deadline, const char *fn,
                           int32_t timeout_ms)
{
    for (;;) {
        bool wake = false;
        wipc__ring_rc rc = wipc__ring_reserve(&c->tx, len, payload, &wake);
        if (wake)
            wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_DATA(c->tx_index), &c->hdr->ring[c->tx_index].data_wait);
        if (rc == WIPC__RING_OK)
            return WIPC_OK;
        if (rc == WIPC__RING_TOO_LARGE)
            return wipc__error(WIPC_E_TOO_LARGE, 0,
                               "%s on shm channel %s: a %llu-byte message does not fit a %llu-byte ring", fn,
                               c->obj.name, (unsigned long long)len, (unsigned long long)c->tx.cap);
        if (rc == WIPC__RING_CORRUPT)
            return wipc__shm_fail(c, WIPC_E_PROTOCOL, fn,
                                  "the peer's read index in the shared header is impossible (corrupt section)");
        wipc_status st = wait_room(c, wipc__ring_record_size(len), deadline, fn, timeout_ms);
        if (st != WIPC_OK)
            return st;
    }
}

static void publish_record(wipc__shm_chan *c, uint8_t kind, uint32_t type, uint64_t request_id, size_t size)
{
    if (wipc__ring_commit(&c->tx, kind, type, request_id, (uint32_t)size))
        wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_DATA(c->tx_index), &c->hdr->ring[c->tx_index].data_wait);
}

static void publish(wipc__shm_chan *c, uint8_t kind, uint32_t type, uint64_t request_id, size_t size)
{
    publish_record(c, kind, type, request_id, size);
    wipc__shm_count(&c->obj.ctr->msgs_sent, &c->obj.ctr->bytes_sent, &c->obj, size);
}

/* What wipc_send and wipc_shm_reserve both begin with: the peer and size checks, the writer slot
 * (tx_acquire) and room for `size` bytes in the ring (*dst), within `dl`. On failure the slot is
 * given back. */
static wipc_status tx_begin(wipc__shm_chan *c, size_t size, bool reserve, uint8_t **dst, const char *fn,
                            wipc__timeout *dl)
{
    wipc_status st = peer_usable(c, fn);
    if (st == WIPC_OK)
        st = check_size(c, size, fn);
    if (st != WIPC_OK)
        return st;
    if ((st = tx_acquire(c, dl, reserve, fn)) != WIPC_OK)
        return st;
    st = tx_room(c, size, dst, dl, fn, dl->ms);
    if (st != WIPC_OK)
        tx_release(c, WIPC__TX_FREE);
    return st;
}

/* ---- streaming a message larger than the ring (shm_layout.h, "Streaming") ------------------------ */

/* The payload bytes of the next piece: at most a quarter of the ring and WIPC__SHM_PIECE_MAX (the
 * reader copies one piece while the writer fills the next), ended at the ring's end instead of
 * padding there when that still leaves a useful piece. `extra`: the BEGIN's total-length prefix. */
static uint64_t piece_bytes(const wipc__shm_chan *c, uint64_t left, uint64_t extra)
{
    uint64_t quarter = c->tx.cap / 4;
    uint64_t n = (quarter < WIPC__SHM_PIECE_MAX ? quarter : WIPC__SHM_PIECE_MAX) - WIPC__SHM_RECORD_HEADER - extra;
    if (left < n)
        n = left;
    uint64_t to_end = c->tx.cap - (c->tx.pos & (c->tx.cap - 1));
    if (wipc__ring_record_size(extra + n) > to_end && to_end >= WIPC__SHM_RECORD_HEADER + extra + 1024)
        n = to_end - WIPC__SHM_RECORD_HEADER - extra; /* a multiple of 8: the record ends at the ring's end */
    return n;
}

/* Publishes the pieces of `data` from byte *sent on (the caller has the turn). On failure *sent is
 * what was published: the reader drops the incomplete message unless the caller resumes it. */
static wipc_status stream_pieces(wipc__shm_chan *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                                 size_t size, size_t *sent, wipc__timeout *dl, const char *fn)
{
    while (*sent < size) {
        bool first = *sent == 0;
        uint64_t extra = first ? WIPC__SHM_STREAM_PREFIX : 0;
        uint64_t n = piece_bytes(c, size - *sent, extra);
        uint8_t *dst = NULL;
        wipc_status st = tx_room(c, extra + n, &dst, dl, fn, dl->ms);
        if (st != WIPC_OK)
            return st;
        if (first) {
            uint64_t total = size;
            memcpy(dst, &total, sizeof total);
        }
        memcpy(dst + extra, (const uint8_t *)data + *sent, (size_t)n);
        *sent += (size_t)n;
        if (first)
            publish_record(c, (uint8_t)(WIPC__SHM_KIND_BEGIN | kind), type, request_id, extra + n);
        else
            publish_record(c, WIPC__SHM_KIND_PART, 0, 0, n);
    }
    wipc__shm_count(&c->obj.ctr->msgs_sent, &c->obj.ctr->bytes_sent, &c->obj, size);
    return WIPC_OK;
}

void wipc__shm_stream_abandon(wipc__shm_chan *c)
{
    int expected = WIPC__TX_STREAM;
    if (atomic_compare_exchange_strong(&c->tx_state, &expected, WIPC__TX_BUSY))
        tx_release(c, WIPC__TX_FREE);
}

/* Whether the peer reassembles streamed messages. A creator whose first opener has not attached yet
 * waits for it (within the send's deadline): a message larger than the ring needs its reader anyway.
 * A message that fits the ring, for a peer that does not, is sent whole (*whole). */
static wipc_status stream_peer(wipc__shm_chan *c, size_t size, wipc__timeout *dl, const char *fn, bool *whole)
{
    wipc__shm_side *peer = c->creator ? &c->hdr->opener : &c->hdr->creator;
    for (;;) {
        bool attached = !c->creator || (atomic_load_explicit(&c->hdr->opener.ident, memory_order_acquire) != 0 &&
                                        atomic_load_explicit(&peer->max_message_size, memory_order_acquire) != 0);
        if (attached)
            break;
        if (wipc__shm_closed(c))
            return wipc__shm_ended(c, fn);
        int32_t slice = wipc__shm_slice(c, dl);
        if (slice == 0)
            return wipc__error(WIPC_E_TIMEOUT, 0,
                               "%s on shm channel %s: no opener attached within %d ms to take a %zu-byte "
                               "message (larger than the ring, it is streamed to its reader)",
                               fn, c->obj.name, (int)dl->ms, size);
        wipc__sleep_ms(slice < 5 ? (uint32_t)slice : 5u);
    }
    if (!(atomic_load_explicit(&peer->flags, memory_order_relaxed) & WIPC__SHM_SIDE_STREAM)) {
        if (!wipc__shm_streamed(c, size)) { /* pieces_overlap saw the flag, a new peer has not: whole */
            *whole = true;
            return WIPC_OK;
        }
        return wipc__error(WIPC_E_TOO_LARGE, 0,
                           "%s on shm channel %s: a %zu-byte message does not fit the %llu-byte ring "
                           "and the peer's library predates streaming: it cannot take one in pieces",
                           fn, c->obj.name, size, (unsigned long long)c->tx.cap);
    }
    return check_size(c, size, fn);
}

/* A message too large for the ring: to a peer that reassembles streamed messages, in pieces. With
 * `sent` (the async drain job) a timeout after the first piece keeps the turn for the next call. */
static wipc_status stream_send(wipc__shm_chan *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                               size_t size, wipc__timeout *dl, size_t *sent, const char *fn, bool *whole)
{
    size_t mine = 0;
    size_t *done = sent ? sent : &mine;
    wipc_status st;
    if (*done == 0) {
        if ((st = peer_usable(c, fn)) != WIPC_OK || (st = check_size(c, size, fn)) != WIPC_OK ||
            (st = stream_peer(c, size, dl, fn, whole)) != WIPC_OK || *whole)
            return st;
        if ((st = tx_acquire(c, dl, false, fn)) != WIPC_OK)
            return st;
    } else {
        int expected = WIPC__TX_STREAM; /* ours since the last call: nobody else takes a parked stream */
        if (!atomic_compare_exchange_strong(&c->tx_state, &expected, WIPC__TX_BUSY))
            return wipc__error(WIPC_E_INVALID_STATE, 0, "%s on shm channel %s: the streamed message lost its turn", fn,
                               c->obj.name);
    }
    st = stream_pieces(c, kind, request_id, type, data, size, done, dl, fn);
    tx_release(c, st == WIPC_E_TIMEOUT && sent && *done > 0 ? WIPC__TX_STREAM : WIPC__TX_FREE);
    return st;
}

/* A blocking send of a large message that fits the ring still goes in pieces to a peer that
 * reassembles them: as one record it becomes readable only once all of it is copied, so reader and
 * writer take turns (each waits a whole copy for the other, longer than its spin, and goes to sleep:
 * a wake-up and, with the asymmetric fence, a membarrier per message); in pieces the reader copies
 * one while the writer fills the next. (The async drain keeps whole records: it sends only what fits now.) */
static bool pieces_overlap(wipc__shm_chan *c, size_t size)
{
    if (size <= WIPC__SHM_STREAM_ABOVE)
        return false;
    wipc__shm_side *peer = c->creator ? &c->hdr->opener : &c->hdr->creator;
    return (atomic_load_explicit(&peer->flags, memory_order_relaxed) & WIPC__SHM_SIDE_STREAM) != 0;
}

/* ---- whole records -------------------------------------------------------------------------------- */

/* The common case of a small send (at most WIPC__SHM_STREAM_ABOVE bytes) in one pass, without the layers of the general path: the channel
 * and peer usable, the size within both sides' limits, the turn free and room in the ring at once.
 * false: nothing was published (the turn is given back); the general path then decides, waits and
 * reports. A PAD the reservation published stays published: the general path starts after it. */
static bool send_fast(wipc__shm_chan *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                      size_t size)
{
    const wipc__shm_side *peer = c->creator ? &c->hdr->opener : &c->hdr->creator;
    uint32_t peer_max = atomic_load_explicit(&((wipc__shm_side *)peer)->max_message_size, memory_order_relaxed);
    if (wipc__shm_closed(c) || atomic_load_explicit(&c->peer_gone, memory_order_relaxed) ||
        atomic_load_explicit(&c->broken, memory_order_relaxed) || size > c->obj.max_message_size ||
        (peer_max && size > peer_max) || size > WIPC__SHM_STREAM_ABOVE || !tx_try(c))
        return false; /* (a large send goes in pieces: pieces_overlap) */
    uint8_t *dst = NULL;
    bool wake = false;
    wipc__ring_rc rc = wipc__ring_reserve(&c->tx, size, &dst, &wake);
    if (wake)
        wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_DATA(c->tx_index), &c->hdr->ring[c->tx_index].data_wait);
    if (rc == WIPC__RING_OK) {
        if (size)
            memcpy(dst, data, size);
        publish(c, kind, type, request_id, size);
    }
    tx_release(c, WIPC__TX_FREE);
    return rc == WIPC__RING_OK;
}

wipc_status wipc__shm_send_resumable(wipc__shm_chan *c, uint8_t kind, uint64_t request_id, uint32_t type,
                                     const void *data, size_t size, wipc__timeout *dl, size_t *sent)
{
    const char *fn = kind == WIPC__KIND_REPLY     ? "wipc_reply"
                     : kind == WIPC__KIND_REQUEST ? "wipc_request"
                                                  : "wipc_send";
    bool whole = false;
    wipc_status st;
    if (wipc__shm_streamed(c, size) || (!sent && pieces_overlap(c, size))) {
        st = stream_send(c, kind, request_id, type, data, size, dl, sent, fn, &whole);
        if (!whole)
            return st;
    } else if (send_fast(c, kind, request_id, type, data, size)) {
        return WIPC_OK;
    }
    uint8_t *dst = NULL;
    st = tx_begin(c, size, false, &dst, fn, dl);
    if (st != WIPC_OK)
        return st;
    if (size)
        memcpy(dst, data, size);
    publish(c, kind, type, request_id, size);
    tx_release(c, WIPC__TX_FREE);
    return WIPC_OK;
}

wipc_status wipc__shm_send_within(wipc__shm_chan *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                                  size_t size, wipc__timeout *dl)
{
    return wipc__shm_send_resumable(c, kind, request_id, type, data, size, dl, NULL);
}

wipc_status wipc__shm_send(wipc__obj *o, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                           size_t size, int32_t timeout_ms)
{
    wipc__shm_chan *c = (wipc__shm_chan *)o;
    if (kind != WIPC__KIND_ERROR && !wipc__shm_streamed(c, size) && send_fast(c, kind, request_id, type, data, size))
        return WIPC_OK; /* (wipc_send, wipc_reply: here first, without the layers below) */
    wipc__timeout dl = wipc__timeout_of(timeout_ms);
    if (kind == WIPC__KIND_ERROR) { /* only to a 1.1 peer: a 1.0 reader would take the record for corruption */
        wipc__shm_side *peer = c->creator ? &c->hdr->opener : &c->hdr->creator;
        if (!(atomic_load(&peer->flags) & WIPC__SHM_SIDE_ERRORS))
            return wipc__error(
                WIPC_E_NOT_SUPPORTED, 0,
                "wipc_reply_error on shm channel %s: the peer speaks wipc 1.0 (its side "
                "of the section does not offer remote errors), so it could not read an error reply; nothing "
                "was sent: answer with wipc_reply",
                o->name);
    }
    return wipc__shm_send_within(c, kind, request_id, type, data, size, &dl);
}

wipc_status wipc__shm_reserve(wipc__shm_chan *c, size_t size, void **out_ptr, int32_t timeout_ms)
{
    const char *fn = "wipc_shm_reserve";
    if (wipc__ring_record_size(size) > c->tx.cap)
        return wipc__error(WIPC_E_TOO_LARGE, 0,
                           "%s on shm channel %s: %zu bytes do not fit the %llu-byte ring (at most %llu)", fn,
                           c->obj.name, size, (unsigned long long)c->tx.cap,
                           (unsigned long long)(c->tx.cap - WIPC__SHM_RECORD_HEADER));
    uint8_t *dst = NULL;
    wipc__timeout dl = wipc__timeout_of(timeout_ms);
    wipc_status st = tx_begin(c, size, true, &dst, fn, &dl);
    if (st != WIPC_OK)
        return st;
    c->tx_reserve_len = size;
    *out_ptr = dst;
    tx_release(c, WIPC__TX_RESERVED);
    return WIPC_OK;
}

wipc_status wipc__shm_commit(wipc__shm_chan *c, uint32_t type, size_t size)
{
    if (atomic_load(&c->tx_state) != WIPC__TX_RESERVED)
        return wipc__error(WIPC_E_INVALID_STATE, 0, "wipc_shm_commit on shm channel %s: no wipc_shm_reserve is open",
                           c->obj.name);
    if (size > c->tx_reserve_len)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "wipc_shm_commit on shm channel %s: size %zu is above the %llu bytes reserved", c->obj.name,
                           size, (unsigned long long)c->tx_reserve_len);
    int expected = WIPC__TX_RESERVED;
    if (!atomic_compare_exchange_strong(&c->tx_state, &expected, WIPC__TX_BUSY))
        return wipc__error(WIPC_E_INVALID_STATE, 0,
                           "wipc_shm_commit on shm channel %s: another thread committed this reservation", c->obj.name);
    bool closed = wipc__shm_closed(c);
    if (closed)
        c->tx.open_rec = 0;
    else
        publish(c, WIPC__KIND_DATA, type, 0, size);
    tx_release(c, WIPC__TX_FREE);
    return closed ? wipc__shm_ended(c, "wipc_shm_commit") : WIPC_OK;
}
