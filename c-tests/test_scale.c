/*
 * test_scale.c - a pipe server past 255 connections: max_instances
 * WIPC_PIPE_UNLIMITED_INSTANCES (255) sets no count limit, as Windows' PIPE_UNLIMITED_INSTANCES does,
 * while a limit below it is still enforced (the client past it is told BUSY and times out). Before
 * 1.1 the core told the 256th client BUSY whatever the OS allowed.
 */
#include "testlib.h"
#if !defined(_WIN32)
#  include <sys/resource.h>
#endif

enum { MANY = 300 };

static void connect_all(const char *name, wipc_handle *cli, int n)
{
    for (int i = 0; i < n; i++) {
        if (wipc_pipe_connect(name, NULL, 20000, &cli[i]) != WIPC_OK)
            fail_msg("connection %d of %d: %s", i + 1, n, wipc_last_error_message());
    }
}

static void test_unlimited_instances_hold_more_than_255(void **state)
{
    (void)state;
#if !defined(_WIN32)
    struct rlimit rl; /* 2 descriptors per in-process connection */
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 4 * MANY && rl.rlim_max >= 4 * MANY) {
        rl.rlim_cur = 4 * MANY;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
#endif
    char name[160];
    wt_unique_name(name, sizeof name, "many");
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.max_instances = WIPC_PIPE_UNLIMITED_INSTANCES;
    wipc_handle srv = 0;
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    static wipc_handle cli[MANY], svc[MANY];
    connect_all(name, cli, MANY);
    for (int i = 0; i < MANY; i++)
        WT_OK(wipc_pipe_accept(srv, 10000, &svc[i]));
    /* every one of them works: a round trip on the last */
    char buf[8];
    size_t got = 0;
    uint32_t type = 0;
    WT_OK(wipc_send(cli[MANY - 1], 7, "last", 4, 5000));
    WT_OK(wipc_recv(svc[MANY - 1], buf, sizeof buf, &got, &type, 5000));
    assert_int_equal(got, 4);
    assert_int_equal(type, 7);
    for (int i = 0; i < MANY; i++) {
        WT_OK(wipc_close(cli[i]));
        WT_OK(wipc_close(svc[i]));
    }
    WT_OK(wipc_close(srv));
}

static void test_limit_below_unlimited_is_enforced(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "few");
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.max_instances = 3;
    wipc_handle srv = 0, cli[3], extra = 0;
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    connect_all(name, cli, 3);
    WT_ASSERT_FAILS(wipc_pipe_connect(name, NULL, 300, &extra), WIPC_E_TIMEOUT); /* told BUSY until the timeout */
    assert_int_equal(extra, 0);
    for (int i = 0; i < 3; i++)
        WT_OK(wipc_close(cli[i]));
    WT_OK(wipc_close(srv));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited_instances_hold_more_than_255),
        cmocka_unit_test(test_limit_below_unlimited_is_enforced),
    };
    wt_apply_test_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
