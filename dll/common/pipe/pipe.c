/*
 * pipe.c - the top of the portable pipe transport: connections (life, HELLO handshake, end),
 * servers (accept queue, auto-accept with callbacks, instance limit), the ops table and the
 * wipc_pipe_* entry points. Sends are in pipe_send.c and the files below it, reading and frame
 * decoding - on the I/O thread or on the waiting caller's thread - in pipe_read.c (see pipe.h for
 * who reads when, and for the order of the files). The backend (dll/win32/pipe*.c, dll/linux/pipe.c) only
 * moves bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/pipe/pipe.h"
#include "common/core/op.h"

struct wipc__server {
    wipc__obj obj;
    wipc__listener *listener; /* guarded by obj.lock; NULL once closed */
    wipc__pipe_cfg cfg;
    int32_t handshake_ms; /* a client's HELLO deadline, WIPC_INFINITE = none */
    size_t max_queued_bytes, max_queued_count; /* given to each connection */
    char *sddl;
    wipc__conn *pending_head, *pending_tail; /* handshaken, waiting for wipc_pipe_accept */
    uint32_t live; /* connections accepted and not yet ended */
    int accepters; /* threads in wipc_pipe_accept */
};

static void conn_close(wipc__obj *o);
static wipc_status conn_flush(wipc__obj *o, int32_t timeout_ms);
static void hs_watch(wipc__conn *c, int32_t ms);
static void hs_done(wipc__conn *c);
static void conn_destroy(wipc__obj *o);
static void server_close(wipc__obj *o);
static void server_destroy(wipc__obj *o);
static void server_callbacks_set(wipc__obj *o);
static void server_info(wipc__obj *o, wipc_info *out);
static void conn_info(wipc__obj *o, wipc_info *out);

static const wipc__ops conn_ops = {
    .kind = WIPC_KIND_PIPE_CONN,
    .transport = WIPC_TRANSPORT_PIPE,
    .close = conn_close,
    .destroy = conn_destroy,
    .send = wipc__conn_send,
    .resume = wipc__conn_resume,
    .info = conn_info,
    .callbacks_set = wipc__conn_callbacks_set,
    .recv = wipc__conn_recv,
    .request = wipc__conn_request,
    .send_async = wipc__conn_send_async,
    .recv_async = wipc__conn_recv_async,
    .flush = conn_flush,
};

/* What the layers below call up to (pipe.h, wipc__conn_up). */
static const wipc__conn_up conn_up = { .end = wipc__conn_end, .handshake = wipc__conn_handshake };

static const wipc__ops server_ops = {
    .kind = WIPC_KIND_PIPE_SERVER,
    .transport = WIPC_TRANSPORT_PIPE,
    .close = server_close,
    .destroy = server_destroy,
    .callbacks_set = server_callbacks_set,
    .info = server_info,
};

/* ---- connection ---------------------------------------------------------------------------------- */

wipc__conn *wipc__conn_new(const char *name, uint32_t flags, uint32_t max_message_size, wipc__pipe *p)
{
    wipc__conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    wipc__obj_init(&c->obj, &conn_ops, name, flags);
    c->obj.max_message_size = max_message_size;
    c->pipe = p;
    c->up = &conn_up;
    c->raw = (flags & (WIPC_PIPE_RAW | WIPC_PIPE_LENGTH_PREFIX)) != 0;
    c->lenprefix = (flags & WIPC_PIPE_LENGTH_PREFIX) != 0;
    c->write_behind = (flags & WIPC_PIPE_WRITE_BEHIND) != 0;
    c->state = c->raw ? WIPC__CONN_OPEN : WIPC__CONN_HANDSHAKE;
    atomic_init(&c->role.holder, WIPC__CONN_ROLE_IO); /* the I/O thread reads until the handshake is done */
    c->scatter_ok = true;
    c->bulk_offer = wipc__bulk_offer(flags, name, p);
    wipc__excl_init(&c->bulk_excl);
    wipc__excl_init(&c->writer);
    wipc__wq_init(c);
    wipc__plat_pipe_peer(p, &c->obj.peer_pid, &c->obj.peer_uid);
    return c;
}

wipc_status wipc__conn_start(wipc__conn *c)
{
    wipc__obj_ref(&c->obj); /* the backend's reference, dropped in wipc__core_closed */
    c->started = true; /* before: the backend may end the pipe on its I/O thread at once (conn_end reads it) */
    wipc_status st = wipc__plat_pipe_start(c->pipe, c);
    if (st != WIPC_OK) {
        c->started = false; /* nothing started: the backend never calls back */
        wipc__obj_unref(&c->obj);
        return st;
    }
    return WIPC_OK;
}

/* The connection is over (EOF, error, close): the server's slot is freed first, then waiters wake
 * with `why` (so a thread that sees WIPC_E_DISCONNECTED also sees the server's count drop), and the
 * backend is told to let go (wipc__core_closed follows on its I/O thread). Idempotent; called by the
 * reader that saw the end, or from wipc__core_closed. */
