/*
 * test_list.c - wipc_list (ABI 1.1) across processes, on both backends (Linux, and Windows under
 * Wine): a peer (this program run as `test_list peer NAME`) serves a pipe, a shm channel, a region
 * and a msg receiver; the test lists them with their owner pid, reads their statistics (wipc_stat)
 * after a connection and a few messages, then kills the peer and sees them go.
 */
#include "testlib.h"

#if !defined(_WIN32)
#  include <sys/mman.h>
#endif

static int peer_main(const char *name)
{
    if (wt_peer_die_with_parent() != 0)
        return 2;
    char n[200];
    wipc_handle h;
    wipc_status st;
    snprintf(n, sizeof n, "%s-p", name);
    if ((st = wipc_pipe_listen(n, NULL, &h)) != WIPC_OK)
        return wt_peer_hold("test_list", "wipc_pipe_listen", st);
    snprintf(n, sizeof n, "%s-s", name);
    if ((st = wipc_shm_create(n, NULL, &h)) != WIPC_OK)
        return wt_peer_hold("test_list", "wipc_shm_create", st);
    snprintf(n, sizeof n, "%s-m", name);
    if ((st = wipc_msg_listen(n, NULL, &h)) != WIPC_OK)
        return wt_peer_hold("test_list", "wipc_msg_listen", st);
    snprintf(n, sizeof n, "%s-r", name);
    return wt_peer_hold("test_list", "wipc_region_create", wipc_region_create(n, 4096, NULL, &h));
}

/* wipc_list(mask, prefix) into out (cap 16); returns the count. */
static size_t list(uint32_t mask, const char *prefix, wipc_endpoint *out)
{
    size_t n = 0;
    WT_OK(wipc_list(mask, prefix, out, 16, sizeof *out, &n));
    return n;
}

static const wipc_endpoint *find(const wipc_endpoint *e, size_t n, uint32_t transport, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].transport == transport && strcmp(e[i].name, name) == 0)
            return &e[i];
    return NULL;
}

static void test_list_peer_endpoints_then_gone(void **state)
{
    (void)state;
    char base[160], n[200];
    wt_unique_name(base, sizeof base, "ls");
    const char *args[] = { "peer", base, NULL };
    wt_proc *p = wt_spawn_ready(args);
    uint32_t pid = wt_proc_pid(p);
    wipc_endpoint e[16];
    size_t count = list(0, base, e);
    assert_int_equal(count, 4);
    static const struct {
        uint32_t transport, kind;
        const char *suffix;
    } want[] = {
        { WIPC_TRANSPORT_PIPE, WIPC_KIND_PIPE_SERVER, "-p" },
        { WIPC_TRANSPORT_SHM, WIPC_KIND_SHM_CHANNEL, "-s" },
        { WIPC_TRANSPORT_SHM, WIPC_KIND_REGION, "-r" },
        { WIPC_TRANSPORT_MSG, WIPC_KIND_MSG_ENDPOINT, "-m" },
    };
    for (size_t i = 0; i < 4; i++) { /* sorted: transport, kind, name */
        snprintf(n, sizeof n, "%s%s", base, want[i].suffix);
        assert_string_equal(e[i].name, n);
        assert_int_equal(e[i].transport, want[i].transport);
        assert_int_equal(e[i].kind, want[i].kind);
        assert_int_equal(e[i].struct_size, sizeof(wipc_endpoint));
    }
    assert_int_equal(e[1].owner_pid, pid); /* shm channel: the creator, from the header */
    assert_int_equal(e[3].owner_pid, pid); /* msg: the window's / the lock's process */
    assert_int_equal(e[0].owner_pid, pid); /* pipe: /proc/locks; Windows: its stats section */
    assert_true(e[0].created_unix_ms > 0 && e[1].created_unix_ms > 0 && e[3].created_unix_ms > 0);

    /* statistics, read from here without the peer's help: a connection, queued msg messages */
    wipc_stats s = { .struct_size = sizeof s };
    snprintf(n, sizeof n, "%s-p", base);
    wipc_handle c = 0;
    WT_OK(wipc_pipe_connect(n, NULL, 5000, &c));
    uint64_t end = wt_now_ms() + 10000;
    do
        WT_OK(wipc_stat(n, WIPC_TRANSPORT_PIPE, &s));
    while (s.connections != 1 && wt_now_ms() < end && (wt_sleep_ms(10), 1));
    assert_int_equal(s.owner_pid, pid);
    assert_int_equal(s.connections, 1);
    assert_int_equal(s.connections_total, 1);
    WT_OK(wipc_close(c));
    snprintf(n, sizeof n, "%s-m", base);
    for (int i = 0; i < 5; i++)
        WT_OK(wipc_msg_send(n, 1, "hello", 5, 5000, NULL));
    WT_OK(wipc_stat(n, 0, &s));
    assert_int_equal(s.transport, WIPC_TRANSPORT_MSG);
    assert_int_equal(s.messages_received, 5);
    assert_int_equal(s.bytes_received, 25);
    assert_int_equal(s.queue_depth, 5);
    snprintf(n, sizeof n, "%s-s", base);
    WT_OK(wipc_stat(n, WIPC_TRANSPORT_SHM, &s));
    assert_int_equal(s.kind, WIPC_KIND_SHM_CHANNEL);
    snprintf(n, sizeof n, "%s-r", base);
    WT_ASSERT_FAILS(wipc_stat(n, 0, &s), WIPC_E_NOT_FOUND); /* regions publish nothing */
    assert_int_equal(list(WIPC_LIST_SHM, base, e), 2);
    assert_int_equal(list(WIPC_LIST_PIPE | WIPC_LIST_MSG, base, e), 2);

    assert_int_equal(wt_proc_kill(p), 0);
    int code;
    assert_int_equal(wt_proc_wait(p, 10000, &code), 0);
    wt_proc_free(p);
    end = wt_now_ms() + 10000;
    while (wt_now_ms() < end) {
        count = list(0, base, e);
        snprintf(n, sizeof n, "%s-p", base);
        int pipe_left = find(e, count, WIPC_TRANSPORT_PIPE, n) != NULL;
        snprintf(n, sizeof n, "%s-s", base);
        int shm_left = find(e, count, WIPC_TRANSPORT_SHM, n) != NULL;
        snprintf(n, sizeof n, "%s-m", base);
        if (!pipe_left && !shm_left && !find(e, count, WIPC_TRANSPORT_MSG, n) &&
            wipc_stat(n, WIPC_TRANSPORT_MSG, &s) == WIPC_E_NOT_FOUND)
            break;
        wt_sleep_ms(20);
    }
#if defined(_WIN32)
    assert_int_equal(count, 0); /* sections vanish with their last handle */
    WT_ASSERT_FAILS(wipc_stat(n, 0, &s), WIPC_E_NOT_FOUND);
#else
    assert_int_equal(count, 1); /* a dead creator's region stays until removed (documented) */
    assert_int_equal(e[0].kind, WIPC_KIND_REGION);
    snprintf(n, sizeof n, "/wipc-%u-r-%s-r", (unsigned)geteuid(), base);
    assert_int_equal(shm_unlink(n), 0);
    snprintf(n, sizeof n, "%s-m", base);
    WT_ASSERT_FAILS(wipc_stat(n, 0, &s), WIPC_E_NOT_FOUND); /* a dead owner's stats section is not reported */
#endif
}

