/*
 * test_hardening.c - the hardening attacks (docs/RELIABILITY.md) on the portable core, on both backends (Linux, and the Win32
 * build under Wine): the attacker is hostile_peer.c, a separate process written against the OS
 * (CreateFileW / AF_UNIX), never wipc; the server under attack is this process.
 *
 *  - handshake squatters: as many connections as max_instances that never say HELLO; a legitimate
 *    client must get in once handshake_timeout_ms ran out (the common handshake watch ends them and
 *    frees their slots; on Windows the backend then offers a new pipe instance).
 *  - claimed sizes: 60 connections each send a header claiming 16 MiB and 40 bytes of it; this
 *    process's committed memory (Windows private commit, Linux VmData) must stay small: a frame's body
 *    is allocated as its bytes arrive.
 *  - callback flood: a legitimate client (rel_peer) sends 16 MiB messages as fast as it can into a
 *    0.5 s callback; this process's RSS must stay bounded (callback-mode back-pressure).
 * The POSIX-only attacks (shrunk sections, RAW paths, EMFILE, capacity flips, floods) are in
 * python-tests/test_hardening_posix.py.
 */
#include "testlib.h"

#include "test_fault_lib.h"

static int teardown_peers(void **state)
{
    (void)state;
    wt_kill_all_peers();
    return 0;
}

static int32_t WIPC_CALL count_message(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    (void)m;
    atomic_fetch_add((atomic_int *)user, 1); /* read by the test's thread meanwhile */
    return 0;
}

/* Spawns hostile_peer `mode` against `name` with n connections; returns it, *made = connections it made. */
static wt_proc *attack(const char *mode, const char *name, int n, int *made)
{
    char count[16], line[128];
    snprintf(count, sizeof count, "%d", n);
    const char *args[] = { mode, name, count, NULL };
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "spawn hostile_peer %s", mode);
    *made = -1;
    while (wt_proc_read_line(p, line, sizeof line, 20000) == 0) {
        if (sscanf(line, "MADE %d", made) == 1)
            continue;
        if (!strcmp(line, "READY"))
            break;
    }
    WT_CHECK(*made >= 0, "hostile_peer %s never got ready", mode);
    return p;
}

static void test_hardening_handshake_squatters(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "h-squat");
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.max_instances = 4;
    o.handshake_timeout_ms = 500;
    wipc_handle srv = 0, c = 0;
    atomic_int got = 0;
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    WT_OK(wipc_set_callbacks(srv, count_message, NULL, (void *)&got));
    int made = 0;
    wt_proc *p = attack("squat", name, 4, &made);
    WT_CHECK(made == 4, "the squatters made %d of 4 connections", made);
    uint64_t t0 = wt_now_ms();
    wipc_status st = wipc_pipe_connect(name, NULL, 10000, &c);
    uint64_t took = wt_now_ms() - t0;
    if (st == WIPC_OK) {
        WT_OK(wipc_send(c, 1, "hi", 2, 5000));
        for (int i = 0; i < 500 && atomic_load(&got) == 0; i++)
            wt_sleep_ms(10);
        WT_OK(wipc_close(c));
    }
    rel_report("pipe", "security",
               "handshake squatters hold every instance: a legitimate client gets in after the deadline",
               st == WIPC_OK && atomic_load(&got) == 1 ? "pass" : "FAIL",
               "inputs=%d,deadline_ms=500,legit_connect_ms=%llu", made, (unsigned long long)took);
    wt_proc_free(p);
    WT_OK(wipc_close(srv));
    WT_ASSERT_STATUS(st, WIPC_OK);
    WT_CHECK(atomic_load(&got) == 1, "the legitimate client's message did not arrive");
}

