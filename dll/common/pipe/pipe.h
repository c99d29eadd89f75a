/*
 * pipe.h - the portable half of the pipe transport, shared by pipe.c (connections, servers, sends,
 * the wipc_pipe_* entry points) and pipe_read.c (frame decoding and who reads).
 *
 * The files stack one way; each calls only the ones below it by name (scripts/lib/file_deps.py checks):
 *   pipe_conn.c < pipe_lenprefix.c < pipe_wq.c < pipe_bulk.c < pipe_send.c < pipe_read.c
 *     < pipe_async.c < pipe.c < pipe_connect.c
 *  - pipe_conn.c: the writer exclusion, wipc__conn_fail, the send checks, body growth, wake-ups;
 *  - pipe_lenprefix.c: the bytes before a payload, the LENGTH_PREFIX decoder;
 *  - pipe_wq.c: the write queue and wipc__conn_write_frame (one frame, after the queued ones);
 *  - pipe_bulk.c: large messages through a shared section;
 *  - pipe_send.c: wipc__conn_send, which of the three above a send takes;
 *  - pipe_read.c: the decoder and the reader role; pipe_async.c: the async ops hooks;
 *  - pipe.c: the connection's life (handshake, end), servers, the ops table, the entry points;
 *  - pipe_connect.c: wipc_pipe_connect_async.
 * The reader calls up to pipe.c (the handshake, the end of a connection) only through the
 * connection's `up` table, which wipc__conn_new sets (like the backend's wipc__pipe_calls).
 *
 * Who reads a connection (the "reader role", like the shm channel's: reader_role.h, shm_read.c):
 *  - WIPC__CONN_ROLE_IO: the backend's I/O thread reads it and hands every chunk to wipc__core_read. That is the
 *    case during the HELLO handshake, for WIPC_PIPE_RAW connections and for connections with
 *    callbacks.
 *  - WIPC__CONN_ROLE_FREE / WIPC__CONN_ROLE_CALLER: a connection without callbacks is read by the threads that wait on it.
 *    The thread in wipc_recv / wipc_recv_message / wipc_request takes the role (WIPC__CONN_ROLE_CALLER) and
 *    reads the pipe itself with wipc__plat_pipe_read, on its own thread: its own message goes straight
 *    into its buffer (no thread hop, no allocation); frames for others go to them (replies to their
 *    waiters, other messages to the inbox queue, which wipc_recv reads first). The role is handed
 *    to the I/O thread when callbacks are set (whoever frees the role then) and taken from it after
 *    the handshake (wipc__core_read returns 0).
 * The decoder state (partial header / body, the read buffer) belongs to whoever holds the role.
 */
#ifndef WIPC_PIPE_H
#define WIPC_PIPE_H

#include "common/core/core.h"
#include "common/core/frame.h"
#include "common/core/reader_role.h"
#include "common/core/reply.h"

typedef struct wipc__server wipc__server;

/* The HELLO flag this backend offers bulk sections with (a backend may define it in its plat_types.h). */
#ifndef WIPC__PLAT_HELLO_BULK
#  define WIPC__PLAT_HELLO_BULK WIPC__HELLO_BULK
#endif

#define WIPC__HANDSHAKE_GRACE_MS 2000 /* time a server that accepted has to answer HELLO */
#define WIPC__PIPE_RBUF          (68u * 1024) /* the caller-side read buffer: a 64 KiB payload + header in one read */
#define WIPC__SMALL_PAYLOAD      488u /* frames up to 512 bytes are sent from one buffer */
#define WIPC__WQ_GATHER_MAX      (64u * 1024) /* the write queue writes queued frames of up to this many bytes together */
#define WIPC__WQ_GATHER_FRAME    (8u * 1024) /* ... when each is at most this large (larger ones go alone, uncopied) */

typedef enum wipc__conn_state { WIPC__CONN_HANDSHAKE, WIPC__CONN_OPEN, WIPC__CONN_DEAD } wipc__conn_state;

enum { WIPC__CONN_ROLE_FREE = WIPC__READER_FREE, WIPC__CONN_ROLE_CALLER = WIPC__READER_HELD, WIPC__CONN_ROLE_IO = 2 };

/* Where the body of the frame being decoded goes. */
enum { WIPC__DEST_MSG = 0, WIPC__DEST_DIRECT = 1, WIPC__DEST_DISCARD = 2, WIPC__DEST_BULK = 3 };

/* Large messages (pipe_bulk.c): when both ends are on this machine and said WIPC__HELLO_BULK, a
 * message of at least WIPC__BULK_MIN bytes is copied into the sender's shared section and only a
 * BULK frame (a 32-byte descriptor) travels through the pipe once the copy is complete; the receiver
 * copies it out of the section straight into the destination (its caller's buffer, or a message)
 * and frees the slot. */
