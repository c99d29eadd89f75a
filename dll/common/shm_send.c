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
#include "shm.h"

typedef struct room_arg {
    wipc__shm_chan *c;
    uint64_t        rec;
} room_arg;

static bool room_ready(void *p)
{
    room_arg *a = p;
    return wipc__ring_writable(&a->c->tx, a->rec) || wipc__shm_closed(a->c) || atomic_load(&a->c->peer_gone);
}

void wipc__shm_tx_wake_all(wipc__shm_chan *c)
{
    wipc__shm_ring_ctl *ctl = &c->hdr->ring[c->tx_index];
    atomic_store(&ctl->space_wait, 0);
    wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_SPACE(c->tx_index), &ctl->space_wait);
    wipc__mutex_lock(&c->tx_lock);
    wipc__cond_broadcast(&c->tx_cond);
    wipc__mutex_unlock(&c->tx_lock);
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
        return wipc__error(WIPC_E_TOO_LARGE, 0, "%s on shm channel %s: %zu bytes is above this side's max_message_size %u",
                           fn, c->obj.name, size, (unsigned)c->obj.max_message_size);
    const wipc__shm_side *peer = c->creator ? &c->hdr->opener : &c->hdr->creator;
    uint32_t peer_max = atomic_load_explicit(&((wipc__shm_side *)peer)->max_message_size, memory_order_relaxed);
    if (peer_max && size > peer_max)
        return wipc__error(WIPC_E_TOO_LARGE, 0, "%s on shm channel %s: %zu bytes is above the peer's max_message_size %u",
                           fn, c->obj.name, size, (unsigned)peer_max);
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
        return wipc__error(WIPC_E_INVALID_STATE, 0, "%s on shm channel %s: a wipc_shm_reserve is open; call wipc_shm_commit first",
                           fn, c->obj.name);
    return WIPC_OK;
}

/* Waits for this thread's turn to write. `reserve`: for wipc_shm_reserve (which keeps the turn). */
static wipc_status tx_acquire(wipc__shm_chan *c, wipc__shm_dl *deadline, bool reserve, const char *fn)
{
    if (tx_try(c))
        return WIPC_OK;
    wipc_status st = WIPC_OK;
    wipc__mutex_lock(&c->tx_lock);
    atomic_fetch_add(&c->tx_waiters, 1);
    while (!tx_try(c)) {
        if ((st = tx_blocked(c, reserve, fn)) != WIPC_OK)
            break;
        int32_t left = wipc__remaining(wipc__shm_dl_at(deadline));
        if (left == 0) {
            st = wipc__error(WIPC_E_TIMEOUT, 0, "%s on shm channel %s: another thread's send held the ring for %d ms",
                             fn, c->obj.name, (int)deadline->timeout_ms);
            break;
        }
        wipc__cond_wait_ms(&c->tx_cond, &c->tx_lock, left);
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
static wipc_status wait_room(wipc__shm_chan *c, uint64_t rec, wipc__shm_dl *deadline, const char *fn, int32_t timeout_ms)
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
            return wipc__error(WIPC_E_TIMEOUT, 0, "%s on shm channel %s: the ring stayed full for %d ms (the peer does not read)",
                               fn, c->obj.name, (int)timeout_ms);
        wipc__shm_sleep(c, WIPC__SHM_WORD_SPACE(c->tx_index), &ctl->space_wait, room_ready, &a, slice);
    }
}

/* Reserves room for `len` payload bytes (the caller has the turn). */
static wipc_status tx_room(wipc__shm_chan *c, uint64_t len, uint8_t **payload, wipc__shm_dl *deadline, const char *fn,
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
            return wipc__error(WIPC_E_TOO_LARGE, 0, "%s on shm channel %s: a %llu-byte message does not fit a %llu-byte ring",
                               fn, c->obj.name, (unsigned long long)len, (unsigned long long)c->tx.cap);
        if (rc == WIPC__RING_CORRUPT)
            return wipc__shm_fail(c, WIPC_E_PROTOCOL, fn, "the peer's read index in the shared header is impossible (corrupt section)");
        wipc_status st = wait_room(c, wipc__ring_record_size(len), deadline, fn, timeout_ms);
        if (st != WIPC_OK)
            return st;
    }
}