void wipc__conn_end(wipc__conn *c, wipc_status why)
{
    wipc__mutex_lock(&c->obj.lock);
    bool first = !c->dead;
    c->dead = true;
    c->state = WIPC__CONN_DEAD;
    wipc__mutex_unlock(&c->obj.lock);
    if (!first)
        return;
    hs_done(c);
    wipc__server *s = c->server;
    if (s) {
        wipc__mutex_lock(&s->obj.lock);
        if (s->live)
            s->live--;
        wipc__listener *l = s->listener;
        if (l)
            wipc__plat_listener_slot_free(l);
        wipc__mutex_unlock(&s->obj.lock);
    }
    wipc__inbox_fail(&c->obj, why);
    wipc__wq_wake(c);
    if (c->started)
        wipc__plat_pipe_stop(c->pipe);
    wipc__conn_connect_op_wake(c);
}

static wipc_status send_hello(wipc__conn *c, uint8_t kind)
{
    uint8_t payload[WIPC__HELLO_SIZE];
    wipc__hello h = { WIPC__FRAME_VERSION, wipc__getpid(), c->obj.max_message_size,
                      (c->bulk_offer ? WIPC__PLAT_HELLO_BULK : 0) | WIPC__HELLO_ERRORS };
    wipc__hello_encode(payload, &h);
    return wipc__conn_send(&c->obj, kind, 0, 0, payload, kind == WIPC__FRAME_HELLO ? sizeof payload : 0, 5000);
}

wipc_status wipc__conn_send_hello(wipc__conn *c)
{
    return send_hello(c, WIPC__FRAME_HELLO);
}

static void server_conn_ready(wipc__server *s, wipc__conn *c);

void wipc__conn_handshake(wipc__conn *c, uint8_t kind, wipc__rxmsg *m)
{
    char why[160];
    wipc__hello h;
    wipc__mutex_lock(&c->obj.lock);
    bool handshaking = c->state == WIPC__CONN_HANDSHAKE;
    wipc__mutex_unlock(&c->obj.lock);
    if (!handshaking) {
        wipc__rxmsg_free(m);
        wipc__conn_fail(c, WIPC_E_PROTOCOL, "HELLO/BUSY frame after the handshake");
        return;
    }
    if (kind == WIPC__FRAME_BUSY) {
        wipc__rxmsg_free(m);
        wipc__mutex_lock(&c->obj.lock);
        c->busy = true;
        wipc__mutex_unlock(&c->obj.lock);
        wipc__conn_fail(c, WIPC_E_BUSY, NULL);
        wipc__conn_connect_op_wake(c);
        return;
    }
    wipc_status st = wipc__hello_decode(m->data, m->size, &h, why, sizeof why);
    wipc__rxmsg_free(m);
    if (st != WIPC_OK) {
        wipc__conn_fail(c, st, why);
        wipc__conn_connect_op_wake(c);
        return;
    }
    wipc__mutex_lock(&c->obj.lock);
    atomic_store(&c->obj.peer_max_message_size, h.max_message_size);
    if (c->obj.peer_pid == 0)
        c->obj.peer_pid = h.pid;
    c->hello_pid = h.pid;
    atomic_store(&c->bulk_tx, c->bulk_offer && (h.flags & WIPC__PLAT_HELLO_BULK));
    atomic_store(&c->peer_errors, (h.flags & WIPC__HELLO_ERRORS) != 0);
    c->state = WIPC__CONN_OPEN;
    wipc__cond_broadcast(&c->obj.cond);
    wipc__mutex_unlock(&c->obj.lock);
    wipc__conn_connect_op_wake(c);
    hs_done(c);
    if (c->server)
        server_conn_ready(c->server, c);
}

void wipc__core_closed(struct wipc__conn *c, wipc_status why)
{
    wipc__conn_end(c, why);
    wipc__mutex_lock(&c->obj.lock);
    c->released = true;
    wipc__cond_broadcast(&c->obj.cond);
    wipc__mutex_unlock(&c->obj.lock);
    wipc__obj_unref(&c->obj); /* the backend's reference */
}

/* ---- the handshake watch (server side) ------------------------------------------------------------
 * A client that connects and never completes the HELLO handshake would hold an instance slot (and
 * on Windows an OS pipe instance) for ever: 64 such squatters lock every legitimate client out. Each
 * accepted connection is watched until its handshake completes; one library thread, started with
 * the first watched connection and idle (blocked, no wake-ups) while none is, fails those whose
 * deadline passed and frees their slot at once. Both backends: it only uses the core's calls. */

static wipc__mutex hs_lock = WIPC__MUTEX_INIT;
static wipc__cond hs_cond;
static bool hs_init, hs_running, hs_stop;
static wipc__thread hs_thread;
static wipc__conn *hs_head; /* watched connections (each holds a reference) */

static void hs_unlink_locked(wipc__conn *c)
{
    if (c->hs_prev)
        c->hs_prev->hs_next = c->hs_next;
    else
        hs_head = c->hs_next;
    if (c->hs_next)
        c->hs_next->hs_prev = c->hs_prev;
    c->hs_prev = c->hs_next = NULL;
    c->hs_watched = false;
}

/* Ends a connection whose client did not complete the handshake in time (unless it just did). */
static void hs_expire(wipc__conn *c)
{
    wipc__mutex_lock(&c->obj.lock);
    bool late = c->state == WIPC__CONN_HANDSHAKE;
    wipc__mutex_unlock(&c->obj.lock);
    if (late) {
        wipc__log(WIPC_LOG_WARN, "pipe %s: client pid %u did not complete the handshake in time; disconnected",
                  c->obj.name, (unsigned)c->obj.peer_pid);
        wipc__conn_fail(c, WIPC_E_TIMEOUT, NULL);
        wipc__conn_end(c, WIPC_E_TIMEOUT); /* frees the server's slot now */
    }
    wipc__obj_unref(&c->obj); /* the watch's reference */
}

