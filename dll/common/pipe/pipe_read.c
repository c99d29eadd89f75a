/*
 * pipe_read.c - reading pipe connections: the frame decoder and the reader role (see pipe.h).
 *
 * One decoder per connection, used by whoever holds the role: the I/O thread (wipc__core_read: the
 * handshake, raw connections, callbacks) or a waiting caller (wipc_recv / wipc_request on a
 * connection without callbacks), which reads the pipe on its own thread with wipc__plat_pipe_read.
 * The caller's own frame goes straight into its buffer (WIPC__DEST_DIRECT: no allocation, one copy out of
 * the read buffer - or none: a large remainder is read straight into place); frames for others are
 * handed on: replies to their waiter (copied into its buffer under the object lock), other messages
 * to the inbox (queue or callback strand), a reply nobody waits for is skipped (WIPC__DEST_DISCARD). A BULK
 * frame (pipe_bulk.c) stands for a large message waiting in the peer's section: it is copied from
 * there to the same destinations (end_bulk).
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/pipe/pipe.h"
#include "common/core/op.h"

#define DIRECT_READ_MIN (16u * 1024) /* a body remainder this large is read straight into place */
#define SCATTER_MIN     (2u * 1024) /* a caller buffer this large gets the next frame's body in place */

typedef enum want_kind { W_NONE, W_MSG, W_REPLY } want_kind;

typedef struct rd_want {
    want_kind what;
    const char *fn;
    int32_t timeout_ms;
    void *buf; /* W_MSG */
    size_t cap;
    wipc_message *out;
    wipc__reply_waiter *w; /* W_REPLY */
} rd_want;

typedef enum rd_rc { RD_MORE, RD_DONE, RD_PAUSE, RD_FAIL } rd_rc;

static wipc_status ended_status(wipc__conn *c, const char *fn);

static void count_received(wipc__conn *c, size_t size)
{
    wipc__count_recv(&c->obj, size);
}

/* ---- frame decoding (role held) ------------------------------------------------------------------ */

/* The caller's own message (W_MSG) is the current frame's: what wipc_recv reports about it. */
static void fill_out(wipc__conn *c, rd_want *want, uint8_t kind, size_t len)
{
    wipc_message *out = want->out;
    out->type = c->cur.type;
    out->size = len;
    out->request_id = kind == WIPC__KIND_REQUEST ? c->cur.request_id : 0;
    out->peer_pid = c->obj.peer_pid;
    out->data = want->buf; /* last_request_id: set by wipc__conn_recv under its lock */
}

static bool body_reserve(wipc__conn *c, size_t need)
{
    return wipc__conn_body_reserve(c, need, c->cur.length);
}

/* The first allocation of a WIPC__DEST_MSG body: at most WIPC__BODY_FIRST bytes, however many are claimed. */
static wipc__rxmsg *body_new(wipc__conn *c, size_t len)
{
    size_t first = len < WIPC__BODY_FIRST ? len : WIPC__BODY_FIRST;
    wipc__rxmsg *m = wipc__rxmsg_new(first);
    if (m)
        m->size = len; /* what it will hold; body_cap says what is allocated */
    c->body_cap = m ? first : 0;
    return m;
}

/* The peer's first bytes are not a wipc frame (a program that speaks another protocol connected to a
 * wipc pipe, or we connected to one): a WARN that says who it is and what it sent, in hex and as
 * text, so the mistake can be found from the log (docs/PROTOCOL.md says what a wipc peer sends). */
static void log_foreign_peer(wipc__conn *c, const char *why)
{
    static const char digits[] = "0123456789abcdef";
    char hex[3 * WIPC__FRAME_HEADER], text[WIPC__FRAME_HEADER + 1];
    for (unsigned i = 0; i < WIPC__FRAME_HEADER; i++) {
        uint8_t b = c->hdr[i];
        hex[3 * i] = digits[b >> 4];
        hex[3 * i + 1] = digits[b & 15];
        hex[3 * i + 2] = ' ';
        text[i] = b >= 0x20 && b < 0x7f ? (char)b : '.';
    }
    hex[3 * WIPC__FRAME_HEADER - 1] = 0;
    text[WIPC__FRAME_HEADER] = 0;
    wipc__log(WIPC_LOG_WARN, "pipe %s: %s pid %u does not speak wipc (its first %u bytes: %s \"%s\"): %s; disconnected",
              c->obj.name, c->server ? "client" : "server", (unsigned)c->obj.peer_pid, (unsigned)WIPC__FRAME_HEADER,
              hex, text, why);
}

