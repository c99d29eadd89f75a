/*
 * async_api.c - the v1.1 entry points that start asynchronous operations on a handle
 * (wipc_send_async, wipc_recv_async, wipc_request_async), wipc_reply_error, and wipc_msg_send_async.
 * Arguments are checked here, the op is made (op.h) and the transport starts it through its
 * wipc__ops hooks (send_async, recv_async). wipc_pipe_connect_async / _accept_async are in the pipe
 * files, wipc_cancel in op.c.
 *
 * wipc_msg_send_async: a msg send is one synchronous exchange bounded by its own timeout (the
 * receiver's window / socket thread answers), so it runs on the small job pool of at most 4
 * library threads (pool.c) that take queued sends in order (no thread per operation); a cancelled send
 * completes at once and the receiver's late answer is dropped.
 */
#include <stdlib.h>
#include "common/core/core.h"
#include "common/core/frame.h"
#include "common/msg/msg.h"
#include "common/core/op.h"

/* The *_async checks every start shares. */
static wipc_status start_checks(const char *fn, wipc_complete_cb cb, int32_t timeout_ms, wipc_op *out_op)
{
    if (out_op)
        *out_op = 0;
    if (!cb)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: cb is NULL", fn);
    return wipc__check_timeout(fn, timeout_ms);
}

/* Around a transport's start of `op`: its id goes out first (from then on it may complete, and its
 * callback's reference go, at any time), so the start call holds a reference of its own meanwhile. */
static void start_begin(wipc__op *op, wipc_op *out_op)
{
    if (out_op)
        *out_op = op->id;
    wipc__op_ref(op);
}

/* The start returned `st`: a failed start started nothing (no callback, *out_op = 0, the op goes). */
static wipc_status start_end(wipc__op *op, wipc_op *out_op, wipc_status st)
{
    if (st != WIPC_OK) {
        if (out_op)
            *out_op = 0;
        wipc__op_unref(op);
    }
    wipc__op_unref(op);
    return st;
}

static wipc_status send_common(const char *fn, wipc_handle h, int kind, uint32_t type, const void *data, size_t size,
                               int32_t timeout_ms, wipc_complete_cb cb, void *user_data, wipc_op *out_op)
{
    wipc__obj *o;
    wipc_status st;
    if ((st = start_checks(fn, cb, timeout_ms, out_op)) != WIPC_OK ||
        (st = wipc__check_data(fn, data, size)) != WIPC_OK)
        return st;
    if ((st = wipc__get_message_handle(fn, h, &o)) != WIPC_OK)
        return st;
    bool raw_pipe = (o->flags & WIPC_PIPE_RAW) && o->ops->kind == WIPC_KIND_PIPE_CONN;
    wipc__op *op = NULL;
    if (!o->ops->send_async || (kind == WIPC__OP_REQUEST && raw_pipe))
        st = wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                         "%s on %s: not supported on this handle (msg endpoints: use wipc_msg_send_async; "
                         "requests: not on WIPC_PIPE_RAW pipes)",
                         fn, o->name);
    else
        st = wipc__op_new(o, kind, NULL, cb, user_data, timeout_ms, &op); /* the transport sets op->vt */
    if (st == WIPC_OK) {
        uint64_t rid = kind == WIPC__OP_REQUEST ? (op->id | WIPC__ASYNC_RID_BIT) : 0;
        op->request_id = rid;
        start_begin(op, out_op);
        st = start_end(op, out_op,
                       o->ops->send_async(o, op, kind == WIPC__OP_REQUEST ? WIPC__KIND_REQUEST : WIPC__KIND_DATA, rid,
                                          type, data, size));
    }
    wipc__obj_unref(o);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_send_async(wipc_handle h, uint32_t type, const void *data, size_t size,
                                               int32_t timeout_ms, wipc_complete_cb cb, void *user_data,
                                               wipc_op *out_op)
{
    return send_common("wipc_send_async", h, WIPC__OP_SEND, type, data, size, timeout_ms, cb, user_data, out_op);
}

WIPC_API wipc_status WIPC_CALL wipc_request_async(wipc_handle h, uint32_t type, const void *req, size_t req_size,
                                                  int32_t timeout_ms, wipc_complete_cb cb, void *user_data,
                                                  wipc_op *out_op)
{
    return send_common("wipc_request_async", h, WIPC__OP_REQUEST, type, req, req_size, timeout_ms, cb, user_data,
                       out_op);
}

WIPC_API wipc_status WIPC_CALL wipc_recv_async(wipc_handle h, int32_t timeout_ms, wipc_complete_cb cb, void *user_data,
                                               wipc_op *out_op)
{
    wipc__obj *o;
    wipc_status st;
    if ((st = start_checks("wipc_recv_async", cb, timeout_ms, out_op)) != WIPC_OK)
        return st;
    if ((st = wipc__get_message_handle("wipc_recv_async", h, &o)) != WIPC_OK)
        return st;
    wipc__op *op = NULL;
    if (!o->ops->recv_async)
        st = wipc__error(WIPC_E_NOT_SUPPORTED, 0, "wipc_recv_async on %s: not supported on this handle kind", o->name);
    else
        st = wipc__op_new(o, WIPC__OP_RECV, NULL, cb, user_data, timeout_ms, &op);
    if (st == WIPC_OK) {
        start_begin(op, out_op);
        st = start_end(op, out_op, o->ops->recv_async(o, op));
    }
    wipc__obj_unref(o);
    return st;
}

