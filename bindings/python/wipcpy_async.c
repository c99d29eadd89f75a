/*
 * wipcpy_async.c - the asynchronous operations of wipc.h (wipc 1.1) for Python, two ways:
 *
 *  1. asyncio (wipc.aio): wipcpy_*_async start an operation whose completion calls a Python callable
 *     on the library's callback worker (with the GIL) as
 *         callable(status, related, data, type, request_id, peer_pid, msg_reply)
 *     data is bytes when the completion carries a message (recv: the message; request: the reply, or
 *     with WIPC_E_REMOTE the peer's error text and type = its code), else None. The package's callable
 *     only hands the result to the event loop (loop.call_soon_threadsafe): no thread waits for an
 *     operation. The start functions return the operation id (for wipc_cancel).
 *
 *  2. sync calls that cannot be repeated in slices (request, send, msg_send): started asynchronously,
 *     then waited for on a condition variable in slices of WIPCPY_SLICE_MS with the GIL released,
 *     running Python's signal handlers between slices. A handler that raises (Ctrl-C) cancels the
 *     operation with wipc_cancel, waits for its completion (which the library delivers at once) and
 *     returns WIPCPY_INTERRUPTED: the connection stays usable (no torn frames, a late reply dropped).
 *     These functions raise their own exceptions (the completion's status, with a message composed
 *     here: the per-thread last-error text belongs to the library's thread) and return
 *     WIPCPY_INTERRUPTED for every failure, WIPC_OK otherwise.
 */
#include "wipcpy.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- 1. completions to Python callables -------------------------------------------------------------- */

static void WIPC_CALL py_complete(const wipc_completion *c, void *user)
{
    PyObject *cb = user;   /* the reference taken by the start call */
    if (!wipcpy_python_alive())
        return;            /* the interpreter is gone: nothing to call, nothing safe to release */
    PyGILState_STATE g = PyGILState_Ensure();
    const wipc_message *m = c->message;
    PyObject *data = m ? PyBytes_FromStringAndSize(m->size ? (const char *)m->data : "", (Py_ssize_t)m->size)
                       : (Py_INCREF(Py_None), Py_None);
    PyObject *r = data ? PyObject_CallFunction(cb, "iKOIKIi", (int)c->status, (unsigned long long)c->related, data,
                                               m ? (unsigned)m->type : 0u,
                                               m ? (unsigned long long)m->request_id : 0ull,
                                               m ? (unsigned)m->peer_pid : 0u, (int)c->msg_reply)
                       : NULL;
    if (!r)
        PyErr_WriteUnraisable(cb);
    Py_XDECREF(r);
    Py_XDECREF(data);
    Py_DECREF(cb);
    PyGILState_Release(g);
}

/* Runs a start call with the GIL released; the callable's reference goes to the operation. */
#define START(call)                                                                           \
    do {                                                                                      \
        if (!PyCallable_Check(cb))                                                            \
            return PyErr_Format(PyExc_TypeError, "the completion callback must be callable"); \
        wipc_op op = 0;                                                                       \
        wipc_status st;                                                                       \
        Py_INCREF(cb);                                                                        \
        Py_BEGIN_ALLOW_THREADS                                                                \
        st = (call);                                                                          \
        Py_END_ALLOW_THREADS                                                                  \
        if (st) {                                                                             \
            Py_DECREF(cb);                                                                    \
            wipcpy_raise(st);                                                                 \
            return NULL;                                                                      \
        }                                                                                     \
        return PyLong_FromUnsignedLongLong(op);                                               \
    } while (0)

PyObject *wipcpy_connect_async(const char *name, const wipc_pipe_options *o, int32_t timeout_ms, PyObject *cb)
{
    START(wipc_pipe_connect_async(name, o, timeout_ms, py_complete, cb, &op));
}

PyObject *wipcpy_accept_async(wipc_handle server, int32_t timeout_ms, PyObject *cb)
{
    START(wipc_pipe_accept_async(server, timeout_ms, py_complete, cb, &op));
}

PyObject *wipcpy_send_async(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms,
                            PyObject *cb)
{
    START(wipc_send_async(h, type, data, size, timeout_ms, py_complete, cb, &op));
}