/* A decoded header: check it against the connection's state and choose where the body goes. */
static rd_rc begin_frame(wipc__conn *c, rd_want *want, wipc_status *st)
{
    char why[160];
    /* HELLO comes before limits are agreed; it is 16 bytes whatever the limit */
    uint32_t limit = c->obj.max_message_size < WIPC__HELLO_SIZE ? WIPC__HELLO_SIZE : c->obj.max_message_size;
    wipc_status s = wipc__frame_decode(c->hdr, limit, &c->cur, why, sizeof why);
    c->hdr_have = 0;
    if (s != WIPC_OK) {
        bool foreign = c->state == WIPC__CONN_HANDSHAKE && wipc__get_le32(c->hdr) != WIPC__FRAME_MAGIC;
        if (foreign)
            log_foreign_peer(c, why);
        wipc__conn_fail(c, s, foreign ? NULL : why);
        *st = wipc__error(s, 0, "pipe %s: %s", c->obj.name, why);
        return RD_FAIL;
    }
    uint8_t kind = c->cur.kind;
    uint32_t len = c->cur.length;
    c->have_frame = true;
    c->body_have = 0;
    c->direct = NULL;
    c->dest = WIPC__DEST_MSG;
    if (kind == WIPC__FRAME_BULK) {
        if (!c->bulk_offer || c->state == WIPC__CONN_HANDSHAKE) {
            c->have_frame = false;
            wipc__conn_fail(c, WIPC_E_PROTOCOL, "BULK frame that was not negotiated");
            *st = wipc__error(WIPC_E_PROTOCOL, 0, "pipe %s: BULK frame that was not negotiated", c->obj.name);
            return RD_FAIL;
        }
        c->dest = WIPC__DEST_BULK; /* the descriptor goes to c->bulkd; the message is in the peer's section */
        return RD_MORE;
    }
    if (kind != WIPC__FRAME_HELLO && kind != WIPC__FRAME_BUSY) {
        bool open = c->state != WIPC__CONN_HANDSHAKE; /* a dead connection's reader stops on its own */
        bool waited = false;
        bool answer = kind == WIPC__KIND_REPLY || kind == WIPC__KIND_ERROR;
        if (answer && !(want->what == W_REPLY && want->w->id == c->cur.request_id)) {
            wipc__mutex_lock(&c->obj.lock);
            waited = wipc__reply_awaited_locked(&c->obj, c->waiters, c->cur.request_id);
            wipc__mutex_unlock(&c->obj.lock);
        }
        if (!open) {
            c->have_frame = false;
            wipc__conn_fail(c, WIPC_E_PROTOCOL, "message frame before the HELLO handshake");
            *st = wipc__error(WIPC_E_PROTOCOL, 0, "pipe %s: message frame before the HELLO handshake", c->obj.name);
            return RD_FAIL;
        }
        if (kind == WIPC__KIND_REPLY) {
            if (want->what == W_REPLY && want->w->id == c->cur.request_id) {
                if (len <= want->w->cap) {
                    c->dest = WIPC__DEST_DIRECT;
                    c->direct = want->w->buf;
                } else {
                    c->dest = WIPC__DEST_DISCARD; /* too large for the caller: only its size is reported */
                }
            } else if (!waited) {
                c->dest = WIPC__DEST_DISCARD; /* a late reply: nobody waits for it any more */
            }
        } else if (kind == WIPC__KIND_ERROR) {
            if (!waited && !(want->what == W_REPLY && want->w->id == c->cur.request_id))
                c->dest = WIPC__DEST_DISCARD; /* else WIPC__DEST_MSG: the text goes with the error (<= 4 KiB) */
        } else if (want->what == W_MSG && len <= want->cap) {
            c->dest = WIPC__DEST_DIRECT;
            c->direct = want->buf;
        }
    }
    if (c->dest == WIPC__DEST_MSG) {
        c->body = body_new(c, len);
        if (!c->body) {
            c->have_frame = false;
            wipc__conn_fail(c, WIPC_E_NO_MEMORY, "out of memory for an incoming frame");
            *st = wipc__error(WIPC_E_NO_MEMORY, 0, "pipe %s: out of memory for a frame of %u bytes", c->obj.name,
                              (unsigned)len);
            return RD_FAIL;
        }
    }
    return RD_MORE;
}

/* A reply for some waiter (not the reader's own direct one): into its buffer under the lock. Returns
 * true if it was `mine`. */
static bool deliver_reply(wipc__conn *c, wipc__rxmsg *m, wipc__reply_waiter *mine)
{
    wipc__reply_waiter *w = wipc__reply_deliver(&c->obj, &c->waiters, m->request_id, m->data, m->size);
    count_received(c, m->size);
    if (!w) {
        wipc__reply_to_op(&c->obj, WIPC__KIND_REPLY, m); /* an async request's, or dropped */
        return false;
    }
    wipc__rxmsg_free(m);
    return w == mine;
}

/* A BULK frame: the message is whole in the peer's section. It is copied out straight into the
 * caller's buffer when it is the caller's own, else into a message for its waiter or the inbox; then
 * its slot is released. */