static void hs_main(void *arg)
{
    (void)arg;
    wipc__mutex_lock(&hs_lock);
    while (!hs_stop) {
        uint64_t now = wipc__now_ms();
        wipc__deadline next = wipc__deadline_never();
        wipc__conn *due = NULL;
        for (wipc__conn *c = hs_head, *n; c; c = n) {
            n = c->hs_next;
            if (c->hs_deadline.at_ms <= now) {
                hs_unlink_locked(c);
                c->hs_next = due; /* a private list now */
                due = c;
            } else {
                next = wipc__deadline_min(next, c->hs_deadline);
            }
        }
        if (due) {
            wipc__mutex_unlock(&hs_lock);
            while (due) {
                wipc__conn *n = due->hs_next;
                due->hs_next = NULL;
                hs_expire(due);
                due = n;
            }
            wipc__mutex_lock(&hs_lock);
            continue;
        }
        wipc__cond_wait_until(&hs_cond, &hs_lock, next);
    }
    wipc__mutex_unlock(&hs_lock);
}

/* Watches an accepted connection until its handshake completes (hs_done) or `ms` pass. */
static void hs_watch(wipc__conn *c, int32_t ms)
{
    if (ms < 0)
        return;
    wipc__obj_ref(&c->obj);
    wipc__mutex_lock(&hs_lock);
    if (!hs_init) {
        wipc__cond_init(&hs_cond);
        hs_init = true;
    }
    if (!hs_running && !hs_stop) {
        hs_running = wipc__thread_start(&hs_thread, hs_main, NULL) == WIPC_OK;
        if (!hs_running)
            wipc__log(WIPC_LOG_ERROR, "pipe %s: cannot start the handshake watch thread; no handshake deadline",
                      c->obj.name);
    }
    if (!hs_running) {
        wipc__mutex_unlock(&hs_lock);
        wipc__obj_unref(&c->obj);
        return;
    }
    c->hs_deadline = wipc__deadline_in(ms);
    c->hs_prev = NULL;
    c->hs_next = hs_head;
    if (hs_head)
        hs_head->hs_prev = c;
    hs_head = c;
    c->hs_watched = true;
    if (!c->hs_next || c->hs_deadline.at_ms < c->hs_next->hs_deadline.at_ms)
        wipc__cond_signal(&hs_cond); /* possibly the earliest deadline now */
    wipc__mutex_unlock(&hs_lock);
}

/* The handshake completed or the connection ended: stop watching it. */
static void hs_done(wipc__conn *c)
{
    if (!c->server)
        return;
    wipc__mutex_lock(&hs_lock);
    bool watched = c->hs_watched;
    if (watched) {
        hs_unlink_locked(c);
        if (!hs_head) /* none left: the thread's timed wait for the old earliest deadline becomes an
                         * untimed one now, not a wake-up seconds later in an idle process */
            wipc__cond_signal(&hs_cond);
    }
    wipc__mutex_unlock(&hs_lock);
    if (watched)
        wipc__obj_unref(&c->obj);
}

/* wipc_shutdown: stops the watch thread and ends every connection still in its handshake. */
void wipc__pipe_shutdown_all(void)
{
    wipc__mutex_lock(&hs_lock);
    bool running = hs_running;
    hs_stop = true;
    if (hs_init)
        wipc__cond_broadcast(&hs_cond);
    wipc__mutex_unlock(&hs_lock);
    if (running)
        wipc__thread_join(&hs_thread);
    wipc__mutex_lock(&hs_lock);
    wipc__conn *c;
    while ((c = hs_head) != NULL) {
        hs_unlink_locked(c);
        wipc__mutex_unlock(&hs_lock);
        wipc__conn_fail(c, WIPC_E_CLOSED, NULL);
        wipc__obj_unref(&c->obj);
        wipc__mutex_lock(&hs_lock);
    }
    hs_running = false;
    hs_stop = false; /* the library may be used again after wipc_shutdown */
    wipc__mutex_unlock(&hs_lock);
}

/* Shuts the pipe down and waits (bounded) until the backend has let go of it, so that when
 * wipc_close returns the OS object (pipe instance / socket) is released and the name can be served
 * again at once. */
void wipc__conn_close_wait(wipc__conn *c)
{
    conn_close(&c->obj);
}

static wipc_status conn_flush(wipc__obj *o, int32_t timeout_ms)
{
    return wipc__wq_flush((wipc__conn *)o, timeout_ms);
}

static void conn_close(wipc__obj *o)
{
    wipc__conn *c = (wipc__conn *)o;
    wipc__plat_pipe_shutdown(c->pipe);
    wipc__wq_wake(c);
    if (!c->started)
        return;
    wipc__deadline deadline = wipc__deadline_in(5000);
    wipc__mutex_lock(&o->lock);
    while (!c->released && !wipc__deadline_passed(deadline))
        wipc__cond_wait_until(&o->cond, &o->lock, deadline);
    bool released = c->released;
    wipc__mutex_unlock(&o->lock);
    if (!released)
        wipc__log(WIPC_LOG_WARN, "pipe %s: the I/O thread did not release the connection within 5 s", o->name);
}

