/*
 * pipe_wq.c - a pipe connection's write queue: frames sent without a thread waiting for the pipe
 * (wipc_send_async, wipc_request_async, replies from callbacks).
 *
 * A frame is first tried at once without blocking (one send(MSG_DONTWAIT) / one WriteFile that the
 * pipe takes): the common case costs no copy and no queue. What the pipe does not take is copied into
 * an entry, queued, and written by the backend (wipc__plat_pipe_write_start, completed by
 * wipc__core_write_done on its I/O thread). The queue and blocking writers share the connection's
 * `writer` exclusion, so frames never interleave.
 * Batches: when the writer is ahead of the reader, frames pile up in the queue; each write
 * then takes every queued small frame (each <= WIPC__WQ_GATHER_FRAME, together <= WIPC__WQ_GATHER_MAX),
 * copied one after another into c->wq_gather, so one send / WriteFile carries them all. Nothing waits
 * to form a batch (no Nagle delay): a lone frame goes at once, as before, and only frames that are
 * already queued while a write is in flight are written together. A large frame goes alone, uncopied.
 * Write-behind (WIPC_PIPE_WRITE_BEHIND, wipc__wq_send_behind): only a lone send (none began within
 * wb_gap_ns before it, or a message came in since the last one) is tried at once; a send that follows
 * another closely is appended to the tail chunk (WQ_CHUNK bytes of whole frames, one allocation) and,
 * when the queue was idle, the I/O thread is asked for its turn (wipc__plat_pipe_write_kick ->
 * wipc__core_write_kick), so the sender makes no system call while the I/O thread writes.
 * Not on WIPC_PIPE_RAW connections (Windows message mode: one write is one message). The frames being
 * written (c->wq_inflight, a chain) complete in order as the write reports its bytes.
 * Bounded: at most WIPC_ASYNC_QUEUE_BYTES queued (an empty queue takes one frame of any size); beyond
 * that an async send is refused at start (WIPC_E_BUSY) and a reply from a callback ends the
 * connection (its peer does not read). A reply queued from a callback has an internal op with a
 * WIPC_REPLY_DEADLINE_MS deadline: still unwritten then, the connection is ended.
 * No torn frames: a queued frame not yet started is dropped cleanly on cancel / timeout; a frame being
 * written is asked to stop (wipc__plat_pipe_write_cancel, which stops the whole batch): nothing of it
 * written = cancelled cleanly, and the batch's other unwritten frames go back to the head of the queue.
 * Part written: after wipc_cancel the send completes with WIPC_OK and the rest is written (first in
 * the queue, by nobody's op); after a timeout or close the stream cannot be resynchronised and the
 * connection is ended (as the blocking path's write_broken). Another frame of the batch cut short by
 * the cancel is simply written on.
 */
#include <stdlib.h>
#include <string.h>
#include "common/pipe/pipe.h"
#include "common/core/op.h"

typedef struct wipc__wq_entry {
    struct wipc__wq_entry *next;
    wipc__op *op; /* ref; NULL: nobody waits for this frame */
    uint8_t kind; /* frame kind, for the counters */
    size_t payload; /* payload bytes, for the counters */
    size_t len, off; /* frame bytes; off = written so far */
    size_t cap; /* 0: one frame; else a write-behind chunk of `cap` bytes holding `frames` whole frames */
    size_t frames;
    uint8_t data[];
} wipc__wq_entry;

/* A write-behind chunk: frames queued one after another into one allocation (no malloc per frame),
 * written as one piece when it reaches the head of the queue. */
#define WQ_CHUNK WIPC__WQ_GATHER_MAX

typedef struct done_item {
    wipc__wq_entry *e;
    wipc_status st;
} done_item;

static void wq_stop(wipc__op *op, wipc_status why);
const wipc__op_vt wipc__wq_op_vt = { .stop = wq_stop };

void wipc__wq_init(wipc__conn *c)
{
    wipc__mutex_init(&c->wq_lock);
    wipc__cond_init(&c->wq_cv);
}

static void count_sent(wipc__conn *c, wipc__wq_entry *e)
{
    if (e->kind == WIPC__FRAME_DATA || e->kind == WIPC__FRAME_REQUEST || e->kind == WIPC__FRAME_REPLY ||
        e->kind == WIPC__FRAME_ERROR) {
        wipc__count_sent_n(&c->obj, e->frames, e->payload); /* a write-behind chunk: all its frames */
    }
}

/* An entry is done with: a chunk is kept as the connection's spare (one), anything else freed. */
static void entry_free(wipc__conn *c, wipc__wq_entry *e)
{
    if (e->cap)
        e = atomic_exchange(&c->wq_spare, e);
    free(e);
}