static rd_rc end_bulk(wipc__conn *c, rd_want *want, wipc_status *st)
{
    uint8_t kind;
    const uint8_t *data;
    size_t len;
    unsigned slot;
    wipc_status s = wipc__bulk_take(c, &kind, &data, &len, &slot);
    if (s != WIPC_OK) {
        *st = s;
        wipc__conn_fail(c, s == WIPC_E_TOO_LARGE ? WIPC_E_TOO_LARGE : WIPC_E_PROTOCOL, wipc_last_error_message());
        return RD_FAIL;
    }
    uint64_t rid = c->cur.request_id;
    if (kind == WIPC__KIND_REPLY && want->what == W_REPLY && want->w->id == rid) {
        if (len && len <= want->w->cap)
            memcpy(want->w->buf, data, len); /* else only its size is reported */
        wipc__bulk_release(c, slot);
        want->w->size = len;
        want->w->done = true;
        count_received(c, len);
        *st = WIPC_OK;
        return RD_DONE;
    }
    if (kind != WIPC__KIND_REPLY && want->what == W_MSG && len <= want->cap) {
        if (len)
            memcpy(want->buf, data, len);
        wipc__bulk_release(c, slot);
        fill_out(c, want, kind, len);
        count_received(c, len);
        *st = WIPC_OK;
        return RD_DONE;
    }
    wipc__rxmsg *m = wipc__rxmsg_new(len);
    if (!m) {
        wipc__bulk_release(c, slot);
        wipc__conn_fail(c, WIPC_E_NO_MEMORY, "out of memory for a large message");
        *st = wipc__error(WIPC_E_NO_MEMORY, 0, "pipe %s: out of memory for a message of %zu bytes", c->obj.name, len);
        return RD_FAIL;
    }
    if (len)
        memcpy(m->data, data, len);
    wipc__bulk_release(c, slot);
    m->type = c->cur.type;
    m->request_id = rid;
    m->peer_pid = c->obj.peer_pid;
    if (kind == WIPC__KIND_REPLY) {
        deliver_reply(c, m, NULL);
        return RD_MORE;
    }
    bool pause = wipc__inbox_deliver(&c->obj, kind, m);
    if (want->what == W_MSG) { /* larger than the caller's buffer: it stays queued */
        fill_out(c, want, kind, len);
        *st = wipc__error(WIPC_E_BUFFER_TOO_SMALL, 0,
                          "%s on pipe %s: the message is %zu bytes, the buffer %zu; it stays queued", want->fn,
                          c->obj.name, len, want->cap);
        return RD_DONE;
    }
    return pause ? RD_PAUSE : RD_MORE;
}

/* The body of the current frame is complete. */
static rd_rc end_frame(wipc__conn *c, rd_want *want, wipc_status *st)
{
    uint8_t kind = c->cur.kind;
    uint32_t len = c->cur.length;
    int dest = c->dest;
    wipc__rxmsg *m = c->body;
    c->have_frame = false;
    c->body = NULL;
    c->body_cap = 0;
    c->direct = NULL;
    if (kind == WIPC__FRAME_HELLO || kind == WIPC__FRAME_BUSY) {
        c->up->handshake(c, kind, m);
        return RD_MORE;
    }
    if (kind == WIPC__FRAME_BULK)
        return end_bulk(c, want, st);
    if (kind == WIPC__KIND_ERROR && dest == WIPC__DEST_MSG) { /* a remote error: to its request's waiter */
        count_received(c, len);
        m->type = c->cur.type;
        m->request_id = c->cur.request_id;
        if (want->what == W_REPLY && want->w->id == m->request_id) {
            want->w->remote = m;
            want->w->done = true;
            *st = WIPC_OK;
            return RD_DONE;
        }
        wipc__reply_deliver_error(&c->obj, &c->waiters, m);
        return RD_MORE;
    }
    if (dest == WIPC__DEST_DIRECT) {
        count_received(c, len);
        if (want->what == W_REPLY) {
            want->w->size = len;
            want->w->done = true;
        } else {
            fill_out(c, want, kind, len);
        }
        *st = WIPC_OK;
        return RD_DONE;
    }
    if (dest == WIPC__DEST_DISCARD) {
        count_received(c, len);
        if (want->what == W_REPLY && want->w->id == c->cur.request_id) {
            want->w->size = len;
            want->w->done = true;
            *st = WIPC_OK;
            return RD_DONE;
        }
        wipc__log(WIPC_LOG_DEBUG, "pipe %s: reply to request %llu nobody waits for (timed out?) dropped", c->obj.name,
                  (unsigned long long)c->cur.request_id);
        return RD_MORE;
    }
    m->type = c->cur.type;
    m->request_id = c->cur.request_id;
    m->peer_pid = c->obj.peer_pid;
    if (kind == WIPC__KIND_REPLY) {
        if (deliver_reply(c, m, want->what == W_REPLY ? want->w : NULL)) {
            *st = WIPC_OK;
            return RD_DONE;
        }
        return RD_MORE;
    }
    if (want->what == W_MSG) {
        /* a frame that began under another reader (or is larger than the buffer): ours all the same */
        fill_out(c, want, kind, m->size);
        if (m->size <= want->cap) {
            if (m->size)
                memcpy(want->buf, m->data, m->size);
            count_received(c, m->size);
            wipc__rxmsg_free(m);
            *st = WIPC_OK;
            return RD_DONE;
        }
        size_t size = m->size;
        wipc__inbox_deliver(&c->obj, kind, m); /* stays queued, first in line (the queue was empty) */
        *st = wipc__error(WIPC_E_BUFFER_TOO_SMALL, 0,
                          "%s on pipe %s: the message is %zu bytes, the buffer %zu; it stays queued", want->fn,
                          c->obj.name, size, want->cap);
        return RD_DONE;
    }
    return wipc__inbox_deliver(&c->obj, kind, m) ? RD_PAUSE : RD_MORE;
}

