/*
 * reply.h - threads waiting in wipc_request whose reply is copied straight into their buffer by
 * whichever thread reads it (the pipe and shm readers; see pipe_read.c, shm_read.c). A transport keeps
 * one list per handle, guarded by the object's lock; a waiter lives on its requesting thread's stack.
 */
#ifndef WIPC_REPLY_H
#define WIPC_REPLY_H

#include "common/core/core.h"

typedef struct wipc__reply_waiter {
    struct wipc__reply_waiter *next;
    uint64_t id;
    void *buf; /* the caller's response buffer */
    size_t cap;
    size_t size; /* the reply's size (copied only if <= cap) */
    atomic_bool done; /* set under the object's lock (or by the waiter's own thread); read anywhere */
    wipc__rxmsg *remote; /* the reply was an ERROR frame: type = code, data = text (owned) */
} wipc__reply_waiter;

/* Gives w a new request id of o and puts it on *list. */
void wipc__reply_begin(wipc__obj *o, wipc__reply_waiter **list, wipc__reply_waiter *w, void *buf, size_t cap);
/* obj.lock held: the waiter for request `id` that has no reply yet, or NULL. */
wipc__reply_waiter *wipc__reply_find_locked(wipc__reply_waiter *list, uint64_t id);
/* A reply arrived: copies it into its waiter's buffer (if it fits), marks it done and wakes obj.cond.
 * Returns the waiter, or NULL if nobody waits for `id` (any more). */
wipc__reply_waiter *wipc__reply_deliver(wipc__obj *o, wipc__reply_waiter **list, uint64_t id, const void *data,
                                        size_t size);
/* An ERROR frame arrived: hands m (type = code, data = text) to the waiter for m->request_id, or to
 * the async request (op.h) waiting for it; frees m if nobody waits. Returns the waiter or NULL. */
wipc__reply_waiter *wipc__reply_deliver_error(wipc__obj *o, wipc__reply_waiter **list, wipc__rxmsg *m);
/* A reply or ERROR (kind) nobody blocks for: the async request waiting for m->request_id gets it.
 * Takes m. Returns false (m freed) if no operation waits for it. */
bool wipc__reply_to_op(wipc__obj *o, uint8_t kind, wipc__rxmsg *m);
/* WIPC_OK if a blocking waiter or an async request of o waits for `id` (obj.lock held). */
bool wipc__reply_awaited_locked(wipc__obj *o, wipc__reply_waiter *list, uint64_t id);

/* Takes w off *list and gives the request's outcome: `st` if no reply came, else WIPC_OK or
 * WIPC_E_BUFFER_TOO_SMALL (*out_resp_size = the reply's size either way). `what` names the handle
 * kind in the message ("pipe", "shm channel"). */
wipc_status wipc__reply_end(wipc__obj *o, wipc__reply_waiter **list, wipc__reply_waiter *w, wipc_status st,
                            size_t *out_resp_size, const char *what);

#endif /* WIPC_REPLY_H */
