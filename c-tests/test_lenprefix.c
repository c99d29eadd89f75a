/*
 * test_lenprefix.c - WIPC_PIPE_LENGTH_PREFIX against a foreign program: the peer
 * is wipc_lp_peer (lp_peer.c), plain Win32 / POSIX code in its own process, no wipc calls.
 *
 * - A wipc server and foreign clients: messages of 0 .. 300000 bytes written as length then payload
 *   in two writes (byte and, on Windows, message read mode), a message trickled a byte at a time, a
 *   4 GiB length claim (refused: WIPC_E_TOO_LARGE, a WARN naming the claim, the connection dropped),
 *   and after it another client served by the same server.
 * - A foreign server (Windows: byte- and message-type pipes) and a wipc client: blocking and async
 *   sends of 0 .. 1 MiB - 4 bytes, the echoes (length and payload written separately) whole; requests
 *   refused with WIPC_E_NOT_SUPPORTED.
 */
#include "testlib.h"

#define BIG (1u << 20)

/* ---- a wipc LENGTH_PREFIX echo server on a thread ---------------------------------------------- */

typedef struct echo_srv {
    wipc_handle srv;
    atomic_int served; /* connections that ended */
    atomic_int too_large; /* ... with WIPC_E_TOO_LARGE */
    atomic_int zero; /* 0-byte messages received */
    atomic_int stop;
} echo_srv;

static void *echo_thread(void *arg)
{
    echo_srv *e = arg;
    uint8_t *buf = malloc(BIG);
    while (buf && !atomic_load(&e->stop)) {
        wipc_handle c = 0;
        wipc_status st = wipc_pipe_accept(e->srv, 100, &c);
        if (st == WIPC_E_TIMEOUT)
            continue;
        if (st != WIPC_OK)
            break;
        for (;;) {
            size_t got = 0;
            st = wipc_recv(c, buf, BIG, &got, NULL, 30000);
            if (st != WIPC_OK)
                break;
            if (got == 0)
                atomic_fetch_add(&e->zero, 1);
            if ((st = wipc_send(c, 0, buf, got, 10000)) != WIPC_OK)
                break;
        }
        if (st == WIPC_E_TOO_LARGE)
            atomic_fetch_add(&e->too_large, 1);
        wipc_close(c);
        atomic_fetch_add(&e->served, 1);
    }
    free(buf);
    return NULL;
}

static atomic_int warn_seen;
static char warn_text[1024];

static void WIPC_CALL on_log(int32_t level, const char *text, void *user)
{
    (void)user;
    if (level == WIPC_LOG_WARN && strstr(text, "announced") && !atomic_load(&warn_seen)) {
        snprintf(warn_text, sizeof warn_text, "%s", text);
        atomic_store(&warn_seen, 1);
    }
}

/* Runs `wipc_lp_peer client path what [msgread]`, expects the line `want` and exit code 0. */
static void run_client(const char *path, const char *what, const char *mode, const char *want)
{
    const char *args[] = { "client", path, what, mode, NULL };
    wt_proc *p = wt_spawn_ready(args);
    char line[256] = "";
    int rc = wt_proc_read_line(p, line, sizeof line, 30000);
    int code = -1;
    WT_CHECK(wt_proc_wait(p, 30000, &code) == 0, "wipc_lp_peer client %s did not end", what);
    wt_proc_free(p);
    WT_CHECK(rc == 0 && strcmp(line, want) == 0, "wipc_lp_peer client %s printed \"%s\", not \"%s\"", what, line, want);
    WT_CHECK(code == 0, "wipc_lp_peer client %s exited with %d", what, code);
}

