/*
 * core.h - internals shared by the portable core: the object model behind handles, the handle
 * table, callback dispatch (strands on worker threads), the inbox (received messages and request
 * waiters) and option/name validation. Not installed; nothing here is exported.
 *
 * Lock order. A thread holding a lock of one line may take a lock of a later line, never of an
 * earlier one; locks of the same line are never held together. Checked by TSan's lock-order
 * detector (TSAN_OPTIONS=detect_deadlocks=1, scripts/test-reliability tsan): an inversion is a report.
 *   1. a handle's obj.lock (wipc__obj.lock). For a pipe connection's end (wipc__conn_end, pipe.c): the
 *      connection's obj.lock is released before its server's obj.lock is taken.
 *   2. the dispatch lock d_lock (dispatch.c): wipc__dispatch is called with obj.lock held (inbox.c).
 *   3. the backend's listener lock (win32 pipe_listen.c l->lock), taken under the server's obj.lock by
 *      wipc__conn_end -> wipc__plat_listener_slot_free; it is released before wipc__win_iocp_post takes
 *      the I/O port lock g_lock (iocp.c), so the two are never nested.
 *   Leaves (nothing is locked or called back while they are held; waits on their own condition only):
 *      table_lock (handles.c), log_lock (log.c: the user's log callback runs after it is released),
 *      a shm channel's tx_lock (shm_send.c), a pipe's wipc__pipe_excl.m (pipe_conn.c: wipc__excl_*).
 *   The user's log callback (wipc__log) may run with obj.lock or d_lock held (dispatch.c logs a worker
 *   that cannot start under d_lock): wipc.h tells it not to call wipc functions. Errors returned to the
 *   caller are not logged (error.c), so raising one under a lock runs no user code.
 *   Every static mutex has a static initializer (WIPC__MUTEX_INIT, plat_types.h of each backend).
 *
 * Time. Every wait that ends at a point in time takes a wipc__deadline (dll/deadline.h): an absolute
 * millisecond on the monotonic clock wipc__now_ms() (CLOCK_MONOTONIC / GetTickCount64), never = at_ms
 * UINT64_MAX (wipc__deadline_never(); a timeout of WIPC_INFINITE gives it, 0 gives "already due").
 * Condition waits take it whole: wipc__cond_wait_until (POSIX: pthread_cond_timedwait on the
 * CLOCK_MONOTONIC every cond is created with; Win32: SleepConditionVariableSRW for what is left,
 * WIPC_E_TIMEOUT only once the deadline passed). The backend calls of platform.h take relative int32
 * milliseconds (a call's timeout); their OS waits get them from wipc__deadline_left (win32:
 * wipc__win_wait_ms, INFINITE for never). A call's timeout that must not read the clock on its fast
 * path is a wipc__timeout, which becomes its deadline at the first wait (pipe and shm sends/receives).
 * Deadlines held across calls: an async operation's deadline and timer (op.h), a pipe connection's
 * handshake deadline (pipe.h), a shm channel's next liveness poll (shm.h).
 */

#ifndef WIPC_CORE_H
#define WIPC_CORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include "platform.h"
#include "common/core/stats.h"

typedef struct wipc__obj wipc__obj;
typedef struct wipc__rxmsg wipc__rxmsg;

/* ---- received message (owned buffer) ----------------------------------------------------------- */

struct wipc__rxmsg {
    wipc__rxmsg *next;
    uint32_t type;
    uint32_t peer_pid;
    uint64_t request_id; /* nonzero: a request waiting for wipc_reply */
    size_t size;
    uint8_t *data; /* malloc'd, size bytes (NULL when size is 0) */
};
wipc__rxmsg *wipc__rxmsg_new(size_t size); /* data allocated, NULL on no memory */
void wipc__rxmsg_free(wipc__rxmsg *m);
/* The wipc_message a callback sees for `src` (borrows src->data: valid while src lives). */
void wipc__rxmsg_view(const wipc__rxmsg *src, wipc_message *out);

/* ---- work items for callback dispatch ---------------------------------------------------------- */

