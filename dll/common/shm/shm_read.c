/*
 * shm_read.c - reading the channel's incoming ring.
 *
 * One thread at a time holds the "reader role" (shm.h). Blocking mode: wipc_recv, wipc_request and
 * wipc_shm_peek take the role on the caller's thread (no thread hop) and read the ring until their
 * own frame arrives: a message for wipc_recv is copied straight from the ring into the caller's
 * buffer, a reply straight into the requester's buffer. Frames for others are handed on: replies
 * to their waiting thread, anything else to the inbox queue, which wipc_recv reads first.
 * Callback mode: the channel's reader thread takes the role and keeps it until the handle closes
 * (or, on an opener, the creator is gone). It hands every frame on: replies into their requester's
 * buffer, the rest to the callback strand (wipc__inbox_deliver); with the ring empty it sleeps on
 * the ring's data word like a blocking receiver, and the producer wakes it only when it sleeps.
 * A thread in wipc_request meanwhile waits on obj.cond for its reply. A blocking call still
 * reading when the callbacks are set hands the ring over (its wait is woken, it stops reading).
 *
 * Sessions (creator): the role holder follows the opener sessions stamped in the records and, with
 * callbacks, raises CONNECTED / DISCONNECTED between their messages in ring order (shm_layout.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/shm/shm.h"
#include "common/core/op.h"

typedef enum want_kind { WANT_MSG, WANT_REPLY, WANT_PEEK, WANT_CB } want_kind;

typedef struct rd_want {
    want_kind what;
    const char *fn;
    int32_t timeout_ms;
    wipc__reply_waiter *w; /* WANT_REPLY */
    void *buf; /* WANT_MSG */
    size_t cap;
    wipc_message *out;
    wipc__ring_rec rec; /* WANT_PEEK: the record left open */
    bool handed; /* read_loop ended (WIPC_OK) because the reader thread reads from now on */
} rd_want;

static void release_record(wipc__shm_chan *c)
{
    wipc__shm_rx_release(c);
}

static void count_received(wipc__shm_chan *c, size_t size)
{
    wipc__shm_count(&c->obj.ctr->msgs_recv, &c->obj.ctr->bytes_recv, &c->obj, size); /* the role holder: one writer */
}

/* ---- handing frames to their owner --------------------------------------------------------------- */

static wipc__rxmsg *copy_record(wipc__shm_chan *c, const wipc__ring_rec *rec, uint32_t pid)
{
    wipc__rxmsg *m = wipc__shm_stream_steal(c, rec, pid); /* an assembled message is handed on, not copied */
    if (m)
        return m;
    m = wipc__rxmsg_new(rec->length);
    if (!m)
        return NULL;
    if (rec->length)
        memcpy(m->data, rec->payload, rec->length);
    m->type = rec->type;
    m->request_id = rec->request_id;
    m->peer_pid = pid;
    return m;
}

/* A reply: into its waiter's buffer (fast path), else to the inbox (its waiters, or dropped). */
static wipc_status take_reply(wipc__shm_chan *c, rd_want *want, const wipc__ring_rec *rec, uint32_t pid, bool *done)
{
    wipc__reply_waiter *w = wipc__reply_deliver(&c->obj, &c->waiters, rec->request_id, rec->payload, rec->length);
    wipc__rxmsg *m = w ? NULL : copy_record(c, rec, pid);
    if (w)
        count_received(c, rec->length); /* replies count as received, as wipc__inbox_deliver counts them */
    release_record(c);
    if (m) {
        count_received(c, m->size);
        wipc__reply_to_op(&c->obj, WIPC__KIND_REPLY, m); /* an async request's, or dropped */
    } else if (!w) {
        return wipc__shm_fail(c, WIPC_E_NO_MEMORY, want->fn, "out of memory for an incoming reply");
    }
    *done = want->what == WANT_REPLY && w == want->w;
    return WIPC_OK;
}

/* A remote error (ERROR record, wipc 1.1): to the waiting request (blocking or async), else dropped. */
static wipc_status take_error(wipc__shm_chan *c, rd_want *want, const wipc__ring_rec *rec, uint32_t pid, bool *done)
{
    wipc__rxmsg *m = copy_record(c, rec, pid);
    release_record(c);
    if (!m)
        return wipc__shm_fail(c, WIPC_E_NO_MEMORY, want->fn, "out of memory for an incoming error reply");
    count_received(c, m->size);
    wipc__reply_waiter *w = wipc__reply_deliver_error(&c->obj, &c->waiters, m);
    *done = want->what == WANT_REPLY && w == want->w;
    return WIPC_OK;
}