#define WIPC__BULK_MIN (256u * 1024)
/* The threshold this backend sends with: WIPC__BULK_MIN unless its plat_types.h sets a lower one
 * (Win32: 64 KiB). Only the sender decides; a receiver takes a BULK frame of any length. */
#ifdef WIPC__PLAT_BULK_MIN
#  define WIPC__BULK_SEND_MIN WIPC__PLAT_BULK_MIN
#else
#  define WIPC__BULK_SEND_MIN WIPC__BULK_MIN
#endif

#define WIPC__BODY_FIRST (64u * 1024) /* a message body's first allocation; it doubles as bytes arrive (pipe_conn.c) */

/* pipe.c's functions the layers below call up to, through wipc__conn.up (pipe.c sets it). */
typedef struct wipc__conn_up {
    void (*end)(struct wipc__conn *c, wipc_status why); /* wipc__conn_end */
    void (*handshake)(struct wipc__conn *c, uint8_t kind, wipc__rxmsg *m); /* wipc__conn_handshake */
} wipc__conn_up;

typedef struct wipc__pipe_bulk { /* one mapped bulk section: ours (tx) or the peer's (rx) */
    wipc__bulk_section *sec;
    uint8_t *base;
    uint32_t number;
    uint64_t slot_size;
} wipc__pipe_bulk;

/* One sender at a time, and a waiter gives up at its own deadline: a plain mutex would hold a
 * wipc_send with a short timeout behind another thread's write that may block for its whole (even
 * infinite) timeout on a full pipe. */
typedef struct wipc__pipe_excl {
    wipc__mutex m;
    wipc__cond cv;
    bool held; /* m */
} wipc__pipe_excl;

typedef struct wipc__conn {
    wipc__obj obj; /* first: a conn is an object */
    wipc__pipe *pipe;
    const wipc__conn_up *up; /* pipe.c's up-calls (set by wipc__conn_new) */
    wipc__server *server; /* accepted connections: the server (ref held), else NULL */
    bool raw;
    bool lenprefix; /* WIPC_PIPE_LENGTH_PREFIX (raw too): pipe_lenprefix.c */
    _Atomic int state; /* wipc__conn_state: changed under obj.lock, read anywhere */
    bool busy; /* the server answered BUSY */
    bool started; /* the backend holds a reference and will call wipc__core_closed */
    bool dead; /* conn_end ran: waiters woken, server slot freed (obj.lock) */
    bool released; /* wipc__core_closed ran: the backend let go (obj.lock) */

    /* reader role (see above) */
    wipc__reader_role role; /* ROLE_*; its waiters: threads waiting to read or for a reply */
    atomic_bool hup; /* the I/O thread saw the peer hang up while no thread read */
    wipc__reply_waiter *waiters; /* wipc_request in flight (obj.lock) */

    /* decoder: owned by the role holder */
    uint8_t hdr[WIPC__FRAME_HEADER];
    size_t hdr_have;
    bool have_frame; /* cur is decoded, its body is being read */
    wipc__frame cur;
    int dest; /* DEST_* of the current body */
    uint8_t *direct; /* WIPC__DEST_DIRECT: the waiting caller's buffer */
    wipc__rxmsg *body; /* WIPC__DEST_MSG: grows as the bytes arrive (body_cap), never to the claimed length up front */
    size_t body_have;
    size_t body_cap; /* bytes allocated at body->data */
    uint8_t *rbuf; /* WIPC__PIPE_RBUF bytes, allocated on the first caller read */
    size_t rpos, rlen; /* unconsumed input: rbuf[rpos..rlen) */
    bool scatter_ok; /* the backend has wipc__plat_pipe_read2 (until it says no) */

    /* large messages through a shared section (pipe_bulk.c) */
    bool bulk_offer; /* our HELLO said WIPC__HELLO_BULK: BULK frames are welcome */
    atomic_bool bulk_tx; /* the peer's said it too: large sends use our section (set by the handshake) */
    uint32_t hello_pid; /* the peer's pid as its HELLO gave it (its sections' names) */
    wipc__pipe_excl bulk_excl; /* one large send at a time through tx */
    wipc__pipe_bulk tx; /* our section (bulk_excl) */
    wipc__pipe_bulk rx; /* the peer's section, mapped by the role holder */
    uint8_t bulkd[WIPC__BULK_DESC]; /* the BULK frame being decoded */

    /* asynchronous operations (pipe_async.c) and the write queue (pipe_wq.c) */
    atomic_bool async_io; /* async reads were started: the I/O thread reads from now on */
    atomic_bool peer_errors; /* the peer's HELLO offered ERROR frames (remote errors, wipc 1.1) */
    struct wipc__op *connect_op; /* wipc_pipe_connect_async waiting for this handshake (ref; set before start) */
    wipc__mutex wq_lock;
    struct wipc__wq_entry *wq_head, *wq_tail, *wq_inflight;
    size_t wq_bytes; /* bytes of queued and in-flight frames (wq_lock) */
    atomic_int wq_count; /* queued frames, read without the lock by blocking writers */
    bool wq_writer; /* the queue holds `writer` (wq_lock) */
    bool write_behind; /* WIPC_PIPE_WRITE_BEHIND: wipc_send / wipc_reply queue behind a busy pipe (pipe_wq.c) */
    wipc__cond wq_cv; /* (wq_lock) broadcast when queued bytes leave the queue or the connection ends */
    atomic_int wq_lost; /* the first error that dropped a write-behind frame (0: none) */
    uint8_t *wq_gather; /* WIPC__WQ_GATHER_MAX bytes: small queued frames copied together for one write (wq_lock) */
    _Atomic(struct wipc__wq_entry *) wq_spare; /* a free write-behind chunk kept for the next one (pipe_wq.c) */
    bool wq_kicked; /* (wq_lock) wipc__plat_pipe_write_kick asked for the I/O thread's turn (the queue holds
                       `writer` and a reference until wipc__core_write_kick) */
    uint64_t wb_last_ns; /* (wq_lock) write-behind: when the last wipc_send began (monotonic ns) */
    uint64_t wb_recv_seen; /* (wq_lock) write-behind: messages received (the counter) at the last send */
    uint64_t wb_gap_ns; /* (wq_lock) write-behind: a send this soon after the last one is queued (twice
                           the last direct write's duration, halved when the queue turns out idle) */

    /* sending */
    wipc__pipe_excl writer; /* one frame written at a time (blocking writers and the write queue) */
    bool write_broken; /* (writer) a frame was cut short: the stream cannot be resynchronised */
    struct wipc__conn *next_pending; /* server's accept queue link (guarded by the server's lock) */

    /* server side: the handshake deadline (pipe.c, the handshake watch; guarded by its lock) */
    struct wipc__conn *hs_prev, *hs_next;
    bool hs_watched; /* in the watch list (which holds a reference) */
    wipc__deadline hs_deadline; /* by when the client's HELLO must have come */

} wipc__conn;