PyObject *wipcpy_recv_async(wipc_handle h, int32_t timeout_ms, PyObject *cb)
{
    START(wipc_recv_async(h, timeout_ms, py_complete, cb, &op));
}

PyObject *wipcpy_request_async(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms,
                               PyObject *cb)
{
    START(wipc_request_async(h, type, data, size, timeout_ms, py_complete, cb, &op));
}

PyObject *wipcpy_msg_send_async(const char *name, uint32_t type, const void *data, size_t size,
                                int32_t timeout_ms, PyObject *cb)
{
    START(wipc_msg_send_async(name, type, data, size, timeout_ms, py_complete, cb, &op));
}

/* ---- 2. sync calls as "start + wait", Ctrl-C cancels ---------------------------------------------------- */

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    int             done;
    wipc_status     status;
    uint32_t        type;        /* request: the reply's type; WIPC_E_REMOTE: the peer's code */
    unsigned char  *data;        /* request: the reply or the remote text (malloc'd) */
    size_t          size;
    int             no_memory;
    int32_t         msg_reply;
    int             completed;   /* the status came from a completion (not a start or blocking call) */
} waiter;

static void waiter_init(waiter *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
}

static void waiter_destroy(waiter *w)
{
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->data);
}

static void WIPC_CALL wait_complete(const wipc_completion *c, void *user)
{
    waiter *w = user;
    unsigned char *copy = NULL;
    const wipc_message *m = c->message;
    if (m) {
        copy = malloc(m->size ? m->size : 1);
        if (copy && m->size)
            memcpy(copy, m->data, m->size);
    }
    pthread_mutex_lock(&w->mu);
    w->status = c->status;
    w->msg_reply = c->msg_reply;
    if (m) {
        w->type = m->type;
        w->data = copy;
        w->size = m->size;
        w->no_memory = copy == NULL;
    }
    w->done = 1;
    pthread_cond_signal(&w->cv);   /* under the mutex: the waiter may free `w` once it sees done */
    pthread_mutex_unlock(&w->mu);
}