/* Back-pressure on the reader thread (callbacks or async reads): the ring stays unread while the
 * callbacks or the queue are behind by max_queued_bytes / _count (the peer's sends wait for room, then
 * time out), until they catch up or a receive drains the queue (wipc__shm_resume), or the handle closes. */
static void pause_while_full(wipc__shm_chan *c)
{
    wipc__mutex_lock(&c->obj.lock);
    while (c->obj.paused_reading && !wipc__shm_closed(c))
        wipc__cond_wait_until(&c->obj.cond, &c->obj.lock, wipc__deadline_in(100));
    wipc__mutex_unlock(&c->obj.lock);
}

/* A message that is not the caller's: to the inbox (queue or callback strand). */
static wipc_status take_other(wipc__shm_chan *c, rd_want *want, const wipc__ring_rec *rec, uint32_t pid)
{
    wipc__rxmsg *m = copy_record(c, rec, pid);
    if (!m)
        return wipc__shm_fail(c, WIPC_E_NO_MEMORY, want->fn, "out of memory for an incoming message");
    release_record(c);
    bool full = wipc__inbox_deliver(&c->obj, rec->kind, m);
    atomic_fetch_add(&c->inbox_hint, 1); /* before the role is given back: see role_fast */
    if (full && want->what == WANT_CB)
        pause_while_full(c);
    return WIPC_OK;
}

/* wipc_recv's own message: copied from the ring into the caller's buffer. */
static wipc_status take_msg(wipc__shm_chan *c, rd_want *want, const wipc__ring_rec *rec, uint32_t pid)
{
    wipc_message *out = want->out;
    out->type = rec->type;
    out->size = rec->length;
    out->request_id = rec->kind == WIPC__KIND_REQUEST ? rec->request_id : 0;
    out->peer_pid = pid;
    out->data = want->buf;
    if (rec->length > want->cap)
        return wipc__error(WIPC_E_BUFFER_TOO_SMALL, 0,
                           "wipc_recv on shm channel %s: the message is %lu bytes, the buffer %zu; it stays queued",
                           c->obj.name, (unsigned long)rec->length, want->cap);
    if (rec->length && rec->payload != want->buf) /* a streamed message may be assembled in place */
        memcpy(want->buf, rec->payload, rec->length);
    release_record(c);
    count_received(c, rec->length);
    if (out->request_id) {
        wipc__mutex_lock(&c->obj.lock);
        c->obj.last_request_id = out->request_id;
        wipc__mutex_unlock(&c->obj.lock);
    }
    return WIPC_OK;
}

static wipc_status take_record(wipc__shm_chan *c, rd_want *want, const wipc__ring_rec *rec, uint32_t pid, bool *done)
{
    *done = false;
    if (rec->kind == WIPC__KIND_REPLY)
        return take_reply(c, want, rec, pid, done);
    if (rec->kind == WIPC__KIND_ERROR)
        return take_error(c, want, rec, pid, done);
    if (want->what == WANT_MSG) {
        *done = true;
        return take_msg(c, want, rec, pid);
    }
    if (want->what == WANT_PEEK) {
        *done = true;
        want->rec = *rec;
        count_received(c, rec->length);
        return WIPC_OK;
    }
    return take_other(c, want, rec, pid);
}

/* ---- the read loop (reader role held) -------------------------------------------------------------- */

typedef struct rx_arg {
    wipc__shm_chan *c;
    bool cb; /* the reader thread */
} rx_arg;

/* Data, or the handle closed, or (a blocking call) callbacks were set: the reader thread takes over. */
static bool rx_ready(void *p)
{
    rx_arg *a = p;
    return wipc__ring_readable(&a->c->rx) || wipc__shm_closed(a->c) || (!a->cb && wipc__shm_thread_reads(a->c));
}