/* pipe_conn.c */
void wipc__excl_init(wipc__pipe_excl *x);
void wipc__excl_destroy(wipc__pipe_excl *x);
/* Takes x, waiting for another holder up to dl: WIPC_OK, or WIPC_E_TIMEOUT (no last error set). */
wipc_status wipc__excl_enter(wipc__pipe_excl *x, wipc__timeout *dl);
/* Takes x if nobody holds it, without waiting. */
bool wipc__excl_try(wipc__pipe_excl *x);
void wipc__excl_leave(wipc__pipe_excl *x);
void wipc__conn_fail(wipc__conn *c, wipc_status why, const char *reason);
wipc_status wipc__conn_send_check(wipc__conn *c, uint8_t kind, size_t size);
/* makes room for `need` of a body of `len` bytes, growing it as its bytes arrive */
bool wipc__conn_body_reserve(wipc__conn *c, size_t need, size_t len);
/* The connection ended: threads waiting for queue room or a flush wake up. */
void wipc__wq_wake(wipc__conn *c);
/* The handshake of c ended (open or not): a connect_async waiting for it goes on. */
void wipc__conn_connect_op_wake(wipc__conn *c);

/* pipe_send.c */
wipc_status wipc__conn_send(wipc__obj *o, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                            size_t size, int32_t timeout_ms);

/* pipe.c */
void wipc__conn_end(wipc__conn *c, wipc_status why);
/* a HELLO (or BUSY) frame completed on the I/O thread */
void wipc__conn_handshake(wipc__conn *c, uint8_t kind, wipc__rxmsg *m);

/* pipe.c: shared with pipe_connect.c */
wipc_status wipc__pipe_prepare(const char *fn, const char *name, const wipc_pipe_options *user, wipc_pipe_options *o,
                               wipc__pipe_cfg *cfg);
wipc__conn *wipc__conn_new(const char *name, uint32_t flags, uint32_t max_message_size, wipc__pipe *p);
wipc_status wipc__conn_start(wipc__conn *c);
wipc_status wipc__conn_send_hello(wipc__conn *c);
void wipc__conn_close_wait(wipc__conn *c); /* shuts the pipe, waits (bounded) for the backend to let go */

/* pipe_wq.c: the write queue (async sends, replies from callbacks) */
void wipc__wq_init(wipc__conn *c);
/* Sends a frame without waiting: written at once if the pipe takes it, else queued (copied) and
 * written by the backend (wipc__plat_pipe_write_start). `op` (may be NULL: a reply nobody waits for)
 * completes with the write (SEND) or only on a write error (REQUEST). Returns WIPC_OK (sent or
 * queued), or an error with nothing sent: WIPC_E_BUSY (queue full), WIPC_E_TOO_LARGE, ... */