/* Waits up to `ms` for the completion (GIL released by the caller). Returns w->done. */
static int wait_slice(waiter *w, int32_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&w->mu);
    if (ms < 0) {
        while (!w->done)
            pthread_cond_wait(&w->cv, &w->mu);
    } else {
        int rc = 0;
        while (!w->done && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    int done = w->done;
    pthread_mutex_unlock(&w->mu);
    return done;
}

/* [GIL] Waits for the operation; on a raising signal handler cancels it and waits for its completion.
 * Returns 0 when completed (w->status holds the result), -1 with the handler's exception set. */
static int wait_op(waiter *w, wipc_op op)
{
    for (;;) {
        int done;
        Py_BEGIN_ALLOW_THREADS
        done = wait_slice(w, WIPCPY_SLICE_MS);
        Py_END_ALLOW_THREADS
        if (done)
            return 0;
        if (PyErr_CheckSignals() < 0) {
            Py_BEGIN_ALLOW_THREADS
            wipc_cancel(op);      /* WIPC_E_NOT_FOUND: it completed meanwhile; either way it completes */
            wait_slice(w, -1);
            Py_END_ALLOW_THREADS
            return -1;
        }
    }
}

/* [GIL] Raises the exception of a failed completion: "<what>: <status name>: <strerror>", or for
 * WIPC_E_REMOTE "remote error <code>: <text>" (what wipc_request's last-error message says). */
static void raise_completion(const waiter *w, const char *what)
{
    char text[WIPC_REMOTE_TEXT_MAX + 64];
    if (w->status == WIPC_E_REMOTE)
        snprintf(text, sizeof text, "remote error %d: %.*s", (int)(int32_t)w->type, (int)(w->data ? w->size : 0),
                 w->data ? (const char *)w->data : "");
    else
        snprintf(text, sizeof text, "%s: %s: %s", what, wipc_status_name(w->status), wipc_strerror(w->status));
    wipcpy_raise_text(w->status, text);
}

/* Starts with `start` (GIL released), retrying a start refused with WIPC_E_BUSY (an asynchronous write
 * queue full: nothing started) until the deadline. [GIL] Returns WIPC_OK with *op, the start's error
 * (WIPC_E_NOT_SUPPORTED: the handle has no asynchronous form), or WIPCPY_INTERRUPTED (a signal
 * handler raised while retrying). */
typedef wipc_status (*start_fn)(void *ctx, int32_t timeout_ms, waiter *w, wipc_op *op);

static wipc_status start_op(start_fn start, void *ctx, int32_t timeout_ms, waiter *w, wipc_op *op)
{
    int64_t deadline = wipcpy_deadline(timeout_ms);
    for (;;) {
        wipc_status st;
        Py_BEGIN_ALLOW_THREADS
        st = start(ctx, timeout_ms, w, op);
        Py_END_ALLOW_THREADS
        int32_t slice = wipcpy_slice_ms(timeout_ms, deadline);
        if (st != WIPC_E_BUSY || slice == 0)
            return st;
        Py_BEGIN_ALLOW_THREADS
        struct timespec ts = { 0, (long)(slice < 10 ? slice : 10) * 1000000L };
        nanosleep(&ts, NULL);
        Py_END_ALLOW_THREADS
        if (PyErr_CheckSignals() < 0)
            return WIPCPY_INTERRUPTED;
        if (timeout_ms >= 0) {   /* the operation gets what is left of the caller's timeout */
            int64_t left = deadline - wipcpy_deadline(0);
            timeout_ms = left > 0 ? (int32_t)left : 0;
        }
    }
}

typedef struct io_ctx {
    wipc_handle h;
    const char *name;
    uint32_t    type;
    const void *data;
    size_t      size;
} io_ctx;

static wipc_status start_request(void *p, int32_t timeout_ms, waiter *w, wipc_op *op)
{
    io_ctx *c = p;
    return wipc_request_async(c->h, c->type, c->data, c->size, timeout_ms, wait_complete, w, op);
}

static wipc_status start_send(void *p, int32_t timeout_ms, waiter *w, wipc_op *op)
{
    io_ctx *c = p;
    return wipc_send_async(c->h, c->type, c->data, c->size, timeout_ms, wait_complete, w, op);
}

static wipc_status start_msg_send(void *p, int32_t timeout_ms, waiter *w, wipc_op *op)
{
    io_ctx *c = p;
    return wipc_msg_send_async(c->name, c->type, c->data, c->size, timeout_ms, wait_complete, w, op);
}

/* The blocking form, for handles without the asynchronous one (Ctrl-C then waits for its end). */
static wipc_status blocking(start_fn start, io_ctx *c, int32_t timeout_ms, waiter *w)
{
    if (start == start_send)
        return wipc_send(c->h, c->type, c->data, c->size, timeout_ms);
    if (start == start_msg_send)
        return wipc_msg_send(c->name, c->type, c->data, c->size, timeout_ms, &w->msg_reply);
    wipc_info info;
    wipc_status st = wipcpy_get_info(c->h, &info);
    size_t cap = st ? 0 : info.max_message_size;
    if (st == WIPC_OK && !(w->data = malloc(cap ? cap : 1)))
        st = WIPC_E_NO_MEMORY;
    if (st == WIPC_OK)
        st = wipc_request(c->h, c->type, c->data, c->size, w->data, cap, &w->size, timeout_ms);
    return st;
}

/* start + wait. [GIL] Returns the operation's status (w->completed: it came from the completion),
 * or WIPCPY_INTERRUPTED with a signal handler's exception set. */
static wipc_status run_status(start_fn start, io_ctx *c, int32_t timeout_ms, waiter *w)
{
    wipc_op op = 0;
    /* timeout 0 polls: nothing to interrupt, and the blocking form keeps its statuses (a msg_send to a
     * missing receiver is WIPC_E_NOT_FOUND there, WIPC_E_TIMEOUT from wipc_msg_send_async) */
    wipc_status st = timeout_ms == 0 ? WIPC_E_NOT_SUPPORTED : start_op(start, c, timeout_ms, w, &op);
    if (st == WIPC_E_NOT_SUPPORTED) {
        Py_BEGIN_ALLOW_THREADS
        st = blocking(start, c, timeout_ms, w);
        Py_END_ALLOW_THREADS
        return st;
    }
    if (st != WIPC_OK)
        return st;
    if (wait_op(w, op) < 0)
        return WIPCPY_INTERRUPTED;
    w->completed = 1;
    return w->status;
}

/* start + wait; 0 = completed with WIPC_OK, -1 = exception set (the operation's error or a signal's). */
static int run(start_fn start, io_ctx *c, int32_t timeout_ms, waiter *w, const char *what)
{
    wipc_status st = run_status(start, c, timeout_ms, w);
    if (st == WIPC_OK)
        return 0;
    if (st != WIPCPY_INTERRUPTED) {
        if (w->completed)
            raise_completion(w, what);
        else
            wipcpy_raise(st);   /* a start or blocking call's error: this thread's last-error message */
    }
    return -1;
}

wipc_status wipcpy_request_wait(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms,
                                wipcpy_buf *out)
{
    io_ctx c = { h, NULL, type, data, size };
    waiter w;
    waiter_init(&w);
    out->data = NULL;
    out->size = 0;
    int rc = run(start_request, &c, timeout_ms, &w, "request");
    if (rc == 0 && w.no_memory) {
        PyErr_NoMemory();
        rc = -1;
    }
    if (rc == 0) {
        out->data = w.data;   /* handed over: the typemap makes bytes of it and frees it */
        out->size = w.size;
        w.data = NULL;
    }
    waiter_destroy(&w);
    return rc ? WIPCPY_INTERRUPTED : WIPC_OK;
}

wipc_status wipcpy_send_wait(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms)
{
    io_ctx c = { h, NULL, type, data, size };
    waiter w;
    waiter_init(&w);
    int rc = run(start_send, &c, timeout_ms, &w, "send");
    waiter_destroy(&w);
    return rc ? WIPCPY_INTERRUPTED : WIPC_OK;
}

wipc_status wipcpy_msg_send_wait(const char *name, uint32_t type, const void *data, size_t size, int32_t timeout_ms,
                                 int32_t *out_reply)
{
    io_ctx c = { 0, name, type, data, size };
    waiter w;
    waiter_init(&w);
    *out_reply = 0;
    int rc = run(start_msg_send, &c, timeout_ms, &w, "msg_send");
    if (rc == 0)
        *out_reply = w.msg_reply;
    waiter_destroy(&w);
    return rc ? WIPCPY_INTERRUPTED : WIPC_OK;
}

wipc_status wipcpy_msg_broadcast_wait(const char *prefix, uint32_t type, const void *data, size_t size,
                                      int32_t timeout_ms, uint32_t *out_delivered)
{
    /* wipc_msg_broadcast's semantics (list the receivers, send to each in turn with the full timeout,
     * count the ones that accepted), each send cancellable. */
    wipcpy_buf names = { 0 };
    wipc_status st;
    *out_delivered = 0;
    Py_BEGIN_ALLOW_THREADS
    st = wipcpy_msg_list(prefix, &names);
    Py_END_ALLOW_THREADS
    if (st) {
        wipcpy_raise(st);
        return WIPCPY_INTERRUPTED;
    }
    for (size_t off = 0; off < names.size && st != WIPCPY_INTERRUPTED;) {
        const char *name = (const char *)names.data + off;
        size_t len = strnlen(name, names.size - off);
        off += len + 1;
        if (!len)
            continue;
        io_ctx c = { 0, name, type, data, size };
        waiter w;
        waiter_init(&w);
        st = run_status(start_msg_send, &c, timeout_ms, &w);
        if (st == WIPC_OK)
            ++*out_delivered;
        else if (st == WIPC_E_TOO_LARGE || st == WIPC_E_INVALID_ARG) {
            wipcpy_raise(st);   /* the message itself is refused: as wipc_msg_broadcast, fail the call */
            st = WIPCPY_INTERRUPTED;
        }
        waiter_destroy(&w);
    }
    free(names.data);
    return st == WIPCPY_INTERRUPTED ? WIPCPY_INTERRUPTED : WIPC_OK;
}
