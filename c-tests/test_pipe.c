/*
 * test_pipe.c - the pipe transport: in-process and cross-process (with wipc_peer).
 *
 * Every wait is bounded: library calls use timeouts of a few seconds, helper threads are joined
 * with wt_thread_join_or_die (a hang ends the run with "HANG: ..."), and ctest has a TIMEOUT.
 */
#include "testlib.h"

#include <stdatomic.h>

#define MIB (1024u * 1024u)

static _Thread_local int t_is_test_thread; /* set on threads the test made; callbacks must not see it */

static int setup_thread_flag(void **state)
{
    (void)state;
    t_is_test_thread = 1;
    return 0;
}

/* After every test, even a failed one: no peer process may outlive it. */
static int teardown_peers(void **state)
{
    (void)state;
    wt_kill_all_peers();
    return 0;
}

/* Status of a wipc call made on a helper thread, with that thread's last error message. */
#define WT_ASSERT_JOB(job, expected)                                                                                   \
  WT_CHECK((job).st == (expected), "%s returned %s, expected %s; its last error: \"%s\"", #job,                        \
           wipc_status_name((job).st), wipc_status_name(expected), (job).msg)

/* ---- helper threads ---------------------------------------------------------------------------- */

typedef struct {
    wipc_handle h;
    uint32_t type;
    const void *data;
    size_t size;
    int32_t timeout_ms;
    wipc_status st;
    char msg[512];
} send_job;

static void *send_thread(void *arg)
{
    t_is_test_thread = 1;
    send_job *j = (send_job *)arg;
    j->st = wipc_send(j->h, j->type, j->data, j->size, j->timeout_ms);
    wt_last_error(j->msg, sizeof j->msg);
    return NULL;
}

typedef struct {
    wipc_handle h;
    void *buf;
    size_t cap;
    size_t size;
    uint32_t type;
    int32_t timeout_ms;
    wipc_status st;
    uint64_t elapsed_ms;
    char msg[512];
} recv_job;

static void *recv_thread(void *arg)
{
    t_is_test_thread = 1;
    recv_job *j = (recv_job *)arg;
    uint64_t t0 = wt_now_ms();
    j->st = wipc_recv(j->h, j->buf, j->cap, &j->size, &j->type, j->timeout_ms);
    j->elapsed_ms = wt_now_ms() - t0;
    wt_last_error(j->msg, sizeof j->msg);
    return NULL;
}

typedef struct {
    wipc_handle h;
    wipc_handle out;
    int32_t timeout_ms;
    wipc_status st;
    uint64_t elapsed_ms;
    char msg[512];
} accept_job;

static void *accept_thread(void *arg)
{
    t_is_test_thread = 1;
    accept_job *j = (accept_job *)arg;
    uint64_t t0 = wt_now_ms();
    j->st = wipc_pipe_accept(j->h, j->timeout_ms, &j->out);
    j->elapsed_ms = wt_now_ms() - t0;
    wt_last_error(j->msg, sizeof j->msg);
    return NULL;
}

typedef struct {
    wipc_handle h;
    uint32_t type;
    const void *req;
    size_t req_size;
    void *resp;
    size_t resp_cap;
    size_t resp_size;
    int32_t timeout_ms;
    wipc_status st;
    uint64_t elapsed_ms;
    char msg[512];
} request_job;

static void *request_thread(void *arg)
{
    t_is_test_thread = 1;
    request_job *j = (request_job *)arg;
    uint64_t t0 = wt_now_ms();
    j->st = wipc_request(j->h, j->type, j->req, j->req_size, j->resp, j->resp_cap, &j->resp_size, j->timeout_ms);
    j->elapsed_ms = wt_now_ms() - t0;
    wt_last_error(j->msg, sizeof j->msg);
    return NULL;
}

typedef struct {
    const char *name;
    int32_t timeout_ms;
    wipc_handle out;
    wipc_status st;
    uint64_t elapsed_ms;
    char msg[512];
} connect_job;

static void *connect_thread(void *arg)
{
    t_is_test_thread = 1;
    connect_job *j = (connect_job *)arg;
    uint64_t t0 = wt_now_ms();
    j->st = wt_connect_waiting(j->name, j->timeout_ms, &j->out); /* may start before its server */
    j->elapsed_ms = wt_now_ms() - t0;
    wt_last_error(j->msg, sizeof j->msg);
    return NULL;
}

typedef struct {
    wt_proc *p;
    unsigned delay_ms;
} kill_job;

static void *kill_thread(void *arg)
{
    kill_job *j = (kill_job *)arg;
    wt_sleep_ms(j->delay_ms);
    wt_proc_kill(j->p);
    return NULL;
}

typedef struct {
    wipc_handle h;
    unsigned delay_ms;
    wipc_status st;
} close_job;

static void *close_thread(void *arg)
{
    close_job *j = (close_job *)arg;
    wt_sleep_ms(j->delay_ms);
    j->st = wipc_close(j->h);
    return NULL;
}

/* ---- basic ------------------------------------------------------------------------------------- */

static void test_pipe_connect_accept(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "basic");
    char buf[32];
    size_t sz = 0;
    uint32_t type = 0;
    WT_OK(wipc_send(p.cli, 42, "ping", 4, 1000));
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(sz, 4);
    assert_int_equal(type, 42);
    assert_memory_equal(buf, "ping", 4);
    WT_OK(wipc_send(p.svc, 43, "pong!", 5, 1000));
    WT_OK(wipc_recv(p.cli, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(sz, 5);
    assert_int_equal(type, 43);
    assert_memory_equal(buf, "pong!", 5);

    /* polling with timeout 0 */
    uint64_t t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_recv(p.cli, buf, sizeof buf, &sz, &type, 0), WIPC_E_TIMEOUT);
    wipc_handle none = 0;
    WT_ASSERT_FAILS(wipc_pipe_accept(p.srv, 0, &none), WIPC_E_TIMEOUT);
    assert_int_equal(none, 0);
    WT_CHECK(wt_now_ms() - t0 < 1000, "timeout 0 took %llu ms", (unsigned long long)(wt_now_ms() - t0));

    /* a short timeout is honoured */
    t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_recv(p.cli, buf, sizeof buf, &sz, &type, 200), WIPC_E_TIMEOUT);
    uint64_t el = wt_now_ms() - t0;
    WT_CHECK(el >= 150 && el < 3000, "recv(200 ms) returned after %llu ms", (unsigned long long)el);

    /* two clients on one server, each with its own connection */
    wipc_handle c2 = 0, s2 = 0;
    WT_OK(wipc_pipe_connect(p.name, NULL, 5000, &c2));
    WT_OK(wipc_pipe_accept(p.srv, 5000, &s2));
    WT_OK(wipc_send(c2, 2, "two", 3, 1000));
    WT_OK(wipc_send(p.cli, 1, "one", 3, 1000));
    WT_OK(wipc_recv(s2, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(type, 2);
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(type, 1);
    assert_int_equal(wt_info(p.srv).connected, 2);
    WT_OK(wipc_close(c2));
    WT_OK(wipc_close(s2));
    wt_pair_close(&p);
}

static void test_pipe_message_sizes(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "sizes");
    const size_t sizes[] = { 0, 1, 64 * 1024 + 1, MIB, WIPC_DEFAULT_MAX_MESSAGE };
    size_t cap = WIPC_DEFAULT_MAX_MESSAGE + 16;
    uint8_t *out = (uint8_t *)malloc(cap), *in = (uint8_t *)malloc(cap);
    assert_non_null(out);
    assert_non_null(in);
    for (int dir = 0; dir < 2; dir++) {
        wipc_handle from = dir ? p.svc : p.cli, to = dir ? p.cli : p.svc;
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            wt_fill(out, sizes[i], (uint32_t)(i * 7 + dir));
            /* send from a thread: a big message may need the receiver to drain */
            send_job sj = { from, (uint32_t)(0x1000 + i), out, sizes[i], 20000, 0, { 0 } };
            wt_thread *t = wt_thread_start(send_thread, &sj);
            size_t sz = (size_t)-1;
            uint32_t type = 0;
            memset(in, 0xEE, 64);
            wipc_status rs = wipc_recv(to, in, cap, &sz, &type, 30000);
            wt_thread_join_or_die(t, 60000, "wipc_send of a big message");
            if (sj.st != WIPC_OK)
                WT_FAIL("wipc_send(%zu bytes) -> %s: %s", sizes[i], wipc_status_name(sj.st), sj.msg);
            WT_ASSERT_STATUS(rs, WIPC_OK);
            assert_int_equal(sz, sizes[i]);
            assert_int_equal(type, 0x1000 + i);
            WT_CHECK(wt_check(in, sz, (uint32_t)(i * 7 + dir)), "payload of %zu bytes differs", sizes[i]);
        }
    }
    free(out);
    free(in);
    wt_pair_close(&p);
}

/* Message k of test_pipe_boundaries_and_order: (k * 37) % 700 bytes, none for every 50th. */
static size_t numbered_size(int k)
{
    return k % 50 == 0 ? 0 : (size_t)((k * 37) % 700);
}

/* Receives message k on h into got (cap bytes), checks its type and size; returns the size. */
static size_t recv_numbered(wipc_handle h, uint8_t *got, size_t cap, int k)
{
    size_t gsz = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(h, got, cap, &gsz, &type, 5000));
    assert_int_equal(type, (uint32_t)k);
    assert_int_equal(gsz, numbered_size(k));
    return gsz;
}