static void conn_destroy(wipc__obj *o)
{
    wipc__conn *c = (wipc__conn *)o;
    wipc__conn_read_free(c);
    wipc__bulk_free(c);
    wipc__wq_free(c);
    if (c->pipe)
        wipc__plat_pipe_free(c->pipe);
    wipc__excl_destroy(&c->writer);
    wipc__excl_destroy(&c->bulk_excl);
    if (c->server)
        wipc__obj_unref(&c->server->obj);
}

static void conn_info(wipc__obj *o, wipc_info *out)
{
    wipc__conn *c = (wipc__conn *)o;
    wipc__mutex_lock(&o->lock);
    out->connected = c->state == WIPC__CONN_OPEN;
    wipc__mutex_unlock(&o->lock);
}

/* ---- server ---------------------------------------------------------------------------------------- */

/* Completes the claimed accept op with c (c's reference goes to the handle table). */
static void accept_complete(wipc__op *op, wipc__conn *c)
{
    wipc_status st = wipc__handle_add(&c->obj);
    if (st == WIPC_OK) {
        op->related = c->obj.handle;
    } else {
        wipc__conn_fail(c, WIPC_E_CLOSED, NULL);
        wipc__obj_unref(&c->obj);
    }
    wipc__op_finish(op, st, false);
}

/* Hands a handshaken connection to the application: to the accept queue, or (callbacks) registers
 * it, gives it the server's callbacks and raises CONNECTED on the server. I/O thread. */
static void server_conn_ready(wipc__server *s, wipc__conn *c)
{
    wipc__mutex_lock(&s->obj.lock);
    if (atomic_load(&s->obj.closed)) {
        wipc__mutex_unlock(&s->obj.lock);
        wipc__conn_fail(c, WIPC_E_CLOSED, NULL);
        return;
    }
    if (!atomic_load(&s->obj.has_callbacks)) {
        wipc__op *op = wipc__op_take_fifo_locked(&s->obj, WIPC__OP_ACCEPT);
        if (op) { /* a wipc_pipe_accept_async waits: it gets the connection */
            wipc__mutex_unlock(&s->obj.lock);
            wipc__obj_ref(&c->obj); /* the handle table's reference */
            accept_complete(op, c);
            return;
        }
        wipc__obj_ref(&c->obj); /* the accept queue's reference */
        c->next_pending = NULL;
        if (s->pending_tail)
            s->pending_tail->next_pending = c;
        else
            s->pending_head = c;
        s->pending_tail = c;
        wipc__cond_broadcast(&s->obj.cond);
        wipc__mutex_unlock(&s->obj.lock);
        return;
    }
    wipc__mutex_unlock(&s->obj.lock);
    wipc__obj_ref(&c->obj); /* the handle table's reference: the connection is the application's now */
    if (wipc__handle_add(&c->obj) != WIPC_OK) {
        wipc__conn_fail(c, WIPC_E_NO_MEMORY, "the handle table is full");
        wipc__obj_unref(&c->obj);
        return;
    }
    /* The connection's own callbacks wait until the server's CONNECTED callback has returned. */
    wipc__dispatch_pause(&c->obj, true);
    wipc__obj_ref(&c->obj); /* held by the CONNECTED work item, dropped when it un-pauses */
    wipc__inbox_set_callbacks(&c->obj, s->obj.on_message, s->obj.on_event, s->obj.user_data);
    /* As wipc_set_callbacks does: a connection that waited in the accept queue (its handshake ended
     * before the server had callbacks) is read by callers; the I/O thread reads it from now on. */
    wipc__conn_callbacks_set(&c->obj);
    wipc__dispatch_event(&s->obj, WIPC_EVENT_CONNECTED, c->obj.handle, WIPC_OK, &c->obj);
}

void wipc__core_accepted(struct wipc__server *s, wipc__pipe *p)
{
    wipc__conn *c = wipc__conn_new(s->obj.name, s->obj.flags, s->obj.max_message_size, p);
    if (!c) {
        wipc__log(WIPC_LOG_ERROR, "pipe %s: out of memory for a new connection; client dropped", s->obj.name);
        wipc__plat_pipe_shutdown(p);
        wipc__plat_pipe_free(p);
        return;
    }
    if (s->cfg.sddl)
        c->bulk_offer = false; /* other users may connect: they could not open our sections, nor we theirs */
    c->obj.max_queued_bytes = s->max_queued_bytes;
    c->obj.max_queued_count = s->max_queued_count;
    wipc__mutex_lock(&s->obj.lock);
    bool over = s->cfg.max_instances != WIPC_PIPE_UNLIMITED_INSTANCES && s->live >= s->cfg.max_instances;
    if (!over)
        s->live++;
    wipc__obj_ref(&s->obj);
    c->server = over ? NULL : s;
    wipc__mutex_unlock(&s->obj.lock);
    if (!over)
        wipc__stats_attach(&s->obj, &c->obj);
    if (over) {
        wipc__obj_unref(&s->obj);
        wipc__log(WIPC_LOG_INFO, "pipe %s: all %u instances busy; client told BUSY", s->obj.name,
                  (unsigned)s->cfg.max_instances);
        if (!c->raw)
            send_hello(c, WIPC__FRAME_BUSY);
        wipc__obj_unref(&c->obj); /* frees the pipe */
        return;
    }
    if (wipc__conn_start(c) != WIPC_OK) {
        wipc__log(WIPC_LOG_WARN, "pipe %s: cannot start reading a new connection: %s", s->obj.name,
                  wipc_last_error_message());
        wipc__mutex_lock(&s->obj.lock);
        s->live--;
        wipc__mutex_unlock(&s->obj.lock);
        wipc__obj_unref(&c->obj); /* frees the pipe, drops the server reference */
        return;
    }
    if (c->raw) {
        server_conn_ready(s, c);
        wipc__obj_unref(&c->obj);
        return;
    }
    hs_watch(c, s->handshake_ms); /* a client that never says HELLO is ended and frees its slot */
    if (send_hello(c, WIPC__FRAME_HELLO) != WIPC_OK) {
        wipc__conn_fail(c, WIPC_E_DISCONNECTED, NULL);
    }
    wipc__obj_unref(&c->obj); /* conn_new's reference; the backend and the accept queue hold theirs */
}

