/*
 * pipe_conn.c - the bottom of the pipe transport's file stack (see pipe.h): what every layer above
 * uses on a connection - the writer exclusion (wipc__pipe_excl), ending a connection on an error
 * (wipc__conn_fail), the checks every send makes first, growing a message body as its bytes arrive,
 * and the wake-ups of threads waiting on the write queue or a connect_async.
 */
#include <stdlib.h>
#include "common/pipe/pipe.h"
#include "common/core/op.h"

/* ---- wipc__pipe_excl ------------------------------------------------------------------------------------ */

void wipc__excl_init(wipc__pipe_excl *x)
{
    wipc__mutex_init(&x->m);
    wipc__cond_init(&x->cv);
    x->held = false;
}

void wipc__excl_destroy(wipc__pipe_excl *x)
{
    wipc__cond_destroy(&x->cv);
    wipc__mutex_destroy(&x->m);
}

wipc_status wipc__excl_enter(wipc__pipe_excl *x, wipc__timeout *dl)
{
    wipc_status st = WIPC_OK;
    wipc__mutex_lock(&x->m);
    while (x->held) {
        wipc__deadline until = wipc__timeout_deadline(dl);
        if (wipc__deadline_passed(until)) {
            st = WIPC_E_TIMEOUT;
            break;
        }
        wipc__cond_wait_until(&x->cv, &x->m, until);
    }
    if (st == WIPC_OK)
        x->held = true;
    wipc__mutex_unlock(&x->m);
    return st;
}

bool wipc__excl_try(wipc__pipe_excl *x)
{
    wipc__mutex_lock(&x->m);
    bool took = !x->held;
    x->held = true;
    wipc__mutex_unlock(&x->m);
    return took;
}

void wipc__excl_leave(wipc__pipe_excl *x)
{
    wipc__mutex_lock(&x->m);
    x->held = false;
    wipc__cond_signal(&x->cv);
    wipc__mutex_unlock(&x->m);
}

/* ---- connection helpers ----------------------------------------------------------------------------- */

/* Ends the connection because of `why` (protocol error, broken write, ...): the pipe is shut down,
 * waiters wake with `why`, and the backend reports the end (wipc__core_closed) soon after. Safe from
 * any thread, idempotent. */
void wipc__conn_fail(wipc__conn *c, wipc_status why, const char *reason)
{
    wipc__mutex_lock(&c->obj.lock);
    bool first = c->state != WIPC__CONN_DEAD;
    c->state = WIPC__CONN_DEAD;
    wipc__mutex_unlock(&c->obj.lock);
    if (first && reason)
        wipc__log(WIPC_LOG_WARN, "pipe %s: connection ended: %s", c->obj.name, reason);
    wipc__inbox_fail(&c->obj, why);
    wipc__wq_wake(c);
    wipc__plat_pipe_shutdown(c->pipe);
}

/* What every send checks first: the connection is open, the size fits both sides, the peer can take
 * the frame kind. */
wipc_status wipc__conn_send_check(wipc__conn *c, uint8_t kind, size_t size)
{
    wipc__obj *o = &c->obj;
    bool control = kind == WIPC__FRAME_HELLO || kind == WIPC__FRAME_BUSY;
    int state = c->state;
    if (!control && state != WIPC__CONN_OPEN) {
        if (atomic_load(&o->closed))
            return wipc__error(WIPC_E_CLOSED, 0, "send on pipe %s: the handle was closed", o->name);
        wipc__mutex_lock(&o->lock);
        wipc_status failed = o->failed;
        wipc__mutex_unlock(&o->lock);
        return wipc__error(failed && failed != WIPC_E_BUSY ? failed : WIPC_E_DISCONNECTED, 0,
                           "send on pipe %s: the connection has ended", o->name);
    }
    /* RAW 0-byte messages: a 4-byte zero length with LENGTH_PREFIX, a zero-length WriteFile on a
     * message-mode pipe; on a byte stream (POSIX, a Windows byte-type pipe) it would carry nothing */
    if (c->raw && !c->lenprefix && size == 0 && !control && !wipc__plat_pipe_message_mode(c->pipe))
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "send on RAW pipe %s: a 0-byte message on a byte stream would carry nothing "
                           "(nothing was sent; WIPC_PIPE_LENGTH_PREFIX sends it as a zero length)",
                           o->name);
    if (size > o->max_message_size)
        return wipc__error(WIPC_E_TOO_LARGE, 0, "send on pipe %s: %zu bytes is above this side's max_message_size %u",
                           o->name, size, (unsigned)o->max_message_size);
    uint32_t peer_max = control ? 0 : atomic_load_explicit(&o->peer_max_message_size, memory_order_relaxed);
    if (!c->raw && peer_max && size > peer_max)
        return wipc__error(WIPC_E_TOO_LARGE, 0, "send on pipe %s: %zu bytes is above the peer's max_message_size %u",
                           o->name, size, (unsigned)peer_max);
    if (kind == WIPC__KIND_ERROR && (c->raw || !atomic_load(&c->peer_errors)))
        return wipc__error(
            WIPC_E_NOT_SUPPORTED, 0,
            "wipc_reply_error on pipe %s: the peer speaks wipc 1.0 (its handshake did not "
            "offer remote errors), so it could not read an error reply; nothing was sent: answer with wipc_reply",
            o->name);
    return WIPC_OK;
}

/* A header's length is only a claim: the body of a WIPC__DEST_MSG frame is allocated as its bytes arrive
 * (WIPC__BODY_FIRST, then doubling up to the length), so a peer that announces 16 MiB and sends 40 bytes
 * costs 64 KiB, not 16 MiB (docs/RELIABILITY.md, Hardening, attack 10: 60 such headers made a server commit ~1 GiB). Makes room for
 * `need` bytes of the current body, whose whole length is `len` (need <= len). Also the LENGTH_PREFIX
 * decoder's (pipe_lenprefix.c). */
bool wipc__conn_body_reserve(wipc__conn *c, size_t need, size_t len)
{
    if (need <= c->body_cap)
        return true;
    size_t cap = c->body_cap ? c->body_cap : WIPC__BODY_FIRST;
    while (cap < need)
        cap *= 2;
    if (cap > len)
        cap = len;
    uint8_t *d = realloc(c->body->data, cap);
    if (!d)
        return false;
    c->body->data = d;
    c->body_cap = cap;
    return true;
}

void wipc__wq_wake(wipc__conn *c)
{
    wipc__mutex_lock(&c->wq_lock);
    wipc__cond_broadcast(&c->wq_cv);
    wipc__mutex_unlock(&c->wq_lock);
}

void wipc__conn_connect_op_wake(wipc__conn *c)
{
    wipc__mutex_lock(&c->obj.lock);
    if (c->connect_op) /* pending while it is set (drop_conn clears it first) */
        wipc__op_timer_at(c->connect_op, wipc__deadline_in(0));
    wipc__mutex_unlock(&c->obj.lock);
}