static wipc_status wait_timeout(wipc__shm_chan *c, rd_want *want)
{
    if (want->what == WANT_REPLY)
        return wipc__error(WIPC_E_TIMEOUT, 0, "wipc_request on shm channel %s: no reply to request %llu within %d ms",
                           c->obj.name, (unsigned long long)want->w->id, (int)want->timeout_ms);
    return wipc__error(WIPC_E_TIMEOUT, 0, "%s on shm channel %s: no message within %d ms", want->fn, c->obj.name,
                       (int)want->timeout_ms);
}

static wipc_status callbacks_set(wipc__shm_chan *c, rd_want *want)
{
    return wipc__error(WIPC_E_INVALID_STATE, 0, "%s on shm channel %s: callbacks were set; messages go to on_message",
                       want->fn, c->obj.name);
}

/* A blocking call finds the reader thread reading (callbacks or async reads were set): it reads from
 * now on. A request (a receive without callbacks) ends with WIPC_OK and want->handed and waits for
 * it to deliver its reply (queue a message); a receive with callbacks or a peek ends with an error. */
static wipc_status handed_over(wipc__shm_chan *c, rd_want *want)
{
    if (want->what == WANT_REPLY || (want->what == WANT_MSG && !atomic_load(&c->obj.has_callbacks))) {
        want->handed = true;
        return WIPC_OK;
    }
    return callbacks_set(c, want);
}

/* Blocks until the ring has data, the deadline passes, the handle closes or the peer is gone. The
 * creator's role holder also follows the opener sessions here (wipc__shm_sess_idle).
 * The reader thread does not spin: it has just handed a frame to another thread (a callback
 * worker, or a requester), which needs a CPU more than a spin does. A spin_us busy-wait here is
 * what made a callback channel's request/reply cost ~120 us on a 2-CPU host (the worker waited for
 * the spin to end); it sleeps on the data word at once and the producer wakes it. */
static wipc_status rx_wait(wipc__shm_chan *c, rd_want *want, wipc__timeout *deadline)
{
    rx_arg a = { c, want->what == WANT_CB };
    if (!a.cb && wipc__shm_spin(c, rx_ready, &a))
        return WIPC_OK;
    wipc__shm_header *h = c->hdr;
    wipc__shm_ring_ctl *ctl = &h->ring[c->rx_index];
    for (;;) {
        if (wipc__shm_closed(c) || atomic_load(&c->broken))
            return wipc__shm_ended(c, want->fn);
        if (!a.cb && wipc__shm_thread_reads(c))
            return handed_over(c, want);
        /* The peer's liveness, then the header, are read before the ring is found empty: a peer found
         * dead had published all its records by then, so none can arrive after its session's end
         * (see wipc__shm_sess_idle). */
        bool gone = wipc__shm_peer_check(c, false) == WIPC_E_DISCONNECTED;
        uint32_t session = 0;
        uint64_t ident = 0, dead_ident = 0;
        if (c->creator) {
            wipc__mutex_lock(&c->obj.lock);
            dead_ident = c->peer_gone ? c->peer_ident : 0; /* as found dead before the ring check */
            wipc__mutex_unlock(&c->obj.lock);
            session = atomic_load_explicit(&h->session, memory_order_acquire);
            ident = atomic_load_explicit(&h->opener.ident, memory_order_acquire);
        }
        if (wipc__ring_readable(&c->rx))
            return WIPC_OK;
        if (c->creator)
            wipc__shm_sess_idle(c, session, ident, dead_ident);
        if (wipc__ring_readable(&c->rx))
            return WIPC_OK;
        if (gone && !(a.cb && c->creator)) /* a creator's reader thread waits for the next opener */
            return wipc__shm_ended(c, want->fn);
        int32_t slice = wipc__shm_slice(c, deadline);
        if (slice == 0)
            return wait_timeout(c, want);
        wipc__shm_sleep(c, WIPC__SHM_WORD_DATA(c->rx_index), &ctl->data_wait, rx_ready, &a, slice);
    }
}

/* Reads (role held) until the caller's frame is taken (WIPC_OK), the call ends with an error, or
 * the reader thread reads from now on (WIPC_OK and want->handed: see handed_over). */
