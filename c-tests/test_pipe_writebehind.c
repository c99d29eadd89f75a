/*
 * test_pipe_writebehind.c - WIPC_PIPE_WRITE_BEHIND and wipc_flush (ABI 1.1) across
 * real processes: async_peer slow-reader (a reader slower than its writer), wipc_peer hold (connects,
 * never reads; killed while frames are queued) and wipc_peer echo-server (a lone message).
 * Runs on Linux and under Wine (both backends).
 */
#include "testlib.h"
#include "writebehind.h"

static void wb_opts(wipc_pipe_options *o, uint32_t max_queued_messages)
{
    wipc_pipe_options_init(o);
    o->flags = WIPC_PIPE_WRITE_BEHIND;
    o->max_queued_messages = max_queued_messages;
}

/* Frames queued behind a slow reader arrive whole, once each and in order - small ones batched, the
 * large ones (above the write-behind size) written after them - and wipc_flush says when all are in. */
static void test_order_no_loss_slow_reader(void **state)
{
    (void)state;
    enum { N = 6000 };
    char name[160], count[16];
    wt_unique_name(name, sizeof name, "wbord");
    snprintf(count, sizeof count, "%d", N);
    wipc_pipe_options o;
    wb_opts(&o, 0);
    o.buffer_size = 4096; /* Windows: a small pipe buffer, so that the writer gets ahead at once */
    wipc_handle srv = 0, conn = 0;
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    wt_use_peer("async_peer");
    const char *args[] = { "slow-reader", name, count, "300", NULL };
    wt_proc *p = wt_spawn_ready(args);
    WT_OK(wipc_pipe_accept(srv, 10000, &conn));
    static uint8_t buf[WT_WB_BIG];
    int queued_seen = 0;
    for (uint32_t i = 0; i < N; i++) {
        size_t sz = wt_wb_size(i);
        wt_fill(buf, sz, i);
        WT_OK(wipc_send(conn, i, buf, sz, 30000));
        if (!queued_seen && wipc_flush(conn, 0) == WIPC_E_TIMEOUT)
            queued_seen = 1; /* frames were waiting in the queue: the batching path ran */
    }
    WT_OK(wipc_flush(conn, 30000));
    WT_CHECK(queued_seen, "the writer never got ahead of the reader: nothing was queued");
    char line[128] = "";
    WT_CHECK(wt_proc_read_line(p, line, sizeof line, 30000) == 0, "no line from the reader");
    char want[32];
    snprintf(want, sizeof want, "GOT %d", N);
    WT_CHECK(strncmp(line, want, strlen(want)) == 0, "reader: %s", line);
    wt_expect_exit_0(p, 20000, "slow-reader");
    WT_OK(wipc_close(conn));
    WT_OK(wipc_close(srv));
}

/* A reader that never reads, then is killed while frames are queued: the queue is bounded (a full
 * queue makes wipc_send wait out its timeout and queue nothing), wipc_flush times out while the frames
 * wait, and after the kill the next wipc_flush / wipc_send report the end - no hang, no crash. */
static void test_killed_reader_with_frames_queued(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "wbkill");
    wipc_pipe_options o;
    wb_opts(&o, 64);
    wipc_handle srv = 0, conn = 0;
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    wt_use_peer("wipc_peer");
    const char *args[] = { "hold", name, NULL };
    wt_proc *p = wt_spawn_ready(args);
    WT_OK(wipc_pipe_accept(srv, 10000, &conn));
    uint8_t msg[64];
    memset(msg, 0x33, sizeof msg);
    long sent = 0;
    wipc_status st;
    /* Fill the queue and the pipe behind it. A send that finds the queue full waits for room (200 ms):
     * the queue can be full for a moment while the I/O thread has not yet moved it into the pipe (as
     * under valgrind, one thread at a time), so only a send that waited and timed out shows both full;
     * it queued nothing. */
    for (int32_t tmo = 0;;) {
        st = wipc_send(conn, 1, msg, sizeof msg, tmo);
        if (st == WIPC_OK && sent < 10000000) {
            sent++;
            continue;
        }
        if (st != WIPC_E_TIMEOUT || tmo)
            break;
        tmo = 200;
    }
    WT_CHECK(st == WIPC_E_TIMEOUT, "a send into a full queue returned %s after %ld sends", wipc_status_name(st), sent);
    WT_CHECK(sent >= 64, "only %ld sends before the queue was full", sent);
    assert_int_equal(wipc_flush(conn, 0), WIPC_E_TIMEOUT);
    assert_int_equal(wipc_flush(conn, 100), WIPC_E_TIMEOUT);
    wt_proc_kill(p);
    wt_proc_wait(p, 10000, NULL);
    wt_proc_free(p);
    assert_int_equal(wipc_flush(conn, 20000), WIPC_E_DISCONNECTED);
    assert_int_equal(wipc_send(conn, 1, msg, sizeof msg, 1000), WIPC_E_DISCONNECTED);
    assert_int_equal(wipc_flush(conn, 0), WIPC_E_DISCONNECTED); /* stays reported */
    WT_OK(wipc_close(conn));
    WT_OK(wipc_close(srv));
}