typedef struct wipc__work wipc__work;
struct wipc__work {
    wipc__work *next;
    int what; /* WIPC__WORK_MESSAGE / _EVENT */
    wipc__rxmsg *msg; /* MESSAGE: owned */
    int32_t event; /* EVENT */
    wipc_handle related;
    wipc_status status;
    wipc__obj *unpause; /* after this item ran, un-pause this object's strand (ref held) */
    struct wipc__op *op; /* COMPLETE: the operation (the strand's reference) */
    /* dispatch.c sits below the inbox and the ops and calls up only through these, set by the layer
     * that made the item (NULL: nothing to do): */
    void (*consumed)(wipc__obj *o, size_t size); /* MESSAGE from the inbox (inbox.c): the item ran or was
                                                    * dropped, the owner's callback backlog shrinks by size */
    void (*complete)(struct wipc__op *op, bool run); /* COMPLETE (op.c): run the completion (true) or drop
                                                    * it (false, a strand that never ran); either way the
                                                    * strand's reference goes */
};
#define WIPC__WORK_MESSAGE  1
#define WIPC__WORK_EVENT    2
#define WIPC__WORK_COMPLETE 3 /* an async operation's completion (op.h): runs even after wipc_close */

/* A strand runs one object's callbacks in order, one at a time, on the worker pool. Guarded by the
 * dispatch lock (dispatch.c). */
typedef struct wipc__strand {
    wipc__work *head, *tail;
    wipc__obj *next_ready; /* link in the pool's ready list */
    bool queued; /* in the ready list */
    bool running; /* a worker runs a callback of this object */
    bool paused; /* held until another item un-pauses it (CONNECTED ordering) */
    uint64_t running_thread;
} wipc__strand;

/* ---- the object behind a handle ---------------------------------------------------------------- */

typedef struct wipc__ops {
    uint32_t kind; /* WIPC_KIND_* */
    uint32_t transport; /* WIPC_TRANSPORT_* */
    /* wipc_close: stop I/O, wake waiters. Object lock not held. */
    void (*close)(wipc__obj *o);
    /* last reference gone: free transport state (not the obj itself) */
    void (*destroy)(wipc__obj *o);
    /* optional operations; NULL = WIPC_E_NOT_SUPPORTED */
    wipc_status (*send)(wipc__obj *o, uint8_t kind, uint64_t request_id, uint32_t type, const void *data, size_t size,
                        int32_t timeout_ms);
    /* callbacks were just set: begin delivering (server: start auto-accept) */
    void (*callbacks_set)(wipc__obj *o);
    /* the inbox drained below its low-water mark: resume reading */
    void (*resume)(wipc__obj *o);
    void (*info)(wipc__obj *o, wipc_info *out);
    /* optional: serve wipc_recv / wipc_recv_message and wipc_request on the caller's thread (shm
     * channels read their ring directly: no thread hop); NULL = the inbox (wipc__inbox_recv /
     * wipc__inbox_request). Arguments are already validated, as for the inbox functions. */
    wipc_status (*recv)(wipc__obj *o, void *buf, size_t cap, wipc_message *out, int32_t timeout_ms);
    wipc_status (*request)(wipc__obj *o, uint32_t type, const void *req, size_t req_size, void *resp, size_t resp_cap,
                           size_t *out_resp_size, int32_t timeout_ms);
    /* optional (1.1, op.h): start an async send (op SEND, or REQUEST with op->request_id) / receive.
     * WIPC_OK: started, completes exactly once; an error: nothing started (the caller frees op). */
    wipc_status (*send_async)(wipc__obj *o, struct wipc__op *op, uint8_t kind, uint64_t request_id, uint32_t type,
                              const void *data, size_t size);
    wipc_status (*recv_async)(wipc__obj *o, struct wipc__op *op);
    /* optional (1.1): wipc_flush - wait until what the handle queued is written; NULL = nothing is queued */
    wipc_status (*flush)(wipc__obj *o, int32_t timeout_ms);
} wipc__ops;

/* Frame kinds (frame.h) reused as send kinds. */
#define WIPC__KIND_DATA    1
#define WIPC__KIND_REQUEST 2
#define WIPC__KIND_REPLY   3
#define WIPC__KIND_ERROR   7 /* a reply carrying an error: type = code, payload = UTF-8 text (wipc 1.1) */

typedef struct wipc__waiter wipc__waiter; /* a thread waiting in wipc_request */

struct wipc__obj {
    const wipc__ops *ops;
    wipc_handle handle;
    atomic_int refs;
    atomic_bool closed; /* wipc_close was called */
    uint32_t flags;
    uint32_t max_message_size;
    _Atomic uint32_t peer_max_message_size; /* 0 = unknown; pipe: set by the handshake, read by senders */
    uint32_t peer_pid, peer_uid;
    char name[264];