/* The frame of e ended with st: its op learns it (a request only of a failure: its reply ends it). */
static void entry_done(wipc__conn *c, wipc__wq_entry *e, wipc_status st)
{
    if (st == WIPC_OK) {
        count_sent(c, e);
    }
    if (e->op) {
        if (st != WIPC_OK || e->op->kind != WIPC__OP_REQUEST)
            wipc__op_complete(e->op, st);
        wipc__op_unref(e->op);
    }
    entry_free(c, e);
}

/* A frame leaves the queue unwritten (wq_lock held, so that wipc_flush never sees an empty queue
 * before the loss): a write-behind frame's loss is what the next call and wipc_flush report. */
static void note_lost(wipc__conn *c, const wipc__wq_entry *e, wipc_status st)
{
    if (st != WIPC_OK && !e->op && c->write_behind) {
        int none = 0;
        atomic_compare_exchange_strong(&c->wq_lost, &none, (int)st);
    }
}

static void run_done(wipc__conn *c, done_item *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        entry_done(c, v[i].e, v[i].st);
}

/* The capacity of a done list of n items: 0, or a power of two of at least 16 (a batch of a few
 * hundred frames costs a few reallocs, not one per frame). */
static size_t done_cap(size_t n)
{
    size_t cap = 16;
    if (!n)
        return 0;
    while (cap < n)
        cap *= 2;
    return cap;
}

/* Room for n + add items in *v (holding n): false when out of memory. */
static bool done_room(done_item **v, size_t n, size_t add)
{
    if (!add || done_cap(n + add) == done_cap(n))
        return true;
    done_item *grown = realloc(*v, done_cap(n + add) * sizeof *grown);
    if (!grown)
        return false;
    *v = grown;
    return true;
}

/* Takes every queued entry off (wq_lock held), failing them with st into *v (malloc'd). */
static size_t drain_locked(wipc__conn *c, wipc_status st, done_item **v, size_t have)
{
    size_t n = have;
    for (wipc__wq_entry *e = c->wq_head; e; e = e->next)
        n++;
    if (!done_room(v, have, n - have))
        return have; /* out of memory: they stay queued and go with the connection (wipc__wq_free) */
    done_item *grown = *v;
    size_t i = have;
    for (wipc__wq_entry *e = c->wq_head, *next; e; e = next) {
        next = e->next;
        c->wq_bytes -= e->len;
        note_lost(c, e, st);
        grown[i].e = e;
        grown[i++].st = st;
    }
    c->wq_head = c->wq_tail = NULL;
    atomic_store(&c->wq_count, 0);
    return i;
}

/* Appends (e, st) to *v (grown); out of memory: e ends at once. */
static size_t push_done(wipc__conn *c, done_item **v, size_t n, wipc__wq_entry *e, wipc_status st)
{
    note_lost(c, e, st);
    if (!done_room(v, n, 1)) {
        entry_done(c, e, st); /* no lock order issue: ops take no queue lock when completing */
        return n;
    }
    (*v)[n].e = e;
    (*v)[n].st = st;
    return n + 1;
}

/* wq_lock held: how many queued frames from the head go in the next write, and their bytes. */
static size_t batch_take(wipc__conn *c, size_t *bytes)
{
    wipc__wq_entry *e = c->wq_head;
    size_t k = 1, sum = e->len - e->off;
    *bytes = sum;
    if (c->raw || sum > WIPC__WQ_GATHER_FRAME)
        return 1;
    for (e = e->next; e && e->len <= WIPC__WQ_GATHER_FRAME && sum + e->len <= WIPC__WQ_GATHER_MAX; e = e->next) {
        sum += e->len;
        k++;
    }
    if (k > 1 && !c->wq_gather && !(c->wq_gather = malloc(WIPC__WQ_GATHER_MAX)))
        return 1; /* out of memory: one frame at a time */
    *bytes = sum;
    return k;
}

/* wq_lock held, the queue holds `writer`: starts the next write (one frame, or a batch of queued
 * small frames), or lets `writer` go. Entries that cannot be written are added to *v. */
