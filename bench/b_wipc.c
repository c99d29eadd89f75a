/*
 * b_wipc.c - the wipc cases: pipe, shm and msg between two processes.
 *
 *   <t>.rtt.S   round trip: wipc_request of S bytes, the peer answers with wipc_reply of S bytes
 *               (msg: wipc_msg_send of S bytes, the peer's on_message returns a value)
 *   <t>sr.rtt.S send/recv ping-pong instead of request/reply (wipc_send, peer wipc_recv + wipc_send)
 *   pipeasync.rtt.S  round trip of wipc_request_async: start it, wait (condition variable) for its
 *               completion callback (a library worker thread: the reply is read by the I/O thread)
 *   pipeasync.tput.S one-way throughput of wipc_send_async (the write queue, dll/common/pipe/pipe_wq.c:
 *               frames queued behind a full pipe go out together); WIPC_E_BUSY (queue full) waits for
 *               a completion and starts again; the phase ends once every send completed
 *   pipewb.rtt.S / pipewb.tput.S  both ends with WIPC_PIPE_WRITE_BEHIND: the send/recv ping-pong (a lone
 *               message is written at once) and one-way wipc_send throughput (frames queued behind a
 *               busy pipe, written together by the I/O thread)
 *   <t>.tput.S  one-way throughput: wipc_send of S-byte messages for a fixed time, the peer
 *               wipc_recv's them; timed from the first send to the peer's acknowledgement of the last
 *   shm0.rtt.64 the shm round trip with spin_us = 0 (block at once)
 *   shmzc.tput.S zero-copy: wipc_shm_reserve + memcpy + wipc_shm_commit / wipc_shm_peek + wipc_shm_release
 *   pipenobig.tput.S  pipe throughput with WIPC_PIPE_BULK=0 in both processes: large messages
 *               through the pipe itself instead of the shared section (dll/common/pipe/pipe_bulk.c);
 *               pipe.tput.S is the default (the section for messages of 256 KiB and more; Windows: 64 KiB)
 *
 * Pipes: the peer listens and answers, this process connects. shm: this process creates the channel
 * (capacity 8 MiB for the throughput cases so that 1 MiB messages fit; defaults otherwise), the peer
 * opens it. Message types: 1 data, 2 "ack what you have", 9 stop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "wipc.h"

#define T_DATA 1
#define T_SYNC 2
#define T_STOP 9

#define PEER_WAIT_MS 30000

typedef enum tkind { K_PIPE, K_SHM, K_MSG } tkind;

typedef struct variant {
    const char *impl;
    tkind kind;
    int sendrecv; /* rtt as send/recv ping-pong */
    int spin0; /* shm spin_us = 0 */
    int zc; /* shm zero-copy throughput */
    int nobulk; /* pipe: large messages through the pipe, not the shared section */
    int async; /* rtt with wipc_request_async + a wait for its completion */
    int wb; /* pipe: WIPC_PIPE_WRITE_BEHIND on both ends */
} variant;

static const variant variants[] = {
    { "pipe", K_PIPE, 0, 0, 0, 0, 0, 0 },      { "pipesr", K_PIPE, 1, 0, 0, 0, 0, 0 },
    { "shm", K_SHM, 0, 0, 0, 0, 0, 0 },        { "shmsr", K_SHM, 1, 0, 0, 0, 0, 0 },
    { "shm0", K_SHM, 0, 1, 0, 0, 0, 0 },       { "shmzc", K_SHM, 0, 0, 1, 0, 0, 0 },
    { "msg", K_MSG, 0, 0, 0, 0, 0, 0 },        { "pipenobig", K_PIPE, 0, 0, 0, 1, 0, 0 },
    { "pipeasync", K_PIPE, 0, 0, 0, 0, 1, 0 }, { "pipewb", K_PIPE, 1, 0, 0, 0, 0, 1 },
};

static const variant *find_variant(const char *impl)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (!strcmp(variants[i].impl, impl))
            return &variants[i];
    return NULL;
}

/* ---- peer side ---- */

static int peer_fail(const char *what)
{
    fprintf(stderr, "wipc_bench peer: %s: %s\n", what, wipc_last_error_message());
    return 1;
}

static void shm_opts(wipc_shm_options *o, const variant *v, int tput)
{
    wipc_shm_options_init(o);
    if (tput)
        o->capacity = 8u << 20;
    if (v->spin0)
        o->spin_us = 0;
}

