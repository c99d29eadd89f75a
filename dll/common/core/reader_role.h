/*
 * reader_role.h - the "reader role" shared by the pipe connection (pipe_read.c) and the shm channel
 * (shm_read.c): one thread at a time holds it and reads the transport; the others wait on the
 * object's cond for it, for a queued message or for their reply.
 *
 * Held here: the role word and its waiter count, taking it without a lock (wipc__role_try), waking
 * its waiters (wipc__role_wake) and the wait for it under obj.lock (wipc__role_take). The transport
 * keeps what differs: the values beyond free / held (pipe: the I/O thread's; shm: an open peek), who
 * gives the role back and what that also checks, and, through wipc__role_checks, what a waiter looks
 * at besides the role (the connection's end, callbacks, a paused inbox, its deadline) and the error
 * it then returns.
 */
#ifndef WIPC_READER_ROLE_H
#define WIPC_READER_ROLE_H

#include "common/core/core.h"
#include "common/core/reply.h"

#define WIPC__READER_FREE 0 /* nobody reads */
#define WIPC__READER_HELD 1 /* a waiting caller reads (wipc__role_try); transports add values above */

/* What wipc__role_checks.gate tells a waiter, each round, before it tries for the role. */
typedef enum wipc__gate {
    WIPC__GATE_TRY, /* try for the role */
    WIPC__GATE_WAIT, /* wait without trying for the role */
    WIPC__GATE_END /* end the wait with the status the gate set */
} wipc__gate;

typedef struct wipc__reader_role {
    atomic_int holder; /* WIPC__READER_* or a transport's own value */
    atomic_int waiters; /* threads waiting on obj.cond for the role or a reply (a release must wake them) */
} wipc__reader_role;

/* What wipc__role_take asks the transport on each round, obj.lock held (except `ended`). `t` is the
 * transport's own context for the wait (its object, deadline, the call). */
typedef struct wipc__role_checks {
    /* a message is queued in the inbox (asked only of a call that takes one) */
    bool (*queued)(void *t);
    /* before trying for the role: WIPC__GATE_TRY, WIPC__GATE_WAIT, or WIPC__GATE_END with *st the
     * status the wait ends with (w: the request's waiter, NULL for a receive) */
    wipc__gate (*gate)(void *t, wipc__reply_waiter *w, wipc_status *st);
    /* the role was not taken: WIPC_OK to wait on, or the status the wait ends with (NULL: wait on) */
    wipc_status (*missed)(void *t);
    /* until when to wait on obj.cond this round (never: no limit); a passed one ends the wait */
    wipc__deadline (*wait_until)(void *t);

    /* obj.lock NOT held: the error to return for an end with `st` (WIPC_E_TIMEOUT, or what gate /
     * missed said, or WIPC_E_CLOSED); sets the last error */
    wipc_status (*ended)(void *t, wipc_status st);
} wipc__role_checks;

typedef enum wipc__take_rc {
    WIPC__TAKE_ROLE, /* this thread holds the role */
    WIPC__TAKE_QUEUED, /* a message is queued (queue_ok) */
    WIPC__TAKE_DONE, /* the request's reply was delivered (w->done) */
    WIPC__TAKE_ENDED /* the handle closed, the transport ended or the deadline passed: *st */
} wipc__take_rc;

/* Takes a free role for a waiting caller: no lock. */
static inline bool wipc__role_try(wipc__reader_role *r)
{
    int expected = WIPC__READER_FREE;
    return atomic_compare_exchange_strong(&r->holder, &expected, WIPC__READER_HELD);
}

/* After the role was given back: wakes the threads waiting on o->cond, if any wait for it (or
 * `always`). */
void wipc__role_wake(wipc__reader_role *r, wipc__obj *o, bool always);

/* obj.lock held. Waits until this thread holds the role, or (queue_ok) a message is queued, or w (if
 * any) is done, or the handle closed / `checks` end the wait / the deadline passed (WIPC__TAKE_ENDED,
 * *st set by checks->ended). Each round, in order: w done, the handle closed, the queue, gate, the
 * role, missed, the deadline; then it waits on o->cond. */
wipc__take_rc wipc__role_take(wipc__reader_role *r, wipc__obj *o, const wipc__role_checks *checks, void *t,
                              bool queue_ok, wipc__reply_waiter *w, wipc_status *st);

#endif /* WIPC_READER_ROLE_H */