static size_t start_next_locked(wipc__conn *c, done_item **v, size_t n, wipc_status *fail)
{
    while (c->wq_head && !c->wq_inflight) {
        wipc__wq_entry *first = c->wq_head;
        if (c->write_broken) {
            *fail = WIPC_E_DISCONNECTED;
            return drain_locked(c, WIPC_E_DISCONNECTED, v, n);
        }
        size_t bytes;
        size_t k = batch_take(c, &bytes);
        const uint8_t *buf = first->data + first->off;
        wipc__wq_entry *last = first;
        size_t frames = first->frames;
        if (k > 1) {
            uint8_t *g = c->wq_gather;
            memcpy(g, buf, first->len - first->off);
            g += first->len - first->off;
            for (size_t i = 1; i < k; i++) {
                last = last->next;
                frames += last->frames;
                memcpy(g, last->data, last->len);
                g += last->len;
            }
            buf = c->wq_gather;
        }
        c->wq_head = last->next;
        last->next = NULL;
        if (!c->wq_head)
            c->wq_tail = NULL;
        atomic_fetch_sub(&c->wq_count, (int)frames);
        c->wq_inflight = first;
        wipc__obj_ref(&c->obj); /* the backend's completion holds the connection */
        /* The write starts without wq_lock (a send() / WriteFile of up to 64 KiB, a wineserver round
         * trip under Wine): senders keep appending meanwhile. Nobody else starts a write while
         * wq_inflight is set, and the chain and buf (wq_gather) are the write's; once started, its
         * completion may run on the I/O thread before the lock is back, so nothing of it is touched. */
        wipc__mutex_unlock(&c->wq_lock);
        wipc_status st = wipc__plat_pipe_write_start(c->pipe, buf, bytes);
        wipc__mutex_lock(&c->wq_lock);
        if (st == WIPC_OK)
            return n;
        wipc__obj_unref(&c->obj);
        c->wq_inflight = NULL;
        if (first->off)
            c->write_broken = true;
        for (wipc__wq_entry *e = first, *next; e; e = next) {
            next = e->next;
            c->wq_bytes -= e->len;
            n = push_done(c, v, n, e, st);
        }
        *fail = st;
        n = drain_locked(c, st, v, n);
    }
    if (!c->wq_inflight && c->wq_writer) {
        c->wq_writer = false;
        wipc__excl_leave(&c->writer);
    }
    return n;
}

static void after_unlock(wipc__conn *c, done_item *v, size_t n, wipc_status fail)
{
    if (fail != WIPC_OK && fail != WIPC_E_CLOSED)
        wipc__conn_fail(c, fail == WIPC_E_TIMEOUT || fail == WIPC_E_CANCELLED ? WIPC_E_DISCONNECTED : fail,
                        "a queued frame could not be written");
    run_done(c, v, n);
    free(v);
}

/* The error of a send on a connection that is no longer open (nothing queued). */
static wipc_status ended(wipc__conn *c)
{
    wipc__obj *o = &c->obj;
    if (atomic_load(&o->closed))
        return wipc__error(WIPC_E_CLOSED, 0, "send on pipe %s: the handle was closed", o->name);
    int lost = atomic_load(&c->wq_lost);
    if (lost)
        return wipc__error(WIPC_E_DISCONNECTED, 0,
                           "send on pipe %s: the connection has ended: a write-behind frame could not "
                           "be written (%s); frames queued after it were dropped",
                           o->name, wipc_status_name((wipc_status)lost));
    return wipc__error(WIPC_E_DISCONNECTED, 0, "send on pipe %s: the connection has ended", o->name);
}

/* The most write-behind frames a connection queues: max_queued_messages, or as many frames as
 * max_queued_bytes holds at WIPC__WQ_FRAME_COST bytes each (a 64-byte frame's entry and its malloc
 * bookkeeping) if that is more. The receive bound of 1024 messages held a write queue of 64 B frames
 * to ~90 KB, so the sender waited for nearly every 64 KiB write; at the defaults (8 MiB) this is
 * 65,536 frames, whose memory max_queued_bytes still bounds (~2x: payload plus entries). */
#define WIPC__WQ_FRAME_COST 128u
static size_t behind_frames(const wipc__conn *c)
{
    size_t by_bytes = c->obj.max_queued_bytes / WIPC__WQ_FRAME_COST;
    return by_bytes > c->obj.max_queued_count ? by_bytes : c->obj.max_queued_count;
}

/* wq_lock held: whether a write-behind frame of `total` bytes may be queued now (an empty queue
 * takes one frame whatever the bounds). */
static bool behind_room(const wipc__conn *c, size_t total)
{
    return !c->wq_head ||
           (c->wq_bytes + total <= c->obj.max_queued_bytes && (size_t)atomic_load(&c->wq_count) < behind_frames(c));
}

/* wq_lock held: waits on wq_cv until ready(c) or the connection ends, up to timeout_ms in all.
 * WIPC_OK (ready), WIPC_E_TIMEOUT, or WIPC_E_DISCONNECTED (the connection is not open). */
static wipc_status wq_wait(wipc__conn *c, bool (*ready)(const wipc__conn *, size_t), size_t total, int32_t timeout_ms)
{
    wipc__timeout t = wipc__timeout_of(timeout_ms); /* the clock is read only if the call waits */
    for (;;) {
        if (c->state != WIPC__CONN_OPEN || atomic_load(&c->obj.closed))
            return WIPC_E_DISCONNECTED;
        if (ready(c, total))
            return WIPC_OK;
        if (wipc__timeout_left(&t) == 0)
            return WIPC_E_TIMEOUT;
        wipc__cond_wait_until(&c->wq_cv, &c->wq_lock, wipc__timeout_deadline(&t));
    }
}