static void publish(wipc__shm_chan *c, uint8_t kind, uint32_t type, uint64_t request_id, size_t size)
{
    if (wipc__ring_commit(&c->tx, kind, type, request_id, (uint32_t)size))
        wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_DATA(c->tx_index), &c->hdr->ring[c->tx_index].data_wait);
    wipc__count_sent(&c->obj, size);
}

/* What wipc_send and wipc_shm_reserve both begin with: the peer and size checks, the writer slot
 * (tx_acquire) and room for `size` bytes in the ring (*dst), within `dl`. On failure the slot is
 * given back. */
static wipc_status tx_begin(wipc__shm_chan *c, size_t size, bool reserve, uint8_t **dst, const char *fn, wipc__shm_dl *dl)
{
    wipc_status st = peer_usable(c, fn);
    if (st == WIPC_OK)
        st = check_size(c, size, fn);
    if (st != WIPC_OK)
        return st;
    if ((st = tx_acquire(c, dl, reserve, fn)) != WIPC_OK)
        return st;
    st = tx_room(c, size, dst, dl, fn, dl->timeout_ms);
    if (st != WIPC_OK)
        tx_release(c, WIPC__TX_FREE);
    return st;
}

wipc_status wipc__shm_send_within(wipc__shm_chan *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                                  size_t size, wipc__shm_dl *dl)
{
    const char *fn = kind == WIPC__KIND_REPLY ? "wipc_reply" : kind == WIPC__KIND_REQUEST ? "wipc_request" : "wipc_send";
    uint8_t *dst = NULL;
    wipc_status st = tx_begin(c, size, false, &dst, fn, dl);
    if (st != WIPC_OK)
        return st;
    if (size)
        memcpy(dst, data, size);
    publish(c, kind, type, request_id, size);
    tx_release(c, WIPC__TX_FREE);
    return WIPC_OK;
}

wipc_status wipc__shm_send(wipc__obj *o, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                           size_t size, int32_t timeout_ms)
{
    wipc__shm_dl dl = { timeout_ms, 0 };
    wipc__shm_chan *c = (wipc__shm_chan *)o;
    if (kind == WIPC__KIND_ERROR) {   /* only to a 1.1 peer: a 1.0 reader would take the record for corruption */
        wipc__shm_side *peer = c->creator ? &c->hdr->opener : &c->hdr->creator;
        if (!(atomic_load(&peer->flags) & WIPC__SHM_SIDE_ERRORS))
            return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "wipc_reply_error on shm channel %s: the peer speaks wipc 1.0 (its side "
                               "of the section does not offer remote errors), so it could not read an error reply; nothing "
                               "was sent: answer with wipc_reply", o->name);
    }
    return wipc__shm_send_within(c, kind, request_id, type, data, size, &dl);
}

wipc_status wipc__shm_reserve(wipc__shm_chan *c, size_t size, void **out_ptr, int32_t timeout_ms)
{
    const char *fn = "wipc_shm_reserve";
    if (wipc__ring_record_size(size) > c->tx.cap)
        return wipc__error(WIPC_E_TOO_LARGE, 0, "%s on shm channel %s: %zu bytes do not fit the %llu-byte ring (at most %llu)",
                           fn, c->obj.name, size, (unsigned long long)c->tx.cap,
                           (unsigned long long)(c->tx.cap - WIPC__SHM_RECORD_HEADER));
    uint8_t *dst = NULL;
    wipc__shm_dl dl = { timeout_ms, 0 };
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
        return wipc__error(WIPC_E_INVALID_STATE, 0, "wipc_shm_commit on shm channel %s: no wipc_shm_reserve is open", c->obj.name);
    if (size > c->tx_reserve_len)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_shm_commit on shm channel %s: size %zu is above the %llu bytes reserved",
                           c->obj.name, size, (unsigned long long)c->tx_reserve_len);
    int expected = WIPC__TX_RESERVED;
    if (!atomic_compare_exchange_strong(&c->tx_state, &expected, WIPC__TX_BUSY))
        return wipc__error(WIPC_E_INVALID_STATE, 0, "wipc_shm_commit on shm channel %s: another thread committed this reservation", c->obj.name);
    bool closed = wipc__shm_closed(c);
    if (closed)
        c->tx.open_rec = 0;
    else
        publish(c, WIPC__KIND_DATA, type, 0, size);
    tx_release(c, WIPC__TX_FREE);
    return closed ? wipc__shm_ended(c, "wipc_shm_commit") : WIPC_OK;
}
