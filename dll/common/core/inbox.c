/*
 * inbox.c - what a message handle received and who waits for it: the bounded queue read by
 * wipc_recv, the table of threads waiting in wipc_request (replies matched by request id), and the
 * hand-off to the callback strand when the handle has callbacks. Transport-independent: pipe
 * connections, shm channels and msg endpoints all deliver here.
 */
#include <stdlib.h>
#include "common/core/core.h"
#include "common/core/op.h"

struct wipc__waiter {
    wipc__waiter *next;
    uint64_t id;
    wipc__rxmsg *reply;
    bool done;
};

static void queue_push_locked(wipc__obj *o, wipc__rxmsg *m)
{
    m->next = NULL;
    if (o->q_tail)
        o->q_tail->next = m;
    else
        o->q_head = m;
    o->q_tail = m;
    o->q_count++;
    o->q_bytes += m->size;
    wipc__count_queue(o, 1);
}

static wipc__rxmsg *queue_pop_locked(wipc__obj *o)
{
    wipc__rxmsg *m = o->q_head;
    if (m) {
        o->q_head = m->next;
        if (!o->q_head)
            o->q_tail = NULL;
        o->q_count--;
        o->q_bytes -= m->size;
        wipc__count_queue(o, -1);
        m->next = NULL;
    }
    return m;
}

/* The backlog (queued + handed to callbacks) is above its bound: pause reading. */
static bool over_locked(wipc__obj *o)
{
    return o->q_bytes + o->cb_bytes > o->max_queued_bytes || o->q_count + o->cb_count > o->max_queued_count;
}

/* ... and at or below half of it: resume. */
static bool drained_locked(wipc__obj *o)
{
    return o->q_bytes + o->cb_bytes <= o->max_queued_bytes / 2 && o->q_count + o->cb_count <= o->max_queued_count / 2;
}

static void dispatch_message_locked(wipc__obj *o, wipc__rxmsg *m)
{
    wipc__work *w = calloc(1, sizeof *w);
    if (!w) {
        wipc__log(WIPC_LOG_ERROR, "out of memory: message of %zu bytes for handle 0x%016llx dropped", m->size,
                  (unsigned long long)o->handle);
        wipc__rxmsg_free(m);
        return;
    }
    w->what = WIPC__WORK_MESSAGE;
    w->msg = m;
    w->consumed = wipc__inbox_consumed;
    o->cb_bytes += m->size; /* until wipc__inbox_consumed (the callback returned or the item was dropped) */
    o->cb_count++;
    wipc__dispatch(o, w); /* lock order: object lock, then dispatch lock */
}

void wipc__inbox_consumed(wipc__obj *o, size_t size)
{
    wipc__mutex_lock(&o->lock);
    o->cb_bytes -= size <= o->cb_bytes ? size : o->cb_bytes;
    if (o->cb_count)
        o->cb_count--;
    bool resume = o->paused_reading && drained_locked(o);
    if (resume) {
        o->paused_reading = false;
        wipc__cond_broadcast(&o->cond); /* a reader thread waiting for the backlog to drain (shm) */
    }
    wipc__mutex_unlock(&o->lock);
    if (resume && !atomic_load(&o->closed) && o->ops->resume)
        o->ops->resume(o);
}

bool wipc__inbox_deliver(wipc__obj *o, uint8_t kind, wipc__rxmsg *m)
{
    bool pause = false;
    wipc__count_recv(o, m->size);
    wipc__mutex_lock(&o->lock);
    if (kind == WIPC__KIND_REPLY) {
        wipc__waiter *w = o->waiters;
        while (w && w->id != m->request_id)
            w = w->next;
        if (w && !w->done) {
            w->reply = m;
            w->done = true;
            wipc__cond_broadcast(&o->cond);
            m = NULL;
        }
        wipc__mutex_unlock(&o->lock);
        if (m) {
            wipc__log(WIPC_LOG_DEBUG, "%s: reply to request %llu nobody waits for (timed out?) dropped", o->name,
                      (unsigned long long)m->request_id);
            wipc__rxmsg_free(m);
        }
        return false;
    }
    if (kind != WIPC__KIND_REQUEST)
        m->request_id = 0;
    wipc__op *op = o->fifo_head ? wipc__op_take_fifo_locked(o, WIPC__OP_RECV) : NULL;
    if (op) { /* a wipc_recv_async waits (the queue is empty then): it gets the message */
        op->msg = m;
        wipc__op_finish(op, WIPC_OK, true);
    } else if (atomic_load(&o->has_callbacks)) {
        dispatch_message_locked(o, m);
    } else {
        queue_push_locked(o, m);
        if (o->receivers)
            wipc__cond_broadcast(&o->cond);
    }
    if (over_locked(o)) {
        o->paused_reading = true;
        pause = true;
    }
    wipc__mutex_unlock(&o->lock);
    return pause;
}