static wipc_status wq_send(wipc__conn *c, wipc__op *op, uint8_t kind, uint64_t request_id, uint32_t type,
                           const void *data, size_t size, bool behind, int32_t timeout_ms)
{
    wipc__obj *o = &c->obj;
    uint8_t prefix[WIPC__FRAME_HEADER];
    size_t hdr = wipc__conn_prefix(c, prefix, kind, request_id, type, size); /* frame header, length prefix or none */
    size_t total = hdr + size;
    uint8_t small[WIPC__FRAME_HEADER + WIPC__WQ_GATHER_FRAME];
    size_t fast_max = behind ? sizeof small : WIPC__FRAME_HEADER + WIPC__SMALL_PAYLOAD;
    wipc_status fail = WIPC_OK;
    done_item *v = NULL;
    size_t n = 0;
    size_t written = 0;
    wipc__mutex_lock(&c->wq_lock);
    if (behind) { /* a full queue: wait for room (nothing queued on timeout) */
        wipc_status w = wq_wait(c, behind_room, total, timeout_ms);
        if (w == WIPC_E_TIMEOUT) {
            size_t queued = c->wq_bytes;
            int count = atomic_load(&c->wq_count);
            wipc__mutex_unlock(&c->wq_lock);
            return wipc__error(
                WIPC_E_TIMEOUT, 0,
                "send on pipe %s: the write-behind queue stayed full (%zu bytes, %d frames; "
                "bounds: max_queued_bytes %zu, %zu frames) for the whole timeout (%d ms): the peer is not "
                "reading fast enough; nothing was queued",
                o->name, queued, count, o->max_queued_bytes, behind_frames(c), (int)timeout_ms);
        }
    }
    if (c->state != WIPC__CONN_OPEN) {
        wipc__mutex_unlock(&c->wq_lock);
        return ended(c);
    }
    uint64_t now = 0;
    bool lone = true;
    if (behind) { /* write-behind: is this send lone, or does it follow another closely? */
        now = wipc__now_ns();
        uint64_t got = atomic_load_explicit(&o->ctr->msgs_recv, memory_order_relaxed);
        bool idle = !c->wq_head && !c->wq_writer;
        /* lone: no send began within wb_gap_ns, or a message came in since the last send (an answer
         * in a ping-pong, whatever the timing) while nothing is queued */
        lone = now - c->wb_last_ns >= c->wb_gap_ns || (idle && got != c->wb_recv_seen);
        c->wb_last_ns = now;
        c->wb_recv_seen = got;
        if (!lone && idle)
            c->wb_gap_ns /= 2; /* the I/O thread had caught up: trust the estimate less (a direct write
                                  slowed down once must not queue every later send) */
    }
    bool fast = lone && !c->wq_head && !c->wq_writer && total <= fast_max && wipc__excl_try(&c->writer);
    if (fast) {
        /* the pipe is ours and nothing is queued: try it now, without blocking */
        memcpy(small, prefix, hdr);
        if (size)
            memcpy(small + hdr, data, size);
        wipc__iov iov = { small, total };
        wipc_status st = c->write_broken ? WIPC_E_DISCONNECTED : wipc__plat_pipe_write(c->pipe, &iov, 1, 0, &written);
        if (st == WIPC_OK) {
            if (behind) { /* twice this write's duration; at most twice the last estimate (a write that
                             was preempted once does not make the sends after it look close) */
                uint64_t gap = 2 * (wipc__now_ns() - now);
                c->wb_gap_ns = c->wb_gap_ns && gap > 2 * c->wb_gap_ns ? 2 * c->wb_gap_ns : gap;
            }
            wipc__excl_leave(&c->writer);
            wipc__mutex_unlock(&c->wq_lock);
            wipc__count_sent(o, size);
            if (op && op->kind != WIPC__OP_REQUEST)
                wipc__op_complete(op, WIPC_OK);
            return WIPC_OK;
        }
        if (st != WIPC_E_TIMEOUT) { /* the pipe failed: nothing or part of the frame went */
            if (written)
                c->write_broken = true;
            wipc__excl_leave(&c->writer);
            wipc__mutex_unlock(&c->wq_lock);
            if (written || st != WIPC_E_DISCONNECTED)
                wipc__conn_fail(c, st == WIPC_E_CLOSED ? WIPC_E_CLOSED : WIPC_E_DISCONNECTED, "a write failed");
            if (written && op) { /* started: it must complete */
                wipc__op_complete(op, st);
                return WIPC_OK;
            }
            return wipc__error(st == WIPC_E_CLOSED && !atomic_load(&o->closed) ? WIPC_E_DISCONNECTED : st, 0,
                               "send on pipe %s: the write failed (%s)", o->name, wipc_status_name(st));
        }
        c->wq_writer = true; /* the pipe is full: the rest goes through the queue, which keeps `writer` */
    } else if (!behind && c->wq_head && c->wq_bytes + total > WIPC_ASYNC_QUEUE_BYTES) {
        size_t queued = c->wq_bytes;
        wipc__mutex_unlock(&c->wq_lock);
        if (!op) { /* a reply from a callback: the peer does not read its replies */
            wipc__conn_fail(c, WIPC_E_DISCONNECTED,
                            "replies queued above WIPC_ASYNC_QUEUE_BYTES: the peer does not read");
            return wipc__error(WIPC_E_DISCONNECTED, 0,
                               "wipc_reply on pipe %s: %zu bytes of replies wait for the peer to read "
                               "(at most %u): the connection is ended",
                               o->name, queued, (unsigned)WIPC_ASYNC_QUEUE_BYTES);
        }
        return wipc__error(WIPC_E_BUSY, 0,
                           "send on pipe %s: the write queue holds %zu bytes (at most %u): the peer is "
                           "not reading fast enough; nothing was sent",
                           o->name, queued, (unsigned)WIPC_ASYNC_QUEUE_BYTES);
    }
    if (behind && !fast && c->wq_tail && c->wq_tail->cap && c->wq_tail->len + total <= c->wq_tail->cap) {
        wipc__wq_entry *t = c->wq_tail; /* into the last chunk, after its frames */
        memcpy(t->data + t->len, prefix, hdr);
        if (size)
            memcpy(t->data + t->len + hdr, data, size);
        t->len += total;
        t->payload += size;
        t->frames++;
        c->wq_bytes += total;
        atomic_fetch_add(&c->wq_count, 1);
        bool go = !c->wq_writer && wipc__excl_try(&c->writer); /* a blocking writer let it go meanwhile */
        if (go)
            c->wq_writer = true;
        if (go)
            n = start_next_locked(c, &v, n, &fail);
        wipc__mutex_unlock(&c->wq_lock);
        if (v)
            after_unlock(c, v, n, fail);
        return WIPC_OK;
    }
    size_t cap = behind && !fast ? WQ_CHUNK : 0;
    wipc__wq_entry *e = cap ? atomic_exchange(&c->wq_spare, NULL) : NULL;
    if (!e)
        e = malloc(sizeof *e + (cap ? cap : total));
    if (!e) {
        if (fast) {
            c->wq_writer = false;
            if (written)
                c->write_broken = true;
            wipc__excl_leave(&c->writer);
        }
        wipc__mutex_unlock(&c->wq_lock);
        if (fast && written) {
            wipc__conn_fail(c, WIPC_E_NO_MEMORY, "out of memory for the rest of a frame");
            if (op)
                wipc__op_complete(op, WIPC_E_NO_MEMORY);
            return op ? WIPC_OK : WIPC_E_NO_MEMORY;
        }
        return wipc__error(WIPC_E_NO_MEMORY, 0, "send on pipe %s: out of memory for a queued frame of %zu bytes",
                           o->name, total);
    }
    if (!op && !behind &&
        wipc__op_new(o, WIPC__OP_REPLY, &wipc__wq_op_vt, NULL, NULL, WIPC_REPLY_DEADLINE_MS, &op) == WIPC_OK &&
        wipc__op_start(op, false) != WIPC_OK) {
        wipc__op_unref(op); /* closed meanwhile: the frame goes without a deadline (the close ends it) */
        op = NULL;
    }
    e->next = NULL;
    e->op = op;
    if (op)
        wipc__op_ref(op); /* the entry's (a reply's internal op drops its creator's when it completes) */
    e->kind = kind;
    e->payload = size;
    e->len = total;
    e->off = written;
    e->cap = cap;
    e->frames = 1;
    if (fast) {
        memcpy(e->data, small, total);
    } else {
        memcpy(e->data, prefix, hdr);
        if (size)
            memcpy(e->data + hdr, data, size);
    }
    /* queued (a partly written frame goes first: it holds `writer` and nothing was queued) */
    if (c->wq_tail)
        c->wq_tail->next = e;
    else
        c->wq_head = e;
    c->wq_tail = e;
    c->wq_bytes += total;
    atomic_fetch_add(&c->wq_count, 1);
    bool kick = false;
    if (!c->wq_writer && wipc__excl_try(&c->writer)) {
        c->wq_writer = true;
        /* write-behind: the I/O thread writes this frame and those queued meanwhile; the queue
         * keeps `writer` (and the connection a reference) until its turn */
        kick = c->wq_kicked = behind && !fast;
        if (kick)
            wipc__obj_ref(o);
    }
    if (c->wq_writer && !c->wq_kicked)
        n = start_next_locked(c, &v, n, &fail);
    wipc__mutex_unlock(&c->wq_lock);
    if (kick && wipc__plat_pipe_write_kick(c->pipe) != WIPC_OK)
        wipc__core_write_kick(c); /* no turn will come: this thread writes */
    if (v)
        after_unlock(c, v, n, fail);
    return WIPC_OK;
}