static void test_hardening_claimed_sizes(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "h-claim");
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.max_instances = 64;
    wipc_handle srv = 0;
    atomic_int got = 0;
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    WT_OK(wipc_set_callbacks(srv, count_message, NULL, (void *)&got));
    uint32_t self = rel_self_pid();
    uint64_t before = rel_mem_kb(self, 1);
    int made = 0;
    wt_proc *p = attack("claim", name, 60, &made);
    wt_sleep_ms(1000); /* the server reads what they sent */
    uint64_t after = rel_mem_kb(self, 1);
    double grew_mib = after > before ? (double)(after - before) / 1024.0 : 0.0;
    int checked = rel_rss_checked() && before != 0;
    rel_report("pipe", "security", "60 headers claiming 16 MiB: committed memory stays small",
               !checked        ? "skip"
               : grew_mib < 64 ? "pass"
                               : "FAIL",
               "inputs=%d,commit_growth_mib=%.1f,bytes_sent=%d", made, grew_mib, made * 104);
    wt_proc_free(p);
    WT_OK(wipc_close(srv));
    WT_CHECK(made == 60, "the attacker made %d of 60 connections", made);
    WT_CHECK(atomic_load(&got) == 0, "a message was delivered from a frame that never completed");
    if (checked)
        WT_CHECK(grew_mib < 64, "60 headers claiming 16 MiB made this process commit %.0f MiB", grew_mib);
}

static int32_t WIPC_CALL slow_message(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    (void)m;
    atomic_fetch_add((atomic_int *)user, 1); /* read by the test's thread meanwhile */
    wt_sleep_ms(500);
    return 0;
}

/* A legitimate client (rel_peer pipe-stream) sends 16 MiB messages as fast as it can to a server whose
 * callback takes 0.5 s each: the server's memory must stay bounded (reading pauses at
 * max_queued_bytes of callback backlog; the sender blocks). */
static void test_hardening_callback_flood(void **state)
{
    (void)state;
    char name[160], size[32];
    wt_unique_name(name, sizeof name, "h-flood");
    wipc_handle srv = 0;
    atomic_int got = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    WT_OK(wipc_set_callbacks(srv, slow_message, NULL, (void *)&got));
    uint32_t self = rel_self_pid();
    uint64_t start = rel_rss_kb(self), peak = start;
    snprintf(size, sizeof size, "%u", 16u << 20);
    const char *args[] = { "pipe-stream", name, size, NULL };
    wt_use_peer("rel_peer");
    wt_proc *p = wt_spawn_ready(args);
    wt_use_peer("hostile_peer");
    WT_CHECK(p != NULL, "spawn rel_peer pipe-stream");
    for (int i = 0; i < 40; i++) { /* 4 s */
        wt_sleep_ms(100);
        uint64_t now = rel_rss_kb(self);
        if (now > peak)
            peak = now;
    }
    int taken = atomic_load(&got);
    wt_proc_free(p);
    WT_OK(wipc_close(srv));
    double grew_mib = (double)(peak - start) / 1024.0;
    int checked = rel_rss_checked() && start != 0;
    rel_report("pipe", "load", "16 MiB messages flooding a 0.5 s callback: the server's RSS stays bounded",
               !checked         ? "skip"
               : grew_mib < 160 ? "pass"
                                : "FAIL",
               "messages=%d,rss_start_mib=%llu,rss_growth_mib=%.0f,lost=0", taken, (unsigned long long)(start / 1024),
               grew_mib);
    WT_CHECK(taken >= 2, "only %d messages reached the callback in 4 s", taken);
    if (checked)
        WT_CHECK(grew_mib < 160, "the server's RSS grew %.0f MiB in 4 s (no back-pressure)", grew_mib);
}

int main(void)
{
    wt_use_peer("hostile_peer"); /* the attacker program, next to this one */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hardening_handshake_squatters, teardown_peers),
        cmocka_unit_test_teardown(test_hardening_claimed_sizes, teardown_peers),
        cmocka_unit_test_teardown(test_hardening_callback_flood, teardown_peers),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("hardening", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
