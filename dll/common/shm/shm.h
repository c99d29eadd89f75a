/*
 * shm.h - internals of the shm channel shared by shm_channel.c (liveness, waking, waiting),
 * shm_send.c, shm_read.c (the reader role: recv / request / peek on the caller's thread, and the reader
 * thread for callbacks), shm_stream.c, shm_session.c, shm_async.c and shm_api.c (create / open, the
 * wipc_shm_* entry points and the channel object's wipc__ops).
 *
 * Threads of this process that use one channel:
 *  - senders (wipc_send, wipc_reply, wipc_request, wipc_shm_reserve/commit) take turns through
 *    `tx_busy` / `tx_reserved` under `tx_lock`; the one whose turn it is writes the tx ring.
 *  - readers take the "reader role" (`role`, reader_role.h) before they touch the rx ring. The
 *    holder delivers frames that are not its own to their owner (a reply to another thread's
 *    request: straight into its buffer; anything else: the inbox queue, or the callback strand) and
 *    gives the role back when its own call ends. With callbacks, the channel's reader thread takes
 *    the role and keeps it until the handle closes; threads in wipc_request then wait for it to
 *    deliver.
 * Peer state has two views. The live one (`peer_ident`, `peer_gone`; any thread refreshes it from
 * the header) answers "is an opener attached now" for senders, waiters and wipc_get_info. The
 * delivery one (`rx_*`, creator only, owned by the role holder) follows the opener sessions in ring
 * order and raises WIPC_EVENT_CONNECTED / _DISCONNECTED between their messages (shm_layout.h).
 * Nothing shared with the peer is a lock: a dead peer can never block this process.
 */
#ifndef WIPC_SHM_H
#define WIPC_SHM_H

#include "common/core/core.h"
#include "platform_shm.h"
#include "common/core/reader_role.h"
#include "common/core/reply.h"
#include "common/shm/ring.h"

#define WIPC__TX_FREE     0
#define WIPC__TX_BUSY     1
#define WIPC__TX_RESERVED 2
#define WIPC__TX_STREAM   3 /* an async send streams a message and waits for ring room: only its drain job resumes */

#define WIPC__ROLE_FREE WIPC__READER_FREE
#define WIPC__ROLE_BUSY WIPC__READER_HELD
#define WIPC__ROLE_PEEK 2

#define WIPC__PEEK_NONE 0
#define WIPC__PEEK_WAIT 1
#define WIPC__PEEK_RING 2
#define WIPC__PEEK_MSG  3 /* a thread in wipc_request on the fast path */