wipc_status wipc__wq_send(wipc__conn *c, wipc__op *op, uint8_t kind, uint64_t request_id, uint32_t type,
                          const void *data, size_t size)
{
    return wq_send(c, op, kind, request_id, type, data, size, false, 0);
}

wipc_status wipc__wq_send_behind(wipc__conn *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                                 size_t size, int32_t timeout_ms)
{
    return wq_send(c, NULL, kind, request_id, type, data, size, true, timeout_ms);
}

static bool flushed(const wipc__conn *c, size_t unused)
{
    (void)unused;
    return !c->wq_head && !c->wq_inflight;
}

wipc_status wipc__wq_flush(wipc__conn *c, int32_t timeout_ms)
{
    wipc__obj *o = &c->obj;
    wipc__mutex_lock(&c->wq_lock);
    wipc_status st = c->write_behind ? wq_wait(c, flushed, 0, timeout_ms) : WIPC_OK;
    bool empty = flushed(c, 0);
    size_t queued = c->wq_bytes;
    wipc__mutex_unlock(&c->wq_lock);
    int lost = atomic_load(&c->wq_lost);
    if (st != WIPC_OK && st != WIPC_E_TIMEOUT && atomic_load(&o->closed) && (!empty || lost))
        return wipc__error(WIPC_E_CLOSED, 0, "wipc_flush on pipe %s: the handle was closed while frames were queued",
                           o->name); /* (the close dropped them) */
    if (lost) /* a frame was dropped: whatever else went, not everything did */
        return wipc__error(WIPC_E_DISCONNECTED, 0,
                           "wipc_flush on pipe %s: the connection has ended: a write-behind frame "
                           "could not be written (%s)",
                           o->name, wipc_status_name((wipc_status)lost));
    if (st == WIPC_E_TIMEOUT)
        return wipc__error(WIPC_E_TIMEOUT, 0,
                           "wipc_flush on pipe %s: %zu bytes were still queued after %d ms (the peer is "
                           "not reading fast enough); they stay queued",
                           o->name, queued, (int)timeout_ms);
    if (st != WIPC_OK && !empty)
        return ended(c);
    return WIPC_OK; /* everything queued is in the pipe (the connection may have ended since) */
}