/* A write-behind connection to a wipc_peer echo-server. */
static wipc_handle echo_open(const char *tag, wt_proc **p)
{
    char name[160];
    wt_unique_name(name, sizeof name, tag);
    wt_use_peer("wipc_peer");
    const char *args[] = { "echo-server", name, NULL };
    *p = wt_spawn_ready(args);
    wipc_pipe_options o;
    wb_opts(&o, 0);
    wipc_handle conn = 0;
    WT_OK(wipc_pipe_connect(name, &o, 10000, &conn));
    return conn;
}

static void echo_close(wipc_handle conn, wt_proc *p)
{
    WT_OK(wipc_close(conn));
    wt_proc_kill(p);
    wt_proc_wait(p, 10000, NULL);
    wt_proc_free(p);
}

/* n ping-pongs of 64 B: each send must be written before wipc_send returns (nothing queued right
 * after it), and its echo comes back. */
static void ping_pong_at_once(wipc_handle conn, uint32_t n, const char *what)
{
    uint8_t out[64], in[128];
    for (uint32_t i = 0; i < n; i++) {
        wt_fill(out, sizeof out, i);
        WT_OK(wipc_send(conn, 5, out, sizeof out, 10000));
        WT_CHECK(wipc_flush(conn, 0) == WIPC_OK, "%s: message %u was queued instead of written at once", what,
                 (unsigned)i);
        size_t got = 0;
        uint32_t type = 0;
        WT_OK(wipc_recv(conn, in, sizeof in, &got, &type, 10000));
        assert_int_equal(got, sizeof out);
        assert_true(wt_check(in, got, i));
    }
}

/* A lone message is written on the caller's thread before wipc_send returns (nothing is deferred
 * to form a batch): right after each send nothing is queued, and the peer's echo comes back. */
static void test_lone_message_goes_at_once(void **state)
{
    (void)state;
    wt_proc *p = NULL;
    wipc_handle conn = echo_open("wblone", &p);
    ping_pong_at_once(conn, 200, "lone");
    echo_close(conn, p);
}

/* After a burst (sends in a row: queued, written by the I/O thread), a send that answers a received
 * message is lone again whatever the timing: written at once, so a ping-pong after a stream adds no
 * latency. The echo server echoes the burst: those echoes are the messages received before each send. */
static void test_answer_after_burst_goes_at_once(void **state)
{
    (void)state;
    enum { BURST = 500 };
    wt_proc *p = NULL;
    wipc_handle conn = echo_open("wbburst", &p);
    uint8_t out[64], in[128];
    size_t got = 0;
    uint32_t type = 0;
    for (int round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < BURST; i++) {
            wt_fill(out, sizeof out, i);
            WT_OK(wipc_send(conn, 5, out, sizeof out, 10000));
        }
        WT_OK(wipc_flush(conn, 10000));
        for (uint32_t i = 0; i < BURST; i++) { /* every echo, once, in order */
            WT_OK(wipc_recv(conn, in, sizeof in, &got, &type, 10000));
            assert_int_equal(got, sizeof out);
            assert_true(wt_check(in, got, i));
        }
        ping_pong_at_once(conn, 50, round == 0 ? "round 0" : round == 1 ? "round 1" : "round 2");
    }
    echo_close(conn, p);
}

/* Bad combinations and handles get a clear error; without the flag wipc_flush returns at once. */
static void test_flags_and_flush_errors(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "wbarg");
    wipc_pipe_options o;
    wb_opts(&o, 0);
    wipc_handle h = 0;
    o.flags = WIPC_PIPE_WRITE_BEHIND | WIPC_PIPE_RAW;
    assert_int_equal(wipc_pipe_listen(name, &o, &h), WIPC_E_INVALID_ARG);
    o.flags = WIPC_PIPE_WRITE_BEHIND | WIPC_PIPE_LENGTH_PREFIX;
    assert_int_equal(wipc_pipe_connect(name, &o, 100, &h), WIPC_E_INVALID_ARG);
    assert_int_equal(h, 0);
    wt_pair pr;
    wt_pair_open(&pr, "wbpair");
    WT_OK(wipc_flush(pr.cli, 0)); /* no write-behind: nothing is ever queued */
    WT_OK(wipc_flush(pr.svc, WIPC_INFINITE));
    assert_int_equal(wipc_flush(pr.srv, 0), WIPC_E_NOT_SUPPORTED);
    assert_int_equal(wipc_flush(pr.cli, -2), WIPC_E_INVALID_ARG);
    wt_pair_close(&pr);
    assert_int_equal(wipc_flush(pr.cli, 0), WIPC_E_BAD_HANDLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_no_loss_slow_reader), cmocka_unit_test(test_killed_reader_with_frames_queued),
        cmocka_unit_test(test_lone_message_goes_at_once), cmocka_unit_test(test_answer_after_burst_goes_at_once),
        cmocka_unit_test(test_flags_and_flush_errors),
    };
    wt_apply_test_filter();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    wipc_shutdown();
    return rc;
}