/* pipe / shm: answer requests (rtt), echo (sendrecv), or count (tput) until T_STOP or the end. */
static int serve_handle(wipc_handle h, const char *metric, const variant *v, size_t size)
{
    size_t cap = size + 64;
    uint8_t *buf = bt_alloc(cap);
    wipc_message m;
    uint64_t count = 0;
    int rc = 0;
    int tput = !strcmp(metric, "tput");
    for (;;) {
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        wipc_status st;
        if (tput && v->zc) {
            const void *p;
            size_t n;
            uint32_t type;
            st = wipc_shm_peek(h, &p, &n, &type, PEER_WAIT_MS);
            if (st == WIPC_OK) {
                m.type = type;
                m.size = n;
                if (n)
                    buf[0] ^= ((const uint8_t *)p)[n - 1]; /* touch the data */
                wipc_shm_release(h);
            }
        } else {
            st = wipc_recv_message(h, buf, cap, &m, PEER_WAIT_MS);
        }
        if (st == WIPC_E_DISCONNECTED || st == WIPC_E_CLOSED)
            break;
        if (st != WIPC_OK) {
            rc = peer_fail("wipc_recv");
            break;
        }
        if (m.type == T_STOP)
            break;
        if (m.type == T_SYNC) {
            if (wipc_send(h, T_SYNC, &count, sizeof count, PEER_WAIT_MS) != WIPC_OK) {
                rc = peer_fail("wipc_send(ack)");
                break;
            }
            count = 0;
            continue;
        }
        count++;
        if (m.request_id) {
            if (wipc_reply(h, m.request_id, m.type, buf, m.size) != WIPC_OK) {
                rc = peer_fail("wipc_reply");
                break;
            }
        } else if (!tput) {
            if (wipc_send(h, m.type, buf, m.size, PEER_WAIT_MS) != WIPC_OK) {
                rc = peer_fail("wipc_send(echo)");
                break;
            }
        }
    }
    bt_free(buf);
    return rc;
}

typedef struct msg_peer {
    volatile int quit;
} msg_peer;

static int32_t WIPC_CALL msg_cb(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    if (m->type == T_STOP)
        ((msg_peer *)user)->quit = 1;
    return (int32_t)m->size;
}

/* peer <impl> <metric> <name> <size> */
static int wipc_peer(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const variant *v = find_variant(argv[0]);
    const char *metric = argv[1], *name = argv[2];
    size_t size = (size_t)strtoull(argv[3], NULL, 10);
    if (!v)
        return 2;
    int tput = !strcmp(metric, "tput");
    int rc = 0;
    if (v->kind == K_PIPE) {
        wipc_handle srv, conn;
        wipc_pipe_options po;
        wipc_pipe_options_init(&po);
        po.flags = v->wb ? WIPC_PIPE_WRITE_BEHIND : 0;
        if (wipc_pipe_listen(name, &po, &srv) != WIPC_OK)
            return peer_fail("wipc_pipe_listen");
        if (wipc_pipe_accept(srv, PEER_WAIT_MS, &conn) != WIPC_OK)
            return peer_fail("wipc_pipe_accept");
        rc = serve_handle(conn, metric, v, size);
        wipc_close(conn);
        wipc_close(srv);
    } else if (v->kind == K_SHM) {
        wipc_shm_options o;
        shm_opts(&o, v, tput);
        wipc_handle ch;
        if (wipc_shm_open(name, &o, PEER_WAIT_MS, &ch) != WIPC_OK)
            return peer_fail("wipc_shm_open");
        rc = serve_handle(ch, metric, v, size);
        wipc_close(ch);
    } else {
        msg_peer mp = { 0 };
        wipc_msg_options o;
        wipc_msg_options_init(&o);
        if (size > o.max_message_size)
            o.max_message_size = (uint32_t)size;
        wipc_handle ep;
        if (wipc_msg_listen(name, &o, &ep) != WIPC_OK)
            return peer_fail("wipc_msg_listen");
        if (wipc_set_callbacks(ep, msg_cb, NULL, &mp) != WIPC_OK)
            return peer_fail("wipc_set_callbacks");
        double end = bt_now_us() + 300e6;
        while (!mp.quit && bt_now_us() < end)
            bt_sleep_ms(5);
        wipc_close(ep);
    }
    wipc_shutdown();
    return rc;
}

/* ---- this side ---- */

static void set_bulk(int on)
{
#if defined(_WIN32)
    SetEnvironmentVariableA("WIPC_PIPE_BULK", on ? NULL : "0");
    _putenv(on ? "WIPC_PIPE_BULK=" : "WIPC_PIPE_BULK=0");
#else
    if (on)
        unsetenv("WIPC_PIPE_BULK");
    else
        setenv("WIPC_PIPE_BULK", "0", 1);
#endif
}