/* Feeds input [*p, *p + *n) to the decoder; stops after the reader's own frame (RD_DONE), when the
 * inbox is full (RD_PAUSE), on a failure (RD_FAIL), or when the input is used up (RD_MORE). */
static rd_rc consume(wipc__conn *c, rd_want *want, const uint8_t **p, size_t *n, wipc_status *st)
{
    for (;;) {
        if (c->have_frame && c->body_have == c->cur.length) {
            rd_rc rc = end_frame(c, want, st);
            if (rc != RD_MORE)
                return rc;
            continue;
        }
        if (*n == 0)
            return RD_MORE;
        if (!c->have_frame) {
            if (c->hdr_have == 0 && c->state == WIPC__CONN_DEAD) { /* failed meanwhile: the rest is not decoded */
                *st = ended_status(c, want->fn);
                return RD_FAIL;
            }
            size_t take = WIPC__FRAME_HEADER - c->hdr_have;
            if (take > *n)
                take = *n;
            memcpy(c->hdr + c->hdr_have, *p, take);
            c->hdr_have += take;
            *p += take;
            *n -= take;
            if (c->hdr_have < WIPC__FRAME_HEADER)
                return RD_MORE;
            rd_rc rc = begin_frame(c, want, st);
            if (rc != RD_MORE)
                return rc;
            continue;
        }
        size_t take = c->cur.length - c->body_have;
        if (take > *n)
            take = *n;
        if (take && c->dest == WIPC__DEST_DIRECT)
            memcpy(c->direct + c->body_have, *p, take);
        else if (take && c->dest == WIPC__DEST_MSG) {
            if (!body_reserve(c, c->body_have + take)) {
                wipc__conn_fail(c, WIPC_E_NO_MEMORY, "out of memory for an incoming frame");
                *st = wipc__error(WIPC_E_NO_MEMORY, 0, "pipe %s: out of memory for a frame of %u bytes", c->obj.name,
                                  (unsigned)c->cur.length);
                return RD_FAIL;
            }
            memcpy(c->body->data + c->body_have, *p, take);
        } else if (take && c->dest == WIPC__DEST_BULK)
            memcpy(c->bulkd + c->body_have, *p, take);
        c->body_have += take;
        *p += take;
        *n -= take;
    }
}

/* A direct body cut short (timeout): keep what was read in a message of its own, so the next reader
 * can finish the frame. */
static wipc_status undirect(wipc__conn *c)
{
    if (!c->have_frame || c->dest != WIPC__DEST_DIRECT)
        return WIPC_OK;
    wipc__rxmsg *m = body_new(c, c->cur.length);
    c->body = m;
    if (!m || !body_reserve(c, c->body_have)) {
        wipc__conn_fail(c, WIPC_E_NO_MEMORY, "out of memory for a partly read frame");
        return WIPC_E_NO_MEMORY;
    }
    if (c->body_have)
        memcpy(m->data, c->direct, c->body_have);
    c->dest = WIPC__DEST_MSG;
    c->direct = NULL;
    return WIPC_OK;
}

/* The connection is over: a direct body cut short is not finished by anyone. */
static void drop_direct(wipc__conn *c)
{
    if (c->have_frame && c->dest == WIPC__DEST_DIRECT) {
        c->dest = WIPC__DEST_DISCARD;
        c->direct = NULL;
    }
}

/* ---- the I/O thread's side ------------------------------------------------------------------------ */

/* The I/O thread's reading pauses (the inbox is above its high-water mark). A consumer may drain the
 * inbox and resume (wipc__conn_resume) between the inbox's decision and the pause reaching the
 * backend: re-check after pausing, or the connection stays paused with an empty inbox (a stalled
 * stream; test_fault_pipe_sender_frozen_mid_message). */
static void io_pause(wipc__conn *c)
{
    wipc__plat_pipe_pause(c->pipe, 1);
    wipc__mutex_lock(&c->obj.lock);
    bool still = c->obj.paused_reading;
    wipc__mutex_unlock(&c->obj.lock);
    if (!still && (c->raw || atomic_load(&c->role.holder) == WIPC__CONN_ROLE_IO))
        wipc__plat_pipe_pause(c->pipe, 0);
}