    wipc__mutex lock; /* guards the inbox and transport state */
    wipc__cond cond; /* inbox waiters */

    /* callbacks (set once) */
    atomic_bool has_callbacks;
    wipc_message_cb on_message;
    wipc_event_cb on_event;
    void *user_data;
    wipc__strand strand; /* guarded by the dispatch lock */

    /* inbox (guarded by lock) */
    wipc__rxmsg *q_head, *q_tail;
    size_t q_count, q_bytes;
    int receivers; /* threads blocked in recv */
    wipc_status failed; /* != 0: the transport ended with this status */
    bool paused_reading;
    wipc__waiter *waiters; /* wipc_request in flight */
    size_t max_queued_bytes; /* back-pressure: pause reading above this backlog (queue + callbacks) */
    size_t max_queued_count; /* ... or this many messages */
    size_t cb_bytes, cb_count; /* messages handed to the callback strand and not yet run to the end */
    uint64_t last_request_id; /* last request handed out by wipc_recv, for wipc_reply(h, 0) */

    /* asynchronous operations (op.h), guarded by lock */
    struct wipc__op *ops_head; /* every pending op of this handle */
    struct wipc__op *fifo_head, *fifo_tail; /* recv_async / accept_async in start order */

    atomic_uint_fast64_t next_request_id;
    /* counters: `ctr` points at this object's slot in a stats section (stats.h), or at ctr_local */
    wipc__counters *ctr;
    wipc__counters ctr_local;
    wipc__stats *stats; /* the published section this object counts into, or NULL */
    wipc__stats_slot *stats_slot; /* its slot there, or NULL (none free, or not publishing) */
    atomic_bool stats_ended; /* a connection's end was counted (transport ended or object gone) */
    _Atomic uint64_t touch_cycles; /* time-stamp counter at the last stamp of stats_slot (wipc__stats_touch_coarse) */
};

/* object lifetime */
void wipc__obj_init(wipc__obj *o, const wipc__ops *ops, const char *name, uint32_t flags);
void wipc__obj_ref(wipc__obj *o);
void wipc__obj_unref(wipc__obj *o);

/* ---- handle table (handles.c) ------------------------------------------------------------------- */

/* Registers `o` (takes one reference for the table) and sets o->handle. */
wipc_status wipc__handle_add(wipc__obj *o);
/* Looks up a handle; on success returns the object with a reference the caller must drop.
 * kind 0 = any kind. Sets the last error on failure (WIPC_E_BAD_HANDLE). */
wipc_status wipc__handle_get(wipc_handle h, uint32_t kind, wipc__obj **out);
/* The same without taking a reference: the call holds a pin on h's slot instead, its reference until
 * wipc__handle_unpin(o) (one atomic add each way, not four: for the per-message calls). Any kind.
 * A pin never delays wipc_close; the object and its slot stay until the last pin goes. */
wipc_status wipc__handle_pin(wipc_handle h, wipc__obj **out);
void wipc__handle_unpin(wipc__obj *o);
/* Removes the handle; returns the object (still holding the table's reference) or NULL. */
wipc__obj *wipc__handle_remove(wipc_handle h);
/* Removes every handle, returning them as a malloc'd array (each with the table's reference). */
size_t wipc__handle_remove_all(wipc__obj ***out);

/* ---- callback dispatch (dispatch.c) ------------------------------------------------------------- */

/* Queues a work item on o's strand (takes ownership of `w`). Drops it if o is closed. */
void wipc__dispatch(wipc__obj *o, wipc__work *w);
void wipc__dispatch_event(wipc__obj *o, int32_t event, wipc_handle related, wipc_status status, wipc__obj *unpause);
void wipc__dispatch_pause(wipc__obj *o, bool paused);
/* Called by wipc_close: waits until no callback of `o` runs (unless the caller is that callback) and
 * drops queued items. */
void wipc__dispatch_quiesce(wipc__obj *o);
/* true if the calling thread is running a callback of any object / of `o`. */
bool wipc__in_callback(const wipc__obj *o);
/* (api.c) The timeout of wipc_reply / wipc_reply_error: WIPC_REPLY_DEADLINE_MS for a shm reply from a
 * callback (a peer that stops reading holds the worker that long, no longer), else WIPC_INFINITE (pipe
 * replies from callbacks go to the write queue and never wait). */
