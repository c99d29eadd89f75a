/*
 * reader_role.c - the reader role's wake-up and its wait under the object's lock (see reader_role.h),
 * shared by the pipe connection and the shm channel.
 */
#include "common/core/reader_role.h"

void wipc__role_wake(wipc__reader_role *r, wipc__obj *o, bool always)
{
    if (atomic_load(&r->waiters) || always) {
        wipc__mutex_lock(&o->lock);
        wipc__cond_broadcast(&o->cond);
        wipc__mutex_unlock(&o->lock);
    }
}

wipc__take_rc wipc__role_take(wipc__reader_role *r, wipc__obj *o, const wipc__role_checks *checks, void *t,
                              bool queue_ok, wipc__reply_waiter *w, wipc_status *st)
{
    wipc__take_rc rc;
    atomic_fetch_add(&r->waiters, 1);
    for (;;) {
        if (w && w->done) {
            rc = WIPC__TAKE_DONE;
            break;
        }
        if (atomic_load(&o->closed)) {
            *st = WIPC_E_CLOSED;
            rc = WIPC__TAKE_ENDED;
            break;
        }
        if (queue_ok && checks->queued(t)) {
            rc = WIPC__TAKE_QUEUED;
            break;
        }
        wipc__gate gate = checks->gate(t, w, st);
        if (gate == WIPC__GATE_END) {
            rc = WIPC__TAKE_ENDED;
            break;
        }
        if (gate == WIPC__GATE_TRY && wipc__role_try(r)) {
            rc = WIPC__TAKE_ROLE;
            break;
        }
        wipc_status missed = checks->missed ? checks->missed(t) : WIPC_OK;
        if (missed != WIPC_OK) {
            *st = missed;
            rc = WIPC__TAKE_ENDED;
            break;
        }
        wipc__deadline until = checks->wait_until(t);
        if (wipc__deadline_passed(until)) {
            *st = WIPC_E_TIMEOUT;
            rc = WIPC__TAKE_ENDED;
            break;
        }
        wipc__cond_wait_until(&o->cond, &o->lock, until);
    }
    atomic_fetch_sub(&r->waiters, 1);
    if (rc == WIPC__TAKE_ENDED) {
        wipc__mutex_unlock(&o->lock);
        *st = checks->ended(t, *st);
        wipc__mutex_lock(&o->lock);
    }
    return rc;
}