static wipc_status read_records(wipc__shm_chan *c, rd_want *want, wipc__timeout *deadline)
{
    char why[200];
    want->handed = false;
    for (;;) {
        if (wipc__shm_closed(c) || atomic_load(&c->broken))
            return wipc__shm_ended(c, want->fn);
        if (want->what != WANT_CB && wipc__shm_thread_reads(c))
            return handed_over(c, want);
        /* A request whose reply the previous role holder already delivered: done. (It is set only
         * by the role holder, so this is needed once, when the role is taken, but is cheap.) */
        if (want->what == WANT_REPLY && atomic_load_explicit(&want->w->done, memory_order_acquire))
            return WIPC_OK;
        wipc__ring_rec rec;
        bool wake = false, done = false;
        uint32_t whole_pid = 0;
        if (c->rx_whole && wipc__shm_stream_pending(
                               c, &rec, &whole_pid)) { /* an assembled message a receive left (buffer too small) */
            wipc_status st = take_record(c, want, &rec, whole_pid, &done);
            if (done || st != WIPC_OK)
                return st;
            continue;
        }
        wipc__ring_rc rc = wipc__ring_peek(&c->rx, &rec, &wake, why, sizeof why);
        if (wake)
            wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_SPACE(c->rx_index), &c->hdr->ring[c->rx_index].space_wait);
        if (rc == WIPC__RING_CORRUPT)
            return wipc__shm_fail(c, WIPC_E_PROTOCOL, want->fn, why);
        if (rc == WIPC__RING_TOO_LARGE)
            return wipc__shm_fail(c, WIPC_E_TOO_LARGE, want->fn, why);
        if (rc == WIPC__RING_OK) {
            uint32_t pid = wipc__shm_sess_record(c, &rec);
            wipc_status st = WIPC_OK;
            int piece = WIPC__STREAM_PLAIN; /* the common case decided here, without a call */
            if (rec.kind == WIPC__SHM_KIND_PART || (rec.kind & WIPC__SHM_KIND_BEGIN) || c->rx_part)
                piece = wipc__shm_stream_rx(c, &rec, &pid, &st, want->fn, want->what == WANT_MSG ? want->buf : NULL,
                                            want->cap);
            if (piece == WIPC__STREAM_ERROR)
                return st;
            if (piece == WIPC__STREAM_TAKEN)
                continue;
            st = take_record(c, want, &rec, pid, &done);
            if (done || st != WIPC_OK)
                return st;
            continue;
        }
        wipc_status st = rx_wait(c, want, deadline);
        if (st != WIPC_OK || want->handed)
            return st;
    }
}

/* read_records; a wipc_recv that ends while a streamed message is assembled in its buffer leaves the
 * part assembled to the next reader in an allocation of its own. */
static wipc_status read_loop(wipc__shm_chan *c, rd_want *want, wipc__timeout *deadline)
{
    wipc_status st = read_records(c, want, deadline);
    wipc_status kept = wipc__shm_stream_unborrow(c, want->fn);
    return st != WIPC_OK ? st : kept;
}

/* ---- the reader role ---------------------------------------------------------------------------- */

void wipc__shm_role_put(wipc__shm_chan *c, int to)
{
    atomic_store(&c->role.holder, to);
    wipc__role_wake(&c->role, &c->obj, wipc__shm_closed(c));
}

/* The fast path: no lock when the role is free and nothing was queued in the inbox. */
static bool role_fast(wipc__shm_chan *c)
{
    if (atomic_load_explicit(&c->inbox_hint, memory_order_relaxed) || wipc__shm_thread_reads(c) ||
        !wipc__role_try(&c->role))
        return false;
    if (atomic_load(&c->inbox_hint) == 0) /* re-read: deliveries are counted before the role is freed */
        return true;
    wipc__shm_role_put(c, WIPC__ROLE_FREE);
    return false;
}

/* obj.lock held: is something queued in the inbox? Resets the hint when the queue is empty. */
static bool queued_locked(wipc__shm_chan *c)
{
    if (c->obj.q_head)
        return true;
    atomic_store(&c->inbox_hint, 0);
    return false;
}

/* What a caller waiting for the role looks at (wipc__role_take). With callbacks the reader thread
 * reads: a request waits for it to deliver its reply, a receive or peek ends (WIPC_E_INVALID_STATE).
 * A lost peer ends the wait only when the role is not free: the remaining records are read first. */
typedef struct role_wait {
    wipc__shm_chan *c;
    wipc__timeout *deadline;

    rd_want *want;
} role_wait;

