/*
 * shm_async.c - asynchronous operations on shm channels (include/wipc.h, "asynchronous operations").
 *
 * Reads (recv_async, request_async): the channel's reader thread reads the ring from then on, as with
 * callbacks (shm_read.c: pump_main); messages complete the first recv_async of the handle's FIFO or
 * wait in the inbox (bounded: the reader thread pauses at the inbox's high-water mark until a receive
 * drains it), replies find their operation by request id (reply.c).
 * Sends (send_async, request_async): copied into the ring at once when there is room (no copy
 * besides the ring's, no thread); else copied into the channel's async send queue (bounded by
 * WIPC_ASYNC_QUEUE_BYTES: beyond it the start call fails with WIPC_E_BUSY) and sent in order by a
 * drain job on the library's small job pool (async_api.c). The job waits for room one slice
 * (SLICE_MS) at a time and then goes back to the pool's tail, so a peer that does not read never
 * holds a pool thread. No torn frames: a ring record is published whole or not at all; a frame not
 * yet published is dropped cleanly on cancel / timeout / close (the job checks between slices).
 * A message larger than the ring always goes through the queue and is streamed in pieces: between
 * slices the job keeps the writer's turn (WIPC__TX_STREAM, other senders wait) and resumes where it
 * stopped; cancelled or timed out mid-message, it gives the turn up and the reader drops the pieces.
 */
#include <stdlib.h>
#include "common/shm/shm.h"
#include "common/core/op.h"

#define SLICE_MS 20

typedef struct wipc__shm_aq_entry {
    struct wipc__shm_aq_entry *next;
    wipc__op *op; /* ref */
    uint8_t kind;
    uint64_t request_id;
    uint32_t type;
    size_t size;
    size_t sent; /* a streamed message: bytes published so far (shm_send.c) */
    uint8_t data[];
} wipc__shm_aq_entry;

static void aq_stop(wipc__op *op, wipc_status why);
static const wipc__op_vt aq_vt = { .stop = aq_stop };

void wipc__shm_async_init(wipc__shm_chan *c)
{
    wipc__mutex_init(&c->aq_lock);
}

static void entry_done(wipc__shm_aq_entry *e, wipc_status st)
{
    if (st != WIPC_OK || e->op->kind != WIPC__OP_REQUEST)
        wipc__op_complete(e->op, st);
    wipc__op_unref(e->op);
    free(e);
}

void wipc__shm_async_free(wipc__shm_chan *c)
{
    wipc__shm_aq_entry *e = c->aq_head;
    c->aq_head = c->aq_tail = NULL;
    while (e) {
        wipc__shm_aq_entry *next = e->next;
        entry_done(e, WIPC_E_CLOSED);
        e = next;
    }
    wipc__mutex_destroy(&c->aq_lock);
}

/* Reads go to the reader thread from now on. */
static wipc_status go_async(wipc__shm_chan *c)
{
    if (atomic_load(&c->async_io) || atomic_exchange(&c->async_io, true))
        return WIPC_OK;
    wipc_status st = wipc__shm_pump_start(c);
    wipc__shm_rx_wake(c); /* a thread reading on its own hands the ring over */
    return st;
}

wipc_status wipc__shm_recv_async(wipc__obj *o, wipc__op *op)
{
    wipc_status st = go_async((wipc__shm_chan *)o);
    return st == WIPC_OK ? wipc__inbox_recv_async(o, op) : st;
}

void wipc__shm_resume(wipc__obj *o)
{
    wipc__mutex_lock(&o->lock);
    wipc__cond_broadcast(&o->cond); /* the reader thread paused at the inbox's high-water mark */
    wipc__mutex_unlock(&o->lock);
}

/* ---- the drain job ---------------------------------------------------------------------------------- */

static void drain(void *arg);

/* aq_lock held: puts a drain job on the pool unless one is there. The job holds the channel. */
static void schedule_locked(wipc__shm_chan *c)
{
    if (c->aq_scheduled)
        return;
    wipc__obj_ref(&c->obj);
    if (wipc__pool_run(drain, c) == WIPC_OK)
        c->aq_scheduled = true;
    else
        wipc__obj_unref(&c->obj); /* no memory: the next send or close retries (the queue keeps its frames) */
}

/* One slice of sending: the head frame goes into the ring if there is room within SLICE_MS, then the
 * job goes back to the pool while frames remain. */