wipc_status wipc__wq_send(wipc__conn *c, struct wipc__op *op, uint8_t kind, uint64_t request_id, uint32_t type,
                          const void *data, size_t size);
/* WIPC_PIPE_WRITE_BEHIND (wipc_send, wipc_reply of up to WIPC__WQ_GATHER_FRAME bytes): written at
 * once when it is lone (no send began within wb_gap_ns before it), nothing is queued and the pipe
 * takes it without blocking, else copied into the queue (the I/O thread writes it: one kick when the
 * queue turns non-empty),
 * waiting up to timeout_ms for room (max_queued_bytes, and max(max_queued_messages,
 * max_queued_bytes / 128) frames: behind_frames in pipe_wq.c).
 * WIPC_OK (written or queued), or an error with nothing queued (WIPC_E_TIMEOUT, the connection's end). */
wipc_status wipc__wq_send_behind(wipc__conn *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                                 size_t size, int32_t timeout_ms);
/* wipc_flush: waits up to timeout_ms until nothing is queued or being written. WIPC_OK (every queued
 * frame is in the pipe), WIPC_E_TIMEOUT, or the error that ended the connection / dropped a frame. */
wipc_status wipc__wq_flush(wipc__conn *c, int32_t timeout_ms);
/* A blocking writer let `writer` go: the queue takes it if it has frames. */
void wipc__wq_kick(wipc__conn *c);
void wipc__wq_free(wipc__conn *c); /* destroy: drops what is left */
/* The op hooks of queued sends (SEND, REPLY) */
extern const struct wipc__op_vt wipc__wq_op_vt;
/* writes one frame (no message counters) */
wipc_status wipc__conn_write_frame(wipc__conn *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                                   size_t size, int32_t timeout_ms);

/* pipe_async.c */
wipc_status wipc__conn_send_async(wipc__obj *o, struct wipc__op *op, uint8_t kind, uint64_t request_id, uint32_t type,
                                  const void *data, size_t size);
wipc_status wipc__conn_recv_async(wipc__obj *o, struct wipc__op *op);
/* Async reads from now on: the I/O thread reads the connection (as with callbacks). */
void wipc__conn_go_async(wipc__conn *c);

/* pipe_bulk.c */
/* whether our HELLO offers BULK frames (see pipe_bulk.c) */
bool wipc__bulk_offer(uint32_t flags, const char *name, wipc__pipe *p);
/* WIPC_OK (sent), an error, or WIPC_E_NOT_SUPPORTED: no section could be made, send it the usual way */
wipc_status wipc__bulk_send(wipc__conn *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                            size_t size, int32_t timeout_ms);
/* A BULK frame's descriptor (c->bulkd): maps the peer's section if needed, checks it, marks the slot
 * TAKING and points at the (whole) message: its kind, bytes, length and slot. Role holder only. Sets
 * the last error on failure. */
wipc_status wipc__bulk_take(wipc__conn *c, uint8_t *kind, const uint8_t **data, size_t *len, unsigned *slot);
/* The message is copied out: the slot is the sender's again. */
void wipc__bulk_release(wipc__conn *c, unsigned slot);
void wipc__bulk_free(wipc__conn *c);

/* pipe_lenprefix.c: the bytes before a payload, and the LENGTH_PREFIX decoder */
#define WIPC__LP_HEADER 4u /* a LENGTH_PREFIX message's little-endian length */
/* Writes what goes before a `size`-byte payload on c to `out` (WIPC__FRAME_HEADER bytes of room):
 * wipc's frame header, a LENGTH_PREFIX connection's 4-byte length, or nothing (RAW). Returns how
 * many bytes. */
size_t wipc__conn_prefix(const wipc__conn *c, uint8_t *out, uint8_t kind, uint64_t request_id, uint32_t type,
                         size_t size);
/* The I/O thread's input on a LENGTH_PREFIX connection: whole messages to the inbox; a length above
 * max_message_size ends the connection. Returns true when the inbox asks to pause reading. */
bool wipc__lp_read(wipc__conn *c, const uint8_t *data, size_t n);

/* pipe_read.c: the ops hooks and the role */
wipc_status wipc__conn_recv(wipc__obj *o, void *buf, size_t cap, wipc_message *out, int32_t timeout_ms);
wipc_status wipc__conn_request(wipc__obj *o, uint32_t type, const void *req, size_t req_size, void *resp,
                               size_t resp_cap, size_t *out_resp_size, int32_t timeout_ms);
void wipc__conn_callbacks_set(wipc__obj *o);
void wipc__conn_resume(wipc__obj *o);
void wipc__conn_read_free(wipc__conn *c); /* frees decoder buffers (destroy) */

#endif /* WIPC_PIPE_H */