static bool wait_queued(void *t)
{
    return queued_locked(((role_wait *)t)->c);
}

static wipc__gate wait_gate(void *t, wipc__reply_waiter *w, wipc_status *st)
{
    wipc__shm_chan *c = ((role_wait *)t)->c;
    bool cb = wipc__shm_thread_reads(c);
    if (cb && !w && atomic_load(&c->obj.has_callbacks)) {
        *st = WIPC_E_INVALID_STATE;
        return WIPC__GATE_END;
    }
    return cb ? WIPC__GATE_WAIT : WIPC__GATE_TRY;
}

static wipc_status wait_missed(void *t)
{
    wipc__shm_chan *c = ((role_wait *)t)->c;
    if (atomic_load(&c->peer_gone) || atomic_load(&c->broken))
        return WIPC_E_DISCONNECTED; /* the holder waits for a new opener: nothing will come */
    return WIPC_OK;
}

static wipc__deadline wait_until(void *t)
{
    return wipc__deadline_in(wipc__shm_slice(((role_wait *)t)->c, ((role_wait *)t)->deadline));
}

static wipc_status wait_ended(void *t, wipc_status st)
{
    role_wait *a = t;
    if (st == WIPC_E_TIMEOUT)
        return wait_timeout(a->c, a->want);
    /* the gate ends a wait only for a receive or peek on a handle with callbacks (they stay set) */
    return st == WIPC_E_INVALID_STATE ? callbacks_set(a->c, a->want) : wipc__shm_ended(a->c, a->want->fn);
}

static const wipc__role_checks role_checks = {
    .queued = wait_queued, .gate = wait_gate, .missed = wait_missed, .wait_until = wait_until, .ended = wait_ended
};

/* obj.lock held. Waits until this thread holds the reader role, or (`queue_ok`) the inbox has a
 * message, or w (if any) is done, or the handle closed / deadline passed (WIPC__TAKE_ENDED, *st set). */
static wipc__take_rc role_take(wipc__shm_chan *c, bool queue_ok, wipc__reply_waiter *w, wipc__timeout *deadline,
                               rd_want *want, wipc_status *st)
{
    role_wait t = { c, deadline, want };
    return wipc__role_take(&c->role, &c->obj, &role_checks, &t, queue_ok, w, st);
}

/* ---- wipc_recv / wipc_request (core hook) -------------------------------------------------------- */

/* A creator whose opener left looks for a new one before it reports WIPC_E_DISCONNECTED. */
static void rearm_check(wipc__shm_chan *c)
{
    if (c->creator && atomic_load(&c->peer_gone))
        wipc__shm_peer_check(c, true);
}

/* The common case of wipc_recv with the role taken at once: the next record is a whole DATA or
 * REQUEST message, taken here without read_loop's layers. false: nothing was consumed (a PAD may
 * have been skipped) and read_loop decides: waits, streamed pieces, replies, corruption. */
static bool recv_fast(wipc__shm_chan *c, rd_want *want, wipc_status *st)
{
    if (wipc__shm_closed(c) || atomic_load(&c->broken) || c->rx_whole || c->rx_part)
        return false;
    wipc__ring_rec rec;
    bool wake = false;
    char why[64]; /* unused: read_loop peeks again and reports */
    wipc__ring_rc rc = wipc__ring_peek(&c->rx, &rec, &wake, why, sizeof why);
    if (wake)
        wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_SPACE(c->rx_index), &c->hdr->ring[c->rx_index].space_wait);
    if (rc != WIPC__RING_OK || (rec.kind != WIPC__KIND_DATA && rec.kind != WIPC__KIND_REQUEST))
        return false;
    *st = take_msg(c, want, &rec, wipc__shm_sess_record(c, &rec));
    return true;
}