static void test_lp_server_foreign_clients(void **state)
{
    (void)state;
    char path[200];
    wt_raw_path(path, sizeof path);
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.flags = WIPC_PIPE_LENGTH_PREFIX; /* implies RAW */
    echo_srv e;
    memset(&e, 0, sizeof e);
    WT_OK(wipc_pipe_listen(path, &o, &e.srv));
    wipc_info in = wt_info(e.srv);
    WT_CHECK((in.flags & (WIPC_PIPE_RAW | WIPC_PIPE_LENGTH_PREFIX)) == (WIPC_PIPE_RAW | WIPC_PIPE_LENGTH_PREFIX),
             "flags 0x%x: LENGTH_PREFIX should imply RAW", (unsigned)in.flags);
    atomic_store(&warn_seen, 0);
    WT_OK(wipc_set_log_callback(on_log, WIPC_LOG_WARN, NULL));
    wt_thread *t = wt_thread_start(echo_thread, &e);

    run_client(path, "echo", NULL, "ECHO OK");
#ifdef _WIN32
    run_client(path, "echo", "msgread", "ECHO OK"); /* a client that reads in message mode */
#endif
    run_client(path, "trickle", NULL, "TRICKLE OK");
    run_client(path, "huge", NULL, "DROPPED");
    uint64_t end = wt_now_ms() + 10000;
    while (atomic_load(&e.too_large) == 0 && wt_now_ms() < end)
        wt_sleep_ms(10);
    /* the server is alive and serves the next client */
    run_client(path, "echo", NULL, "ECHO OK");

    atomic_store(&e.stop, 1);
    wt_thread_join_or_die(t, 30000, "the echo server thread");
    WT_OK(wipc_set_log_callback(NULL, WIPC_LOG_WARN, NULL));
    WT_OK(wipc_close(e.srv));
    WT_CHECK(atomic_load(&e.too_large) == 1, "%d connections ended WIPC_E_TOO_LARGE, expected the 4 GiB claim's",
             atomic_load(&e.too_large));
    WT_CHECK(atomic_load(&e.zero) >= 2, "only %d 0-byte messages arrived", atomic_load(&e.zero));
    WT_CHECK(atomic_load(&warn_seen), "no WARN about the 4 GiB claim");
    WT_CHECK(strstr(warn_text, "4294967295-byte") != NULL, "the WARN does not give the claim: \"%s\"", warn_text);
    WT_CHECK(strstr(warn_text, path) != NULL, "the WARN does not name the pipe: \"%s\"", warn_text);
}

/* ---- a foreign server, a wipc client ---------------------------------------------------------- */

typedef struct async_done {
    atomic_int done;
    wipc_status st;
} async_done;

static void WIPC_CALL on_done(const wipc_completion *c, void *user)
{
    async_done *d = user;
    d->st = c->status;
    atomic_store(&d->done, 1);
}

static void echo_once(wipc_handle c, uint8_t *out, uint8_t *in, size_t n, uint32_t seed, int async)
{
    wt_fill(out, n, seed);
    if (async) {
        async_done d = { 0, WIPC_OK };
        wipc_op op = 0;
        WT_OK(wipc_send_async(c, 0, out, n, 10000, on_done, &d, &op));
        uint64_t end = wt_now_ms() + 20000;
        while (!atomic_load(&d.done) && wt_now_ms() < end)
            wt_sleep_ms(1);
        WT_CHECK(atomic_load(&d.done), "wipc_send_async of %zu bytes never completed", n);
        WT_OK(d.st);
    } else {
        WT_OK(wipc_send(c, 0, out, n, 10000));
    }
    size_t got = 99;
    uint32_t type = 99;
    WT_OK(wipc_recv(c, in, BIG, &got, &type, 20000));
    WT_CHECK(got == n, "sent %zu bytes (%s), the echo has %zu", n, async ? "async" : "blocking", got);
    WT_CHECK(type == 0, "a length-prefixed message has type %u", (unsigned)type);
    WT_CHECK(wt_check(in, got, seed), "the echo of %zu bytes differs", n);
}

static void lp_client(const char *mode)
{
    char path[200];
    wt_raw_path(path, sizeof path);
    const char *args[] = { "server", path, mode, NULL };
    wt_proc *p = wt_spawn_ready(args);
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.flags = WIPC_PIPE_LENGTH_PREFIX;
    wipc_handle c = 0;
    WT_OK(wipc_pipe_connect(path, &o, 10000, &c));
    WT_CHECK((wt_info(c).flags & WIPC_PIPE_RAW) != 0, "LENGTH_PREFIX should imply RAW");
    uint8_t *out = malloc(BIG), *in = malloc(BIG);
    static const size_t sizes[] = { 0, 1, 3, 4, 100, 488, 489, 4000, 65536, 70000, BIG - 4 };
    for (int async = 0; async < 2; async++)
        for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            echo_once(c, out, in, sizes[i], 1000 * (uint32_t)async + i, async);
    /* several messages before reading any echo: each comes back whole and in order */
    for (uint32_t i = 0; i < 20; i++) {
        wt_fill(out, 10 + i, 500 + i);
        WT_OK(wipc_send(c, 0, out, 10 + i, 10000));
    }
    for (uint32_t i = 0; i < 20; i++) {
        size_t got = 0;
        WT_OK(wipc_recv(c, in, BIG, &got, NULL, 20000));
        WT_CHECK(got == 10 + i && wt_check(in, got, 500 + i), "pipelined echo %u: %zu bytes or content wrong",
                 (unsigned)i, got);
    }
    /* no request ids without wipc's header */
    size_t rs = 0;
    WT_ASSERT_FAILS(wipc_request(c, 1, "q", 1, in, BIG, &rs, 1000), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_send(c, 0, out, 16u * 1024 * 1024 + 1, 1000), WIPC_E_TOO_LARGE);
    free(out);
    free(in);
    WT_OK(wipc_close(c));
    wt_proc_free(p);
#ifndef _WIN32
    unlink(path); /* the killed server could not remove its socket file */
#endif
}

