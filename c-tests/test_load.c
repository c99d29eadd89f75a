/*
 * test_load.c - bounded local load, pipe and shm. The msg case is in
 * test_load_msg.c.
 *
 *  - pipe: 64 client processes x 10,000 request/replies on one server in this process, served by
 *    callbacks (wipc_reply from on_message). Every reply is checked by its client (same bytes), the
 *    server counts what it answered: none lost or duplicated. The server's RSS at the end must be at
 *    most 1.2 x its RSS after the warm-up (10% of the requests).
 *  - shm: 10 million messages from a rel_peer process, each with a checksum (its type tag is the
 *    FNV-1a of the payload, and the payload is recomputed from its sequence number): a lost,
 *    duplicated, reordered or corrupt message fails.
 * Under Wine the counts are smaller (WT_SCALE); $WIPC_TEST_SCALE scales them further.
 */
#include "testlib.h"

#include <stdatomic.h>

#include "test_fault_lib.h"

static int teardown_peers(void **state)
{
    (void)state;
    wt_kill_all_peers();
    return 0;
}

/* ---- pipe: 64 processes x 10,000 requests ------------------------------------------------------- */

typedef struct load_srv {
    atomic_long replies;
    atomic_long bad;
    atomic_int connected;
    atomic_int disconnected;
} load_srv;

static int32_t WIPC_CALL echo_cb(wipc_handle h, const wipc_message *m, void *user)
{
    load_srv *s = (load_srv *)user;
    if (!m->request_id || m->size < 8) {
        atomic_fetch_add(&s->bad, 1);
        return 0;
    }
    if (wipc_reply(h, m->request_id, m->type, m->data, m->size) == WIPC_OK)
        atomic_fetch_add(&s->replies, 1);
    else
        atomic_fetch_add(&s->bad, 1);
    return 0;
}

static void WIPC_CALL event_cb(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user)
{
    (void)related;
    (void)status;
    load_srv *s = (load_srv *)user;
    if (event == WIPC_EVENT_CONNECTED) {
        atomic_fetch_add(&s->connected, 1);
    } else if (event == WIPC_EVENT_DISCONNECTED || event == WIPC_EVENT_ERROR) {
        atomic_fetch_add(&s->disconnected, 1);
        wipc_close(h); /* the connection is ours to close; from inside its own callback */
    }
}

static void test_load_pipe_clients(void **state)
{
    (void)state;
    const int nclients = WT_SCALE(64, 8);
    const long n = rel_scale_n(WT_SCALE(10000, 250), 50);
    const long total = (long)nclients * n;
    char name[160], nbuf[32], cbuf[16][64];
    wt_unique_name(name, sizeof name, "load-pipe");
    static load_srv s;
    memset(&s, 0, sizeof s);
    wipc_handle srv = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    WT_OK(wipc_set_callbacks(srv, echo_cb, event_cb, &s));
    snprintf(nbuf, sizeof nbuf, "%ld", n);

    wt_proc *procs[64];
    uint64_t t0 = wt_now_ms();
    for (int i = 0; i < nclients; i++) {
        char *cid = cbuf[i % 16];
        snprintf(cid, sizeof cbuf[0], "%d", i);
        const char *args[] = { "load-client", name, nbuf, cid, NULL };
        procs[i] = wt_spawn_peer(args);
        WT_CHECK(procs[i] != NULL, "spawn client %d", i);
    }
    /* warm-up: every client connected and 10% of all requests answered; then the server's RSS is the
     * reference (on a busy machine the last clients connect after the first ones did 10%) */
    uint64_t end = wt_now_ms() + 600000;
    while ((atomic_load(&s.replies) < total / 10 || atomic_load(&s.connected) < nclients) && wt_now_ms() < end)
        wt_sleep_ms(10);
    uint64_t rss_warm = rel_rss_kb(wt_self_pid()), rss_peak = rss_warm;
    while (atomic_load(&s.replies) < total && wt_now_ms() < end) {
        wt_sleep_ms(50);
        uint64_t r = rel_rss_kb(wt_self_pid());
        if (r > rss_peak)
            rss_peak = r;
    }
    uint64_t ms = wt_now_ms() - t0;
    for (int i = 0; i < nclients; i++) {
        char line[128] = "";
        int code = -1;
        int got = wt_proc_read_line(procs[i], line, sizeof line, 60000);
        WT_CHECK(wt_proc_wait(procs[i], 60000, &code) == 0 && code == 0, "client %d exit code %d", i, code);
        long done = -1;
        WT_CHECK(got == 0 && sscanf(line, "DONE %ld", &done) == 1 && done == n, "client %d said \"%s\"", i, line);
        wt_proc_free(procs[i]);
    }
    end = wt_now_ms() + 20000;
    while (atomic_load(&s.disconnected) < nclients && wt_now_ms() < end)
        wt_sleep_ms(10);
    uint64_t rss_end = rel_rss_kb(wt_self_pid());
    assert_int_equal(atomic_load(&s.bad), 0);
    WT_CHECK(atomic_load(&s.replies) == total, "the server answered %ld requests, the clients made %ld",
             atomic_load(&s.replies), total);
    assert_int_equal(atomic_load(&s.connected), nclients);
    assert_int_equal(atomic_load(&s.disconnected), nclients);
    if (rss_warm && rss_end && rel_rss_checked())
        WT_CHECK(rss_end * 10 <= rss_warm * 12,
                 "server RSS %llu KiB after the run, %llu KiB after the warm-up (> 1.2 x)", (unsigned long long)rss_end,
                 (unsigned long long)rss_warm);
    WT_OK(wipc_close(srv));
    rel_report("pipe", "load", "client processes x request/replies on one callback server", "pass",
               "clients=%d,requests_each=%ld,messages=%ld,lost=0,ms=%llu,rss_warm_kib=%llu,rss_peak_kib=%llu,rss_end_"
               "kib=%llu%s",
               nclients, n, 2 * total, (unsigned long long)ms, (unsigned long long)rss_warm,
               (unsigned long long)rss_peak, (unsigned long long)rss_end,
               rel_rss_checked() ? "" : ",rss_bound=not_checked(sanitizer)");
}