static void test_pipe_boundaries_and_order(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "order");
    const int n = WT_SCALE(2000, 300);
    uint8_t buf[8192], got[8192];
    /* small messages sent back to back: each one must come out alone, in order, with its type */
    for (int i = 0; i < n; i++) {
        size_t sz = numbered_size(i);
        wt_fill(buf, sz, (uint32_t)i);
        WT_OK(wipc_send(p.cli, (uint32_t)i, buf, sz, 5000));
        if (i % 64 == 63) { /* drain now and then so no back-pressure assumption is made */
            for (int k = i - 63; k <= i; k++) {
                size_t gsz = recv_numbered(p.svc, got, sizeof got, k);
                WT_CHECK(wt_check(got, gsz, (uint32_t)k), "message %d corrupted", k);
            }
        }
    }
    for (int k = n - n % 64; k < n; k++)
        recv_numbered(p.svc, got, sizeof got, k);
    WT_ASSERT_STATUS(wipc_recv(p.svc, got, sizeof got, NULL, NULL, 0), WIPC_E_TIMEOUT);
    /* all 2^32 type values are carried */
    const uint32_t types[] = { 0, 1, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu };
    for (size_t i = 0; i < 5; i++)
        WT_OK(wipc_send(p.svc, types[i], "t", 1, 1000));
    for (size_t i = 0; i < 5; i++) {
        uint32_t type = 1234;
        WT_OK(wipc_recv(p.cli, got, sizeof got, NULL, &type, 2000));
        assert_int_equal(type, types[i]);
    }
    wt_pair_close(&p);
}

static void test_pipe_buffer_too_small(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "small");
    uint8_t msg[1000], buf[1000];
    wt_fill(msg, sizeof msg, 5);
    WT_OK(wipc_send(p.cli, 77, msg, sizeof msg, 1000));
    WT_OK(wipc_send(p.cli, 78, "tail", 4, 1000));
    size_t sz = 0;
    uint32_t type = 0;
    WT_ASSERT_FAILS(wipc_recv(p.svc, buf, 10, &sz, &type, 2000), WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(sz, 1000);
    sz = 0;
    WT_ASSERT_FAILS(wipc_recv(p.svc, buf, 999, &sz, &type, 2000), WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(sz, 1000);
    sz = 0;
    WT_ASSERT_FAILS(wipc_recv(p.svc, NULL, 0, &sz, NULL, 0), WIPC_E_BUFFER_TOO_SMALL); /* size probe */
    assert_int_equal(sz, 1000);
    wipc_message m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    WT_ASSERT_FAILS(wipc_recv_message(p.svc, buf, 100, &m, 2000), WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(m.size, 1000);
    /* still queued, first in line */
    sz = 0;
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(sz, 1000);
    assert_int_equal(type, 77);
    assert_memory_equal(buf, msg, sizeof msg);
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(sz, 4);
    assert_int_equal(type, 78);
    wt_pair_close(&p);
}

static void test_pipe_too_large(void **state)
{
    (void)state;
    size_t big = (size_t)WIPC_DEFAULT_MAX_MESSAGE + 1;
    uint8_t *data = (uint8_t *)calloc(1, big);
    assert_non_null(data);
    uint8_t buf[2048], resp[16];
    size_t sz = 0;
    uint32_t type = 0;

    /* above the default max: refused on send, nothing sent */
    wt_pair p;
    wt_pair_open(&p, "large");
    WT_ASSERT_FAILS(wipc_send(p.cli, 1, data, big, 1000), WIPC_E_TOO_LARGE);
    WT_ASSERT_FAILS(wipc_send(p.svc, 1, data, big, 1000), WIPC_E_TOO_LARGE);
    WT_ASSERT_FAILS(wipc_request(p.cli, 1, data, big, resp, sizeof resp, &sz, 1000), WIPC_E_TOO_LARGE);
    WT_ASSERT_FAILS(wipc_send(p.cli, 1, data, SIZE_MAX, 1000), WIPC_E_TOO_LARGE);
    WT_OK(wipc_send(p.cli, 2, "after", 5, 1000));
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(type, 2);
    assert_int_equal(sz, 5);
    WT_ASSERT_STATUS(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 0), WIPC_E_TIMEOUT);
    wt_pair_close(&p);

    /* the sender's own smaller limit */
    wipc_pipe_options small;
    wipc_pipe_options_init(&small);
    small.max_message_size = 1000;
    wt_pair_open_opts(&p, "large2", NULL, &small);
    WT_ASSERT_FAILS(wipc_send(p.cli, 1, data, 1001, 1000), WIPC_E_TOO_LARGE);
    WT_OK(wipc_send(p.cli, 3, data, 1000, 1000));
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(sz, 1000);
    /* ... and the server side learned the client's limit at the handshake */
    WT_ASSERT_FAILS(wipc_send(p.svc, 1, data, 1001, 1000), WIPC_E_TOO_LARGE);
    WT_OK(wipc_send(p.svc, 4, data, 1000, 1000));
    WT_OK(wipc_recv(p.cli, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(sz, 1000);
    assert_int_equal(type, 4);
    wt_pair_close(&p);

    /* the receiving server has the smaller limit: the client learned it at the handshake */
    wt_pair_open_opts(&p, "large3", &small, NULL);
    WT_ASSERT_FAILS(wipc_send(p.cli, 1, data, 1001, 1000), WIPC_E_TOO_LARGE);
    WT_ASSERT_FAILS(wipc_request(p.cli, 1, data, 1001, resp, sizeof resp, &sz, 1000), WIPC_E_TOO_LARGE);
    WT_OK(wipc_send(p.cli, 5, data, 1000, 1000));
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(sz, 1000);
    assert_int_equal(type, 5);
    WT_ASSERT_FAILS(wipc_send(p.svc, 1, data, 1001, 1000), WIPC_E_TOO_LARGE);
    WT_ASSERT_STATUS(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 0), WIPC_E_TIMEOUT);
    wt_pair_close(&p);
    free(data);
}

static void test_pipe_disconnect_drains_queue(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "drain");
    for (uint32_t i = 0; i < 3; i++)
        WT_OK(wipc_send(p.cli, i, "abc", 3, 1000));
    WT_OK(wipc_close(p.cli));
    p.cli = 0;
    char buf[8];
    uint32_t type = 99;
    for (uint32_t i = 0; i < 3; i++) {
        WT_OK(wipc_recv(p.svc, buf, sizeof buf, NULL, &type, 2000));
        assert_int_equal(type, i);
    }
    uint64_t t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_recv(p.svc, buf, sizeof buf, NULL, NULL, 5000), WIPC_E_DISCONNECTED);
    WT_CHECK(wt_now_ms() - t0 < 4000, "DISCONNECTED took %llu ms", (unsigned long long)(wt_now_ms() - t0));
    WT_ASSERT_FAILS(wipc_recv(p.svc, buf, sizeof buf, NULL, NULL, 1000), WIPC_E_DISCONNECTED);
    WT_ASSERT_FAILS(wipc_send(p.svc, 1, "x", 1, 1000), WIPC_E_DISCONNECTED);
    WT_ASSERT_FAILS(wipc_request(p.svc, 1, "x", 1, buf, sizeof buf, NULL, 1000), WIPC_E_DISCONNECTED);
    wt_pair_close(&p);
}

static void test_pipe_dot_names(void **state)
{
    (void)state;
    /* "." and ".." are made of allowed characters: valid names, served like any other. */
    const char *names[] = { ".", "..", "...", "-", "_" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        wipc_handle srv = 0, c = 0, s = 0;
        WT_OK(wipc_pipe_listen(names[i], NULL, &srv));
        WT_OK(wipc_pipe_connect(names[i], NULL, 5000, &c));
        WT_OK(wipc_pipe_accept(srv, 5000, &s));
        WT_OK(wipc_send(c, 1, "dot", 3, 1000));
        char buf[8];
        size_t sz = 0;
        WT_OK(wipc_recv(s, buf, sizeof buf, &sz, NULL, 2000));
        assert_int_equal(sz, 3);
        assert_string_equal(wt_info(srv).name, names[i]);
        WT_OK(wipc_close(c));
        WT_OK(wipc_close(s));
        WT_OK(wipc_close(srv));
    }
}

static void test_pipe_trailing_dots_are_distinct_names(void **state)
{
    (void)state;
    /* "x", "x." and "x.." are three different valid names: each its own endpoint (Win32 path
     * normalisation strips trailing dots from \\.\pipe\ paths; the library must not let it alias). */
    char base[160], dot[170], dotdot[170];
    wt_unique_name(base, sizeof base, "alias");
    snprintf(dot, sizeof dot, "%s.", base);
    snprintf(dotdot, sizeof dotdot, "%s..", base);
    wipc_handle a = 0, b = 0, c = 0, s = 0;
    WT_OK(wipc_pipe_listen(base, NULL, &a));
    WT_ASSERT_FAILS(wipc_pipe_connect(dotdot, NULL, 300, &c), WIPC_E_NOT_FOUND);
    assert_int_equal(c, 0);
    WT_OK(wipc_pipe_listen(dot, NULL, &b));
    WT_OK(wipc_pipe_connect(dot, NULL, 5000, &c));
    WT_OK(wipc_pipe_accept(b, 5000, &s));
    wipc_handle none = 0;
    WT_ASSERT_STATUS(wipc_pipe_accept(a, 0, &none), WIPC_E_TIMEOUT); /* the client went to "x.", not "x" */
    assert_string_equal(wt_info(c).name, dot);
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(s));
    WT_OK(wipc_close(b));
    WT_OK(wipc_close(a));
}

/* ---- request / reply --------------------------------------------------------------------------- */

#define RR_THREADS 4

typedef struct {
    wipc_handle h;
    int id;
    int rounds;
    int errors;
    char err[512];
} rr_client;

static size_t rr_size(int id, int r)
{
    return (size_t)1 + (size_t)((id * 977 + r * 131) % 5000);
}

