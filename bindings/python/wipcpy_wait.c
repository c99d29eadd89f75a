/*
 * wipcpy_wait.c - blocking calls that Ctrl-C can stop.
 *
 * A C call blocked for a minute would hold off Python's signal handlers for that minute: the
 * interpreter runs them only between bytecodes. The waits below where calling again is harmless
 * (wipc_recv_message, wipc_pipe_accept, wipc_pipe_connect, wipc_shm_open: nothing is consumed or
 * sent by a slice that times out) run in slices of at most WIPCPY_SLICE_MS with the GIL released;
 * between two slices the GIL is taken back and PyErr_CheckSignals() runs the handlers. If one raises
 * (KeyboardInterrupt for SIGINT), the call returns WIPCPY_INTERRUPTED with that exception set and
 * the handle is left as it was, usable. The caller's timeout is kept as a deadline across slices.
 */
#include "wipcpy.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int32_t wipcpy_slice_ms(int32_t timeout_ms, int64_t deadline)
{
    if (timeout_ms < 0)
        return WIPCPY_SLICE_MS;
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left < WIPCPY_SLICE_MS ? (int32_t)left : WIPCPY_SLICE_MS;
}

int64_t wipcpy_deadline(int32_t timeout_ms)
{
    return timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
}

/* Runs fn(ctx, slice) until it returns a status other than `again` / `again2` (or the deadline
 * passes: then the last status is returned). A handle closed between two slices (wipc_close or
 * wipc_shutdown on another thread) makes the next slice WIPC_E_BAD_HANDLE; that is returned as
 * WIPC_E_CLOSED, what the one unsliced call returns when the handle is closed while it waits.
 * [GIL] on entry and exit. */
typedef wipc_status (*slice_fn)(void *ctx, int32_t slice_ms);

static wipc_status sliced(slice_fn fn, void *ctx, int32_t timeout_ms, wipc_status again, wipc_status again2)
{
    int64_t deadline = wipcpy_deadline(timeout_ms);
    bool waited = false;   /* a slice ran out: the handle was valid then */
    for (;;) {
        int32_t slice = wipcpy_slice_ms(timeout_ms, deadline);
        wipc_status st;
        Py_BEGIN_ALLOW_THREADS
        st = fn(ctx, slice);
        Py_END_ALLOW_THREADS
        if (st == WIPC_E_BAD_HANDLE && waited)
            return WIPC_E_CLOSED;
        if ((st != again && st != again2) || slice == 0 || (timeout_ms >= 0 && now_ms() >= deadline))
            return st;
        waited = true;
        if (PyErr_CheckSignals() < 0)
            return WIPCPY_INTERRUPTED;
    }
}

/* The arguments of one call; each slice function uses the fields it needs. */
typedef struct call_ctx {
    wipc_handle              h;      /* recv: the handle; accept: the server */
    const char              *name;   /* connect / shm open */
    const wipc_pipe_options *pipe;
    const wipc_shm_options  *shm;
    void                    *out;    /* recv: wipcpy_msg *; others: wipc_handle * */
} call_ctx;

static wipc_status recv_slice(void *p, int32_t slice_ms)
{
    call_ctx *c = p;
    return wipcpy_recv(c->h, slice_ms, c->out);
}

static wipc_status accept_slice(void *p, int32_t slice_ms)
{
    call_ctx *c = p;
    return wipc_pipe_accept(c->h, slice_ms, c->out);
}

static wipc_status connect_slice(void *p, int32_t slice_ms)
{
    call_ctx *c = p;
    return wipc_pipe_connect(c->name, c->pipe, slice_ms, c->out);
}

static wipc_status shm_open_slice(void *p, int32_t slice_ms)
{
    call_ctx *c = p;
    return wipc_shm_open(c->name, c->shm, slice_ms, c->out);
}

wipc_status wipcpy_recv_wait(wipc_handle h, int32_t timeout_ms, wipcpy_msg *out)
{
    call_ctx c = { .h = h, .out = out };
    return sliced(recv_slice, &c, timeout_ms, WIPC_E_TIMEOUT, WIPC_E_TIMEOUT);
}

wipc_status wipcpy_accept(wipc_handle server, int32_t timeout_ms, wipc_handle *out_conn)
{
    call_ctx c = { .h = server, .out = out_conn };
    return sliced(accept_slice, &c, timeout_ms, WIPC_E_TIMEOUT, WIPC_E_TIMEOUT);
}

/* connect / shm open: "not there yet" and "busy" are retried until the deadline */
wipc_status wipcpy_connect(const char *name, const wipc_pipe_options *o, int32_t timeout_ms, wipc_handle *out_conn)
{
    call_ctx c = { .name = name, .pipe = o, .out = out_conn };
    return sliced(connect_slice, &c, timeout_ms, WIPC_E_NOT_FOUND, WIPC_E_TIMEOUT);
}

wipc_status wipcpy_shm_open(const char *name, const wipc_shm_options *o, int32_t timeout_ms, wipc_handle *out_channel)
{
    call_ctx c = { .name = name, .shm = o, .out = out_channel };
    return sliced(shm_open_slice, &c, timeout_ms, WIPC_E_NOT_FOUND, WIPC_E_TIMEOUT);
}