static void drain(void *arg)
{
    wipc__shm_chan *c = arg;
    for (int n = 0; n < 64; n++) { /* a few frames per turn, then let other jobs run */
        wipc__mutex_lock(&c->aq_lock);
        wipc__shm_aq_entry *e = c->aq_head;
        if (!e) {
            c->aq_scheduled = false;
            wipc__mutex_unlock(&c->aq_lock);
            wipc__obj_unref(&c->obj);
            return;
        }
        c->aq_busy = e;
        wipc__mutex_unlock(&c->aq_lock);
        wipc_status st;
        int why = atomic_load(&e->op->stop_why);
        if (atomic_load(&e->op->state) != 0) {
            st = WIPC_E_CANCELLED; /* completed meanwhile (close, a request's timeout): nothing to send */
        } else if (why) {
            st = why; /* cancelled or timed out before it was published: dropped whole */
        } else {
            int32_t left = wipc__deadline_left(e->op->deadline);
            wipc__timeout dl = wipc__timeout_of(left < 0 || left > SLICE_MS ? SLICE_MS : left);
            st = wipc__shm_send_resumable(c, e->kind, e->request_id, e->type, e->data, e->size, &dl, &e->sent);
            if (st == WIPC_E_TIMEOUT && !wipc__deadline_passed(e->op->deadline)) { /* a parked stream keeps its turn */
                wipc__mutex_lock(&c->aq_lock); /* no room yet: try again on the next turn */
                c->aq_busy = NULL;
                c->aq_scheduled = false;
                schedule_locked(c);
                wipc__mutex_unlock(&c->aq_lock);
                wipc__obj_unref(&c->obj);
                return;
            }
        }
        if (st != WIPC_OK && e->sent)
            wipc__shm_stream_abandon(c); /* cancelled, timed out or failed mid-message: the reader drops it */
        wipc__mutex_lock(&c->aq_lock);
        c->aq_head = e->next;
        if (!c->aq_head)
            c->aq_tail = NULL;
        c->aq_bytes -= e->size;
        c->aq_busy = NULL;
        wipc__mutex_unlock(&c->aq_lock);
        entry_done(e, st);
    }
    wipc__mutex_lock(&c->aq_lock);
    c->aq_scheduled = false;
    if (c->aq_head)
        schedule_locked(c);
    wipc__mutex_unlock(&c->aq_lock);
    wipc__obj_unref(&c->obj);
}

/* Cancel / timeout / close of a queued frame: one not being sent is dropped at once; the one being
 * sent is dropped by the job before its next slice (a record is never published in part). */
static void aq_stop(wipc__op *op, wipc_status why)
{
    wipc__shm_chan *c = (wipc__shm_chan *)op->obj;
    wipc__mutex_lock(&c->aq_lock);
    wipc__shm_aq_entry *prev = NULL, *e = c->aq_head;
    while (e && e->op != op) {
        prev = e;
        e = e->next;
    }
    if (e && e != c->aq_busy) {
        if (prev)
            prev->next = e->next;
        else
            c->aq_head = e->next;
        if (c->aq_tail == e)
            c->aq_tail = prev;
        c->aq_bytes -= e->size;
        wipc__mutex_unlock(&c->aq_lock);
        entry_done(e, why);
        return;
    }
    if (e)
        atomic_store(&op->stop_why, why);
    wipc__mutex_unlock(&c->aq_lock);
    if (!e)
        wipc__op_complete(op, why); /* published already, or sent at once: only a close gets here first */
}

wipc_status wipc__shm_send_async(wipc__obj *o, wipc__op *op, uint8_t kind, uint64_t request_id, uint32_t type,
                                 const void *data, size_t size)
{
    wipc__shm_chan *c = (wipc__shm_chan *)o;
    wipc_status st;
    if (kind == WIPC__KIND_REQUEST && (st = go_async(c)) != WIPC_OK)
        return st;
    if (kind != WIPC__KIND_REQUEST)
        op->vt = &aq_vt;
    if ((st = wipc__op_start(op, false)) != WIPC_OK)
        return st;
    wipc__mutex_lock(&c->aq_lock);
    if (!c->aq_head && !wipc__shm_streamed(c, size)) { /* nothing queued: straight into the ring if there is room now */
        wipc__timeout now = wipc__timeout_of(0);

        st = wipc__shm_send_within(c, kind, request_id, type, data, size, &now);
        if (st != WIPC_E_TIMEOUT) {
            wipc__mutex_unlock(&c->aq_lock);
            if (st == WIPC_OK) {
                if (kind != WIPC__KIND_REQUEST)
                    wipc__op_complete(op, WIPC_OK);
                return WIPC_OK;
            }
            return wipc__op_abort(op) ? st : WIPC_OK; /* too large, ended, ...: nothing sent */
        }
    }
    if (c->aq_head && c->aq_bytes + size > WIPC_ASYNC_QUEUE_BYTES) {
        size_t queued = c->aq_bytes;
        wipc__mutex_unlock(&c->aq_lock);
        st = wipc__error(WIPC_E_BUSY, 0,
                         "send on shm channel %s: %zu bytes wait for ring room (at most %u): the peer is not "
                         "reading fast enough; nothing was sent",
                         o->name, queued, (unsigned)WIPC_ASYNC_QUEUE_BYTES);
        return wipc__op_abort(op) ? st : WIPC_OK;
    }
    wipc__shm_aq_entry *e = malloc(sizeof *e + size);
    if (!e) {
        wipc__mutex_unlock(&c->aq_lock);
        st = wipc__error(WIPC_E_NO_MEMORY, 0, "send on shm channel %s: out of memory for a queued message", o->name);
        return wipc__op_abort(op) ? st : WIPC_OK;
    }
    e->next = NULL;
    e->op = op;
    wipc__op_ref(op);
    e->kind = kind;
    e->request_id = request_id;
    e->type = type;
    e->size = size;
    e->sent = 0;
    if (size)
        memcpy(e->data, data, size);
    if (c->aq_tail)
        c->aq_tail->next = e;
    else
        c->aq_head = e;
    c->aq_tail = e;
    c->aq_bytes += size;
    schedule_locked(c);
    wipc__mutex_unlock(&c->aq_lock);
    return WIPC_OK;
}