static void *rr_client_thread(void *arg)
{
    t_is_test_thread = 1;
    rr_client *c = (rr_client *)arg;
    uint8_t req[5001], resp[5001];
    for (int r = 0; r < c->rounds && !c->errors; r++) {
        size_t n = rr_size(c->id, r), got = 0;
        uint32_t seed = (uint32_t)(c->id * 100000 + r);
        wt_fill(req, n, seed);
        wipc_status s = wipc_request(c->h, (uint32_t)(500 + c->id), req, n, resp, sizeof resp, &got, 15000);
        if (s != WIPC_OK) {
            char m[256];
            snprintf(c->err, sizeof c->err, "thread %d round %d: %s: %s", c->id, r, wipc_status_name(s),
                     wt_last_error(m, sizeof m));
            c->errors++;
        } else if (got != n || !wt_check(resp, n, seed)) {
            snprintf(c->err, sizeof c->err,
                     "thread %d round %d: got a reply of %zu bytes not matching its %zu-byte request", c->id, r, got,
                     n);
            c->errors++;
        }
    }
    return NULL;
}

typedef struct {
    wipc_handle h;
    int rounds;
    int batch;
    int errors;
    char err[512];
} rr_server;

/* Collects `batch` requests (so they are all in flight at once), then answers them in reverse order. */
static void *rr_server_thread(void *arg)
{
    t_is_test_thread = 1;
    rr_server *s = (rr_server *)arg;
    static uint8_t bufs[16][5001];
    wipc_message m[16];
    for (int r = 0; r < s->rounds && !s->errors; r++) {
        for (int k = 0; k < s->batch; k++) {
            memset(&m[k], 0, sizeof m[k]);
            m[k].struct_size = sizeof m[k];
            wipc_status st = wipc_recv_message(s->h, bufs[k], sizeof bufs[k], &m[k], 15000);
            if (st != WIPC_OK) {
                snprintf(s->err, sizeof s->err, "server round %d: recv_message: %s", r, wipc_status_name(st));
                s->errors++;
                return NULL;
            }
            if (m[k].request_id == 0 || m[k].type < 500 || m[k].type >= 500 + RR_THREADS) {
                snprintf(s->err, sizeof s->err, "server round %d: request_id %llu type %u", r,
                         (unsigned long long)m[k].request_id, m[k].type);
                s->errors++;
                return NULL;
            }
            for (int j = 0; j < k; j++)
                if (m[j].request_id == m[k].request_id || m[j].type == m[k].type) {
                    snprintf(s->err, sizeof s->err, "server round %d: two requests with id %llu / type %u in one batch",
                             r, (unsigned long long)m[k].request_id, m[k].type);
                    s->errors++;
                    return NULL;
                }
        }
        for (int k = s->batch - 1; k >= 0; k--) {
            wipc_status st = wipc_reply(s->h, m[k].request_id, m[k].type + 1, bufs[k], m[k].size);
            if (st != WIPC_OK) {
                snprintf(s->err, sizeof s->err, "server round %d: reply: %s", r, wipc_status_name(st));
                s->errors++;
                return NULL;
            }
        }
    }
    return NULL;
}

static void test_pipe_request_threads(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "rr");
    const int rounds = WT_SCALE(100, 15);
    rr_server srv = { p.svc, rounds, RR_THREADS, 0, { 0 } };
    rr_client cl[RR_THREADS];
    wt_thread *ts = wt_thread_start(rr_server_thread, &srv);
    wt_thread *tc[RR_THREADS];
    for (int i = 0; i < RR_THREADS; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].h = p.cli;
        cl[i].id = i;
        cl[i].rounds = rounds;
        tc[i] = wt_thread_start(rr_client_thread, &cl[i]);
    }
    for (int i = 0; i < RR_THREADS; i++)
        wt_thread_join_or_die(tc[i], 120000, "wipc_request threads");
    wt_thread_join_or_die(ts, 30000, "request server");
    for (int i = 0; i < RR_THREADS; i++)
        WT_CHECK(cl[i].errors == 0, "%s", cl[i].err);
    WT_CHECK(srv.errors == 0, "%s", srv.err);
    /* Counters: every request is a message sent by the client and received by the server, every
     * reply one sent by the server and received by the client. */
    wipc_info ci = wt_info(p.cli), si = wt_info(p.svc);
    const uint64_t total = (uint64_t)(rounds * RR_THREADS);
    WT_CHECK(ci.messages_sent == total && si.messages_received == total,
             "requests: client messages_sent %llu, server messages_received %llu, expected %llu",
             (unsigned long long)ci.messages_sent, (unsigned long long)si.messages_received, (unsigned long long)total);
    WT_CHECK(si.messages_sent == total && ci.messages_received == total,
             "replies: server messages_sent %llu, client messages_received %llu, expected %llu",
             (unsigned long long)si.messages_sent, (unsigned long long)ci.messages_received, (unsigned long long)total);
    WT_CHECK(ci.bytes_sent == si.bytes_received && si.bytes_sent == ci.bytes_received,
             "bytes: client sent %llu / server received %llu; server sent %llu / client received %llu",
             (unsigned long long)ci.bytes_sent, (unsigned long long)si.bytes_received,
             (unsigned long long)si.bytes_sent, (unsigned long long)ci.bytes_received);
    wt_pair_close(&p);
}

static void test_pipe_request_details(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "rr2");
    char req[64], buf[256];
    size_t sz = 0;
    uint32_t type = 0;

    /* answered with request_id 0 after wipc_recv; a second reply with id 0 has nothing to answer */
    request_job rj = { p.cli, 10, "question", 8, buf, sizeof buf, 0, 10000, 0, 0, { 0 } };
    wt_thread *t = wt_thread_start(request_thread, &rj);
    WT_OK(wipc_recv(p.svc, req, sizeof req, &sz, &type, 10000));
    assert_int_equal(sz, 8);
    assert_int_equal(type, 10);
    assert_memory_equal(req, "question", 8);
    WT_OK(wipc_reply(p.svc, 0, 11, "answer!", 7));
    wt_thread_join_or_die(t, 20000, "wipc_request");
    WT_ASSERT_JOB(rj, WIPC_OK);
    assert_int_equal(rj.resp_size, 7);
    assert_memory_equal(buf, "answer!", 7);
    WT_ASSERT_FAILS(wipc_reply(p.svc, 0, 11, "again", 5), WIPC_E_INVALID_ARG);

    /* no answer in time: WIPC_E_TIMEOUT; the late reply is dropped, the next request gets its own */
    uint64_t t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_request(p.cli, 20, "late", 4, buf, sizeof buf, &sz, 300), WIPC_E_TIMEOUT);
    uint64_t el = wt_now_ms() - t0;
    WT_CHECK(el >= 250 && el < 5000, "request(300 ms) timed out after %llu ms", (unsigned long long)el);
    wipc_message m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    WT_OK(wipc_recv_message(p.svc, req, sizeof req, &m, 2000));
    assert_int_equal(m.type, 20);
    assert_true(m.request_id != 0);
    assert_int_equal(m.peer_pid, wt_self_pid());
    assert_ptr_equal(m.data, req);
    uint64_t late_id = m.request_id;
    WT_OK(wipc_reply(p.svc, late_id, 21, "stale", 5));

    request_job rj2 = { p.cli, 30, "fresh?", 6, buf, sizeof buf, 0, 10000, 0, 0, { 0 } };
    t = wt_thread_start(request_thread, &rj2);
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    WT_OK(wipc_recv_message(p.svc, req, sizeof req, &m, 10000));
    assert_int_equal(m.type, 30);
    WT_CHECK(m.request_id != late_id, "request ids reused");
    WT_OK(wipc_reply(p.svc, m.request_id, 31, "fresh!", 6));
    wt_thread_join_or_die(t, 20000, "wipc_request");
    WT_ASSERT_JOB(rj2, WIPC_OK);
    assert_int_equal(rj2.resp_size, 6);
    assert_memory_equal(buf, "fresh!", 6);
    /* the dropped reply did not turn into a plain message either */
    WT_ASSERT_STATUS(wipc_recv(p.cli, buf, sizeof buf, &sz, &type, 100), WIPC_E_TIMEOUT);

    /* a reply bigger than resp_cap: BUFFER_TOO_SMALL with the size; the next request still works */
    request_job rj3 = { p.cli, 40, "x", 1, buf, 4, 0, 10000, 0, 0, { 0 } };
    t = wt_thread_start(request_thread, &rj3);
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    WT_OK(wipc_recv_message(p.svc, req, sizeof req, &m, 10000));
    WT_OK(wipc_reply(p.svc, m.request_id, 41, "0123456789", 10));
    wt_thread_join_or_die(t, 20000, "wipc_request");
    WT_ASSERT_JOB(rj3, WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(rj3.resp_size, 10);
    request_job rj4 = { p.cli, 50, "y", 1, buf, sizeof buf, 0, 10000, 0, 0, { 0 } };
    t = wt_thread_start(request_thread, &rj4);
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    WT_OK(wipc_recv_message(p.svc, req, sizeof req, &m, 10000));
    assert_int_equal(m.type, 50);
    WT_OK(wipc_reply(p.svc, m.request_id, 51, "ok", 2));
    wt_thread_join_or_die(t, 20000, "wipc_request");
    WT_ASSERT_JOB(rj4, WIPC_OK);
    assert_int_equal(rj4.resp_size, 2);

    /* an empty request and an empty reply */
    request_job rj5 = { p.cli, 60, NULL, 0, buf, sizeof buf, 99, 10000, 0, 0, { 0 } };
    t = wt_thread_start(request_thread, &rj5);
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    WT_OK(wipc_recv_message(p.svc, req, sizeof req, &m, 10000));
    assert_int_equal(m.size, 0);
    WT_OK(wipc_reply(p.svc, m.request_id, 61, NULL, 0));
    wt_thread_join_or_die(t, 20000, "wipc_request");
    WT_ASSERT_JOB(rj5, WIPC_OK);
    assert_int_equal(rj5.resp_size, 0);

    /* plain messages are not requests */
    WT_OK(wipc_send(p.cli, 70, "plain", 5, 1000));
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    WT_OK(wipc_recv_message(p.svc, req, sizeof req, &m, 2000));
    assert_int_equal(m.request_id, 0);
    assert_int_equal(m.type, 70);
    assert_int_equal(m.size, 5);
    wt_pair_close(&p);
}