wipc_status wipc__shm_recv(wipc__obj *o, void *buf, size_t cap, wipc_message *out, int32_t timeout_ms)
{
    wipc__shm_chan *c = (wipc__shm_chan *)o;
    wipc__timeout dl = wipc__timeout_of(timeout_ms);
    rd_want want = {
        .what = WANT_MSG, .fn = "wipc_recv", .timeout_ms = timeout_ms, .buf = buf, .cap = cap, .out = out
    };
    rearm_check(c);
    if (role_fast(c)) {
        wipc_status st = WIPC_OK;
        want.handed = false;
        if (!recv_fast(c, &want, &st))
            st = read_loop(c, &want, &dl);
        wipc__shm_role_put(c, WIPC__ROLE_FREE);
        if (!want.handed)
            return st; /* else async reads began: the reader thread queues the message */
    }
    for (;;) {
        wipc_status st = WIPC_OK;
        wipc__mutex_lock(&o->lock);
        if (atomic_load(&o->has_callbacks)) {
            wipc__mutex_unlock(&o->lock);
            return wipc__error(WIPC_E_INVALID_STATE, 0,
                               "wipc_recv on shm channel %s: the handle has callbacks; messages go to on_message",
                               o->name);
        }
        o->receivers++;
        wipc__take_rc rc = role_take(c, true, NULL, &dl, &want, &st);
        o->receivers--;
        wipc__mutex_unlock(&o->lock);
        if (rc == WIPC__TAKE_ENDED)
            return st;
        if (rc == WIPC__TAKE_QUEUED) {
            st = wipc__inbox_recv(o, buf, cap, out, 0);
            if (st == WIPC_E_TIMEOUT && wipc__timeout_left(&dl) != 0)
                continue; /* another thread took it first */
            return st;
        }
        st = read_loop(c, &want, &dl);
        wipc__shm_role_put(c, WIPC__ROLE_FREE);
        if (want.handed)
            continue;
        return st;
    }
}

static bool reply_ready(void *p)
{
    return atomic_load_explicit(&((wipc__reply_waiter *)p)->done, memory_order_acquire);
}

static wipc_status await_reply(wipc__shm_chan *c, wipc__reply_waiter *w, wipc__timeout *deadline, int32_t timeout_ms)
{
    rd_want want = { .what = WANT_REPLY, .fn = "wipc_request", .timeout_ms = timeout_ms, .w = w };
    rearm_check(c);
    wipc_status st = WIPC_OK;
    if (!wipc__shm_thread_reads(c) && wipc__role_try(&c->role)) { /* fast path: read our reply ourselves */
        st = read_loop(c, &want, deadline);
        wipc__shm_role_put(c, WIPC__ROLE_FREE);
        if (st != WIPC_OK || w->done)
            return st; /* else handed over (want.handed): the reader thread delivers the reply */
    }
    if (wipc__shm_thread_reads(c))
        wipc__shm_spin(c, reply_ready, w); /* the reader thread delivers it; catch it before sleeping on obj.cond */
    wipc__mutex_lock(&c->obj.lock);
    for (;;) {
        wipc__take_rc rc = role_take(c, false, w, deadline, &want, &st);
        if (rc != WIPC__TAKE_ROLE)
            break;
        wipc__mutex_unlock(&c->obj.lock);
        st = read_loop(c, &want, deadline);
        wipc__shm_role_put(c, WIPC__ROLE_FREE);
        wipc__mutex_lock(&c->obj.lock);
        if (st != WIPC_OK || w->done)
            break; /* else handed over: role_take now waits for the reader thread */
    }
    if (w->done)
        st = WIPC_OK;
    wipc__mutex_unlock(&c->obj.lock);
    return st;
}

wipc_status wipc__shm_request(wipc__obj *o, uint32_t type, const void *req, size_t req_size, void *resp,
                              size_t resp_cap, size_t *out_resp_size, int32_t timeout_ms)
{
    wipc__shm_chan *c = (wipc__shm_chan *)o;
    wipc__timeout dl = wipc__timeout_of(timeout_ms);
    wipc__reply_waiter w;
    wipc__reply_begin(o, &c->waiters, &w, resp, resp_cap);
    wipc_status st =
        wipc__shm_send_within(c, WIPC__KIND_REQUEST, w.id, type, req, req_size, &dl); /* one deadline for both */
    if (st == WIPC_OK)
        st = await_reply(c, &w, &dl, timeout_ms);
    return wipc__reply_end(o, &c->waiters, &w, st, out_resp_size, "shm channel");
}

/* ---- zero-copy receive --------------------------------------------------------------------------- */