typedef struct wipc__shm_chan {
    wipc__obj obj; /* first: a channel is an object */
    wipc__section *sec;
    wipc__shm_header *hdr;
    bool creator;
    unsigned tx_index, rx_index; /* ring numbers */
    uint32_t spin_us;
    uint64_t my_ident;

    /* live peer state (guarded by obj.lock; peer_gone also read without it as a hint) */
    uint64_t peer_ident; /* the peer last seen attached; 0 = none yet */
    uint32_t live_session; /* creator: the header's session counter when peer_ident was seen */
    _Atomic bool peer_gone; /* that peer closed or died (and no other one is attached) */
    bool disc_pending; /* opener: the creator is gone; the reader thread raises DISCONNECTED after the last frame */
    wipc__deadline next_live_check; /* when the peer is polled again (zero: at once) */

    wipc__proc_watch *watch; /* the exit notice of the peer watch_ident (NULL: none, or cannot: poll) */
    uint64_t watch_ident; /* the peer watched (or being armed); 0 = none */
    atomic_bool quiet; /* waits need no liveness poll: the peer is watched, or there is none to watch */
    atomic_bool watch_ok; /* watch_ident follows the live peer state (cleared under obj.lock when it changes) */
    _Atomic int32_t broken; /* != 0: ended by this fatal status (corrupt section, ...) */

    /* delivery state (creator; only the reader-role holder touches it) */
    uint32_t rx_sess; /* the last opener session handled (its CONNECTED raised or skipped) */
    bool rx_open; /* rx_sess is open: its opener attached, DISCONNECTED not raised yet */
    bool rx_announced; /* its CONNECTED was raised (false: it began before the callbacks) */
    uint64_t rx_ident; /* rx_sess's opener as the header showed it, 0 = not seen yet */

    /* sending: tx_state CAS 0 -> 1 takes the turn; waiters sleep on tx_cond (tx_lock) */
    wipc__mutex tx_lock;
    wipc__cond tx_cond;
    atomic_int tx_state; /* WIPC__TX_FREE / _BUSY / _RESERVED (wipc_shm_reserve is open) */
    atomic_int tx_waiters; /* threads waiting for the turn (a release must wake them) */
    uint64_t tx_reserve_thread;
    uint64_t tx_reserve_len;
    wipc__ring tx;

    /* receiving (guarded by obj.lock) */
    wipc__ring rx;
    wipc__reader_role role; /* WIPC__ROLE_FREE / _BUSY (a thread runs ring code) / _PEEK (a peek is open) */
    atomic_int inbox_hint; /* > 0: a reader may have queued messages in the inbox (recv looks there) */
    int peek_state; /* WIPC__PEEK_*: none, a peek waits, open in the ring / in peek_msg */
    wipc__rxmsg *peek_msg;
    wipc__reply_waiter *waiters;
    bool pump_started; /* the reader thread runs (callbacks, or async reads) */
    wipc__thread pump;

    /* streamed messages being received (shm_stream.c; only the reader-role holder touches them) */
    wipc__rxmsg *rx_part; /* being assembled: type, request_id, peer_pid of its BEGIN; NULL = none */
    uint8_t rx_part_kind;
    size_t rx_part_have; /* bytes received so far (of rx_part->size) */
    bool rx_in_caller; /* rx_part's (or rx_whole's) data is the buffer of the wipc_recv reading, not its own */
    wipc__rxmsg *rx_whole; /* assembled and not yet taken (a receive's buffer was too small) */
    uint8_t rx_whole_kind;
    bool rx_from_whole; /* the record being delivered is rx_whole: releasing it frees it */

    /* asynchronous operations (shm_async.c) */
    atomic_bool async_io; /* async reads were started: the reader thread reads from now on */
    wipc__mutex aq_lock; /* the async send queue: frames that found the ring full */
    struct wipc__shm_aq_entry *aq_head, *aq_tail, *aq_busy; /* aq_busy: the one being sent */
    size_t aq_bytes;
    bool aq_scheduled; /* a drain job is on the pool */
} wipc__shm_chan;

/* The reader thread reads the ring (callbacks, or async reads pending): blocking calls wait for it. */
static inline bool wipc__shm_thread_reads(struct wipc__shm_chan *c)
{
    return atomic_load(&c->obj.has_callbacks) || atomic_load(&c->async_io);
}

/* The files stack one way (a file calls only files below it): shm_channel.c (liveness, waking,
 * waiting) < shm_stream.c < shm_session.c < shm_send.c < shm_read.c < shm_async.c < shm_api.c (the
 * entry points and the channel's wipc__ops, which reach every layer). */

/* shm_api.c */
extern const wipc__ops wipc__shm_chan_ops;

/* shm_channel.c */
/* Wake this side's ring reader / this side's senders (ring room and the send turn). */
void wipc__shm_rx_wake(wipc__shm_chan *c);
void wipc__shm_tx_wake_all(wipc__shm_chan *c);
/* Closing: waits until no thread of this process is in the rings, drops the peer watch, leaves the section. */
void wipc__shm_leave(wipc__shm_chan *c);
/* Peer state: checks the section (and, at most every 100 ms or when `force`, the peer's process)
 * and reports a lost peer to waiters. Returns WIPC_OK if a peer is attached and alive, WIPC_E_DISCONNECTED
 * if it left or died, WIPC_E_NOT_FOUND if none attached yet (creator). */
