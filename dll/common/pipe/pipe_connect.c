/*
 * pipe_connect.c - wipc_pipe_connect_async (include/wipc.h, "asynchronous operations"): one connect
 * attempt at a time on the library timer thread (wipc__plat_connect with timeout 0), retried with a
 * back-off while the server is absent or busy, then the handshake runs on the I/O thread and pokes
 * the timer when it is over (wipc__conn_connect_op_wake, pipe_conn.c). No thread waits.
 */
#include <stdlib.h>
#include <string.h>
#include "common/pipe/pipe.h"
#include "common/core/op.h"

/* ---- connect ----------------------------------------------------------------------------------------- */

typedef struct connect_t {
    char *name;
    wipc__pipe_cfg cfg;
    uint32_t max_message_size;
    size_t max_queued_bytes, max_queued_count; /* the options' back-pressure bounds */
    wipc__conn *c; /* the connection being handshaken (timer thread; its connect_op = this op) */
    uint32_t backoff_ms;
    bool seen_busy;
} connect_t;

static void connect_timer(wipc__op *op);
static void connect_release(wipc__op *op);
static const wipc__op_vt connect_vt = { .timer = connect_timer, .release = connect_release };

/* Lets go of the connection being handshaken (timer thread, or the op's release). */
static void drop_conn(connect_t *t, bool close)
{
    wipc__conn *c = t->c;
    if (!c)
        return;
    t->c = NULL;
    wipc__mutex_lock(&c->obj.lock);
    c->connect_op = NULL;
    wipc__mutex_unlock(&c->obj.lock);
    if (close) {
        wipc__conn_fail(c, WIPC_E_CLOSED, NULL);
        wipc__conn_close_wait(c);
        wipc__obj_unref(&c->obj);
    }
}

static void connect_release(wipc__op *op)
{
    connect_t *t = op->t;
    if (!t)
        return;
    drop_conn(t, true);
    free(t->name);
    free(t);
}

static void retry_later(wipc__op *op, connect_t *t, wipc_status why)
{
    if (wipc__deadline_passed(op->deadline)) {
        wipc__op_complete(op, why);
        return;
    }
    wipc__op_timer_at(op, wipc__deadline_in((int32_t)t->backoff_ms));
    if (t->backoff_ms < 50)
        t->backoff_ms *= 2;
}

static void connect_attempt(wipc__op *op, connect_t *t)
{
    wipc__pipe *p = NULL;
    wipc_status st = wipc__plat_connect(t->name, &t->cfg, 0, &p);
    if (st == WIPC_E_NOT_FOUND || st == WIPC_E_TIMEOUT) {
        if (st == WIPC_E_TIMEOUT)
            t->seen_busy = true;
        retry_later(op, t, t->seen_busy ? WIPC_E_TIMEOUT : WIPC_E_NOT_FOUND);
        return;
    }
    if (st != WIPC_OK) {
        wipc__op_complete(op, st);
        return;
    }
    wipc__conn *c = wipc__conn_new(t->name, t->cfg.flags, t->max_message_size, p);
    if (!c) {
        wipc__plat_pipe_free(p);
        wipc__op_complete(op, WIPC_E_NO_MEMORY);
        return;
    }
    c->obj.max_queued_bytes = t->max_queued_bytes;
    c->obj.max_queued_count = t->max_queued_count;
    c->connect_op = op; /* before the I/O thread sees c: it pokes the timer when the handshake is over */
    if (!c->raw) /* a server that accepted has WIPC__HANDSHAKE_GRACE_MS beyond the timeout to answer; set
                  * before wipc__conn_start: the I/O thread's poke (wipc__op_timer_at) reads op->deadline */
        op->deadline = wipc__deadline_max(op->deadline, wipc__deadline_in(WIPC__HANDSHAKE_GRACE_MS));
    t->c = c;
    if (wipc__conn_start(c) != WIPC_OK) {
        t->c = NULL;
        c->connect_op = NULL;
        wipc__obj_unref(&c->obj);
        wipc__op_complete(op, WIPC_E_SYSTEM);
        return;
    }
    if (!c->raw)
        wipc__conn_send_hello(c); /* a failed write is judged by what the server said (BUSY or EOF) */
    wipc__op_timer_at(op, wipc__deadline_in(50)); /* a look now and then, besides the handshake's poke */
    connect_timer(op);
}