/* ---- callbacks --------------------------------------------------------------------------------- */

#define CB_MAX 8

typedef struct {
    wipc_handle server;
    atomic_int n_conn;
    wipc_handle conns[CB_MAX];
    atomic_int busy[CB_MAX + 1]; /* [CB_MAX] = the server */
    atomic_int msgs[CB_MAX];
    atomic_int disconnected[CB_MAX];
    wipc_status disc_status[CB_MAX];
    uint32_t next_seq[CB_MAX];
    atomic_int concurrent; /* two callbacks for one handle at once */
    atomic_int on_test_thread; /* a callback ran on a thread the test made */
    atomic_int unknown_handle; /* a callback for a handle before its CONNECTED event */
    atomic_int order_errors;
    atomic_int reply_errors;
    atomic_int bad_events;
    atomic_int bad_msgs;
    atomic_int shutdown_status; /* wipc_shutdown from a callback */
    int sleep_ms;
} cb_state;

static int cb_slot(cb_state *st, wipc_handle h)
{
    int n = atomic_load(&st->n_conn);
    for (int i = 0; i < n; i++)
        if (st->conns[i] == h)
            return i;
    return -1;
}

static void cb_enter(cb_state *st, int slot)
{
    if (t_is_test_thread)
        atomic_fetch_add(&st->on_test_thread, 1);
    if (atomic_exchange(&st->busy[slot], 1) != 0)
        atomic_fetch_add(&st->concurrent, 1);
}

static void cb_leave(cb_state *st, int slot)
{
    atomic_store(&st->busy[slot], 0);
}

static void WIPC_CALL srv_on_event(wipc_handle h, int32_t ev, wipc_handle related, wipc_status status, void *user)
{
    cb_state *st = (cb_state *)user;
    if (h == st->server) {
        cb_enter(st, CB_MAX);
        if (ev == WIPC_EVENT_CONNECTED && related != 0 && related != h && status == WIPC_OK) {
            int n = atomic_load(&st->n_conn);
            if (n < CB_MAX) {
                st->conns[n] = related;
                atomic_store(&st->n_conn, n + 1);
            }
        } else {
            atomic_fetch_add(&st->bad_events, 1);
        }
        if (st->sleep_ms)
            wt_sleep_ms((unsigned)st->sleep_ms);
        cb_leave(st, CB_MAX);
        return;
    }
    int slot = cb_slot(st, h);
    if (slot < 0) {
        atomic_fetch_add(&st->unknown_handle, 1);
        return;
    }
    cb_enter(st, slot);
    if (ev == WIPC_EVENT_DISCONNECTED) {
        st->disc_status[slot] = status;
        atomic_fetch_add(&st->disconnected[slot], 1);
    } else {
        atomic_fetch_add(&st->bad_events, 1);
    }
    cb_leave(st, slot);
}

/* Plain messages carry a 4-byte sequence number; requests are answered from inside the callback. */
static int32_t WIPC_CALL srv_on_message(wipc_handle h, const wipc_message *m, void *user)
{
    cb_state *st = (cb_state *)user;
    int slot = cb_slot(st, h);
    if (slot < 0) {
        atomic_fetch_add(&st->unknown_handle, 1);
        return 0;
    }
    cb_enter(st, slot);
    if (m->struct_size < sizeof(wipc_message) || (m->size > 0 && m->data == NULL) || m->peer_pid != wt_self_pid())
        atomic_fetch_add(&st->bad_msgs, 1);
    if (m->request_id) {
        if (wipc_reply(h, m->request_id, m->type + 1, m->data, m->size) != WIPC_OK)
            atomic_fetch_add(&st->reply_errors, 1);
    } else if (m->type == 0x5D) {
        atomic_store(&st->shutdown_status, wipc_shutdown());
    } else {
        uint32_t seq = 0xFFFFFFFFu;
        if (m->size >= 4)
            memcpy(&seq, m->data, 4);
        if (seq != st->next_seq[slot] || !wt_check((const uint8_t *)m->data + 4, m->size - 4, seq))
            atomic_fetch_add(&st->order_errors, 1);
        st->next_seq[slot] = seq + 1;
    }
    atomic_fetch_add(&st->msgs[slot], 1);
    if (st->sleep_ms)
        wt_sleep_ms((unsigned)st->sleep_ms);
    cb_leave(st, slot);
    return 0;
}

typedef struct {
    const char *name;
    int n_plain;
    int n_req;
    int errors;
    char err[512];
} cb_client;

static void *cb_client_thread(void *arg)
{
    t_is_test_thread = 1;
    cb_client *c = (cb_client *)arg;
    wipc_handle h = 0;
    wipc_status s = wt_connect_waiting(c->name, 10000, &h);
    if (s != WIPC_OK) {
        snprintf(c->err, sizeof c->err, "connect: %s", wipc_status_name(s));
        c->errors++;
        return NULL;
    }
    uint8_t buf[3000], resp[3000];
    for (int i = 0; i < c->n_plain && !c->errors; i++) {
        size_t n = 4 + (size_t)((i * 53) % 2000);
        uint32_t seq = (uint32_t)i;
        memcpy(buf, &seq, 4);
        wt_fill(buf + 4, n - 4, seq);
        s = wipc_send(h, 7, buf, n, 10000);
        if (s != WIPC_OK) {
            snprintf(c->err, sizeof c->err, "send %d: %s", i, wipc_status_name(s));
            c->errors++;
        }
    }
    for (int i = 0; i < c->n_req && !c->errors; i++) {
        size_t n = (size_t)((i * 71) % 2500), got = 0;
        wt_fill(buf, n, (uint32_t)(i + 1000));
        s = wipc_request(h, 8, buf, n, resp, sizeof resp, &got, 10000);
        if (s != WIPC_OK || got != n || !wt_check(resp, n, (uint32_t)(i + 1000))) {
            snprintf(c->err, sizeof c->err, "request %d: %s, %zu bytes back of %zu", i, wipc_status_name(s), got, n);
            c->errors++;
        }
    }
    wipc_close(h);
    return NULL;
}

/* A fresh cb_state and a server for it, on a unique name (into name[cap]). */
static void cb_listen(cb_state *st, const char *tag, char *name, size_t cap)
{
    memset(st, 0, sizeof *st);
    wt_unique_name(name, cap, tag);
    WT_OK(wipc_pipe_listen(name, NULL, &st->server));
}

static void test_pipe_callbacks_server(void **state)
{
    (void)state;
    static cb_state st;
    char name[160];
    cb_listen(&st, "cbsrv", name, sizeof name);
    st.sleep_ms = 1;
    WT_OK(wipc_set_callbacks(st.server, srv_on_message, srv_on_event, &st));
    WT_ASSERT_FAILS(wipc_set_callbacks(st.server, srv_on_message, srv_on_event, &st), WIPC_E_INVALID_STATE);
    wipc_handle none = 0;
    WT_ASSERT_FAILS(wipc_pipe_accept(st.server, 0, &none), WIPC_E_INVALID_STATE);

    enum { NC = 3 };
    cb_client cl[NC];
    wt_thread *t[NC];
    for (int i = 0; i < NC; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].name = name;
        cl[i].n_plain = WT_SCALE(200, 30);
        cl[i].n_req = WT_SCALE(50, 10);
        t[i] = wt_thread_start(cb_client_thread, &cl[i]);
    }
    for (int i = 0; i < NC; i++)
        wt_thread_join_or_die(t[i], 120000, "callback-server clients");
    for (int i = 0; i < NC; i++)
        WT_CHECK(cl[i].errors == 0, "client %d: %s", i, cl[i].err);
    assert_int_equal(atomic_load(&st.n_conn), NC);
    for (int i = 0; i < NC; i++) {
        WT_CHECK(wt_wait_atomic_ge(&st.disconnected[i], 1, 5000), "no DISCONNECTED event for connection %d", i);
        assert_int_equal(atomic_load(&st.msgs[i]), cl[0].n_plain + cl[0].n_req);
        assert_int_equal(st.disc_status[i], WIPC_E_DISCONNECTED);
        assert_int_equal(atomic_load(&st.disconnected[i]), 1);
    }
    assert_int_equal(atomic_load(&st.concurrent), 0);
    assert_int_equal(atomic_load(&st.on_test_thread), 0);
    assert_int_equal(atomic_load(&st.unknown_handle), 0);
    assert_int_equal(atomic_load(&st.order_errors), 0);
    assert_int_equal(atomic_load(&st.reply_errors), 0);
    assert_int_equal(atomic_load(&st.bad_events), 0);
    assert_int_equal(atomic_load(&st.bad_msgs), 0);
    /* the connections are ours to close, they inherited the callbacks */
    char buf[8];
    for (int i = 0; i < NC; i++) {
        WT_ASSERT_FAILS(wipc_recv(st.conns[i], buf, sizeof buf, NULL, NULL, 0), WIPC_E_INVALID_STATE);
        WT_ASSERT_FAILS(wipc_set_callbacks(st.conns[i], srv_on_message, NULL, &st), WIPC_E_INVALID_STATE);
        WT_OK(wipc_close(st.conns[i]));
    }
    WT_OK(wipc_close(st.server));
}

/* Clients whose handshake ended while the server had no callbacks wait in its accept queue;
 * wipc_set_callbacks on the server hands them its callbacks. What they sent before and send after
 * must reach on_message: the server's I/O thread reads those connections from then on. (It did not:
 * a request waited until the client hung up - test_fault_pipe_server_restart's occasional timeout.) */