/* The longest prefix of text (at most max bytes) that ends on a UTF-8 character boundary. */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--; /* text[n] continues a character that began before it: cut before that character */
    return n;
}

WIPC_API wipc_status WIPC_CALL wipc_reply_error(wipc_handle h, uint64_t request_id, int32_t code, const char *message)
{
    wipc__obj *o;
    wipc_status st;
    if ((st = wipc__get_message_handle("wipc_reply_error", h, &o)) != WIPC_OK)
        return st;
    bool took_last = request_id == 0;
    if (took_last) {
        wipc__mutex_lock(&o->lock);
        request_id = o->last_request_id;
        o->last_request_id = 0;
        wipc__mutex_unlock(&o->lock);
    }
    if (!message)
        message = "";
    size_t len = utf8_cut(message, strlen(message), WIPC_REMOTE_TEXT_MAX);
    uint32_t peer_max = atomic_load(&o->peer_max_message_size);
    if (peer_max && len > peer_max)
        len = utf8_cut(message, len, peer_max);
    if (!o->ops->send || (o->flags & WIPC_PIPE_RAW && o->ops->kind == WIPC_KIND_PIPE_CONN))
        st = wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                         "wipc_reply_error on %s: this handle carries no requests (msg endpoint, or a "
                         "WIPC_PIPE_RAW pipe)",
                         o->name);
    else if (request_id == 0)
        st = wipc__error(WIPC_E_INVALID_ARG, 0,
                         "wipc_reply_error on %s: request_id 0 and no unanswered request from wipc_recv", o->name);
    else
        st = o->ops->send(o, WIPC__KIND_ERROR, request_id, (uint32_t)code, message, len, wipc__reply_timeout(o));
    if (st == WIPC_E_NOT_SUPPORTED && took_last && request_id) {
        /* nothing was sent (a 1.0 peer cannot read ERROR): the request stays unanswered, so the
         * wipc_reply(h, 0, ...) the message advises still finds it */
        wipc__mutex_lock(&o->lock);
        if (!o->last_request_id)
            o->last_request_id = request_id;
        wipc__mutex_unlock(&o->lock);
    }
    wipc__obj_unref(o);
    return st;
}

/* ---- wipc_msg_send_async ----------------------------------------------------------------------------- */

typedef struct msg_job {
    wipc__op *op; /* ref */
    char *name;
    uint32_t type;
    size_t size;
    uint8_t data[];
} msg_job;

static void run_msg_job(void *arg)
{
    msg_job *j = arg;
    if (atomic_load(&j->op->state) == 0) { /* not cancelled or timed out while queued */
        int32_t reply = 0;
        wipc_status st =
            wipc_msg_send(j->name, j->type, j->data, j->size, wipc__deadline_left(j->op->deadline), &reply);
        if (wipc__op_claim(j->op)) {
            j->op->msg_reply = st == WIPC_OK ? reply : 0;
            wipc__op_finish(j->op, st, false);
        }
    }
    wipc__op_unref(j->op);
    free(j->name);
    free(j);
}

WIPC_API wipc_status WIPC_CALL wipc_msg_send_async(const char *name, uint32_t type, const void *data, size_t size,
                                                   int32_t timeout_ms, wipc_complete_cb cb, void *user_data,
                                                   wipc_op *out_op)
{
    wipc_status st;
    if ((st = start_checks("wipc_msg_send_async", cb, timeout_ms, out_op)) != WIPC_OK ||
        (st = wipc__msg_check_dest(name, "wipc_msg_send_async")) != WIPC_OK) /* a name or a raw target */
        return st;
    if (!data && size)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_msg_send_async: data is NULL but size is %zu", size);
    if (size > WIPC_MSG_MAX_MESSAGE_LIMIT)
        return wipc__error(WIPC_E_TOO_LARGE, 0,
                           "wipc_msg_send_async: %zu bytes is above the msg transport's limit of %u bytes", size,
                           (unsigned)WIPC_MSG_MAX_MESSAGE_LIMIT);
    msg_job *j = malloc(sizeof *j + size);
    char *copy = j ? malloc(strlen(name) + 1) : NULL;
    wipc__op *op = NULL;
    if (!copy || wipc__op_new(NULL, WIPC__OP_MSG_SEND, NULL, cb, user_data, timeout_ms, &op) != WIPC_OK) {
        free(copy);
        free(j);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "wipc_msg_send_async(%s): out of memory", name);
    }
    strcpy(copy, name);
    j->name = copy;
    j->type = type;
    j->size = size;
    if (size)
        memcpy(j->data, data, size);
    j->op = op;
    wipc__op_ref(op); /* the job's */
    if (out_op)
        *out_op = op->id;
    /* the worker keeps the timeout (wipc_msg_send's own); the timer ends a send still queued */
    bool started = (st = wipc__op_start(op, false)) == WIPC_OK;
    if (started && (st = wipc__pool_run(run_msg_job, j)) != WIPC_OK && !wipc__op_abort(op)) {
        wipc__op_unref(op); /* cancelled meanwhile (a guessed id): it completed, so the start succeeded */
        free(copy);
        free(j);
        return WIPC_OK;
    }
    if (st != WIPC_OK) {
        if (out_op)
            *out_op = 0;
        wipc__op_unref(op);
        wipc__op_unref(op);
        free(copy);
        free(j);
    }
    return st;
}