int32_t wipc__reply_timeout(const wipc__obj *o);
/* The object whose callback the calling thread runs (worker strand or inline), NULL if none. */
const wipc__obj *wipc__current_callback(void);
void wipc__dispatch_shutdown(void);
/* Waits until o's strand is empty and idle (queued completions ran), unless the calling thread runs
 * one of o's callbacks (then they run right after it). */
void wipc__dispatch_drain(wipc__obj *o);
/* Runs o's on_message synchronously on the calling library thread and returns its value (msg
 * transport: the value is the sender's reply). Marks the thread as inside o's callback meanwhile, so
 * wipc_close(o) from inside does not wait for itself. The caller guarantees callbacks of o never run
 * concurrently (one window/receiver thread per endpoint). Returns 0 if o is closed or has none. */
int32_t wipc__call_message_inline(wipc__obj *o, const wipc_message *m);

/* ---- inbox (inbox.c) ---------------------------------------------------------------------------- */

/* Back-pressure (every per-connection resource is bounded, in both modes): the inbox asks its
 * transport to pause reading when the messages received and not yet consumed - queued for wipc_recv,
 * or handed to the callback strand and not yet returned from on_message - pass o->max_queued_bytes
 * or o->max_queued_count (defaults WIPC_DEFAULT_MAX_QUEUED_BYTES / _MESSAGES), and to resume when
 * they drain to half. */
#define WIPC__INBOX_HIGH_WATER WIPC_DEFAULT_MAX_QUEUED_BYTES

/* A transport received a whole message: a reply completes its waiter, else the message goes to the
 * callback strand or the queue. Takes ownership of m. Returns true if the transport should pause
 * reading (queue over its high-water mark). Object lock NOT held by the caller. */
bool wipc__inbox_deliver(wipc__obj *o, uint8_t kind, wipc__rxmsg *m);
/* The transport ended: wake every waiter with `why`, tell callbacks (DISCONNECTED or ERROR). */
void wipc__inbox_fail(wipc__obj *o, wipc_status why);
/* wipc_close: wake every waiter with WIPC_E_CLOSED. */
void wipc__inbox_close(wipc__obj *o);
/* A message callback of o returned (or its work item was dropped): the backlog shrinks by `size`
 * bytes and one message; reading resumes if it was paused and the backlog is at half its bound. */
void wipc__inbox_consumed(wipc__obj *o, size_t size);
wipc_status wipc__inbox_recv(wipc__obj *o, void *buf, size_t cap, wipc_message *out, int32_t timeout_ms);
wipc_status wipc__inbox_request(wipc__obj *o, uint32_t type, const void *req, size_t req_size, void *resp,
                                size_t resp_cap, size_t *out_resp_size, int32_t timeout_ms);
/* wipc_recv_async: op (RECV, not started) completes with the first queued message, or waits in o's
 * taker FIFO. Error: nothing started. */
wipc_status wipc__inbox_recv_async(wipc__obj *o, struct wipc__op *op);
/* Switches o to callback mode: stores the callbacks, moves queued messages to the strand (in order,
 * under the same lock hold) and resumes reading. WIPC_E_INVALID_STATE if already set or a thread is
 * blocked in wipc_recv. */
wipc_status wipc__inbox_set_callbacks(wipc__obj *o, wipc_message_cb on_message, wipc_event_cb on_event,
                                      void *user_data);

/* ---- validation (options.c; msg names: msg_wire.c) ------------------------------------------------------------ */

/* Copies a caller's option struct into `dst` (already holding defaults) following the struct_size
 * rules at the top of include/wipc.h. `what` names the struct in error messages. */
wipc_status wipc__read_options(void *dst, size_t dst_size, const void *src, const char *what);
/* wipc_*_options_init_size: the first struct_size bytes of `o` from `defaults` (a struct of `known`
 * bytes, this library's sizeof), zero beyond, then o->struct_size = struct_size. Ignores NULL and a
 * struct_size below 8. */