static void test_pipe_callbacks_set_after_connect(void **state)
{
    (void)state;
    static cb_state st;
    char name[160];
    cb_listen(&st, "cblate", name, sizeof name);
    wipc_handle h = 0;
    WT_OK(wt_connect_waiting(name, 10000, &h));
    uint8_t buf[8], resp[8];
    uint32_t seq = 0;
    memcpy(buf, &seq, 4);
    WT_OK(wipc_send(h, 7, buf, 4, 5000)); /* before the server has callbacks */
    wt_sleep_ms(300); /* the server ends its side of the handshake: the connection waits to be accepted */
    WT_OK(wipc_set_callbacks(st.server, srv_on_message, srv_on_event, &st));
    WT_CHECK(wt_wait_atomic_ge(&st.n_conn, 1, 10000), "no CONNECTED event");
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t v = 100 + i;
        size_t got = 0;
        memcpy(buf, &v, 4);
        WT_OK(wipc_request(h, 8, buf, 4, resp, sizeof resp, &got, 5000));
        assert_int_equal(got, 4);
        assert_memory_equal(resp, buf, 4);
    }
    seq = 1;
    memcpy(buf, &seq, 4);
    WT_OK(wipc_send(h, 7, buf, 4, 5000));
    WT_CHECK(wt_wait_atomic_ge(&st.msgs[0], 5, 5000), "on_message saw %d of 5 messages", atomic_load(&st.msgs[0]));
    WT_OK(wipc_close(h));
    WT_CHECK(wt_wait_atomic_ge(&st.disconnected[0], 1, 5000), "no DISCONNECTED event");
    assert_int_equal(atomic_load(&st.msgs[0]), 5);
    assert_int_equal(atomic_load(&st.order_errors), 0);
    assert_int_equal(atomic_load(&st.reply_errors), 0);
    assert_int_equal(atomic_load(&st.bad_msgs), 0);
    assert_int_equal(atomic_load(&st.unknown_handle), 0);
    WT_OK(wipc_close(st.conns[0]));
    WT_OK(wipc_close(st.server));
}

static void test_pipe_callbacks_client_side(void **state)
{
    (void)state;
    /* callbacks on a client connection; queued messages are delivered first; wipc_shutdown from a
     * callback is refused */
    wt_pair p;
    wt_pair_open(&p, "cbcli");
    static cb_state st;
    memset(&st, 0, sizeof st);
    st.server = p.srv; /* not used for events here */
    st.conns[0] = p.cli;
    atomic_store(&st.n_conn, 1);
    uint8_t buf[64];
    for (uint32_t i = 0; i < 5; i++) {
        memcpy(buf, &i, 4);
        wt_fill(buf + 4, 20, i);
        WT_OK(wipc_send(p.svc, 1, buf, 24, 1000));
    }
    wt_sleep_ms(WT_SCALE(100, 300)); /* queued before the callbacks exist */
    WT_OK(wipc_set_callbacks(p.cli, srv_on_message, srv_on_event, &st));
    WT_CHECK(wt_wait_atomic_ge(&st.msgs[0], 5, 5000), "queued messages not delivered (%d)", atomic_load(&st.msgs[0]));
    for (uint32_t i = 5; i < 10; i++) {
        memcpy(buf, &i, 4);
        wt_fill(buf + 4, 20, i);
        WT_OK(wipc_send(p.svc, 1, buf, 24, 1000));
    }
    WT_OK(wipc_send(p.svc, 0x5D, "", 0, 1000)); /* callback calls wipc_shutdown */
    WT_CHECK(wt_wait_atomic_ge(&st.msgs[0], 11, 5000), "messages not delivered (%d)", atomic_load(&st.msgs[0]));
    assert_int_equal(atomic_load(&st.shutdown_status), WIPC_E_INVALID_STATE);
    assert_int_equal(atomic_load(&st.order_errors), 0);
    assert_int_equal(atomic_load(&st.on_test_thread), 0);
    assert_int_equal(atomic_load(&st.concurrent), 0);
    /* the pair still works after the refused shutdown */
    WT_OK(wipc_send(p.cli, 2, "still", 5, 1000));
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, NULL, NULL, 2000));
    WT_OK(wipc_close(p.svc));
    p.svc = 0;
    WT_CHECK(wt_wait_atomic_ge(&st.disconnected[0], 1, 5000), "no DISCONNECTED event");
    wt_pair_close(&p);
}

typedef struct {
    atomic_int calls;
    atomic_int after_close;
    atomic_int closed; /* wipc_close returned (outside) / was called (inside) */
    atomic_int concurrent;
    atomic_int busy;
    atomic_int close_status;
    uint32_t types[64];
    atomic_int n_types;
    int close_on_type;
    int sleep_ms;
} close_state;

/* The start of every callback: counts it, a call after the close and a call overlapping another. */
static void close_state_enter(close_state *cs)
{
    if (atomic_load(&cs->closed))
        atomic_fetch_add(&cs->after_close, 1);
    if (atomic_exchange(&cs->busy, 1))
        atomic_fetch_add(&cs->concurrent, 1);
    atomic_fetch_add(&cs->calls, 1);
}

static int32_t WIPC_CALL close_on_message(wipc_handle h, const wipc_message *m, void *user)
{
    close_state *cs = (close_state *)user;
    close_state_enter(cs);
    int n = atomic_load(&cs->n_types);
    if (n < 64) {
        cs->types[n] = m->type;
        atomic_store(&cs->n_types, n + 1);
    }
    if (cs->sleep_ms)
        wt_sleep_ms((unsigned)cs->sleep_ms);
    if (cs->close_on_type && m->type == (uint32_t)cs->close_on_type) {
        atomic_store(&cs->closed, 1);
        atomic_store(&cs->close_status, wipc_close(h));
        wt_sleep_ms(20); /* still inside: nothing else may start for h */
    }
    atomic_store(&cs->busy, 0);
    return 0;
}

static void WIPC_CALL close_on_event(wipc_handle h, int32_t ev, wipc_handle related, wipc_status status, void *user)
{
    close_state *cs = (close_state *)user;
    close_state_enter(cs);
    atomic_store(&cs->busy, 0);
}

static void test_pipe_close_inside_callback(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "cbclose");
    static close_state cs;
    memset(&cs, 0, sizeof cs);
    cs.close_on_type = 99;
    WT_OK(wipc_set_callbacks(p.svc, close_on_message, close_on_event, &cs));
    const uint32_t types[] = { 1, 2, 3, 99, 4, 5, 6 };
    for (size_t i = 0; i < 4; i++)
        WT_OK(wipc_send(p.cli, types[i], "m", 1, 1000));
    for (size_t i = 4; i < sizeof types / sizeof types[0]; i++)
        (void)wipc_send(p.cli, types[i], "m", 1, 1000); /* may already see the server side gone */
    char buf[8];
    /* the server side closed its connection: the client sees the disconnect */
    WT_ASSERT_FAILS(wipc_recv(p.cli, buf, sizeof buf, NULL, NULL, 5000), WIPC_E_DISCONNECTED);
    wt_sleep_ms(200);
    assert_int_equal(atomic_load(&cs.close_status), WIPC_OK);
    assert_int_equal(atomic_load(&cs.after_close), 0);
    assert_int_equal(atomic_load(&cs.concurrent), 0);
    assert_int_equal(atomic_load(&cs.n_types), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(cs.types[i], types[i]);
    WT_ASSERT_FAILS(wipc_close(p.svc), WIPC_E_BAD_HANDLE); /* already closed by the callback */
    p.svc = 0;
    wt_pair_close(&p);
}

typedef struct {
    wipc_handle h;
    atomic_int stop;
    int sent;
    wipc_status last;
} flood_job;

static void *flood_thread(void *arg)
{
    t_is_test_thread = 1;
    flood_job *j = (flood_job *)arg;
    uint8_t buf[100];
    memset(buf, 'f', sizeof buf);
    while (!atomic_load(&j->stop)) {
        j->last = wipc_send(j->h, 1, buf, sizeof buf, 2000);
        if (j->last != WIPC_OK && j->last != WIPC_E_TIMEOUT)
            break;
        j->sent++;
        if (j->sent % 16 == 0)
            wt_sleep_ms(1);
    }
    return NULL;
}

static void test_pipe_no_callback_after_close(void **state)
{
    (void)state;
    const int reps = WT_SCALE(5, 2);
    for (int rep = 0; rep < reps; rep++) {
        wt_pair p;
        wt_pair_open(&p, "cbafter");
        static close_state cs;
        memset(&cs, 0, sizeof cs);
        cs.sleep_ms = 2; /* callbacks take time: wipc_close must wait for the running one */
        WT_OK(wipc_set_callbacks(p.cli, close_on_message, close_on_event, &cs));
        flood_job fj;
        memset(&fj, 0, sizeof fj);
        fj.h = p.svc;
        wt_thread *t = wt_thread_start(flood_thread, &fj);
        WT_CHECK(wt_wait_atomic_ge(&cs.calls, 5, 5000), "callbacks never ran");
        WT_OK(wipc_close(p.cli));
        atomic_store(&cs.closed, 1);
        p.cli = 0;
        int calls_at_close = atomic_load(&cs.calls);
        wt_sleep_ms(300);
        atomic_store(&fj.stop, 1);
        wt_thread_join_or_die(t, 30000, "flood sender");
        assert_int_equal(atomic_load(&cs.after_close), 0);
        assert_int_equal(atomic_load(&cs.calls), calls_at_close);
        assert_int_equal(atomic_load(&cs.concurrent), 0);
        wt_pair_close(&p);
    }
}

/* ---- close and shutdown wake blocked callers --------------------------------------------------- */