static void server_close(wipc__obj *o)
{
    wipc__server *s = (wipc__server *)o;
    wipc__mutex_lock(&o->lock);
    wipc__listener *l = s->listener;
    s->listener = NULL;
    wipc__mutex_unlock(&o->lock);
    if (l)
        wipc__plat_listener_close(l); /* no wipc__core_accepted after this */
    wipc__mutex_lock(&o->lock);
    wipc__conn *c = s->pending_head;
    s->pending_head = s->pending_tail = NULL;
    wipc__cond_broadcast(&o->cond);
    wipc__mutex_unlock(&o->lock);
    while (c) {
        wipc__conn *next = c->next_pending;
        wipc__conn_fail(c, WIPC_E_CLOSED, NULL);
        conn_close(&c->obj);
        wipc__obj_unref(&c->obj);
        c = next;
    }
}

static void server_destroy(wipc__obj *o)
{
    free(((wipc__server *)o)->sddl);
}

static void server_callbacks_set(wipc__obj *o)
{
    wipc__server *s = (wipc__server *)o;
    wipc__mutex_lock(&o->lock);
    wipc__conn *c = s->pending_head;
    s->pending_head = s->pending_tail = NULL;
    wipc__mutex_unlock(&o->lock);
    while (c) {
        wipc__conn *next = c->next_pending;
        server_conn_ready(s, c);
        wipc__obj_unref(&c->obj);
        c = next;
    }
}

static void server_info(wipc__obj *o, wipc_info *out)
{
    wipc__server *s = (wipc__server *)o;
    wipc__mutex_lock(&o->lock);
    out->connected = s->live;
    wipc__mutex_unlock(&o->lock);
}

/* ---- entry points ---------------------------------------------------------------------------------- */

static void defaults(wipc_pipe_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->max_message_size = WIPC_DEFAULT_MAX_MESSAGE;
    o->max_instances = 64;
    o->buffer_size = 0;
    o->handshake_timeout_ms = WIPC_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    o->max_queued_bytes = WIPC_DEFAULT_MAX_QUEUED_BYTES;
    o->max_queued_messages = WIPC_DEFAULT_MAX_QUEUED_MESSAGES;
}

/* The 1.0 entry point: the 1.0 layout only (a 1.0 caller's struct is that small). In parentheses: the
 * header's macro of the same name stands for wipc_pipe_options_init_size. */
WIPC_API void WIPC_CALL(wipc_pipe_options_init)(wipc_pipe_options *o)
{
    wipc_pipe_options_init_size(o, WIPC__PIPE_OPTIONS_1_0);
}

WIPC_API void WIPC_CALL wipc_pipe_options_init_size(wipc_pipe_options *o, uint32_t struct_size)
{
    wipc_pipe_options d;
    defaults(&d);
    wipc__options_init_size(o, &d, sizeof d, struct_size);
}

static bool is_full_path(const char *name)
{
#if defined(_WIN32)
    return name[0] == '\\' && name[1] == '\\';
#else
    return name[0] == '/';
#endif
}

/* The entry points the backend calls up through (platform.h: it never calls them by name). */
static const wipc__pipe_calls core_pipe_calls = {
    .read = wipc__core_read,
    .write_done = wipc__core_write_done,
    .write_kick = wipc__core_write_kick,
    .hup = wipc__core_hup,
    .closed = wipc__core_closed,
    .accepted = wipc__core_accepted,
};