static void read_raw(wipc__conn *c, const uint8_t *data, size_t n, int end_of_message)
{
    wipc__rxmsg *m = c->body;
    size_t have = c->body_have;
    if (have + n > c->obj.max_message_size) {
        wipc__conn_fail(c, WIPC_E_TOO_LARGE, "raw message above max_message_size");
        return;
    }
    if (!m || have + n > m->size) {
        size_t want = have + n;
        wipc__rxmsg *grown = m ? m : wipc__rxmsg_new(0);
        uint8_t *d = grown ? realloc(grown->data, want ? want : 1) : NULL;
        if (!d) {
            wipc__rxmsg_free(grown);
            c->body = NULL;
            wipc__conn_fail(c, WIPC_E_NO_MEMORY, "out of memory for a raw message");
            return;
        }
        grown->data = d;
        grown->size = want;
        m = c->body = grown;
    }
    if (n)
        memcpy(m->data + have, data, n);
    c->body_have = have + n;
    if (end_of_message) {
        m->size = c->body_have;
        m->peer_pid = c->obj.peer_pid;
        c->body = NULL;
        c->body_have = 0;
        if (wipc__inbox_deliver(&c->obj, WIPC__KIND_DATA, m))
            io_pause(c);
    }
}

static void role_release(wipc__conn *c);

int wipc__core_read(struct wipc__conn *c, const uint8_t *data, size_t n, int end_of_message)
{
    if (c->lenprefix) { /* pipe_lenprefix.c: the pipe's own message ends do not matter */
        if (wipc__lp_read(c, data, n))
            io_pause(c);
        return 1;
    }
    if (c->raw) {
        read_raw(c, data, n, end_of_message);
        return 1;
    }
    rd_want want = { .what = W_NONE, .fn = "pipe I/O thread" };
    wipc_status st;
    for (;;) {
        rd_rc rc = consume(c, &want, &data, &n, &st);
        if (rc == RD_FAIL)
            return 1; /* the connection is failed and shut down: the backend reports the end */
        if (rc == RD_PAUSE)
            io_pause(c); /* the rest of this chunk is still delivered */
        if (rc == RD_MORE && n == 0)
            break;
    }
    /* Handshake done and nobody wants callbacks: the waiting threads read from now on. */
    if (atomic_load(&c->obj.has_callbacks) || atomic_load(&c->async_io) ||
        atomic_load(&c->role.holder) != WIPC__CONN_ROLE_IO)
        return 1;
    wipc__mutex_lock(&c->obj.lock);
    bool open = c->state == WIPC__CONN_OPEN;
    wipc__mutex_unlock(&c->obj.lock);
    if (!open)
        return 1;
    role_release(c);
    return atomic_load(&c->role.holder) == WIPC__CONN_ROLE_IO; /* callbacks were set meanwhile: keep reading */
}

/* ---- the reader role ------------------------------------------------------------------------------- */

/* Role held (by a caller): hands reading to the I/O thread (callbacks were set). What is already
 * read goes to the callbacks first. */
static void handover_to_io(wipc__conn *c)
{
    rd_want want = { .what = W_NONE, .fn = "wipc_set_callbacks" };
    wipc_status st;
    if (c->rbuf) {
        const uint8_t *p = c->rbuf + c->rpos;
        size_t n = c->rlen - c->rpos;
        while (n > 0) {
            if (consume(c, &want, &p, &n, &st) == RD_FAIL)
                break;
        }
        c->rpos = c->rlen = 0;
    }
    atomic_store(&c->role.holder, WIPC__CONN_ROLE_IO);
    wipc__plat_pipe_io(c->pipe);
}

static wipc_status rd_run(wipc__conn *c, rd_want *want, wipc__timeout *dl);

/* The I/O thread saw the peer hang up and nobody read: read what is left (into the inbox) and the
 * end, so that the connection ends as it would have with the I/O thread reading. */
static void drain(wipc__conn *c)
{
    rd_want want = { .what = W_NONE, .fn = "pipe reader", .timeout_ms = 0 };
    wipc__timeout now = wipc__timeout_of(0);
    rd_run(c, &want, &now);
}

/* Gives the role up. Whoever frees it also checks what is pending: callbacks set meanwhile (the I/O
 * thread takes over) or a hang-up seen by the I/O thread (read to the end). */
static void role_release(wipc__conn *c)
{
    for (;;) {
        atomic_store(&c->role.holder, WIPC__CONN_ROLE_FREE);
        bool cb = atomic_load(&c->obj.has_callbacks) || atomic_load(&c->async_io);
        bool hup = atomic_load(&c->hup);
        if (!cb && !hup)
            break;
        if (cb) {
            if (wipc__role_try(&c->role))
                handover_to_io(c);
            break; /* anyone else who freed it saw the callbacks too */
        }
        if (!wipc__role_try(&c->role))
            break; /* the new holder reads the end itself */
        atomic_store(&c->hup, false);
        drain(c);
    }
    wipc__role_wake(&c->role, &c->obj, false);
}

void wipc__core_hup(struct wipc__conn *c)
{
    atomic_store(&c->hup, true);
    if (wipc__role_try(&c->role)) {
        atomic_store(&c->hup, false);
        drain(c);
        role_release(c);
    }
}