static void test_lp_client_foreign_byte_server(void **state)
{
    (void)state;
    lp_client("byte");
}

static void test_lp_client_foreign_message_server(void **state)
{
    (void)state;
#ifdef _WIN32
    lp_client("message"); /* the length and the payload arrive as two pipe messages */
#else
    skip(); /* a stream socket has no message mode */
#endif
}

/* A LENGTH_PREFIX claim just above max_message_size between two wipc ends: refused. */
static void test_lp_limit_between_wipc_ends(void **state)
{
    (void)state;
    char path[200];
    wt_raw_path(path, sizeof path);
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.flags = WIPC_PIPE_LENGTH_PREFIX;
    o.max_message_size = 1000;
    wipc_handle srv = 0, c = 0, a = 0;
    WT_OK(wipc_pipe_listen(path, &o, &srv));
    o.max_message_size = 2000;
    WT_OK(wipc_pipe_connect(path, &o, 10000, &c));
    WT_OK(wipc_pipe_accept(srv, 10000, &a));
    uint8_t buf[2000], in[2000];
    size_t got = 0;
    wt_fill(buf, sizeof buf, 3);
    WT_OK(wipc_send(c, 0, buf, 1000, 5000)); /* at the limit: delivered */
    WT_OK(wipc_recv(a, in, sizeof in, &got, NULL, 5000));
    WT_CHECK(got == 1000 && wt_check(in, got, 3), "1000-byte message: %zu bytes", got);
    WT_OK(wipc_send(a, 0, "", 0, 5000)); /* 0 bytes the other way */
    WT_OK(wipc_recv(c, in, sizeof in, &got, NULL, 5000));
    WT_CHECK(got == 0, "0-byte message arrived as %zu bytes", got);
    WT_OK(wipc_send(c, 0, buf, 1001, 5000)); /* one above the server's limit: the connection ends */
    WT_ASSERT_FAILS(wipc_recv(a, in, sizeof in, &got, NULL, 5000), WIPC_E_TOO_LARGE);
    WT_OK(wipc_close(a));
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(srv));
}

/* ---- a server with callbacks: the claim is a WIPC_EVENT_ERROR (WIPC_E_TOO_LARGE) ----------------- */

static atomic_int cb_errors, cb_too_large, cb_msgs;

static int32_t WIPC_CALL cb_message(wipc_handle h, const wipc_message *m, void *user)
{
    (void)user;
    atomic_fetch_add(&cb_msgs, 1);
    wipc_send(h, 0, m->data, m->size, 5000); /* the echo the foreign client waits for */
    return 0;
}

static void WIPC_CALL cb_event(wipc_handle h, int32_t event, wipc_handle related, wipc_status st, void *user)
{
    (void)related;
    wipc_handle srv = *(wipc_handle *)user;
    if (event == WIPC_EVENT_ERROR) {
        atomic_fetch_add(&cb_errors, 1);
        if (st == WIPC_E_TOO_LARGE)
            atomic_fetch_add(&cb_too_large, 1);
    }
    if (event != WIPC_EVENT_CONNECTED && h != srv)
        wipc_close(h); /* a connection that ended: ours to close */
}

static void test_lp_callbacks_error_event(void **state)
{
    (void)state;
    char path[200];
    wt_raw_path(path, sizeof path);
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.flags = WIPC_PIPE_LENGTH_PREFIX;
    static wipc_handle srv;
    atomic_store(&cb_errors, 0);
    atomic_store(&cb_too_large, 0);
    atomic_store(&cb_msgs, 0);
    WT_OK(wipc_pipe_listen(path, &o, &srv));
    WT_OK(wipc_set_callbacks(srv, cb_message, cb_event, &srv));
    run_client(path, "huge", NULL, "DROPPED");
    uint64_t end = wt_now_ms() + 10000;
    while (atomic_load(&cb_too_large) == 0 && wt_now_ms() < end)
        wt_sleep_ms(10);
    WT_CHECK(atomic_load(&cb_too_large) == 1,
             "%d WIPC_EVENT_ERROR with WIPC_E_TOO_LARGE (of %d errors) for the 4 GiB claim", atomic_load(&cb_too_large),
             atomic_load(&cb_errors));
    run_client(path, "echo", NULL, "ECHO OK"); /* and the next client is served */
    WT_CHECK(atomic_load(&cb_msgs) == 8, "%d messages reached on_message, expected the 8 of the echo client",
             atomic_load(&cb_msgs));
    WT_OK(wipc_close(srv));
}

int main(void)
{
    wt_use_peer("wipc_lp_peer");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lp_server_foreign_clients),        cmocka_unit_test(test_lp_client_foreign_byte_server),
        cmocka_unit_test(test_lp_client_foreign_message_server), cmocka_unit_test(test_lp_limit_between_wipc_ends),
        cmocka_unit_test(test_lp_callbacks_error_event),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("lenprefix", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