/* Reads and checks the options and the name shared by listen and connect. */
wipc_status wipc__pipe_prepare(const char *fn, const char *name, const wipc_pipe_options *user, wipc_pipe_options *o,
                               wipc__pipe_cfg *cfg)
{
    wipc_pipe_options_init(o);
    wipc_status st = wipc__read_options(o, sizeof *o, user, "wipc_pipe_options");
    if (st != WIPC_OK)
        return st;
    if (!name)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: name is NULL", fn);
    if (o->flags & ~(uint32_t)(WIPC_PIPE_ALLOW_REMOTE | WIPC_PIPE_RAW | WIPC_PIPE_ANY_USER | WIPC_PIPE_NO_STATS |
                               WIPC_PIPE_WAIT_FOR_SERVER | WIPC_PIPE_LENGTH_PREFIX | WIPC_PIPE_WRITE_BEHIND))
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): unknown flags 0x%x", fn, name, (unsigned)o->flags);
    if (o->flags & WIPC_PIPE_LENGTH_PREFIX)
        o->flags |= WIPC_PIPE_RAW; /* a length prefix is a RAW connection's framing: no wipc header, no handshake */
    if ((o->flags & WIPC_PIPE_WRITE_BEHIND) && (o->flags & WIPC_PIPE_RAW))
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "%s(%s): WIPC_PIPE_WRITE_BEHIND needs wipc framing (not with WIPC_PIPE_RAW or "
                           "WIPC_PIPE_LENGTH_PREFIX)",
                           fn, name);
    if (is_full_path(name)) {
        size_t len = strlen(name);
        if (len > 255)
            return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: the full pipe path is %zu characters, at most 255", fn, len);
#if !defined(_WIN32)
        if (!(o->flags & WIPC_PIPE_RAW))
            return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): an absolute socket path needs WIPC_PIPE_RAW", fn, name);
#endif
    } else if ((st = wipc__check_name(name, fn)) != WIPC_OK) {
        return st;
    }
    if (o->max_message_size == 0 || o->max_message_size > WIPC_MAX_MESSAGE_LIMIT)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): max_message_size %u is outside 1..%u", fn, name,
                           (unsigned)o->max_message_size, (unsigned)WIPC_MAX_MESSAGE_LIMIT);
    if (o->max_instances == 0 || o->max_instances > 255)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): max_instances %u is outside 1..255", fn, name,
                           (unsigned)o->max_instances);
    if (o->reserved != 0)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): reserved field is %u, must be 0", fn, name,
                           (unsigned)o->reserved);
    if (o->handshake_timeout_ms < WIPC_INFINITE)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "%s(%s): handshake_timeout_ms %d is negative (use WIPC_INFINITE = -1 for no deadline)", fn,
                           name, (int)o->handshake_timeout_ms);
    if (o->handshake_timeout_ms == 0)
        o->handshake_timeout_ms = WIPC_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (o->max_queued_bytes == 0)
        o->max_queued_bytes = WIPC_DEFAULT_MAX_QUEUED_BYTES;
    if (o->max_queued_messages == 0)
        o->max_queued_messages = WIPC_DEFAULT_MAX_QUEUED_MESSAGES;
#if !defined(_WIN32)
    if (o->security_descriptor)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "%s(%s): security_descriptor (SDDL) is Windows-only; must be NULL on POSIX", fn, name);
#endif
    cfg->flags = o->flags;
    cfg->max_instances = o->max_instances;
    cfg->buffer_size = o->buffer_size; /* 0: the backend's default (Windows: 128 KiB, pipe_listen.c) */
    cfg->sddl = o->security_descriptor;
    cfg->calls = &core_pipe_calls;
    return WIPC_OK;
}

/* The start both wipc_pipe_listen and wipc_pipe_connect share: checks `out` (named `what` in the error)
 * and clears it, then reads the options and the backend's configuration (wipc__pipe_prepare). */
static wipc_status pipe_entry(const char *fn, const char *what, const char *name, const wipc_pipe_options *user,
                              wipc_handle *out, wipc_pipe_options *o, wipc__pipe_cfg *cfg)
{
    wipc_status st = wipc__check_out(out, what);
    if (st != WIPC_OK)
        return st;
    *out = 0;
    return wipc__pipe_prepare(fn, name, user, o, cfg);
}