/* What a waiter gets once the connection is over (obj.lock not held). */
static wipc_status ended_status(wipc__conn *c, const char *fn)
{
    wipc__mutex_lock(&c->obj.lock);
    wipc_status failed = c->obj.failed;
    wipc__mutex_unlock(&c->obj.lock);
    if (atomic_load(&c->obj.closed) || failed == WIPC_E_CLOSED)
        return wipc__error(WIPC_E_CLOSED, 0, "%s on pipe %s: the handle was closed", fn, c->obj.name);
    if (failed == WIPC_E_DISCONNECTED || failed == 0 || failed == WIPC_E_BUSY)
        return wipc__error(WIPC_E_DISCONNECTED, 0, "%s on pipe %s: the peer closed or died", fn, c->obj.name);
    return wipc__error(failed, 0, "%s on pipe %s: the connection was ended by an earlier error (%s)", fn, c->obj.name,
                       wipc_status_name(failed));
}

static wipc_status timeout_status(wipc__conn *c, rd_want *want)
{
    if (want->what == W_REPLY)
        return wipc__error(WIPC_E_TIMEOUT, 0, "wipc_request on pipe %s: no reply to request %llu within %d ms",
                           c->obj.name, (unsigned long long)want->w->id, (int)want->timeout_ms);
    return wipc__error(WIPC_E_TIMEOUT, 0, "%s on pipe %s: no message within %d ms", want->fn, c->obj.name,
                       (int)want->timeout_ms);
}

/* After a scatter read of `got` bytes: the header is in c->hdr, the rest at `mine`. If the frame is
 * the caller's own, its body is already in place and only what follows it is moved to rbuf;
 * otherwise everything goes through rbuf like any other input. */
static rd_rc scattered(wipc__conn *c, rd_want *want, uint8_t *mine, size_t got, wipc_status *st)
{
    if (got < WIPC__FRAME_HEADER) {
        c->hdr_have = got; /* a partial header: the rest comes with the next read */
        return RD_MORE;
    }
    size_t rest = got - WIPC__FRAME_HEADER;
    c->hdr_have = WIPC__FRAME_HEADER;
    rd_rc rc = begin_frame(c, want, st);
    if (rc == RD_FAIL)
        return rc;
    if (c->dest == WIPC__DEST_DIRECT && c->direct == mine) {
        size_t body = rest < c->cur.length ? rest : c->cur.length;
        c->body_have = body;
        if (rest > body)
            memcpy(c->rbuf, mine + body, rest - body); /* the next frame's first bytes */
        c->rpos = 0;
        c->rlen = rest - body;
        return RD_MORE;
    }
    memcpy(c->rbuf, mine, rest); /* not ours: decode it from rbuf (rest <= WIPC__PIPE_RBUF) */
    c->rpos = 0;
    c->rlen = rest;
    return RD_MORE;
}

/* Reads (role held) until the caller's frame is complete (WIPC_OK, or BUFFER_TOO_SMALL for W_MSG),
 * the deadline passes or the connection ends; or until the inbox is full: WIPC_OK too, with the
 * caller's reply not yet read (only W_REPLY and W_NONE stop so; a W_MSG reader takes the first
 * message frame itself), and the caller waits for whoever reads once the inbox drains. */