/* ---- shm: 10 million checksummed messages ----------------------------------------------------------- */

static void test_load_shm_messages(void **state)
{
    (void)state;
    const long n = rel_scale_n(WT_SCALE(10000000, 200000), 10000);
    const uint64_t seed = 0x5eed0000u + (uint64_t)wt_self_pid();
    char name[160], nbuf[32], sbuf[32];
    wt_unique_name(name, sizeof name, "load-shm");
    wipc_handle ch = 0;
    WT_OK(wipc_shm_create(name, NULL, &ch));
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    snprintf(sbuf, sizeof sbuf, "%llu", (unsigned long long)seed);
    const char *args[] = { "shm-load-send", name, nbuf, sbuf, NULL };
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "spawn the shm sender");
    uint8_t buf[REL_SHM_MAX], want[REL_SHM_MAX];
    uint64_t t0 = wt_now_ms(), bytes = 0;
    for (long i = 0; i < n; i++) {
        size_t got = 0;
        uint32_t type = 0;
        wipc_status st = wipc_recv(ch, buf, sizeof buf, &got, &type, 30000);
        if (st != WIPC_OK)
            WT_FAIL("message %ld of %ld: %s (%s)", i, n, wipc_status_name(st), wipc_last_error_message());
        uint32_t sum;
        size_t wn = rel_shm_fill(want, seed, (uint64_t)i, &sum);
        if (got != wn || type != sum || rel_fnv32(buf, got) != type || memcmp(buf, want, wn) != 0) {
            uint64_t seq = 0;
            memcpy(&seq, buf, got >= 8 ? 8 : 0);
            WT_FAIL("message %ld: %zu bytes (want %zu), sequence %llu, checksum tag 0x%08x (want 0x%08x)", i, got, wn,
                    (unsigned long long)seq, (unsigned)type, (unsigned)sum);
        }
        bytes += got;
    }
    uint64_t ms = wt_now_ms() - t0;
    char line[64] = "";
    WT_CHECK(wt_proc_read_line(p, line, sizeof line, 30000) == 0 && strncmp(line, "DONE", 4) == 0, "sender said \"%s\"",
             line);
    /* nothing more may arrive */
    size_t extra = 0;
    WT_ASSERT_STATUS(wipc_recv(ch, buf, sizeof buf, &extra, NULL, 100), WIPC_E_TIMEOUT);
    WT_OK(wipc_close(ch));
    wt_expect_exit_0(p, 30000, "sender");
    rel_report("shm", "load", "checksummed messages through one channel", "pass",
               "messages=%ld,lost=0,bytes=%llu,ms=%llu,msgs_per_s=%llu", n, (unsigned long long)bytes,
               (unsigned long long)ms, (unsigned long long)(ms ? (uint64_t)n * 1000u / ms : 0));
}

/* ---- main ---------------------------------------------------------------------------------------- */

int main(void)
{
    wt_use_peer("rel_peer");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_load_pipe_clients, teardown_peers),
        cmocka_unit_test_teardown(test_load_shm_messages, teardown_peers),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("load", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