wipc_status wipc__inbox_set_callbacks(wipc__obj *o, wipc_message_cb on_message, wipc_event_cb on_event, void *user_data)
{
    wipc__mutex_lock(&o->lock);
    if (atomic_load(&o->has_callbacks) || o->receivers || wipc__op_has_fifo_locked(o)) {
        wipc__mutex_unlock(&o->lock);
        return wipc__error(WIPC_E_INVALID_STATE, 0,
                           "wipc_set_callbacks on %s: callbacks are already set, or a thread is blocked "
                           "in wipc_recv, or a wipc_recv_async / wipc_pipe_accept_async is pending",
                           o->name);
    }
    o->on_message = on_message;
    o->on_event = on_event;
    o->user_data = user_data;
    /* Flag and flush under one lock hold: a message arriving meanwhile queues behind the old ones. */
    atomic_store(&o->has_callbacks, true);
    wipc__rxmsg *m;
    while ((m = queue_pop_locked(o)) != NULL)
        dispatch_message_locked(o, m);
    wipc__cond_broadcast(&o->cond); /* a thread in wipc_pipe_accept gets WIPC_E_INVALID_STATE */
    bool resume = o->paused_reading && !over_locked(o); /* the queue moved to the strand: still counted */
    if (resume)
        o->paused_reading = false;
    wipc_status failed = o->failed;
    wipc__mutex_unlock(&o->lock);
    if (resume && o->ops->resume)
        o->ops->resume(o);
    if (failed && failed != WIPC_E_CLOSED)
        wipc__dispatch_event(o, failed == WIPC_E_DISCONNECTED ? WIPC_EVENT_DISCONNECTED : WIPC_EVENT_ERROR, 0, failed,
                             NULL);
    return WIPC_OK;
}

void wipc__inbox_fail(wipc__obj *o, wipc_status why)
{
    wipc__mutex_lock(&o->lock);
    bool first = o->failed == 0;
    if (first) {
        o->failed = why;
        wipc__stats_failed(o, why);
    }
    wipc__cond_broadcast(&o->cond);
    bool cb = atomic_load(&o->has_callbacks);
    bool ops = o->ops_head != NULL;
    wipc__mutex_unlock(&o->lock);
    if (first && cb && why != WIPC_E_CLOSED)
        wipc__dispatch_event(o, why == WIPC_E_DISCONNECTED ? WIPC_EVENT_DISCONNECTED : WIPC_EVENT_ERROR, 0, why, NULL);
    if (ops) /* async receives and requests end as the blocking ones would */
        wipc__op_fail_readers(o, why == WIPC_E_BUSY ? WIPC_E_DISCONNECTED : why);
}

wipc_status wipc__inbox_recv_async(wipc__obj *o, wipc__op *op)
{
    wipc__mutex_lock(&o->lock);
    if (atomic_load(&o->has_callbacks)) {
        wipc__mutex_unlock(&o->lock);
        return wipc__error(WIPC_E_INVALID_STATE, 0,
                           "wipc_recv_async on %s: the handle has callbacks; messages go to on_message", o->name);
    }
    bool ready = o->q_head && !wipc__op_has_fifo_locked(o);
    wipc__rxmsg *m = NULL;
    bool resume = false;
    wipc_status st = wipc__op_start_locked(op, !ready && !o->failed);
    if (st == WIPC_OK && (ready || o->failed) && wipc__op_claim(op)) {
        if (ready) { /* a message is queued already: it completes with it */
            m = queue_pop_locked(o);
            resume = o->paused_reading && o->q_bytes <= WIPC__INBOX_HIGH_WATER / 2;
            if (resume)
                o->paused_reading = false;
            op->msg = m;
            wipc__op_finish(op, WIPC_OK, true);
        } else { /* the transport ended and nothing is left */
            wipc__op_finish(op, o->failed == WIPC_E_BUSY ? WIPC_E_DISCONNECTED : o->failed, true);
        }
    }
    wipc__mutex_unlock(&o->lock);
    if (resume && o->ops->resume)
        o->ops->resume(o);
    return st;
}

void wipc__inbox_close(wipc__obj *o)
{
    wipc__mutex_lock(&o->lock);
    wipc__cond_broadcast(&o->cond);
    wipc__mutex_unlock(&o->lock);
}