static wipc_status rd_run(wipc__conn *c, rd_want *want, wipc__timeout *dl)
{
    wipc_status st = WIPC_OK;
    /* The previous holder may have delivered our reply already (it set done before it let the role
     * go, so taking the role makes that visible). */
    if (want->what == W_REPLY && want->w->done)
        return WIPC_OK;
    if (!c->rbuf) {
        c->rbuf = malloc(WIPC__PIPE_RBUF);
        if (!c->rbuf)
            return wipc__error(WIPC_E_NO_MEMORY, 0, "%s on pipe %s: out of memory for a read buffer", want->fn,
                               c->obj.name);
    }
    for (;;) {
        const uint8_t *p = c->rbuf + c->rpos;
        size_t n = c->rlen - c->rpos;
        rd_rc rc = consume(c, want, &p, &n, &st);
        c->rpos = (size_t)(p - c->rbuf);
        if (rc == RD_DONE || rc == RD_FAIL)
            return st;
        if (rc == RD_PAUSE)
            return WIPC_OK; /* the inbox is full: stop reading (see above) */
        /* the input is used up */
        if (atomic_load(&c->obj.closed) || c->state == WIPC__CONN_DEAD) {
            drop_direct(c);
            return ended_status(c, want->fn);
        }
        c->rpos = c->rlen = 0;
        size_t got = 0;
        int32_t left = wipc__timeout_left(dl);
        size_t body_left = c->have_frame ? c->cur.length - c->body_have : 0;
        uint8_t *mine = want->what == W_MSG ? want->buf : want->what == W_REPLY ? want->w->buf : NULL;
        size_t mine_cap = want->what == W_MSG ? want->cap : want->what == W_REPLY ? want->w->cap : 0;
        if (!c->have_frame && c->hdr_have == 0 && mine_cap >= SCATTER_MIN && c->scatter_ok) {
            /* a new frame and a large buffer: header into hdr, the body straight into the buffer */
            size_t blen = mine_cap < WIPC__PIPE_RBUF ? mine_cap : WIPC__PIPE_RBUF;
            st = wipc__plat_pipe_read2(c->pipe, c->hdr, WIPC__FRAME_HEADER, mine, blen, left, &got);
            if (st == WIPC_OK) {
                if (scattered(c, want, mine, got, &st) == RD_FAIL)
                    return st;
                continue;
            }
            if (st == WIPC_E_NOT_SUPPORTED) {
                c->scatter_ok = false;
                continue;
            }
        } else if (body_left >= DIRECT_READ_MIN && (c->dest == WIPC__DEST_DIRECT || c->dest == WIPC__DEST_MSG)) {
            if (c->dest == WIPC__DEST_MSG) { /* read into what is allocated; grow (doubling) only once it is full */
                if (c->body_have == c->body_cap && !body_reserve(c, c->body_have + 1))
                    return wipc__error(WIPC_E_NO_MEMORY, 0, "%s on pipe %s: out of memory for a frame of %u bytes",
                                       want->fn, c->obj.name, (unsigned)c->cur.length);
                if (body_left > c->body_cap - c->body_have)
                    body_left = c->body_cap - c->body_have;
            }
            uint8_t *dst = (c->dest == WIPC__DEST_DIRECT ? c->direct : c->body->data) + c->body_have;
            st = wipc__plat_pipe_read(c->pipe, dst, body_left, left, &got);
            if (st == WIPC_OK)
                c->body_have += got;
        } else {
            st = wipc__plat_pipe_read(c->pipe, c->rbuf, WIPC__PIPE_RBUF, left, &got);
            if (st == WIPC_OK)
                c->rlen = got;
        }
        if (st == WIPC_OK)
            continue;
        if (st == WIPC_E_TIMEOUT) {
            if (undirect(c) != WIPC_OK)
                return ended_status(c, want->fn);
            return want->what == W_NONE ? WIPC_E_TIMEOUT : timeout_status(c, want);
        }
        if (undirect(c) != WIPC_OK)
            return ended_status(c, want->fn);
        if (st == WIPC_E_CLOSED)
            return ended_status(c, want->fn); /* wipc_close, or the connection was failed */
        if (st != WIPC_E_DISCONNECTED)
            wipc__conn_fail(c, st, "read failed");
        c->up->end(c, st == WIPC_E_DISCONNECTED ? WIPC_E_DISCONNECTED : st);
        return ended_status(c, want->fn);
    }
}

/* What a caller waiting for the role looks at (wipc__role_take): the connection's end before the
 * role; with callbacks, or a request while the inbox is full, it waits without taking it. */
typedef struct role_wait {
    wipc__conn *c;
    wipc__timeout *dl;
    rd_want *want;
} role_wait;

static bool wait_queued(void *t)
{
    return ((role_wait *)t)->c->obj.q_head != NULL;
}

static wipc__gate wait_gate(void *t, wipc__reply_waiter *w, wipc_status *st)
{
    wipc__conn *c = ((role_wait *)t)->c;
    if (c->obj.failed || c->dead) {
        *st = WIPC_E_DISCONNECTED;
        return WIPC__GATE_END;
    }
    if (atomic_load(&c->obj.has_callbacks) || atomic_load(&c->async_io) || (w && c->obj.paused_reading))
        return WIPC__GATE_WAIT;
    return WIPC__GATE_TRY;
}

static wipc__deadline wait_until(void *t)
{
    return wipc__timeout_deadline(((role_wait *)t)->dl);
}

static wipc_status wait_ended(void *t, wipc_status st)
{
    role_wait *a = t;
    return st == WIPC_E_TIMEOUT ? timeout_status(a->c, a->want) : ended_status(a->c, a->want->fn);
}

static const wipc__role_checks role_checks = {
    .queued = wait_queued, .gate = wait_gate, .wait_until = wait_until, .ended = wait_ended
};

/* obj.lock held. Waits until this thread holds the role, or (queue_ok) a message is queued, or w is
 * done, or the handle closed / the connection ended / the deadline passed (WIPC__TAKE_ENDED, *st set). */
static wipc__take_rc role_take(wipc__conn *c, bool queue_ok, wipc__reply_waiter *w, wipc__timeout *dl, rd_want *want,
                               wipc_status *st)
{
    role_wait t = { c, dl, want };
    return wipc__role_take(&c->role, &c->obj, &role_checks, &t, queue_ok, w, st);
}

/* ---- wipc_recv / wipc_request (ops hooks) ------------------------------------------------------------ */