typedef struct wctx {
    const variant *v;
    wipc_handle h;
    const char *name;
    uint8_t *out, *in;
    size_t size;
} wctx;

static int once_request(void *p, char *err, size_t cap)
{
    wctx *c = p;
    size_t got = 0;
    wipc_status st = wipc_request(c->h, T_DATA, c->out, c->size, c->in, c->size + 64, &got, 10000);
    if (st != WIPC_OK || got != c->size) {
        snprintf(err, cap, "wipc_request: %s (got %zu of %zu)", wipc_last_error_message(), got, c->size);
        return 1;
    }
    return 0;
}

/* wipc_request_async + the caller's wait for the completion: what an event loop / Task would do */
#if defined(_WIN32)
static SRWLOCK a_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE a_cond = CONDITION_VARIABLE_INIT;
#  define A_LOCK()   AcquireSRWLockExclusive(&a_lock)
#  define A_UNLOCK() ReleaseSRWLockExclusive(&a_lock)
#  define A_WAIT()   SleepConditionVariableSRW(&a_cond, &a_lock, INFINITE, 0)
#  define A_SIGNAL() WakeConditionVariable(&a_cond)
#else
#  include <pthread.h>
static pthread_mutex_t a_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t a_cond = PTHREAD_COND_INITIALIZER;
#  define A_LOCK()   pthread_mutex_lock(&a_lock)
#  define A_UNLOCK() pthread_mutex_unlock(&a_lock)
#  define A_WAIT()   pthread_cond_wait(&a_cond, &a_lock)
#  define A_SIGNAL() pthread_cond_signal(&a_cond)
#endif
static int a_done;
static wipc_status a_status;
static size_t a_size;

static void WIPC_CALL on_async_reply(const wipc_completion *cp, void *user)
{
    (void)user;
    A_LOCK();
    a_status = cp->status;
    a_size = cp->message ? cp->message->size : (size_t)-1;
    a_done = 1;
    A_SIGNAL();
    A_UNLOCK();
}

/* pipeasync.tput: completions counted, a sender refused with WIPC_E_BUSY waits for the next one */
static uint64_t s_done;
static wipc_status s_status;

static void WIPC_CALL on_async_sent(const wipc_completion *cp, void *user)
{
    (void)user;
    A_LOCK();
    s_done++;
    if (cp->status != WIPC_OK && s_status == WIPC_OK)
        s_status = cp->status;
    A_SIGNAL();
    A_UNLOCK();
}

/* One wipc_send_async of this phase's message number `started`: a full queue waits for a completion. */
static wipc_status send_async_one(wctx *c, uint64_t started)
{
    for (;;) {
        wipc_status st = wipc_send_async(c->h, T_DATA, c->out, c->size, 10000, on_async_sent, NULL, NULL);
        if (st != WIPC_E_BUSY)
            return st;
        A_LOCK();
        uint64_t before = s_done;
        while (s_done == before && s_done < started)
            A_WAIT();
        A_UNLOCK();
    }
}

static int once_request_async(void *p, char *err, size_t cap)
{
    wctx *c = p;
    A_LOCK();
    a_done = 0;
    A_UNLOCK();
    wipc_status st = wipc_request_async(c->h, T_DATA, c->out, c->size, 10000, on_async_reply, NULL, NULL);
    if (st != WIPC_OK) {
        snprintf(err, cap, "wipc_request_async: %s", wipc_last_error_message());
        return 1;
    }
    A_LOCK();
    while (!a_done)
        A_WAIT();
    st = a_status;
    size_t got = a_size;
    A_UNLOCK();
    if (st != WIPC_OK || got != c->size) {
        snprintf(err, cap, "wipc_request_async completed with %s (got %zu of %zu)", wipc_status_name(st), got, c->size);
        return 1;
    }
    return 0;
}

static int once_sendrecv(void *p, char *err, size_t cap)
{
    wctx *c = p;
    size_t got = 0;
    uint32_t type = 0;
    wipc_status st = wipc_send(c->h, T_DATA, c->out, c->size, 10000);
    if (st == WIPC_OK)
        st = wipc_recv(c->h, c->in, c->size + 64, &got, &type, 10000);
    if (st != WIPC_OK || got != c->size) {
        snprintf(err, cap, "wipc_send/recv: %s", wipc_last_error_message());
        return 1;
    }
    return 0;
}