/* Moves the first queued message into c->peek_msg. WIPC_E_TIMEOUT if another thread took it. */
static wipc_status peek_from_queue(wipc__shm_chan *c)
{
    wipc__mutex_lock(&c->obj.lock);
    size_t size = c->obj.q_head ? c->obj.q_head->size : 0;
    wipc__mutex_unlock(&c->obj.lock);
    wipc__rxmsg *m = wipc__rxmsg_new(size);
    if (!m)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "wipc_shm_peek on shm channel %s: out of memory", c->obj.name);
    wipc_message out;
    memset(&out, 0, sizeof out);
    wipc_status st = wipc__inbox_recv(&c->obj, m->data, size, &out, 0);
    if (st != WIPC_OK) {
        wipc__rxmsg_free(m);
        return st == WIPC_E_BUFFER_TOO_SMALL ? WIPC_E_TIMEOUT : st;
    }
    m->type = out.type;
    m->request_id = out.request_id;
    wipc__mutex_lock(&c->obj.lock);
    c->peek_msg = m;
    c->peek_state = WIPC__PEEK_MSG;
    wipc__mutex_unlock(&c->obj.lock);
    return WIPC_OK;
}

static wipc_status peek_from_ring(wipc__shm_chan *c, rd_want *want, wipc__timeout *deadline)
{
    wipc_status st = read_loop(c, want, deadline);
    wipc__mutex_lock(&c->obj.lock);
    c->peek_state = st == WIPC_OK ? WIPC__PEEK_RING : WIPC__PEEK_NONE;
    wipc__mutex_unlock(&c->obj.lock);
    wipc__shm_role_put(c, st == WIPC_OK ? WIPC__ROLE_PEEK : WIPC__ROLE_FREE);
    return st;
}

static wipc_status peek_begin(wipc__shm_chan *c)
{
    wipc_status st = WIPC_OK;
    wipc__mutex_lock(&c->obj.lock);
    if (atomic_load(&c->obj.has_callbacks))
        st = wipc__error(WIPC_E_INVALID_STATE, 0,
                         "wipc_shm_peek on shm channel %s: the handle has callbacks; messages go to on_message",
                         c->obj.name);
    else if (atomic_load(&c->async_io))
        st = wipc__error(WIPC_E_INVALID_STATE, 0,
                         "wipc_shm_peek on shm channel %s: asynchronous reads were started; the "
                         "reader thread reads the ring (use wipc_recv / wipc_recv_async)",
                         c->obj.name);
    else if (c->peek_state != WIPC__PEEK_NONE)
        st = wipc__error(
            WIPC_E_INVALID_STATE, 0,
            "wipc_shm_peek on shm channel %s: a peek is already open or waiting; call wipc_shm_release first",
            c->obj.name);
    else
        c->peek_state = WIPC__PEEK_WAIT;
    wipc__mutex_unlock(&c->obj.lock);
    return st;
}

wipc_status wipc__shm_peek(wipc__shm_chan *c, const void **out_ptr, size_t *out_size, uint32_t *out_type,
                           int32_t timeout_ms)
{
    wipc_status st = peek_begin(c);
    if (st != WIPC_OK)
        return st;
    wipc__timeout dl = wipc__timeout_of(timeout_ms);
    rd_want want = { .what = WANT_PEEK, .fn = "wipc_shm_peek", .timeout_ms = timeout_ms };
    rearm_check(c);
    for (;;) {
        wipc__mutex_lock(&c->obj.lock);
        c->obj.receivers++;
        wipc__take_rc rc = role_take(c, true, NULL, &dl, &want, &st);
        c->obj.receivers--;
        if (rc == WIPC__TAKE_ENDED)
            c->peek_state = WIPC__PEEK_NONE;
        wipc__mutex_unlock(&c->obj.lock);
        if (rc == WIPC__TAKE_ENDED)
            return st;
        if (rc == WIPC__TAKE_ROLE) {
            if ((st = peek_from_ring(c, &want, &dl)) != WIPC_OK)
                return st;
            *out_ptr = want.rec.payload;
            *out_size = want.rec.length;
            if (out_type)
                *out_type = want.rec.type;
            return WIPC_OK;
        }
        st = peek_from_queue(c);
        if (st == WIPC_OK) {
            *out_ptr = c->peek_msg->data;
            *out_size = c->peek_msg->size;
            if (out_type)
                *out_type = c->peek_msg->type;
            return WIPC_OK;
        }
        if (st != WIPC_E_TIMEOUT || wipc__timeout_left(&dl) == 0) {
            wipc__mutex_lock(&c->obj.lock);
            c->peek_state = WIPC__PEEK_NONE;
            wipc__mutex_unlock(&c->obj.lock);
            return st;
        }
    }
}