static wipc_status ended_status_locked(wipc__obj *o, const char *op)
{
    if (atomic_load(&o->closed))
        return wipc__error(WIPC_E_CLOSED, 0, "%s on %s: the handle was closed", op, o->name);
    if (o->failed == WIPC_E_DISCONNECTED)
        return wipc__error(WIPC_E_DISCONNECTED, 0, "%s on %s: the peer closed or died", op, o->name);
    if (o->failed == WIPC_E_CLOSED)
        return wipc__error(WIPC_E_CLOSED, 0, "%s on %s: the handle was closed", op, o->name);
    return wipc__error(o->failed, 0, "%s on %s: the connection was ended by an earlier error (%s)", op, o->name,
                       wipc_status_name(o->failed));
}

wipc_status wipc__inbox_recv(wipc__obj *o, void *buf, size_t cap, wipc_message *out, int32_t timeout_ms)
{
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    wipc__mutex_lock(&o->lock);
    if (atomic_load(&o->has_callbacks)) {
        wipc__mutex_unlock(&o->lock);
        return wipc__error(WIPC_E_INVALID_STATE, 0,
                           "wipc_recv on %s: the handle has callbacks; messages go to on_message", o->name);
    }
    wipc_status st;
    o->receivers++;
    for (;;) {
        if (atomic_load(&o->closed)) {
            st = ended_status_locked(o, "wipc_recv");
            break;
        }
        wipc__rxmsg *m = o->q_head;
        if (m) {
            out->type = m->type;
            out->size = m->size;
            out->request_id = m->request_id;
            out->peer_pid = m->peer_pid;
            out->data = buf;
            if (m->size > cap) {
                st = wipc__error(WIPC_E_BUFFER_TOO_SMALL, 0,
                                 "wipc_recv on %s: the message is %zu bytes, the buffer %zu; it stays queued", o->name,
                                 m->size, cap);
                break;
            }
            queue_pop_locked(o);
            if (m->request_id)
                o->last_request_id = m->request_id;
            bool resume = o->paused_reading && drained_locked(o);
            if (resume)
                o->paused_reading = false;
            o->receivers--;
            wipc__mutex_unlock(&o->lock);
            if (m->size)
                memcpy(buf, m->data, m->size);
            wipc__rxmsg_free(m);
            if (resume && o->ops->resume)
                o->ops->resume(o);
            return WIPC_OK;
        }
        if (o->failed) {
            st = ended_status_locked(o, "wipc_recv");
            break;
        }
        if (wipc__deadline_passed(deadline)) {
            st = wipc__error(WIPC_E_TIMEOUT, 0, "wipc_recv on %s: no message within %d ms", o->name, (int)timeout_ms);
            break;
        }
        wipc__cond_wait_until(&o->cond, &o->lock, deadline);
    }
    o->receivers--;
    wipc__mutex_unlock(&o->lock);
    return st;
}

wipc_status wipc__inbox_request(wipc__obj *o, uint32_t type, const void *req, size_t req_size, void *resp,
                                size_t resp_cap, size_t *out_resp_size, int32_t timeout_ms)
{
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    wipc__waiter w;
    memset(&w, 0, sizeof w);
    w.id = atomic_fetch_add(&o->next_request_id, 1);
    wipc__mutex_lock(&o->lock);
    w.next = o->waiters;
    o->waiters = &w;
    wipc__mutex_unlock(&o->lock);

    wipc_status st = o->ops->send(o, WIPC__KIND_REQUEST, w.id, type, req, req_size, timeout_ms);

    wipc__mutex_lock(&o->lock);
    while (st == WIPC_OK && !w.done) {
        if (atomic_load(&o->closed) || o->failed) {
            st = ended_status_locked(o, "wipc_request");
            break;
        }
        if (wipc__deadline_passed(deadline)) {
            st = wipc__error(WIPC_E_TIMEOUT, 0, "wipc_request on %s: no reply to request %llu within %d ms", o->name,
                             (unsigned long long)w.id, (int)timeout_ms);
            break;
        }
        wipc__cond_wait_until(&o->cond, &o->lock, deadline);
    }
    for (wipc__waiter **pp = &o->waiters; *pp; pp = &(*pp)->next)
        if (*pp == &w) {
            *pp = w.next;
            break;
        }
    wipc__mutex_unlock(&o->lock);

    if (w.done) {
        wipc__rxmsg *m = w.reply;
        if (out_resp_size)
            *out_resp_size = m->size;
        if (m->size > resp_cap) {
            st = wipc__error(WIPC_E_BUFFER_TOO_SMALL, 0,
                             "wipc_request on %s: the reply is %zu bytes, the buffer %zu; the reply is dropped",
                             o->name, m->size, resp_cap);
        } else {
            if (m->size)
                memcpy(resp, m->data, m->size);
            st = WIPC_OK;
        }
        wipc__rxmsg_free(m);
    }
    return st;
}