static int once_msg(void *p, char *err, size_t cap)
{
    wctx *c = p;
    int32_t reply = -1;
    wipc_status st = wipc_msg_send(c->name, T_DATA, c->out, c->size, 10000, &reply);
    if (st != WIPC_OK || reply != (int32_t)c->size) {
        snprintf(err, cap, "wipc_msg_send: %s (reply %d)", wipc_last_error_message(), (int)reply);
        return 1;
    }
    return 0;
}

/* Sends for `secs` seconds, then a sync; returns the messages sent (the peer's count must agree). */
static int send_phase(wctx *c, double secs, uint64_t *sent, char *err, size_t cap)
{
    uint64_t n = 0;
    double end = bt_now_us() + secs * 1e6;
    int check = c->size >= 4096 ? 1 : 32;
    for (;;) {
        wipc_status st;
        if (c->v->zc) {
            void *dst;
            st = wipc_shm_reserve(c->h, c->size, &dst, 10000);
            if (st == WIPC_OK) {
                memcpy(dst, c->out, c->size);
                st = wipc_shm_commit(c->h, T_DATA, c->size);
            }
        } else if (c->v->async) {
            st = send_async_one(c, n);
        } else {
            st = wipc_send(c->h, T_DATA, c->out, c->size, 10000);
        }
        if (st != WIPC_OK) {
            snprintf(err, cap, "send #%llu: %s", (unsigned long long)n, wipc_last_error_message());
            return 1;
        }
        n++;
        if (n % (uint64_t)check == 0 && bt_now_us() > end)
            break;
    }
    if (c->v->async) { /* every send completed (written to the pipe) before the sync */
        A_LOCK();
        while (s_done < n)
            A_WAIT();
        wipc_status st = s_status;
        s_done = 0;
        s_status = WIPC_OK;
        A_UNLOCK();
        if (st != WIPC_OK) {
            snprintf(err, cap, "a wipc_send_async completed with %s", wipc_status_name(st));
            return 1;
        }
    }
    uint64_t peer_count = 0;
    size_t got = 0;
    uint32_t type = 0;
    if (wipc_send(c->h, T_SYNC, NULL, 0, 10000) != WIPC_OK ||
        wipc_recv(c->h, &peer_count, sizeof peer_count, &got, &type, 30000) != WIPC_OK) {
        snprintf(err, cap, "sync: %s", wipc_last_error_message());
        return 1;
    }
    if (peer_count != n) {
        snprintf(err, cap, "the peer received %llu messages, %llu were sent", (unsigned long long)peer_count,
                 (unsigned long long)n);
        return 1;
    }
    *sent = n;
    return 0;
}

