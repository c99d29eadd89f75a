/*
 * op.h - asynchronous operations (include/wipc.h, "asynchronous operations"): the operation object, the process-wide table id -> op,
 * each handle's list of pending operations, exactly-once completion, the one timer thread, cancel.
 *
 * Life of an operation:
 *  - wipc__op_new: allocated with the caller's reference; nothing can see it yet.
 *  - wipc__op_start: put in the table (wipc_cancel finds it), on its handle's pending list (wipc_close
 *    finds it; `fifo`: also on the handle's taker FIFO, for recv / accept) and, with a deadline, on
 *    the timer. Fails (start error, no callback) if the handle is closed already.
 *  - Completion: whoever wins the state word (wipc__op_claim: pending -> done, one atomic CAS) takes
 *    it off every list, stores the result and queues the callback on the handle's strand (dispatch.c:
 *    serialised with the handle's message and event callbacks; ops without a handle have a strand of
 *    their own). Losers do nothing. Rule for finders: an op found in a list is claimed while holding
 *    that list's lock (so it cannot be freed meanwhile: the winner must take the same lock to unlink it).
 *  - Stopping (wipc_cancel, the timer, wipc_close): vt->stop decides when an op cannot simply be
 *    claimed (a send whose frame is being written must finish it or fail the connection: pipe_wq.c).
 *  - The memory goes with the last reference (the callback's, a write-queue entry's, ...).
 *
 * Lock order: write queue lock -> object lock -> timer lock -> table lock -> dispatch lock.
 */
#ifndef WIPC_OP_H
#define WIPC_OP_H

#include "common/core/core.h"

typedef struct wipc__op wipc__op;

enum {
    WIPC__OP_RECV = 1,
    WIPC__OP_ACCEPT,
    WIPC__OP_SEND,
    WIPC__OP_REQUEST,
    WIPC__OP_CONNECT,
    WIPC__OP_MSG_SEND,
    WIPC__OP_REPLY /* internal: a reply queued from a callback (no user callback) */
};

typedef struct wipc__op_vt {
    /* Asked to stop with `why` (WIPC_E_CANCELLED, WIPC_E_TIMEOUT, WIPC_E_CLOSED); no lock held. NULL: the
     * op is completed with `why` at once. Otherwise the hook must see to it that it completes. */
    void (*stop)(wipc__op *op, wipc_status why);
    /* The timer reached op->fire_at before the deadline (connect retries); NULL: never. */
    void (*timer)(wipc__op *op);
    /* The last reference is gone: free what the op owns (op->t). */
    void (*release)(wipc__op *op);
} wipc__op_vt;

struct wipc__op {
    wipc_op id;
    int kind; /* WIPC__OP_* */
    const wipc__op_vt *vt; /* may be NULL: every hook NULL */
    _Atomic int state; /* 0 pending, 1 completed */
    atomic_int refs;
    wipc__obj *obj; /* ref held: the handle's object, or the op's own strand object */
    wipc_handle handle; /* reported in the completion (0 for connect / msg_send) */
    wipc_complete_cb cb; /* NULL: internal op, nothing to call */
    void *user_data;
    wipc__deadline deadline; /* never = none */
    wipc__deadline fire_at; /* the timer's next look at it (<= deadline) */
    size_t heap_pos; /* timer heap index + 1, 0 = not on the timer (timer lock) */
    wipc__op *next, *prev; /* the handle's pending list (obj lock) */
    wipc__op *fnext; /* the handle's taker FIFO (obj lock) */
    bool in_list, in_fifo;
    wipc__op *tnext; /* table chain (table lock) */
    bool in_table;
    /* result */
    wipc_status status;
    wipc_handle related;
    wipc__rxmsg *msg; /* owned */
    int32_t msg_reply;
    /* transport state */
    uint64_t request_id; /* REQUEST: the id on the wire */
    _Atomic int stop_why; /* SEND / REPLY: why a stop was asked while the frame was being written */
    void *t; /* the transport's own (freed by vt->release) */
};

/* The request id on the wire of an async request: the op id with the top bit set, so it never meets
 * the per-handle ids of blocking requests (counted from 1). */
#define WIPC__ASYNC_RID_BIT (1ull << 63)

/* A new op on `o` (ref taken; NULL: a strand object of its own, handle 0). timeout_ms as given. */
wipc_status wipc__op_new(wipc__obj *o, int kind, const wipc__op_vt *vt, wipc_complete_cb cb, void *user_data,
                         int32_t timeout_ms, wipc__op **out);
void wipc__op_ref(wipc__op *op);
void wipc__op_unref(wipc__op *op);
/* Registers op (see above). WIPC_E_CLOSED (last error set) if its handle is closed: nothing started. */
wipc_status wipc__op_start(wipc__op *op, bool fifo);
/* Same, o->lock held by the caller. */
wipc_status wipc__op_start_locked(wipc__op *op, bool fifo);
/* Wins the op (pending -> done) or returns false. */
bool wipc__op_claim(wipc__op *op);
/* After a won claim: takes it off every list and queues its completion with `st` (result fields set
 * by the caller). `obj_locked`: the caller holds op->obj->lock. */
void wipc__op_finish(wipc__op *op, wipc_status st, bool obj_locked);
/* A start that failed after wipc__op_start: claims op and takes it off every list without a callback
 * (the caller still holds its reference). false: another thread completed it first (it was started). */
bool wipc__op_abort(wipc__op *op);
/* claim + finish; false if it had completed already. */
bool wipc__op_complete(wipc__op *op, wipc_status st);
bool wipc__op_complete_locked(wipc__op *op, wipc_status st);
/* Asks op to stop with why (vt->stop, or complete). */
void wipc__op_stop(wipc__op *op, wipc_status why);
/* The timer looks at op again at `at` (clamped to its deadline). */
void wipc__op_timer_at(wipc__op *op, wipc__deadline at);

/* The first pending op of o's taker FIFO of `kind` (obj lock held), claimed; NULL if none. */
wipc__op *wipc__op_take_fifo_locked(wipc__obj *o, int kind);
/* An async request of `o` waiting for the reply `rid` (ref taken), or NULL. */
wipc__op *wipc__op_find_request(wipc__obj *o, uint64_t rid);
/* true if o has pending ops of kind RECV (obj lock held). */
bool wipc__op_has_fifo_locked(wipc__obj *o);
/* The transport of o ended with `why`: every pending RECV / REQUEST / ACCEPT op completes with it. */
void wipc__op_fail_readers(wipc__obj *o, wipc_status why);
/* wipc_close: every pending op of o completes with WIPC_E_CLOSED; waits until their callbacks ran
 * (unless called from inside one of o's callbacks). */
void wipc__op_close_obj(wipc__obj *o);
/* wipc_shutdown: every op completes with WIPC_E_CLOSED, their callbacks run, the timer stops. */
void wipc__op_shutdown(void);
/* pool.c: a small pool (at most 4 threads) for jobs that wait a bounded time (msg sends, shm
 * sends waiting for ring room, one slice at a time); FIFO. wipc__pool_shutdown (wipc_shutdown) joins it. */
wipc_status wipc__pool_run(void (*run)(void *arg), void *arg);
void wipc__pool_shutdown(void);
/* dispatch.c runs a completion: calls the callback and drops the strand's reference. */
void wipc__op_run_completion(wipc__op *op);

#endif /* WIPC_OP_H */