static void test_pipe_close_unblocks(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "unblock");
    char buf[64];

    /* wipc_recv */
    recv_job rj = { p.svc, buf, sizeof buf, 0, 0, 10000, 0, 0, { 0 } };
    wt_thread *t = wt_thread_start(recv_thread, &rj);
    wt_sleep_ms(200);
    WT_OK(wipc_close(p.svc));
    p.svc = 0;
    wt_thread_join_or_die(t, 20000, "wipc_recv after wipc_close");
    WT_ASSERT_JOB(rj, WIPC_E_CLOSED);
    WT_CHECK(rj.elapsed_ms < 5000, "wipc_recv took %llu ms to return", (unsigned long long)rj.elapsed_ms);

    /* wipc_request (the server never answers) */
    wipc_handle s2 = 0, c2 = 0;
    WT_OK(wipc_pipe_connect(p.name, NULL, 5000, &c2));
    WT_OK(wipc_pipe_accept(p.srv, 5000, &s2));
    request_job qj = { c2, 1, "q", 1, buf, sizeof buf, 0, 10000, 0, 0, { 0 } };
    t = wt_thread_start(request_thread, &qj);
    wt_sleep_ms(200);
    WT_OK(wipc_close(c2));
    wt_thread_join_or_die(t, 20000, "wipc_request after wipc_close");
    WT_ASSERT_JOB(qj, WIPC_E_CLOSED);
    WT_CHECK(qj.elapsed_ms < 5000, "wipc_request took %llu ms to return", (unsigned long long)qj.elapsed_ms);
    WT_OK(wipc_close(s2));

    /* wipc_pipe_accept; closing the server leaves its accepted connections alone */
    accept_job aj = { p.srv, 0, 10000, 0, 0, { 0 } };
    t = wt_thread_start(accept_thread, &aj);
    close_job cj = { p.srv, 200, 0 };
    wt_thread *tc = wt_thread_start(close_thread, &cj);
    wt_thread_join_or_die(t, 20000, "wipc_pipe_accept after wipc_close");
    wt_thread_join_or_die(tc, 20000, "wipc_close");
    p.srv = 0;
    WT_ASSERT_STATUS(cj.st, WIPC_OK);
    WT_ASSERT_JOB(aj, WIPC_E_CLOSED);
    assert_int_equal(aj.out, 0);
    WT_CHECK(aj.elapsed_ms < 5000, "wipc_pipe_accept took %llu ms to return", (unsigned long long)aj.elapsed_ms);
    /* p.cli's server side was closed above; p.cli itself is still a valid handle */
    WT_ASSERT_STATUS(wipc_recv(p.cli, buf, sizeof buf, NULL, NULL, 5000), WIPC_E_DISCONNECTED);
    wt_pair_close(&p);

    /* closing a server does not close accepted connections */
    wt_pair_open(&p, "unblock2");
    WT_OK(wipc_close(p.srv));
    p.srv = 0;
    WT_OK(wipc_send(p.cli, 5, "alive", 5, 1000));
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, NULL, NULL, 2000));
    wt_pair_close(&p);
}

static void test_pipe_shutdown(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "shutdown");
    char buf[64];
    /* both ends blocked: each must see its own close, not the other end going away */
    char buf2[64];
    recv_job rj = { p.svc, buf, sizeof buf, 0, 0, 10000, 0, 0, { 0 } };
    wt_thread *t = wt_thread_start(recv_thread, &rj);
    recv_job rj2 = { p.cli, buf2, sizeof buf2, 0, 0, 10000, 0, 0, { 0 } };
    wt_thread *t2 = wt_thread_start(recv_thread, &rj2);
    accept_job aj = { p.srv, 0, 10000, 0, 0, { 0 } };
    wt_thread *ta = wt_thread_start(accept_thread, &aj);
    wt_sleep_ms(200);
    WT_OK(wipc_shutdown());
    wt_thread_join_or_die(t, 20000, "wipc_recv after wipc_shutdown");
    wt_thread_join_or_die(t2, 20000, "wipc_recv after wipc_shutdown");
    wt_thread_join_or_die(ta, 20000, "wipc_pipe_accept after wipc_shutdown");
    WT_ASSERT_JOB(rj, WIPC_E_CLOSED);
    WT_ASSERT_JOB(rj2, WIPC_E_CLOSED);
    WT_ASSERT_JOB(aj, WIPC_E_CLOSED);
    WT_CHECK(rj.elapsed_ms < 5000, "recv took %llu ms", (unsigned long long)rj.elapsed_ms);
    WT_ASSERT_FAILS(wipc_close(p.srv), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_close(p.cli), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_close(p.svc), WIPC_E_BAD_HANDLE);
    WT_OK(wipc_shutdown()); /* twice is fine */

    /* the library works again, on the same name */
    wt_pair q;
    memset(&q, 0, sizeof q);
    snprintf(q.name, sizeof q.name, "%s", p.name);
    WT_OK(wipc_pipe_listen(q.name, NULL, &q.srv));
    WT_OK(wipc_pipe_connect(q.name, NULL, 5000, &q.cli));
    WT_OK(wipc_pipe_accept(q.srv, 5000, &q.svc));
    WT_OK(wipc_send(q.cli, 3, "again", 5, 1000));
    size_t sz = 0;
    WT_OK(wipc_recv(q.svc, buf, sizeof buf, &sz, NULL, 2000));
    assert_int_equal(sz, 5);
    /* callbacks restart too */
    static close_state cs;
    memset(&cs, 0, sizeof cs);
    WT_OK(wipc_set_callbacks(q.cli, close_on_message, close_on_event, &cs));
    WT_OK(wipc_send(q.svc, 4, "cb", 2, 1000));
    WT_CHECK(wt_wait_atomic_ge(&cs.calls, 1, 5000), "no callback after wipc_shutdown + restart");
    wt_pair_close(&q);
}

/* ---- connect timing, busy servers, late servers ------------------------------------------------ */

static void test_pipe_connect_timeouts(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "nobody");
    wipc_handle c = 0;
    uint64_t t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_pipe_connect(name, NULL, 0, &c), WIPC_E_NOT_FOUND);
    WT_CHECK(wt_now_ms() - t0 < 1000, "connect(timeout 0) took %llu ms", (unsigned long long)(wt_now_ms() - t0));
    /* 1.1: nobody serves the name: NOT_FOUND at once, whatever the timeout ... */
    t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_pipe_connect(name, NULL, 5000, &c), WIPC_E_NOT_FOUND);
    uint64_t el = wt_now_ms() - t0;
    WT_CHECK(el < 2500, "connect(5000 ms) to nobody returned after %llu ms, not at once", (unsigned long long)el);
    assert_int_equal(c, 0);
    /* ... unless the caller waits for a server to appear */
    wipc_pipe_options w;
    wipc_pipe_options_init(&w);
    w.flags = WIPC_PIPE_WAIT_FOR_SERVER;
    t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_pipe_connect(name, &w, 500, &c), WIPC_E_NOT_FOUND);
    el = wt_now_ms() - t0;
    WT_CHECK(el >= 400 && el < 4000, "connect(500 ms, WAIT_FOR_SERVER) to nobody returned after %llu ms",
             (unsigned long long)el);
    assert_int_equal(c, 0);

    /* max_instances = 1 and that one is taken: the second client times out */
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.max_instances = 1;
    wipc_handle srv = 0, c1 = 0, s1 = 0, c2 = 0, s3 = 0;
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    WT_OK(wipc_pipe_connect(name, NULL, 5000, &c1));
    WT_OK(wipc_pipe_accept(srv, 5000, &s1));
    t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_pipe_connect(name, NULL, 500, &c2), WIPC_E_TIMEOUT);
    el = wt_now_ms() - t0;
    WT_CHECK(el >= 400 && el < 5000, "connect(500 ms) to a busy server returned after %llu ms", (unsigned long long)el);
    assert_int_equal(c2, 0);
    /* the slot frees when the connection goes away */
    WT_OK(wipc_close(c1));
    WT_OK(wipc_close(s1));
    WT_OK(wipc_pipe_connect(name, NULL, 5000, &c2));
    WT_OK(wipc_pipe_accept(srv, 5000, &s3));
    WT_OK(wipc_send(c2, 1, "x", 1, 1000));
    char b[4];
    WT_OK(wipc_recv(s3, b, sizeof b, NULL, NULL, 2000));
    WT_OK(wipc_close(c2));
    WT_OK(wipc_close(s3));
    WT_OK(wipc_close(srv));

    /* a busy server that frees its slot while the client waits: the client gets in */
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    WT_OK(wipc_pipe_connect(name, NULL, 5000, &c1));
    WT_OK(wipc_pipe_accept(srv, 5000, &s1));
    connect_job cj = { name, 8000, 0, 0, 0, { 0 } };
    wt_thread *t = wt_thread_start(connect_thread, &cj);
    wt_sleep_ms(300);
    WT_OK(wipc_close(s1));
    WT_OK(wipc_close(c1));
    wt_thread_join_or_die(t, 30000, "connect to a busy server");
    WT_ASSERT_JOB(cj, WIPC_OK);
    WT_OK(wipc_pipe_accept(srv, 5000, &s3));
    WT_OK(wipc_close(cj.out));
    WT_OK(wipc_close(s3));
    WT_OK(wipc_close(srv));
}

typedef struct {
    const char *name;
    unsigned delay_ms;
    wipc_handle srv;
    wipc_status st;
} late_listen_job;

static void *late_listen_thread(void *arg)
{
    late_listen_job *j = (late_listen_job *)arg;
    wt_sleep_ms(j->delay_ms);
    j->st = wipc_pipe_listen(j->name, NULL, &j->srv);
    return NULL;
}