void wipc__wq_kick(wipc__conn *c)
{
    wipc_status fail = WIPC_OK;
    done_item *v = NULL;
    size_t n = 0;
    wipc__mutex_lock(&c->wq_lock);
    if (c->wq_head && !c->wq_writer && wipc__excl_try(&c->writer)) {
        c->wq_writer = true;
        n = start_next_locked(c, &v, n, &fail);
    }
    wipc__mutex_unlock(&c->wq_lock);
    if (v)
        after_unlock(c, v, n, fail);
}

void wipc__core_write_kick(struct wipc__conn *c)
{
    wipc_status fail = WIPC_OK;
    done_item *v = NULL;
    size_t n = 0;
    wipc__mutex_lock(&c->wq_lock);
    if (c->wq_kicked) {
        c->wq_kicked = false;
        n = start_next_locked(c, &v, n, &fail); /* every frame queued by now, in one write */
        wipc__cond_broadcast(&c->wq_cv); /* frames dropped by a failed start: wipc_flush, waiters for room */
    }
    wipc__mutex_unlock(&c->wq_lock);
    if (v)
        after_unlock(c, v, n, fail);
    wipc__obj_unref(&c->obj); /* the reference taken with the kick */
}

/* wq_lock held: puts the chain `keep` (in order, ending NULL) back at the head of the queue. */
static void requeue_locked(wipc__conn *c, wipc__wq_entry *keep)
{
    if (!keep)
        return;
    size_t k = keep->frames;
    wipc__wq_entry *last = keep;
    for (; last->next; last = last->next)
        k += last->next->frames;
    last->next = c->wq_head;
    if (!c->wq_head)
        c->wq_tail = last;
    c->wq_head = keep;
    atomic_fetch_add(&c->wq_count, (int)k);
}