wipc_status wipc__shm_peer_check(wipc__shm_chan *c, bool force);
/* Ends the channel because the section is corrupt (or another fatal error): waiters get `why`. */
wipc_status wipc__shm_fail(wipc__shm_chan *c, wipc_status why, const char *fn, const char *reason);
/* Sleeps on wake word `word` of the section while `*flag` stays as the caller set it, at most
 * `ms` (from wipc__shm_slice), after a final check with `ready(arg)`. */
void wipc__shm_sleep(wipc__shm_chan *c, unsigned word, _Atomic uint32_t *flag, bool (*ready)(void *), void *arg,
                     int32_t ms);
/* Busy-waits up to spin_us for ready(arg). */
bool wipc__shm_spin(wipc__shm_chan *c, bool (*ready)(void *), void *arg);
/* The status for a call that finds the handle closed or the channel ended. */
wipc_status wipc__shm_ended(wipc__shm_chan *c, const char *fn);
/* The next slice to sleep: min(remaining, 100 ms), or min(remaining, 60 s) while the peer's exit is
 * watched (or there is no peer: its arrival and its close wake the waiters); 0 when the deadline passed. */
int32_t wipc__shm_slice(wipc__shm_chan *c, wipc__timeout *deadline);

/* wipc_close was called on the channel (inline: on every send and receive). */
static inline bool wipc__shm_closed(wipc__shm_chan *c)
{
    return atomic_load_explicit(&c->obj.closed, memory_order_acquire);
}

/* shm_send.c */
wipc_status wipc__shm_send(wipc__obj *o, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                           size_t size, int32_t timeout_ms);
/* The same within the caller's deadline `dl` (wipc_request: the send and the wait for the reply share
 * one timeout). */
wipc_status wipc__shm_send_within(wipc__shm_chan *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                                  size_t size, wipc__timeout *dl);
/* The same, resumable (the async drain job): `*sent` (0 at first) counts the bytes of a streamed message
 * already published. A streamed message that times out with *sent > 0 keeps the turn (WIPC__TX_STREAM)
 * for the next call to resume; wipc__shm_stream_abandon gives it up. */
wipc_status wipc__shm_send_resumable(wipc__shm_chan *c, uint8_t kind, uint64_t request_id, uint32_t type,
                                     const void *data, size_t size, wipc__timeout *dl, size_t *sent);
void wipc__shm_stream_abandon(wipc__shm_chan *c);
/* Streamed pieces are at most this many payload bytes (and a quarter of the ring); a blocking send
 * above WIPC__SHM_STREAM_ABOVE bytes goes in pieces to a streaming peer even when it fits the ring
 * (shm_send.c, pieces_overlap). */
#define WIPC__SHM_PIECE_MAX    (128u << 10)
#define WIPC__SHM_STREAM_ABOVE (256u << 10)
/* True if a message of `size` bytes must be streamed (its record would not fit the ring). */
static inline bool wipc__shm_streamed(const wipc__shm_chan *c, size_t size)
{
    return wipc__ring_record_size(size) > c->tx.cap;
}
wipc_status wipc__shm_reserve(wipc__shm_chan *c, size_t size, void **out_ptr, int32_t timeout_ms);
wipc_status wipc__shm_commit(wipc__shm_chan *c, uint32_t type, size_t size);
/* shm_read.c */
wipc_status wipc__shm_recv(wipc__obj *o, void *buf, size_t cap, wipc_message *out, int32_t timeout_ms);
wipc_status wipc__shm_request(wipc__obj *o, uint32_t type, const void *req, size_t req_size, void *resp,
                              size_t resp_cap, size_t *out_resp_size, int32_t timeout_ms);
wipc_status wipc__shm_peek(wipc__shm_chan *c, const void **out_ptr, size_t *out_size, uint32_t *out_type,
                           int32_t timeout_ms);
wipc_status wipc__shm_release(wipc__shm_chan *c);
/* Starts the reader thread (callbacks). */
wipc_status wipc__shm_pump_start(wipc__shm_chan *c);
void wipc__shm_pump_stop(wipc__shm_chan *c);