static void connect_timer(wipc__op *op)
{
    connect_t *t = op->t;
    if (atomic_load(&op->state) != 0)
        return;
    wipc__conn *c = t->c;
    if (!c) {
        connect_attempt(op, t);
        return;
    }
    wipc__mutex_lock(&c->obj.lock);
    int state = c->state;
    bool busy = c->busy;
    wipc_status failed = c->obj.failed;
    wipc__mutex_unlock(&c->obj.lock);
    if (state == WIPC__CONN_OPEN) {
        if (!wipc__op_claim(op))
            return; /* completing meanwhile (cancel): the release closes c */
        drop_conn(t, false); /* c's reference goes to the handle table */
        wipc_status st = wipc__handle_add(&c->obj);
        if (st == WIPC_OK) {
            op->related = c->obj.handle;
        } else {
            wipc__conn_close_wait(c);
            wipc__obj_unref(&c->obj);
        }
        wipc__op_finish(op, st, false);
        return;
    }
    if (state == WIPC__CONN_HANDSHAKE) {
        if (wipc__deadline_passed(op->deadline))
            wipc__op_complete(op, WIPC_E_TIMEOUT); /* accepted but never answered; the release closes c */
        else
            wipc__op_timer_at(op, wipc__deadline_in(50));
        return;
    }
    drop_conn(t, true); /* the handshake failed */
    if (busy) {
        t->seen_busy = true;
        retry_later(op, t, WIPC_E_TIMEOUT);
        return;
    }
    wipc__op_complete(op,
                      failed == WIPC_E_PROTOCOL || failed == WIPC_E_TOO_LARGE ? WIPC_E_PROTOCOL : WIPC_E_DISCONNECTED);
}

WIPC_API wipc_status WIPC_CALL wipc_pipe_connect_async(const char *name, const wipc_pipe_options *user,
                                                       int32_t timeout_ms, wipc_complete_cb cb, void *user_data,
                                                       wipc_op *out_op)
{
    wipc_pipe_options o;
    wipc__pipe_cfg cfg;
    wipc_status st;
    if (out_op)
        *out_op = 0;
    if (!cb)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_pipe_connect_async: cb is NULL");
    if ((st = wipc__pipe_prepare("wipc_pipe_connect_async", name, user, &o, &cfg)) != WIPC_OK)
        return st;
    if (timeout_ms < WIPC_INFINITE)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "wipc_pipe_connect_async(%s): timeout %d ms is negative (use WIPC_INFINITE = -1)", name,
                           (int)timeout_ms);
    connect_t *t = calloc(1, sizeof *t);
    char *copy = t ? malloc(strlen(name) + 1) : NULL;
    if (!copy) {
        free(t);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "wipc_pipe_connect_async(%s): out of memory", name);
    }
    strcpy(copy, name);
    t->name = copy;
    t->cfg = cfg;
    t->cfg.sddl = NULL; /* connect ignores it; the caller's string is not kept */
    t->max_message_size = o.max_message_size;
    t->max_queued_bytes = o.max_queued_bytes;
    t->max_queued_count = o.max_queued_messages;
    t->backoff_ms = 1;
    wipc__op *op;
    if ((st = wipc__op_new(NULL, WIPC__OP_CONNECT, &connect_vt, cb, user_data, timeout_ms, &op)) != WIPC_OK) {
        free(copy);
        free(t);
        return st;
    }
    op->t = t;
    if (out_op)
        *out_op = op->id;
    wipc__op_ref(op); /* the start call's own: a cancel may complete op at once */
    if ((st = wipc__op_start(op, false)) != WIPC_OK) {
        if (out_op)
            *out_op = 0;
        wipc__op_unref(op);
    } else {
        wipc__op_timer_at(op, wipc__deadline_in(0)); /* the first attempt, on the timer thread */
    }
    wipc__op_unref(op);
    return st;
}