wipc_status wipc__conn_recv(wipc__obj *o, void *buf, size_t cap, wipc_message *out, int32_t timeout_ms)
{
    wipc__conn *c = (wipc__conn *)o;
    if (c->raw)
        return wipc__inbox_recv(o, buf, cap, out, timeout_ms);
    wipc__timeout dl = wipc__timeout_of(timeout_ms);
    rd_want want = { .what = W_MSG, .fn = "wipc_recv", .timeout_ms = timeout_ms, .buf = buf, .cap = cap, .out = out };
    wipc_status st = WIPC_OK;
    wipc__mutex_lock(&o->lock);
    if (atomic_load(&o->has_callbacks)) {
        wipc__mutex_unlock(&o->lock);
        return wipc__error(WIPC_E_INVALID_STATE, 0,
                           "wipc_recv on %s: the handle has callbacks; messages go to on_message", o->name);
    }
    o->receivers++;
    for (;;) {
        wipc__take_rc rc = role_take(c, true, NULL, &dl, &want, &st);
        if (rc == WIPC__TAKE_ENDED)
            break;
        wipc__mutex_unlock(&o->lock);
        if (rc == WIPC__TAKE_QUEUED) {
            st = wipc__inbox_recv(o, buf, cap, out, 0);
            wipc__mutex_lock(&o->lock);
            if (st == WIPC_E_TIMEOUT && wipc__timeout_left(&dl) != 0)
                continue; /* another thread took it first */
            break;
        }
        st = rd_run(c, &want, &dl);
        role_release(c);
        wipc__mutex_lock(&o->lock);
        if (st == WIPC_OK && out->request_id)
            o->last_request_id = out->request_id; /* for wipc_reply(h, 0, ...) */
        break;
    }
    o->receivers--;
    wipc__mutex_unlock(&o->lock);
    return st;
}

static wipc_status await_reply(wipc__conn *c, wipc__reply_waiter *w, wipc__timeout *dl, int32_t timeout_ms)
{
    rd_want want = { .what = W_REPLY, .fn = "wipc_request", .timeout_ms = timeout_ms, .w = w };
    wipc_status st = WIPC_OK;
    if (!atomic_load(&c->obj.has_callbacks) && !atomic_load(&c->async_io) &&
        wipc__role_try(&c->role)) { /* fast path: read our reply ourselves */
        st = rd_run(c, &want, dl);
        role_release(c);
        if (w->done)
            return WIPC_OK;
        if (st != WIPC_OK)
            return st; /* else the inbox filled up first: wait below */
    }
    wipc__mutex_lock(&c->obj.lock);
    for (;;) {
        wipc__take_rc rc = role_take(c, false, w, dl, &want, &st);
        if (rc != WIPC__TAKE_ROLE)
            break;
        wipc__mutex_unlock(&c->obj.lock);
        st = rd_run(c, &want, dl);
        role_release(c);
        wipc__mutex_lock(&c->obj.lock);
        if (w->done || st != WIPC_OK)
            break;
    }
    if (w->done)
        st = WIPC_OK;
    wipc__mutex_unlock(&c->obj.lock);
    return st;
}

wipc_status wipc__conn_request(wipc__obj *o, uint32_t type, const void *req, size_t req_size, void *resp,
                               size_t resp_cap, size_t *out_resp_size, int32_t timeout_ms)
{
    wipc__conn *c = (wipc__conn *)o;
    wipc__timeout dl = wipc__timeout_of(timeout_ms);
    int32_t send_ms = wipc__timeout_left(&dl); /* the clock starts now: the send and the wait share timeout_ms */
    wipc__reply_waiter w;
    wipc__reply_begin(o, &c->waiters, &w, resp, resp_cap);
    wipc_status st = wipc__conn_send(o, WIPC__KIND_REQUEST, w.id, type, req, req_size, send_ms);
    if (st == WIPC_OK)
        st = await_reply(c, &w, &dl, timeout_ms);
    return wipc__reply_end(o, &c->waiters, &w, st, out_resp_size, "pipe");
}

/* ---- callbacks, back-pressure, cleanup --------------------------------------------------------------- */

void wipc__conn_go_async(wipc__conn *c)
{
    if (c->raw || atomic_load(&c->async_io) || atomic_exchange(&c->async_io, true))
        return;
    if (wipc__role_try(&c->role))
        handover_to_io(c); /* else the holder hands over when it lets go (role_release) */
}

void wipc__conn_callbacks_set(wipc__obj *o)
{
    wipc__conn *c = (wipc__conn *)o;
    if (c->raw)
        return;
    if (wipc__role_try(&c->role))
        handover_to_io(c); /* else the holder hands over when it lets go */
}

void wipc__conn_resume(wipc__obj *o)
{
    wipc__conn *c = (wipc__conn *)o;
    if (c->raw || atomic_load(&c->role.holder) == WIPC__CONN_ROLE_IO)
        wipc__plat_pipe_pause(c->pipe, 0);
    wipc__mutex_lock(&o->lock);
    wipc__cond_broadcast(&o->cond); /* a requester held back by the full inbox reads again */
    wipc__mutex_unlock(&o->lock);
}

void wipc__conn_read_free(wipc__conn *c)
{
    wipc__rxmsg_free(c->body);
    c->body = NULL;
    c->body_cap = 0;
    free(c->rbuf);
    c->rbuf = NULL;
}
