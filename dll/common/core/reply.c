/*
 * reply.c - threads waiting in wipc_request for a reply copied into their buffer (see reply.h).
 */
#include <stdio.h>
#include "common/core/reply.h"
#include "common/core/op.h"

void wipc__reply_begin(wipc__obj *o, wipc__reply_waiter **list, wipc__reply_waiter *w, void *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->id = atomic_fetch_add(&o->next_request_id, 1);
    w->buf = buf;
    w->cap = cap;
    wipc__mutex_lock(&o->lock);
    w->next = *list;
    *list = w;
    wipc__mutex_unlock(&o->lock);
}

wipc__reply_waiter *wipc__reply_find_locked(wipc__reply_waiter *list, uint64_t id)
{
    wipc__reply_waiter *w = list;
    while (w && (w->id != id || w->done))
        w = w->next;
    return w;
}

wipc__reply_waiter *wipc__reply_deliver(wipc__obj *o, wipc__reply_waiter **list, uint64_t id, const void *data,
                                        size_t size)
{
    wipc__mutex_lock(&o->lock);
    wipc__reply_waiter *w = wipc__reply_find_locked(*list, id);
    if (w) {
        w->size = size;
        if (size && size <= w->cap)
            memcpy(w->buf, data, size);
        atomic_store_explicit(&w->done, true, memory_order_release);
        wipc__cond_broadcast(&o->cond);
    }
    wipc__mutex_unlock(&o->lock);
    return w;
}

wipc__reply_waiter *wipc__reply_deliver_error(wipc__obj *o, wipc__reply_waiter **list, wipc__rxmsg *m)
{
    wipc__mutex_lock(&o->lock);
    wipc__reply_waiter *w = wipc__reply_find_locked(*list, m->request_id);
    if (w) {
        w->remote = m;
        w->size = 0;
        atomic_store_explicit(&w->done, true, memory_order_release);
        wipc__cond_broadcast(&o->cond);
    }
    wipc__mutex_unlock(&o->lock);
    if (!w)
        wipc__reply_to_op(o, WIPC__KIND_ERROR, m);
    return w;
}

bool wipc__reply_to_op(wipc__obj *o, uint8_t kind, wipc__rxmsg *m)
{
    wipc__op *op = wipc__op_find_request(o, m->request_id);
    bool won = op && wipc__op_claim(op);
    if (won) {
        op->msg = m;
        wipc__op_finish(op, kind == WIPC__KIND_ERROR ? WIPC_E_REMOTE : WIPC_OK, false);
    } else {
        wipc__log(WIPC_LOG_DEBUG, "%s: reply to request %llu nobody waits for (cancelled or timed out?) dropped",
                  o->name, (unsigned long long)m->request_id);
        wipc__rxmsg_free(m);
    }
    if (op)
        wipc__op_unref(op);
    return won;
}

bool wipc__reply_awaited_locked(wipc__obj *o, wipc__reply_waiter *list, uint64_t id)
{
    if (wipc__reply_find_locked(list, id))
        return true;
    wipc__op *op = wipc__op_find_request(o, id);
    bool pending = op && atomic_load(&op->state) == 0;
    if (op)
        wipc__op_unref(op);
    return pending;
}

/* The text of a remote error for wipc_last_error_message: "remote error <code>: <text>". */
static wipc_status remote_error(wipc__rxmsg *m)
{
    wipc_status st = wipc__error_remote((int32_t)m->type, (const char *)m->data, m->size);
    wipc__rxmsg_free(m);
    return st;
}

wipc_status wipc__reply_end(wipc__obj *o, wipc__reply_waiter **list, wipc__reply_waiter *w, wipc_status st,
                            size_t *out_resp_size, const char *what)
{
    wipc__mutex_lock(&o->lock);
    for (wipc__reply_waiter **pp = list; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    bool done = w->done;
    wipc__mutex_unlock(&o->lock);
    if (!done)
        return st;
    if (w->remote)
        return remote_error(w->remote);
    if (out_resp_size)
        *out_resp_size = w->size;
    if (w->size > w->cap)
        return wipc__error(WIPC_E_BUFFER_TOO_SMALL, 0,
                           "wipc_request on %s %s: the reply is %zu bytes, the buffer %zu; the reply is dropped", what,
                           o->name, w->size, w->cap);
    return WIPC_OK;
}