/* wq_lock held: a write stopped by wipc__plat_pipe_write_cancel left `rest` (in order; the first may
 * be partly written) unwritten. The stopped frames that never started are dropped with their reason;
 * a partly written one (wipc_cancel in include/wipc.h: a cancelled send wrote nothing, or writes its whole frame) is
 * finished by the queue: after wipc_cancel its op completes now - a send WIPC_OK (its frame will be
 * whole in the pipe, as any sent frame), a request WIPC_E_CANCELLED (its reply dropped) - and its rest
 * goes first; after a timeout or close the connection ends instead (as the blocking path). The others
 * go back to the head of the queue. Returns the failure that ends the connection, or WIPC_OK. */
static wipc_status stopped_locked(wipc__conn *c, wipc__wq_entry *rest, done_item **v, size_t *n)
{
    wipc_status fail = WIPC_OK;
    wipc__wq_entry *keep = NULL, **kt = &keep;
    for (wipc__wq_entry *e = rest, *next; e; e = next) {
        next = e->next;
        e->next = NULL;
        int why = e->op ? atomic_load(&e->op->stop_why) : 0;
        if (why == WIPC_E_CANCELLED && e->off) {
            wipc__op *op = e->op;
            e->op = NULL;
            wipc__op_complete(op,
                              op->kind == WIPC__OP_REQUEST ? WIPC_E_CANCELLED : WIPC_OK); /* ops take no queue lock */
            wipc__op_unref(op);
        } else if (why) {
            if (e->off) { /* part of the frame is in the pipe and it cannot go on (timeout, close) */
                c->write_broken = true;
                fail = WIPC_E_DISCONNECTED;
            }
            c->wq_bytes -= e->len;
            *n = push_done(c, v, *n, e, why); /* nothing of it written: dropped cleanly */
            continue;
        }
        *kt = e;
        kt = &e->next;
    }
    requeue_locked(c, keep);
    return fail;
}

void wipc__core_write_done(struct wipc__conn *c, wipc_status status, size_t written)
{
    wipc_status fail = WIPC_OK;
    done_item *v = NULL;
    size_t n = 0;
    wipc__mutex_lock(&c->wq_lock);
    wipc__wq_entry *chain = c->wq_inflight, *e = chain;
    c->wq_inflight = NULL;
    if (chain) {
        /* the frames the write carried whole, in order, are sent */
        while (e && written >= e->len - e->off) {
            wipc__wq_entry *next = e->next;
            written -= e->len - e->off;
            e->off = e->len;
            c->wq_bytes -= e->len;
            n = push_done(c, &v, n, e, WIPC_OK);
            e = next;
        }
        if (e)
            e->off += written; /* cut short here */
        wipc_status st = status == WIPC_OK && e ? WIPC_E_SYSTEM : status; /* "done" with bytes left: a failed write */
        if (st == WIPC_E_CANCELLED) {
            fail = stopped_locked(c, e, &v, &n);
        } else if (st != WIPC_OK && e) {
            if (e->off)
                c->write_broken = true;
            fail = st;
            for (wipc__wq_entry *next; e; e = next) {
                next = e->next;
                c->wq_bytes -= e->len;
                n = push_done(c, &v, n, e, st);
            }
        } else if (st != WIPC_OK && st != WIPC_E_CANCELLED) {
            fail = st; /* every byte went, yet the pipe failed: what is queued cannot follow */
        }
        if (fail != WIPC_OK)
            n = drain_locked(c, fail == WIPC_E_CLOSED ? WIPC_E_CLOSED : WIPC_E_DISCONNECTED, &v, n);
        n = start_next_locked(c, &v, n, &fail);
        wipc__cond_broadcast(&c->wq_cv); /* write-behind senders waiting for room, wipc_flush */
    }
    wipc__mutex_unlock(&c->wq_lock);
    after_unlock(c, v, n, fail);
    if (chain)
        wipc__obj_unref(&c->obj); /* the reference taken when the write started */
}

/* Cancel / timeout / close of a queued frame's op. */
static void wq_stop(wipc__op *op, wipc_status why)
{
    wipc__conn *c = (wipc__conn *)op->obj;
    if (op->kind == WIPC__OP_REPLY && why == WIPC_E_TIMEOUT) {
        /* a reply from a callback still unwritten after WIPC_REPLY_DEADLINE_MS: the peer does not read */
        wipc__conn_fail(c, WIPC_E_DISCONNECTED,
                        "a reply stayed unwritten past WIPC_REPLY_DEADLINE_MS: the peer does not read");
        return; /* the shut-down pipe ends the write: the op completes then */
    }
    wipc__mutex_lock(&c->wq_lock);
    wipc__wq_entry *prev = NULL, *e = c->wq_head;
    while (e && e->op != op) {
        prev = e;
        e = e->next;
    }
    if (e) { /* not started: drop it cleanly */
        if (prev)
            prev->next = e->next;
        else
            c->wq_head = e->next;
        if (c->wq_tail == e)
            c->wq_tail = prev;
        c->wq_bytes -= e->len;
        atomic_fetch_sub(&c->wq_count, 1);
        wipc__mutex_unlock(&c->wq_lock);
        entry_done(c, e, why);
        return;
    }
    bool inflight = false;
    for (e = c->wq_inflight; e && !inflight; e = e->next)
        inflight = e->op == op;
    if (inflight)
        atomic_store(&op->stop_why, why);
    wipc__mutex_unlock(&c->wq_lock);
    if (inflight)
        wipc__plat_pipe_write_cancel(c->pipe); /* the completion tells what became of it */
    else if (why == WIPC_E_CLOSED)
        wipc__op_complete(op, why);
}