WIPC_API wipc_status WIPC_CALL wipc_pipe_listen(const char *name, const wipc_pipe_options *user,
                                                wipc_handle *out_server)
{
    wipc_pipe_options o;
    wipc__pipe_cfg cfg;
    wipc_status st = pipe_entry("wipc_pipe_listen", "wipc_pipe_listen: out_server", name, user, out_server, &o, &cfg);
    if (st != WIPC_OK)
        return st;
    wipc__server *s = calloc(1, sizeof *s);
    if (!s)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "wipc_pipe_listen(%s): out of memory", name);
    wipc__obj_init(&s->obj, &server_ops, name, o.flags);
    s->obj.max_message_size = o.max_message_size;
    s->cfg = cfg;
    s->handshake_ms = o.handshake_timeout_ms;
    s->max_queued_bytes = o.max_queued_bytes;
    s->max_queued_count = o.max_queued_messages;
    if (cfg.sddl) {
        s->sddl = malloc(strlen(cfg.sddl) + 1);
        if (!s->sddl) {
            wipc__obj_unref(&s->obj);
            return wipc__error(WIPC_E_NO_MEMORY, 0, "wipc_pipe_listen(%s): out of memory", name);
        }
        strcpy(s->sddl, cfg.sddl);
        s->cfg.sddl = s->sddl;
    }
    if (!(o.flags & WIPC_PIPE_NO_STATS))
        wipc__stats_publish(&s->obj, WIPC_TRANSPORT_PIPE, name); /* before the I/O thread may accept */
    wipc__listener *l = NULL;
    st = wipc__plat_listen(name, &s->cfg, s, &l);
    if (st != WIPC_OK) {
        wipc__obj_unref(&s->obj);
        return st;
    }
    wipc__mutex_lock(&s->obj.lock);
    s->listener = l;
    wipc__mutex_unlock(&s->obj.lock);
    if ((st = wipc__handle_add(&s->obj)) != WIPC_OK) {
        server_close(&s->obj);
        wipc__obj_unref(&s->obj);
        return st;
    }
    *out_server = s->obj.handle;
    wipc__log(WIPC_LOG_INFO, "pipe %s: listening (max %u instances)", name, (unsigned)cfg.max_instances);
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_pipe_accept(wipc_handle server, int32_t timeout_ms, wipc_handle *out_conn)
{
    wipc__obj *o;
    wipc_status st = wipc__check_out(out_conn, "wipc_pipe_accept: out_conn");
    if (st != WIPC_OK)
        return st;
    *out_conn = 0;
    if (timeout_ms < WIPC_INFINITE)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "wipc_pipe_accept: timeout %d ms is negative (use WIPC_INFINITE = -1)", (int)timeout_ms);
    if ((st = wipc__handle_get(server, WIPC_KIND_PIPE_SERVER, &o)) != WIPC_OK)
        return st;
    wipc__server *s = (wipc__server *)o;
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    wipc__conn *c = NULL;
    wipc__mutex_lock(&o->lock);
    s->accepters++;
    for (;;) {
        if (atomic_load(&o->closed)) {
            st = wipc__error(WIPC_E_CLOSED, 0, "wipc_pipe_accept(%s): the server was closed", o->name);
            break;
        }
        if (atomic_load(&o->has_callbacks)) {
            st = wipc__error(WIPC_E_INVALID_STATE, 0,
                             "wipc_pipe_accept(%s): the server has callbacks and accepts by itself", o->name);
            break;
        }
        if (s->pending_head) {
            c = s->pending_head;
            s->pending_head = c->next_pending;
            if (!s->pending_head)
                s->pending_tail = NULL;
            st = WIPC_OK;
            break;
        }
        if (wipc__deadline_passed(deadline)) {
            st = wipc__error(WIPC_E_TIMEOUT, 0, "wipc_pipe_accept(%s): no client within %d ms", o->name,
                             (int)timeout_ms);
            break;
        }
        wipc__cond_wait_until(&o->cond, &o->lock, deadline);
    }
    s->accepters--;
    wipc__mutex_unlock(&o->lock);
    if (c) {
        st = wipc__handle_add(&c->obj); /* the queue's reference becomes the table's */
        if (st == WIPC_OK) {
            *out_conn = c->obj.handle;
        } else {
            wipc__conn_fail(c, WIPC_E_CLOSED, NULL);
            wipc__obj_unref(&c->obj);
        }
    }
    wipc__obj_unref(o);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_pipe_accept_async(wipc_handle server, int32_t timeout_ms, wipc_complete_cb cb,
                                                      void *user_data, wipc_op *out_op)
{
    wipc__obj *o;
    if (out_op)
        *out_op = 0;
    if (!cb)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_pipe_accept_async: cb is NULL");
    if (timeout_ms < WIPC_INFINITE)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "wipc_pipe_accept_async: timeout %d ms is negative (use WIPC_INFINITE = -1)",
                           (int)timeout_ms);
    wipc_status st = wipc__handle_get(server, WIPC_KIND_PIPE_SERVER, &o);
    if (st != WIPC_OK)
        return st;
    wipc__server *s = (wipc__server *)o;
    wipc__op *op;
    if ((st = wipc__op_new(o, WIPC__OP_ACCEPT, NULL, cb, user_data, timeout_ms, &op)) != WIPC_OK) {
        wipc__obj_unref(o);
        return st;
    }
    wipc__conn *c = NULL;
    if (out_op)
        *out_op = op->id; /* now: once started, op may complete and go at any time */
    wipc__mutex_lock(&o->lock);
    if (atomic_load(&o->has_callbacks)) {
        st = wipc__error(WIPC_E_INVALID_STATE, 0,
                         "wipc_pipe_accept_async(%s): the server has callbacks and accepts by itself", o->name);
    } else if (s->pending_head && !wipc__op_has_fifo_locked(o)) {
        c = s->pending_head; /* a client is waiting already: this op takes it */
        s->pending_head = c->next_pending;
        if (!s->pending_head)
            s->pending_tail = NULL;
        st = wipc__op_start_locked(op, false);
        if (st == WIPC_OK && !wipc__op_claim(op)) {
            c->next_pending = s->pending_head; /* cancelled at once (a guessed id): the client waits on */
            s->pending_head = c;
            if (!s->pending_tail)
                s->pending_tail = c;
            c = NULL;
        } else if (st != WIPC_OK) {
            c->next_pending = s->pending_head;
            s->pending_head = c;
            if (!s->pending_tail)
                s->pending_tail = c;
            c = NULL;
        }
    } else {
        st = wipc__op_start_locked(op, true);
    }
    wipc__mutex_unlock(&o->lock);
    if (st == WIPC_OK) {
        if (c)
            accept_complete(op, c); /* the queue's reference becomes the table's */
    } else {
        if (out_op)
            *out_op = 0;
        wipc__op_unref(op);
    }
    wipc__obj_unref(o);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_pipe_connect(const char *name, const wipc_pipe_options *user, int32_t timeout_ms,
                                                 wipc_handle *out_conn)
{
    wipc_pipe_options o;
    wipc__pipe_cfg cfg;
    wipc_status st = pipe_entry("wipc_pipe_connect", "wipc_pipe_connect: out_conn", name, user, out_conn, &o, &cfg);
    if (st != WIPC_OK)
        return st;
    if (timeout_ms < WIPC_INFINITE)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "wipc_pipe_connect(%s): timeout %d ms is negative (use WIPC_INFINITE = -1)", name,
                           (int)timeout_ms);
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    uint32_t backoff_ms = 2;
    for (;;) {
        wipc__pipe *p = NULL;
        st = wipc__plat_connect(name, &cfg, wipc__deadline_left(deadline), &p);
        if (st != WIPC_OK)
            return st;
        wipc__conn *c = wipc__conn_new(name, o.flags, o.max_message_size, p);
        if (!c) {
            wipc__plat_pipe_free(p);
            return wipc__error(WIPC_E_NO_MEMORY, 0, "wipc_pipe_connect(%s): out of memory", name);
        }
        c->obj.max_queued_bytes = o.max_queued_bytes;
        c->obj.max_queued_count = o.max_queued_messages;
        if ((st = wipc__conn_start(c)) != WIPC_OK) {
            wipc__obj_unref(&c->obj);
            return st;
        }
        if (!c->raw) {
            /* A server that is full answers BUSY and hangs up, possibly before our HELLO is written:
             * a failed HELLO write is judged by what the server said. */
            wipc_status hello_st = send_hello(c, WIPC__FRAME_HELLO);
            /* The timeout is for finding a free server; one that accepted gets up to
             * WIPC__HANDSHAKE_GRACE_MS more to answer (so a poll with timeout 0 can connect). */
            wipc__deadline hs_deadline = wipc__deadline_max(deadline, wipc__deadline_in(WIPC__HANDSHAKE_GRACE_MS));
            wipc__mutex_lock(&c->obj.lock);
            while (c->state == WIPC__CONN_HANDSHAKE) { /* after a failed write the reader still sees BUSY or EOF */
                if (wipc__deadline_passed(hs_deadline))
                    break;
                wipc__cond_wait_until(&c->obj.cond, &c->obj.lock, hs_deadline);
            }
            int state = c->state;
            bool busy = c->busy;
            wipc_status failed = c->obj.failed;
            wipc__mutex_unlock(&c->obj.lock);
            if (hello_st != WIPC_OK && !busy && state != WIPC__CONN_OPEN) {
                conn_close(&c->obj);
                wipc__obj_unref(&c->obj);
                return hello_st == WIPC_E_DISCONNECTED || hello_st == WIPC_E_CLOSED
                           ? wipc__error(WIPC_E_DISCONNECTED, 0,
                                         "wipc_pipe_connect(%s): the server hung up during the handshake", name)
                           : hello_st;
            }
            if (state != WIPC__CONN_OPEN) {
                conn_close(&c->obj);
                wipc__obj_unref(&c->obj);
                int32_t left = wipc__deadline_left(deadline);
                if (busy && left != 0) {

                    wipc__sleep_ms(left < 0 || (uint32_t)left > backoff_ms ? backoff_ms : (uint32_t)left);
                    if (backoff_ms < 50)
                        backoff_ms *= 2;
                    continue;
                }
                if (busy)
                    return wipc__error(WIPC_E_TIMEOUT, 0,
                                       "wipc_pipe_connect(%s): every server instance stayed busy for %d ms", name,
                                       (int)timeout_ms);
                if (state == WIPC__CONN_HANDSHAKE)
                    return wipc__error(WIPC_E_TIMEOUT, 0,
                                       "wipc_pipe_connect(%s): the server accepted but did not answer the handshake",
                                       name);
                if (failed == WIPC_E_PROTOCOL || failed == WIPC_E_TOO_LARGE)
                    return wipc__error(WIPC_E_PROTOCOL, 0,
                                       "wipc_pipe_connect(%s): the server's handshake is not wipc protocol %d", name,
                                       WIPC__FRAME_VERSION);
                return wipc__error(WIPC_E_DISCONNECTED, 0,
                                   "wipc_pipe_connect(%s): the server hung up during the handshake (%s)", name,
                                   wipc_status_name(failed));
            }
        }
        if ((st = wipc__handle_add(&c->obj)) != WIPC_OK) {
            conn_close(&c->obj);
            wipc__obj_unref(&c->obj);
            return st;
        }
        *out_conn = c->obj.handle;
        return WIPC_OK;
    }
}

WIPC_API wipc_status WIPC_CALL wipc_pipe_impersonate(wipc_handle conn)
{
    wipc__obj *o;
    wipc_status st = wipc__handle_get(conn, WIPC_KIND_PIPE_CONN, &o);
    if (st != WIPC_OK)
        return st;
    wipc__conn *c = (wipc__conn *)o;
    if (!c->server)
        st = wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                         "wipc_pipe_impersonate(%s): only the server side of a connection can impersonate its client",
                         o->name);
    else
        st = wipc__plat_pipe_impersonate(c->pipe);
    wipc__obj_unref(o);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_revert_to_self(void)
{
    return wipc__plat_revert_to_self();
}