static void test_pipe_connect_waits_for_server(void **state)
{
    (void)state;
    char name[160];
    /* in this process */
    wt_unique_name(name, sizeof name, "late");
    late_listen_job lj = { name, 200, 0, 0 };
    wt_thread *t = wt_thread_start(late_listen_thread, &lj);
    wipc_handle c = 0, s = 0;
    uint64_t t0 = wt_now_ms();
    WT_OK(wt_connect_waiting(name, 10000, &c));
    uint64_t el = wt_now_ms() - t0;
    wt_thread_join_or_die(t, 20000, "late listen");
    WT_ASSERT_STATUS(lj.st, WIPC_OK);
    WT_CHECK(el >= 150, "connected after %llu ms, before the server existed?", (unsigned long long)el);
    WT_OK(wipc_pipe_accept(lj.srv, 5000, &s));
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(s));
    WT_OK(wipc_close(lj.srv));

    /* a server process started 200 ms after the client began waiting */
    wt_unique_name(name, sizeof name, "latep");
    connect_job cj = { name, 20000, 0, 0, 0, { 0 } };
    t = wt_thread_start(connect_thread, &cj);
    wt_sleep_ms(200);
    const char *args[] = { "echo-server", name, "--count", "1", NULL };
    wt_proc *p = wt_spawn_ready(args);
    wt_thread_join_or_die(t, 40000, "connect to a late server process");
    WT_ASSERT_JOB(cj, WIPC_OK);
    char buf[16];
    size_t sz = 0;
    WT_OK(wipc_request(cj.out, 1, "late", 4, buf, sizeof buf, &sz, 10000));
    assert_int_equal(sz, 4);
    assert_memory_equal(buf, "late", 4);
    assert_int_equal(wt_info(cj.out).peer_pid, wt_proc_pid(p));
    WT_OK(wipc_close(cj.out));
    wt_expect_exit_0(p, 20000, "echo-server --count 1");
}

/* ---- squatting --------------------------------------------------------------------------------- */

static void test_pipe_squatting(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "squat");
    wipc_handle a = 0, b = 0, c = 0, s = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &a));
    WT_ASSERT_FAILS(wipc_pipe_listen(name, NULL, &b), WIPC_E_ADDR_IN_USE);
    assert_int_equal(b, 0);
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.flags = WIPC_PIPE_ANY_USER;
    WT_ASSERT_FAILS(wipc_pipe_listen(name, &o, &b), WIPC_E_ADDR_IN_USE);
    /* the refused listen did not disturb the first server */
    WT_OK(wipc_pipe_connect(name, NULL, 5000, &c));
    WT_OK(wipc_pipe_accept(a, 5000, &s));
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(s));
    /* free again once the first server closed */
    WT_OK(wipc_close(a));
    WT_OK(wipc_pipe_listen(name, NULL, &b));
    WT_OK(wipc_pipe_connect(name, NULL, 5000, &c));
    WT_OK(wipc_pipe_accept(b, 5000, &s));
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(s));
    WT_OK(wipc_close(b));
}

static void test_pipe_squatting_cross_process(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "squatp");
    const char *args[] = { "squat", name, NULL };
    wt_proc *p = wt_spawn_ready(args);
    wipc_handle b = 0;
    WT_ASSERT_FAILS(wipc_pipe_listen(name, NULL, &b), WIPC_E_ADDR_IN_USE);
    assert_int_equal(b, 0);
    /* our connect reaches the squatter's server */
    wipc_handle c = 0;
    WT_OK(wipc_pipe_connect(name, NULL, 5000, &c));
    assert_int_equal(wt_info(c).peer_pid, wt_proc_pid(p));
    WT_OK(wipc_close(c));
    /* killed: its name (and, on POSIX, its stale socket file) can be taken over */
    wt_proc_kill(p);
    int code = 0;
    WT_CHECK(wt_proc_wait(p, 10000, &code) == 0, "squatter did not die");
    WT_OK(wipc_pipe_listen(name, NULL, &b));
    WT_OK(wipc_pipe_connect(name, NULL, 5000, &c));
    wipc_handle s = 0;
    WT_OK(wipc_pipe_accept(b, 5000, &s));
    assert_int_equal(wt_info(c).peer_pid, wt_self_pid());
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(s));
    WT_OK(wipc_close(b));
    wt_proc_free(p);
}

/* ---- cross-process ----------------------------------------------------------------------------- */

typedef struct {
    wipc_handle srv;
    uint32_t peer_pid;
    int requests;
    int plain;
    int errors;
    char err[512];
} echo_job;

/* Serves one connection like `wipc_peer echo-server`: requests answered, plain messages echoed, type+1. */
static void *echo_server_thread(void *arg)
{
    t_is_test_thread = 1;
    echo_job *j = (echo_job *)arg;
    wipc_handle c = 0;
    wipc_status s = wipc_pipe_accept(j->srv, 20000, &c);
    if (s != WIPC_OK) {
        snprintf(j->err, sizeof j->err, "accept: %s", wipc_status_name(s));
        j->errors++;
        return NULL;
    }
    wipc_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    wipc_get_info(c, &in);
    j->peer_pid = in.peer_pid;
    static uint8_t buf[200000];
    for (;;) {
        wipc_message m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        s = wipc_recv_message(c, buf, sizeof buf, &m, 20000);
        if (s == WIPC_E_DISCONNECTED)
            break;
        if (s != WIPC_OK) {
            snprintf(j->err, sizeof j->err, "recv_message: %s", wipc_status_name(s));
            j->errors++;
            break;
        }
        if (m.peer_pid != j->peer_pid) {
            snprintf(j->err, sizeof j->err, "message peer_pid %u, connection peer_pid %u", m.peer_pid, j->peer_pid);
            j->errors++;
        }
        if (m.request_id) {
            j->requests++;
            s = wipc_reply(c, m.request_id, m.type + 1, buf, m.size);
        } else {
            j->plain++;
            s = wipc_send(c, m.type + 1, buf, m.size, 10000);
        }
        if (s != WIPC_OK) {
            snprintf(j->err, sizeof j->err, "answer: %s", wipc_status_name(s));
            j->errors++;
            break;
        }
    }
    wipc_close(c);
    return NULL;
}

static void test_pipe_cross_process_client(void **state)
{
    (void)state;
    char name[160], count[16];
    wt_unique_name(name, sizeof name, "xclient");
    const int n = WT_SCALE(300, 40);
    snprintf(count, sizeof count, "%d", n);
    echo_job j;
    memset(&j, 0, sizeof j);
    WT_OK(wipc_pipe_listen(name, NULL, &j.srv));
    wt_thread *t = wt_thread_start(echo_server_thread, &j);
    const char *args[] = { "client", name, count, NULL };
    wt_proc *p = wt_spawn_peer(args);
    assert_non_null(p);
    int code = -1;
    int waited = wt_proc_wait(p, 120000, &code);
    wt_thread_join_or_die(t, 60000, "in-process echo server");
    char line[128] = "";
    if (waited == 0)
        wt_proc_read_line(p, line, sizeof line, 1000);
    uint32_t pid = wt_proc_pid(p);
    wt_proc_free(p);
    WT_CHECK(waited == 0, "wipc_peer client did not finish");
    WT_CHECK(j.errors == 0, "%s", j.err);
    assert_int_equal(code, 0);
    char expect[64];
    snprintf(expect, sizeof expect, "DONE %d", n);
    assert_string_equal(line, expect);
    assert_int_equal(j.requests, n);
    assert_int_equal(j.plain, n / 4 + 1);
    assert_int_equal(j.peer_pid, pid);
    WT_OK(wipc_close(j.srv));
}

static void test_pipe_cross_process_server(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "xserver");
    const char *args[] = { "echo-server", name, "--count", "1", NULL };
    wt_proc *p = wt_spawn_ready(args);
    wipc_handle c = 0;
    WT_OK(wipc_pipe_connect(name, NULL, 10000, &c));
    wipc_info in = wt_info(c);
    assert_int_equal(in.peer_pid, wt_proc_pid(p));
#ifndef _WIN32
    assert_int_equal(in.peer_uid, (uint32_t)getuid());
#endif
    const int n = WT_SCALE(300, 40);
    static uint8_t req[70000], resp[70001];
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++) {
        size_t sz = (i % 50 == 0) ? 70000 : (size_t)((i * 97) % 1500), got = 0;
        wt_fill(req, sz, (uint32_t)i);
        WT_OK(wipc_request(c, (uint32_t)i, req, sz, resp, sizeof resp, &got, 10000));
        assert_int_equal(got, sz);
        WT_CHECK(wt_check(resp, got, (uint32_t)i), "reply %d differs", i);
        bytes += sz;
    }
    for (int i = 0; i < n / 4; i++) {
        size_t sz = (size_t)((i * 31) % 900), got = 0;
        uint32_t type = 0;
        wt_fill(req, sz, (uint32_t)(i + 5000));
        WT_OK(wipc_send(c, (uint32_t)(9000 + i), req, sz, 5000));
        WT_OK(wipc_recv(c, resp, sizeof resp, &got, &type, 10000));
        assert_int_equal(got, sz);
        assert_int_equal(type, (uint32_t)(9001 + i));
        WT_CHECK(wt_check(resp, got, (uint32_t)(i + 5000)), "echo %d differs", i);
        bytes += sz;
    }
    /* requests and plain messages sent; replies and echoes received */
    in = wt_info(c);
    WT_CHECK(in.messages_sent == (uint64_t)(n + n / 4) && in.messages_received == (uint64_t)(n + n / 4),
             "messages_sent %llu, messages_received %llu, expected %d each", (unsigned long long)in.messages_sent,
             (unsigned long long)in.messages_received, n + n / 4);
    WT_CHECK(in.bytes_sent == bytes && in.bytes_received == bytes,
             "bytes_sent %llu, bytes_received %llu, expected %llu each", (unsigned long long)in.bytes_sent,
             (unsigned long long)in.bytes_received, (unsigned long long)bytes);
    WT_OK(wipc_close(c));
    wt_expect_exit_0(p, 20000, "echo-server --count 1 after the client left");
}