wipc_status wipc__shm_release(wipc__shm_chan *c)
{
    wipc__mutex_lock(&c->obj.lock);
    int state = c->peek_state;
    wipc__rxmsg *m = c->peek_msg;
    if (state == WIPC__PEEK_RING || state == WIPC__PEEK_MSG) {
        c->peek_state = WIPC__PEEK_NONE;
        c->peek_msg = NULL;
    }
    wipc__mutex_unlock(&c->obj.lock);
    if (state == WIPC__PEEK_MSG) {
        wipc__rxmsg_free(m);
        return WIPC_OK;
    }
    if (state != WIPC__PEEK_RING)
        return wipc__error(WIPC_E_INVALID_STATE, 0, "wipc_shm_release on shm channel %s: no wipc_shm_peek is open",
                           c->obj.name);
    if (!wipc__shm_closed(c))
        release_record(c);
    wipc__shm_role_put(c, WIPC__ROLE_FREE);
    return WIPC_OK;
}

/* ---- the reader thread ------------------------------------------------------------------------- */

static void pump_main(void *arg)
{
    wipc__shm_chan *c = arg;
    rd_want want = { .what = WANT_CB, .fn = "shm reader thread", .timeout_ms = WIPC_INFINITE };
    bool held = false;
    wipc__mutex_lock(&c->obj.lock);
    atomic_fetch_add(&c->role.waiters, 1);
    /* A blocking call may still hold the role: it hands over at once (its wait is woken by
     * chan_callbacks_set, it sees the callbacks) and wipc__shm_role_put wakes us. */
    while (!wipc__shm_closed(c) && !(held = wipc__role_try(&c->role)))
        wipc__cond_wait_until(&c->obj.cond, &c->obj.lock, wipc__deadline_in(100));
    atomic_fetch_sub(&c->role.waiters, 1);
    wipc__mutex_unlock(&c->obj.lock);
    if (!held)
        return;
    wipc__shm_sess_announce(c);
    wipc__timeout forever = wipc__timeout_of(WIPC_INFINITE);
    /* until closed, ended by an error, or (opener) the creator is gone and all it sent delivered */
    wipc_status st = read_loop(c, &want, &forever);
    wipc__shm_role_put(c, WIPC__ROLE_FREE);
    wipc__mutex_lock(&c->obj.lock);
    bool disconnected = c->disc_pending && st == WIPC_E_DISCONNECTED;
    c->disc_pending = false;
    wipc__mutex_unlock(&c->obj.lock);
    if (disconnected)
        wipc__dispatch_event(&c->obj, WIPC_EVENT_DISCONNECTED, 0, WIPC_E_DISCONNECTED, NULL);
}

wipc_status wipc__shm_pump_start(wipc__shm_chan *c)
{
    wipc__mutex_lock(&c->obj.lock);
    bool started = c->pump_started;
    c->pump_started = true;
    wipc__mutex_unlock(&c->obj.lock);
    if (started)
        return WIPC_OK;
    wipc__obj_ref(&c->obj); /* the thread's reference, dropped by wipc__shm_pump_stop */
    wipc_status st = wipc__thread_start(&c->pump, pump_main, c);
    if (st != WIPC_OK) {
        wipc__mutex_lock(&c->obj.lock);
        c->pump_started = false;
        wipc__mutex_unlock(&c->obj.lock);
        wipc__obj_unref(&c->obj);
    }
    return st;
}

/* wipc_close (the handle is marked closed): wakes the reader thread and waits for it to end. */
void wipc__shm_pump_stop(wipc__shm_chan *c)
{
    wipc__mutex_lock(&c->obj.lock);
    bool started = c->pump_started;
    c->pump_started = false;
    wipc__cond_broadcast(&c->obj.cond);
    wipc__mutex_unlock(&c->obj.lock);
    if (!started)
        return;
    wipc__shm_rx_wake(c);
    wipc__thread_join(&c->pump);
    wipc__obj_unref(&c->obj);
}