void wipc__wq_free(wipc__conn *c)
{
    done_item *v = NULL;
    size_t n = drain_locked(c, WIPC_E_CLOSED, &v, 0);
    run_done(c, v, n);
    free(v);
    for (wipc__wq_entry *e = c->wq_inflight, *next; e;
         e = next) { /* never: the backend's completion holds the connection */
        next = e->next;
        entry_done(c, e, WIPC_E_CLOSED);
    }
    c->wq_inflight = NULL;
    free(c->wq_gather);
    c->wq_gather = NULL;
    free(atomic_exchange(&c->wq_spare, NULL));
    wipc__cond_destroy(&c->wq_cv);
    wipc__mutex_destroy(&c->wq_lock);
}

/* ---- one frame written by the sending thread (pipe_send.c, pipe_bulk.c), after the queued ones --------- */

wipc_status wipc__conn_write_frame(wipc__conn *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                                   size_t size, int32_t timeout_ms)
{
    wipc__obj *o = &c->obj;
    /* A small frame is built in one buffer (one piece for the backend: send() / one WriteFile); a
     * larger one goes as header + payload (sendmsg / WriteFile per piece, no copy of the payload). */
    uint8_t hdr[WIPC__FRAME_HEADER + WIPC__SMALL_PAYLOAD];
    wipc__iov iov[2];
    size_t n = 0;
    size_t hl = wipc__conn_prefix(c, hdr, kind, request_id, type, size);
    if (hl) {
        iov[n].base = hdr;
        iov[n++].len = hl;
        if (size && size <= WIPC__SMALL_PAYLOAD) {
            memcpy(hdr + hl, data, size);
            iov[0].len += size;
            goto built;
        }
    }
    if (size) {
        iov[n].base = data;
        iov[n++].len = size;
    }
built:;
    size_t total = hl + size;
    size_t written = 0;
    wipc__timeout dl = wipc__timeout_of(timeout_ms); /* the wait for the writer and the write share it */
    if (c->write_behind && atomic_load_explicit(&c->wq_count, memory_order_relaxed)) {
        /* write-behind frames go first: the queue may not hold `writer` while they wait */
        wipc_status fst = wipc__wq_flush(c, wipc__timeout_left(&dl));
        if (fst != WIPC_OK)
            return fst;
    }
    if (wipc__excl_enter(&c->writer, &dl) != WIPC_OK)
        return wipc__error(WIPC_E_TIMEOUT, 0,
                           "send on pipe %s: another thread's send kept the connection busy for the "
                           "whole timeout (%d ms); nothing was sent",
                           o->name, (int)timeout_ms);
    wipc_status st = WIPC_OK;
    if (c->write_broken)
        st = wipc__error(WIPC_E_DISCONNECTED, 0,
                         "send on pipe %s: an earlier send was cut short; the connection is unusable", o->name);
    else /* n == 0: a RAW 0-byte message (a zero-length WriteFile on a message-mode pipe) */
        st = wipc__plat_pipe_write(c->pipe, iov, n, wipc__timeout_left(&dl), &written);
    if (st != WIPC_OK && written > 0 && written < total)
        c->write_broken = true;
    wipc__excl_leave(&c->writer);
    if (atomic_load_explicit(&c->wq_count, memory_order_relaxed))
        wipc__wq_kick(c); /* frames queued meanwhile: the queue writes them now */
    if (st != WIPC_OK) {
        if (atomic_load(&o->closed))
            return wipc__error(WIPC_E_CLOSED, 0, "send on pipe %s: the handle was closed", o->name);
        if (c->write_broken) {
            wipc__conn_fail(c, st == WIPC_E_TIMEOUT ? WIPC_E_DISCONNECTED : st,
                            "a frame was cut short by a failed or timed-out write");
            return wipc__error(
                st, 0, "send on pipe %s: the frame was cut short after %zu of %zu bytes; the connection is ended",
                o->name, written, total);
        }
        return st;
    }
    return WIPC_OK;
}