void wipc__options_init_size(void *o, const void *defaults, size_t known, uint32_t struct_size);
/* What the 1.0 entry points wipc_*_options_init write: the 1.0 layouts' sizes. */
#define WIPC__PIPE_OPTIONS_1_0 ((uint32_t)offsetof(wipc_pipe_options, handshake_timeout_ms))
#define WIPC__SHM_OPTIONS_1_0  ((uint32_t)sizeof(wipc_shm_options))
#define WIPC__MSG_OPTIONS_1_0  ((uint32_t)sizeof(wipc_msg_options))
/* Validates a wipc name: 1..128 chars of [A-Za-z0-9._-]. Sets the last error naming `what`. */
wipc_status wipc__check_name(const char *name, const char *what);
wipc_status wipc__check_out(const void *p, const char *what);
/* api.c: argument checks shared by the entry points (last error set) */
wipc_status wipc__check_timeout(const char *fn, int32_t timeout_ms);
wipc_status wipc__check_data(const char *fn, const void *data, size_t size);
/* a handle that carries messages (not a server or region), with a reference */
wipc_status wipc__get_message_handle(const char *fn, wipc_handle h, wipc__obj **out);

/* ---- misc --------------------------------------------------------------------------------------- */

void wipc__fill_info(wipc__obj *o, wipc_info *out);

/* pipe.c */
void wipc__pipe_shutdown_all(void);

/* error.c: a remote error (WIPC_E_REMOTE): the last error message "remote error <code>: <text>" and
 * the calling thread's wipc_last_remote_code() */
wipc_status wipc__error_remote(int32_t code, const char *text, size_t len);

/* ---- statistics (stats.c; layout in stats.h) ---------------------------------------------------- */

/* The endpoint `o` (a server, shm creator or msg receiver, not yet visible to other threads)
 * publishes its counters under `name` (skipped for names that are not wipc names, e.g. raw pipe
 * paths). A failure only logs: the endpoint works without statistics. */
void wipc__stats_publish(wipc__obj *o, uint32_t transport, const char *name);
/* The connection `o` of `owner` counts into owner's section (a slot if one is free). */
void wipc__stats_attach(wipc__obj *owner, wipc__obj *o);
/* The object goes (last reference): folds its counters into the section's totals, frees its slot;
 * an endpoint also marks the section closed and removes its name. */
void wipc__stats_drop(wipc__obj *o);
/* Rare events: an error that ended o's transport, a shm opener attached (1) or left (0). */
void wipc__stats_failed(wipc__obj *o, wipc_status why);
void wipc__stats_peer(wipc__obj *o, int attached);
void wipc__stats_touch(wipc__stats_slot *s);

/* Stamps o's slot with the wall clock (last_activity_unix_ms: "coarse: a few ms"), at most about once
 * per TOUCH_CYCLES of the CPU's time-stamp counter (2^20 cycles: about 1 ms at 1 GHz, less on faster
 * CPUs), so a stream of small messages does not read the clock per message: the counter is one
 * instruction, the clock a vDSO / shared-page call. The first message after a quiet millisecond is
 * always stamped. Targets without such a counter read the clock each time. */
#define WIPC__TOUCH_CYCLES (1ull << 20)
static inline void wipc__stats_touch_coarse(wipc__obj *o)
{
    if (!o->stats_slot)
        return;
#if defined(__x86_64__) || defined(__i386__)
    uint64_t now = __builtin_ia32_rdtsc();
    if (now - atomic_load_explicit(&o->touch_cycles, memory_order_relaxed) < WIPC__TOUCH_CYCLES)
        return;
    atomic_store_explicit(&o->touch_cycles, now, memory_order_relaxed);
#endif
    wipc__stats_touch(o->stats_slot);
}

/* Counting n messages of `size` bytes in all: one relaxed add per counter (no lock, no system call). */
static inline void wipc__count_sent_n(wipc__obj *o, uint64_t n, size_t size)
{
    atomic_fetch_add_explicit(&o->ctr->msgs_sent, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&o->ctr->bytes_sent, size, memory_order_relaxed);
    wipc__stats_touch_coarse(o);
}

/* Counting a message. */
static inline void wipc__count_sent(wipc__obj *o, size_t size)
{
    wipc__count_sent_n(o, 1, size);
}

static inline void wipc__count_recv(wipc__obj *o, size_t size)
{
    atomic_fetch_add_explicit(&o->ctr->msgs_recv, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&o->ctr->bytes_recv, size, memory_order_relaxed);
    wipc__stats_touch_coarse(o);
}

/* The inbox of o queued (+1) or handed out (-1) a message. */
static inline void wipc__count_queue(wipc__obj *o, int delta)
{
    if (o->stats)
        atomic_fetch_add_explicit(&o->stats->hdr->queue_depth, (uint32_t)delta, memory_order_relaxed);
}

#endif /* WIPC_CORE_H */