/* shm_async.c */
void wipc__shm_async_init(wipc__shm_chan *c);
void wipc__shm_async_free(wipc__shm_chan *c);
wipc_status wipc__shm_send_async(wipc__obj *o, struct wipc__op *op, uint8_t kind, uint64_t request_id, uint32_t type,
                                 const void *data, size_t size);
wipc_status wipc__shm_recv_async(wipc__obj *o, struct wipc__op *op);
void wipc__shm_resume(wipc__obj *o);
/* Gives the reader role back (to `to`: FREE, or PEEK to keep it for an open peek) and wakes waiters. */
void wipc__shm_role_put(wipc__shm_chan *c, int to);

/* shm_stream.c (reader-role holder) */
/* Frees the record just delivered (the ring's, or the assembled rx_whole). */
void wipc__shm_rx_release(wipc__shm_chan *c);
#define WIPC__STREAM_PLAIN 0 /* not a piece: deliver the record as it is */
#define WIPC__STREAM_TAKEN 1 /* a piece was taken (or skipped); read on */
#define WIPC__STREAM_WHOLE 2 /* the last piece: *rec / *pid now describe the assembled message (rx_whole) */
#define WIPC__STREAM_ERROR 3 /* *st: the channel is ended */
/* `buf` / `cap`: a wipc_recv's buffer (NULL: none); a DATA or REQUEST message that fits is assembled
 * straight into it (rx_in_caller) instead of into its own allocation and copied again. */
int wipc__shm_stream_rx(wipc__shm_chan *c, wipc__ring_rec *rec, uint32_t *pid, wipc_status *st, const char *fn,
                        void *buf, size_t cap);
/* The wipc_recv reading ends before its message is whole: what was assembled in its buffer moves to
 * an allocation of its own (WIPC_E_NO_MEMORY, the channel ended, if there is none). */
wipc_status wipc__shm_stream_unborrow(wipc__shm_chan *c, const char *fn);
/* An assembled message not taken yet: fills *rec / *pid with it and returns true. */
bool wipc__shm_stream_pending(wipc__shm_chan *c, wipc__ring_rec *rec, uint32_t *pid);
/* Drops the message being assembled (its writer gave up or left). */
void wipc__shm_stream_drop(wipc__shm_chan *c, const char *why);
/* copy_record for the assembled message: hands rx_whole over instead of copying. NULL if `rec` is not it. */
wipc__rxmsg *wipc__shm_stream_steal(wipc__shm_chan *c, const wipc__ring_rec *rec, uint32_t pid);

/* shm_session.c (creator; called by the reader-role holder only) */
/* A record is about to be delivered: begins its session if it is a later one. Returns the pid to
 * report with it. (Also called on an opener: then it only picks the pid.) */
uint32_t wipc__shm_sess_record(wipc__shm_chan *c, const wipc__ring_rec *rec);
/* The ring is empty; `session` and `ident` were read from the header before it was found so. */
void wipc__shm_sess_idle(wipc__shm_chan *c, uint32_t session, uint64_t ident, uint64_t dead_ident);
/* Raises the open session's CONNECTED if there are callbacks and it was not raised yet. */
void wipc__shm_sess_announce(wipc__shm_chan *c);

/* Counting a message on a channel (wipc_stat). Each counter has one writer at a time - sends the tx
 * turn holder, receives the reader-role holder - and handing the turn / role on orders them, so a
 * relaxed load and store do what wipc__count_sent's locked adds do, without a locked instruction per
 * message (readers, also in other processes, load the counters relaxed: a torn value is impossible,
 * as the store is one aligned 64-bit store). */
static inline void wipc__shm_count(_Atomic uint64_t *msgs, _Atomic uint64_t *bytes, wipc__obj *o, size_t size)
{
    atomic_store_explicit(msgs, atomic_load_explicit(msgs, memory_order_relaxed) + 1, memory_order_relaxed);
    atomic_store_explicit(bytes, atomic_load_explicit(bytes, memory_order_relaxed) + size, memory_order_relaxed);
    wipc__stats_touch_coarse(o);
}

/* CPU hint for spin loops. */
static inline void wipc__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif /* WIPC_SHM_H */