static int run_wipc(const bt_case *bc, const char *id)
{
    const variant *v = find_variant(bc->impl);
    int tput = !strcmp(bc->metric, "tput");
    char name[96];
    bt_name(name, sizeof name, bc->impl);
    wctx c;
    memset(&c, 0, sizeof c);
    c.v = v;
    c.size = bc->size;
    c.name = name;
    c.out = bt_alloc(bc->size + 64);
    c.in = bt_alloc(bc->size + 64);
    memset(c.out, 0x5a, bc->size);
    bt_child child;
    int rc = 1;
    set_bulk(!v->nobulk); /* read by the library per connection, inherited by the peer */
    if (v->kind == K_SHM) {
        wipc_shm_options o;
        shm_opts(&o, v, tput);
        if (wipc_shm_create(name, &o, &c.h) != WIPC_OK) {
            bt_emit_error(id, "wipc_shm_create: %s", wipc_last_error_message());
            goto out;
        }
    }
    if (bt_start_peer(bc, id, name, &child))
        goto out;
    if (v->kind == K_PIPE) {
        wipc_pipe_options po; /* the server peer may not listen yet */
        wipc_pipe_options_init(&po);
        po.flags = WIPC_PIPE_WAIT_FOR_SERVER | (v->wb ? WIPC_PIPE_WRITE_BEHIND : 0);
        if (wipc_pipe_connect(name, &po, PEER_WAIT_MS, &c.h) != WIPC_OK) {
            bt_emit_error(id, "wipc_pipe_connect: %s", wipc_last_error_message());
            bt_kill(&child);
            goto out;
        }
    } else if (v->kind == K_SHM) {
        wipc_info in;
        memset(&in, 0, sizeof in);
        in.struct_size = sizeof in;
        double end = bt_now_us() + PEER_WAIT_MS * 1e3;
        while (wipc_get_info(c.h, &in) == WIPC_OK && !in.connected && bt_now_us() < end)
            bt_sleep_ms(1);
        if (!in.connected) {
            bt_emit_error(id, "the peer did not open the shm channel");
            bt_kill(&child);
            goto out;
        }
    } else {
        /* a 1-byte probe until the peer's callback answers it (1): between wipc_msg_listen and
         * wipc_set_callbacks the endpoint queues messages and answers 0 */
        int32_t r = 0;
        double end = bt_now_us() + PEER_WAIT_MS * 1e3;
        wipc_status st;
        while (((st = wipc_msg_send(name, 0, "p", 1, 2000, &r)) != WIPC_OK || r != 1) && bt_now_us() < end)
            bt_sleep_ms(5);
        if (st == WIPC_OK && r != 1)
            st = WIPC_E_TIMEOUT;
        if (st != WIPC_OK) {
            bt_emit_error(id, "wipc_msg_send to the peer: %s", wipc_last_error_message());
            bt_kill(&child);
            goto out;
        }
    }

    if (!tput) {
        rc = bt_rtt_loop(id,
                         v->kind == K_MSG ? once_msg
                         : v->sendrecv    ? once_sendrecv
                         : v->async       ? once_request_async
                                          : once_request,
                         &c);
    } else if (v->kind == K_MSG) {
        /* wipc_msg_send is synchronous (SendMessage semantics): its throughput is back-to-back sends */
        char err[256];
        uint64_t n = 0;
        double t0 = bt_now_us(), end = t0 + bt_tput_secs * 1e6;
        rc = 0;
        while (bt_now_us() < end) {
            if (once_msg(&c, err, sizeof err)) {
                bt_emit_error(id, "%s", err);
                rc = 1;
                break;
            }
            n++;
        }
        if (!rc)
            bt_emit_tput(id, c.size, n, (bt_now_us() - t0) / 1e6);
    } else {
        char err[256];
        uint64_t n = 0;
        rc = send_phase(&c, bt_tput_secs * 0.15, &n, err, sizeof err); /* warm-up */
        double t0 = bt_now_us();
        if (!rc)
            rc = send_phase(&c, bt_tput_secs, &n, err, sizeof err);
        double t1 = bt_now_us();
        if (rc)
            bt_emit_error(id, "%s", err);
        else
            bt_emit_tput(id, c.size, n, (t1 - t0) / 1e6);
    }
    if (v->kind == K_MSG) {
        int32_t r;
        wipc_msg_send(name, T_STOP, NULL, 0, 5000, &r);
    } else {
        wipc_send(c.h, T_STOP, NULL, 0, 5000);
    }
    if (bt_wait(&child, 20000) != 0 && !rc) {
        fprintf(stderr, "wipc_bench: the peer of %s did not exit cleanly\n", id);
    }
out:
    if (c.h)
        wipc_close(c.h);
    set_bulk(1);
    bt_free(c.out);
    bt_free(c.in);
    return rc;
}

#define C(impl, metric, size)                                                                                          \
  {                                                                                                                    \
    impl, metric, size, run_wipc, wipc_peer                                                                            \
  }
static const bt_case cases[] = {
    C("pipe", "rtt", 64),
    C("pipe", "rtt", 4096),
    C("pipe", "rtt", 65536),
    C("pipe", "tput", 64),
    C("pipe", "tput", 65536),
    C("pipe", "tput", 1048576),
    C("pipe", "tput", 16777216),
    C("pipenobig", "tput", 1048576),
    C("pipenobig", "tput", 16777216),
    C("pipesr", "rtt", 64),
    C("pipeasync", "rtt", 64),
    C("pipeasync", "rtt", 4096),
    C("pipeasync", "tput", 64),
    C("pipewb", "rtt", 64),
    C("pipewb", "tput", 64),
    C("shm", "rtt", 64),
    C("shm", "rtt", 4096),
    C("shm", "rtt", 65536),
    C("shm0", "rtt", 64),
    C("shmsr", "rtt", 64),
    C("shm", "tput", 64),
    C("shm", "tput", 65536),
    C("shm", "tput", 1048576),
    C("shmzc", "tput", 65536),
    C("shmzc", "tput", 1048576),
    C("msg", "rtt", 64),
    C("msg", "rtt", 4096),
    C("msg", "rtt", 65536),
    C("msg", "tput", 64),
    C("msg", "tput", 65536),
};
#undef C

BT_CASE_LIST(bt_cases_wipc, cases)