static void test_list_own_and_contract(void **state)
{
    (void)state;
    char base[160], n[200];
    wt_unique_name(base, sizeof base, "lsown");
    wipc_handle h[3] = { 0 };
    snprintf(n, sizeof n, "%s-a", base);
    WT_OK(wipc_pipe_listen(n, NULL, &h[0]));
    snprintf(n, sizeof n, "%s-b", base);
    WT_OK(wipc_shm_create(n, NULL, &h[1]));
    snprintf(n, sizeof n, "%s-c", base);
    WT_OK(wipc_msg_listen(n, NULL, &h[2]));
    size_t count = 9;
    WT_ASSERT_FAILS(wipc_list(WIPC_LIST_SHM | WIPC_LIST_MSG, base, NULL, 0, 0, &count), WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(count, 2);
    wipc_endpoint e[16];
    memset(e, 0x55, sizeof e);
    WT_ASSERT_FAILS(wipc_list(WIPC_LIST_SHM | WIPC_LIST_MSG, base, e, 1, sizeof e[0], &count), WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(count, 2);
    snprintf(n, sizeof n, "%s-b", base);
    assert_string_equal(e[0].name, n);
    assert_int_equal(e[0].owner_pid, wt_self_pid());
    assert_int_equal(e[1].struct_size, 0x55555555u); /* beyond cap: untouched */
    /* bad arguments */
    WT_ASSERT_FAILS(wipc_list(0, NULL, e, 16, sizeof e[0], &count), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_list(0, "a/b", e, 16, sizeof e[0], &count), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_list(1u, "", e, 16, sizeof e[0], &count), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_list(0, "", NULL, 1, sizeof e[0], &count), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_list(0, "", e, 1, offsetof(wipc_endpoint, name) + WIPC_NAME_MAX, &count), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_list(0, "", e, 1, sizeof e[0], NULL), WIPC_E_INVALID_ARG);
    for (int i = 0; i < 3; i++)
        WT_OK(wipc_close(h[i]));
    assert_int_equal(list(0, base, e), 0);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "peer") == 0)
        return peer_main(argv[2]);
    wt_use_peer("test_list");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_peer_endpoints_then_gone),
        cmocka_unit_test(test_list_own_and_contract),
    };
    wt_apply_test_filter(); /* WT_FILTER=case: the reliability suite runs each case on its own */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