/* ---- peer death -------------------------------------------------------------------------------- */

static void test_pipe_peer_killed_client(void **state)
{
    (void)state;
    /* the client process dies while we wait in wipc_recv on the server side */
    char name[160];
    wt_unique_name(name, sizeof name, "killc");
    wipc_handle srv = 0, c = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    const char *args[] = { "hold", name, NULL };
    wt_proc *p = wt_spawn_ready(args);
    WT_OK(wipc_pipe_accept(srv, 10000, &c));
    assert_int_equal(wt_info(c).peer_pid, wt_proc_pid(p));
    kill_job kj = { p, 300 };
    wt_thread *t = wt_thread_start(kill_thread, &kj);
    char buf[16];
    uint64_t t0 = wt_now_ms();
    wipc_status s = wipc_recv(c, buf, sizeof buf, NULL, NULL, 15000);
    uint64_t el = wt_now_ms() - t0;
    wt_thread_join_or_die(t, 20000, "killer");
    WT_ASSERT_STATUS(s, WIPC_E_DISCONNECTED);
    WT_CHECK(el < 5000, "DISCONNECTED came %llu ms after the kill was started", (unsigned long long)el);
    WT_ASSERT_FAILS(wipc_send(c, 1, "x", 1, 1000), WIPC_E_DISCONNECTED);
    assert_int_equal(wt_info(c).connected, 0);
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(srv));
    wt_proc_free(p);
}

static void test_pipe_peer_killed_server(void **state)
{
    (void)state;
    /* the server process dies while we wait for a reply to wipc_request */
    char name[160];
    wt_unique_name(name, sizeof name, "kills");
    const char *args[] = { "squat", name, NULL }; /* listens, never answers */
    wt_proc *p = wt_spawn_ready(args);
    wipc_handle c = 0;
    WT_OK(wipc_pipe_connect(name, NULL, 10000, &c));
    kill_job kj = { p, 300 };
    wt_thread *t = wt_thread_start(kill_thread, &kj);
    char buf[16];
    size_t sz = 0;
    uint64_t t0 = wt_now_ms();
    wipc_status s = wipc_request(c, 1, "anyone?", 7, buf, sizeof buf, &sz, 15000);
    uint64_t el = wt_now_ms() - t0;
    wt_thread_join_or_die(t, 20000, "killer");
    WT_ASSERT_STATUS(s, WIPC_E_DISCONNECTED);
    WT_CHECK(el < 5000, "DISCONNECTED came after %llu ms", (unsigned long long)el);
    WT_ASSERT_FAILS(wipc_recv(c, buf, sizeof buf, NULL, NULL, 1000), WIPC_E_DISCONNECTED);
    WT_OK(wipc_close(c));
    wt_proc_free(p);

    /* and while blocked in wipc_recv on the client side */
    wt_unique_name(name, sizeof name, "kills2");
    const char *args2[] = { "echo-server", name, NULL };
    p = wt_spawn_ready(args2);
    WT_OK(wipc_pipe_connect(name, NULL, 10000, &c));
    kj.p = p;
    t = wt_thread_start(kill_thread, &kj);
    t0 = wt_now_ms();
    s = wipc_recv(c, buf, sizeof buf, NULL, NULL, 15000);
    el = wt_now_ms() - t0;
    wt_thread_join_or_die(t, 20000, "killer");
    WT_ASSERT_STATUS(s, WIPC_E_DISCONNECTED);
    WT_CHECK(el < 5000, "DISCONNECTED came after %llu ms", (unsigned long long)el);
    WT_OK(wipc_close(c));
    wt_proc_free(p);
}

static void test_pipe_peer_killed_callback(void **state)
{
    (void)state;
    static cb_state st;
    char name[160];
    cb_listen(&st, "killcb", name, sizeof name);
    WT_OK(wipc_set_callbacks(st.server, srv_on_message, srv_on_event, &st));
    const char *args[] = { "hold", name, NULL };
    wt_proc *p = wt_spawn_ready(args);
    WT_CHECK(wt_wait_atomic_ge(&st.n_conn, 1, 10000), "no CONNECTED event");
    wt_proc_kill(p);
    WT_CHECK(wt_wait_atomic_ge(&st.disconnected[0], 1, 5000), "no DISCONNECTED event within 5 s of the kill");
    assert_int_equal(st.disc_status[0], WIPC_E_DISCONNECTED);
    assert_int_equal(atomic_load(&st.bad_events), 0);
    assert_int_equal(atomic_load(&st.unknown_handle), 0);
    WT_OK(wipc_close(st.conns[0]));
    WT_OK(wipc_close(st.server));
    wt_proc_free(p);
}

/* ---- raw pipes --------------------------------------------------------------------------------- */

static void test_pipe_raw_client(void **state)
{
    (void)state;
    char path[200];
    wt_raw_path(path, sizeof path);
    const char *args[] = { "raw-server", path, NULL };
    wt_proc *p = wt_spawn_ready(args);
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.flags = WIPC_PIPE_RAW;
    wipc_handle c = 0;
    WT_OK(wipc_pipe_connect(path, &o, 10000, &c));
    wipc_info in = wt_info(c);
    assert_int_equal(in.kind, WIPC_KIND_PIPE_CONN);
    assert_true((in.flags & WIPC_PIPE_RAW) != 0);
    assert_string_equal(in.name, path);
    assert_int_equal(in.peer_pid, wt_proc_pid(p));
#ifdef _WIN32
    /* a message-mode pipe: a zero-length WriteFile is a 0-byte message, and the server echoes it */
    {
        uint8_t none[8];
        size_t got0 = 99;
        WT_OK(wipc_send(c, 0, "", 0, 5000));
        WT_OK(wipc_recv(c, none, sizeof none, &got0, NULL, 5000));
        assert_int_equal(got0, 0);
    }
#else
    /* a byte stream without a length prefix: a 0-byte message would carry nothing, and is refused
     * rather than "sent" */
    WT_ASSERT_FAILS(wipc_send(c, 0, "", 0, 5000), WIPC_E_INVALID_ARG);
#endif
    uint8_t out[4096], buf[8192];
    const int n = WT_SCALE(50, 10);
    for (int i = 0; i < n; i++) {
        size_t sz = 1 + (size_t)((i * 211) % 4000), got = 0;
        wt_fill(out, sz, (uint32_t)i);
        WT_OK(wipc_send(c, 0, out, sz, 5000));
        /* one message out, its echo back (a stream socket may split it: collect up to sz bytes) */
        size_t have = 0;
        while (have < sz) {
            WT_OK(wipc_recv(c, buf + have, sizeof buf - have, &got, NULL, 5000));
            WT_CHECK(got > 0, "empty raw read");
            have += got;
        }
        assert_int_equal(have, sz);
        WT_CHECK(wt_check(buf, have, (uint32_t)i), "raw echo %d differs", i);
    }
#ifdef _WIN32
    /* message mode keeps the boundary: one read = one message */
    WT_OK(wipc_send(c, 0, "raw-message", 11, 5000));
    size_t got = 0;
    WT_OK(wipc_recv(c, buf, sizeof buf, &got, NULL, 5000));
    assert_int_equal(got, 11);
    assert_memory_equal(buf, "raw-message", 11);
#endif
    WT_OK(wipc_close(c));
    wt_proc_free(p);
#ifndef _WIN32
    unlink(path); /* the killed raw server could not remove its socket file */
#endif
}

#ifdef _WIN32
/* The server's pipe buffers: buffer_size 0 is 128 KiB (wipc.h), so that a 64 KiB message and its
 * frame header (65,560 bytes) fit and its WriteFile completes at once instead of pending until the
 * peer reads. The core used to turn 0 into 64 KiB before the backend saw it. */
static void test_pipe_default_buffer_size(void **state)
{
    (void)state;
    char name[160], path[300];
    wt_unique_name(name, sizeof name, "bufsize");
    wipc_handle srv = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    snprintf(path, sizeof path, "\\\\.\\pipe\\wipc-%s", name);
    HANDLE f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    WT_CHECK(f != INVALID_HANDLE_VALUE, "CreateFileA(%s): %lu", path, (unsigned long)GetLastError());
    DWORD out = 0, in = 0;
    BOOL ok = GetNamedPipeInfo(f, NULL, &out, &in, NULL);
    DWORD err = GetLastError();
    CloseHandle(f);
    WT_OK(wipc_close(srv));
    WT_CHECK(ok, "GetNamedPipeInfo: %lu", (unsigned long)err);
    WT_CHECK(out >= 128u * 1024 && in >= 128u * 1024, "default pipe buffers are %lu / %lu bytes, expected 128 KiB",
             (unsigned long)out, (unsigned long)in);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipe_connect_accept, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_message_sizes, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_boundaries_and_order, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_buffer_too_small, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_too_large, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_disconnect_drains_queue, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_dot_names, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_trailing_dots_are_distinct_names, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_request_threads, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_request_details, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_callbacks_server, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_callbacks_set_after_connect, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_callbacks_client_side, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_close_inside_callback, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_no_callback_after_close, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_close_unblocks, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_connect_timeouts, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_connect_waits_for_server, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_squatting, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_squatting_cross_process, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_cross_process_client, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_cross_process_server, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_peer_killed_client, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_peer_killed_server, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_peer_killed_callback, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_pipe_raw_client, setup_thread_flag, teardown_peers),
#ifdef _WIN32
        cmocka_unit_test_setup_teardown(test_pipe_default_buffer_size, setup_thread_flag, teardown_peers),
#endif
        cmocka_unit_test_setup_teardown(test_pipe_shutdown, setup_thread_flag, teardown_peers),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
