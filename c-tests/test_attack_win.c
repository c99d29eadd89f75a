/*
 * test_attack_win.c - Windows-only attacks of issue 19 (items 11-14 and the known limit), each made
 * by win_attacker.exe, a plain Win32 program of the same user that never loads wipc.dll:
 *
 *  - msg_userdata:     a foreign SetWindowLongPtrW(GWLP_USERDATA) on the endpoint's window must not
 *                      change where WM_COPYDATA goes (the window procedure finds its endpoint in the
 *                      library's own table).
 *  - msg_hijack:       a window of class wipc-msg-<name> created after the receiver listened gets
 *                      nothing; once the receiver is gone, a send to it is refused, not delivered.
 *  - msg_mutex_precreated, shm_events_precreated: named objects pre-created by someone else are
 *                      refused (must-not-exist), never adopted.
 *  - shm_reserve, bulk_reserve: a section whose pages are reserved but not committed (SEC_RESERVE)
 *                      is refused before a byte of it is used. Wine does not fault on reserved
 *                      pages, so only the check can be shown here: the attacker prints what
 *                      VirtualQuery says of its ring pages, and the test reports it.
 *  - pipe_server_pid:  the known limit (a same-user process can add instances to a live pipe):
 *                      a client can read the pid of the server process it reached.
 * Each case prints a RELIABILITY| line (test_fault_lib.h) for docs/RELIABILITY.md.
 */
#include "testlib.h"

#include "test_fault_lib.h"

static int teardown_peers(void **state)
{
    (void)state;
    wt_kill_all_peers();
    return 0;
}

/* ---- msg ------------------------------------------------------------------------------------------ */

static atomic_int g_received;

static int32_t WIPC_CALL count_cb(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h, (void)user;
    atomic_fetch_add(&g_received, 1);
    return (int32_t)m->size + 1000;
}

/* Sends n messages of 5 bytes; returns how many got the receiver's own reply (1005). */
static int send_n(const char *name, int n, wipc_status *last)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int32_t reply = 0;
        *last = wipc_msg_send(name, 1, "hello", 5, 5000, &reply);
        if (*last == WIPC_OK && reply == 1005)
            ok++;
    }
    return ok;
}

static void test_msg_userdata(void **state)
{
    (void)state;
    char name[160];
    atomic_store(&g_received, 0);
    wipc_handle ep = wt_msg_listen_named(name, "a-ud", count_cb, NULL);
    const char *args[] = { "msg-userdata", name, NULL };
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "spawn win_attacker");
    wt_expect_exit_0(p, 20000, "win_attacker msg-userdata");
    wipc_status last = WIPC_OK;
    int ok = send_n(name, 10, &last);
    rel_report("msg", "security", "foreign SetWindowLongPtrW(GWLP_USERDATA) on the endpoint's window", ok == 10 ? "pass" : "fail",
               "inputs=1,delivered=%d/10,last=%s", ok, wipc_status_name(last));
    WT_CHECK(ok == 10, "after the attacker wrote GWLP_USERDATA: %d of 10 sends answered by the endpoint (last %s)", ok,
             wipc_status_name(last));
    WT_CHECK(atomic_load(&g_received) == 10, "the endpoint's callback ran %d times", atomic_load(&g_received));
    WT_OK(wipc_close(ep));
}

/* Lines "GOT <n>" the attacker printed within ms milliseconds: the messages it received. */
static int attacker_got(wt_proc *p, int ms)
{
    int got = 0;
    char line[128];
    while (wt_proc_read_line(p, line, sizeof line, ms) == 0)
        if (strncmp(line, "GOT ", 4) == 0)
            got = atoi(line + 4);
    return got;
}

static void test_msg_hijack(void **state)
{
    (void)state;
    char name[160];
    atomic_store(&g_received, 0);
    wipc_handle ep = wt_msg_listen_named(name, "a-hj", count_cb, NULL);
    const char *args[] = { "msg-hijack", name, NULL };
    wt_proc *p = wt_spawn_ready(args);
    wipc_status last = WIPC_OK;
    int ok = send_n(name, 24, &last);
    int stolen = attacker_got(p, 300);
    /* the receiver goes: the attacker's window is all that is left of the name */
    WT_OK(wipc_close(ep));
    int32_t reply = 0;
    wipc_status after = wipc_msg_send(name, 1, "hello", 5, 2000, &reply);
    char why[512];
    wt_last_error(why, sizeof why);
    stolen += attacker_got(p, 300);
    int pass = ok == 24 && stolen == 0 && atomic_load(&g_received) == 24 && after == WIPC_E_NOT_FOUND;
    rel_report("msg", "security", "window of class wipc-msg-<name> created after the receiver listened (hijack)", pass ? "pass" : "fail",
               "inputs=25,receiver=%d/24,attacker=%d,after_close=%s", ok, stolen, wipc_status_name(after));
    printf("send after the receiver closed: %s: %s\n", wipc_status_name(after), why);
    WT_CHECK(stolen == 0, "the attacker's window received %d messages", stolen);
    WT_CHECK(ok == 24 && atomic_load(&g_received) == 24, "the receiver answered %d of 24 (callback ran %d times, last %s)", ok,
             atomic_load(&g_received), wipc_status_name(last));
    WT_CHECK(after == WIPC_E_NOT_FOUND, "a send with only the attacker's window left gave %s (want WIPC_E_NOT_FOUND)",
             wipc_status_name(after));
    wt_proc_free(p);
}

static void test_msg_mutex_precreated(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "a-mx");
    const char *args[] = { "msg-mutex", name, NULL };
    wt_proc *p = wt_spawn_ready(args);
    wipc_handle ep = 0;
    wipc_status st = wipc_msg_listen(name, NULL, &ep);
    char why[512];
    wt_last_error(why, sizeof why);
    printf("wipc_msg_listen with a foreign name mutex: %s: %s\n", wipc_status_name(st), why);
    rel_report("msg", "security", "msg name mutex pre-created by another process is not adopted", st == WIPC_E_ADDR_IN_USE ? "pass" : "fail",
               "inputs=1,status=%s", wipc_status_name(st));
    if (st == WIPC_OK)
        wipc_close(ep);
    WT_CHECK(st == WIPC_E_ADDR_IN_USE, "wipc_msg_listen gave %s (want WIPC_E_ADDR_IN_USE)", wipc_status_name(st));
    wt_proc_free(p);
    /* the attacker gone, the name is free again */
    WT_OK(wipc_msg_listen(name, NULL, &ep));
    WT_OK(wipc_close(ep));
}

/* ---- shm ------------------------------------------------------------------------------------------ */

static void test_shm_events_precreated(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "a-ev");
    const char *args[] = { "shm-events", name, NULL };
    wt_proc *p = wt_spawn_ready(args);
    wipc_handle ch = 0;
    wipc_status st = wipc_shm_create(name, NULL, &ch);
    char why[512];
    wt_last_error(why, sizeof why);
    printf("wipc_shm_create with the wake events pre-created: %s: %s\n", wipc_status_name(st), why);
    rel_report("shm", "security", "channel wake events pre-created (manual-reset, signalled) are refused", st == WIPC_E_ADDR_IN_USE ? "pass" : "fail",
               "inputs=1,status=%s", wipc_status_name(st));
    if (st == WIPC_OK)
        wipc_close(ch);
    WT_CHECK(st == WIPC_E_ADDR_IN_USE, "wipc_shm_create gave %s (want WIPC_E_ADDR_IN_USE)", wipc_status_name(st));
    wt_proc_free(p);
    WT_OK(wipc_shm_create(name, NULL, &ch));   /* free again once the attacker is gone */
    WT_OK(wipc_close(ch));
}

static void test_shm_reserve(void **state)
{
    (void)state;
    char src[160], dst[160], line[128], pages[64] = "unknown";
    wt_unique_name(src, sizeof src, "a-rs");
    wt_unique_name(dst, sizeof dst, "a-rd");
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    o.capacity = 64 * 1024;
    wipc_handle ch = 0, op = 0;
    WT_OK(wipc_shm_create(src, &o, &ch));
    const char *args[] = { "shm-reserve", src, dst, NULL };
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "spawn win_attacker");
    while (wt_proc_read_line(p, line, sizeof line, 20000) == 0 && strcmp(line, "READY") != 0)
        if (strncmp(line, "RING-PAGES ", 11) == 0)
            snprintf(pages, sizeof pages, "%s", line + 11);
    wipc_status st = wipc_shm_open(dst, NULL, 2000, &op);
    char why[512];
    wt_last_error(why, sizeof why);
    printf("wipc_shm_open of a SEC_RESERVE channel (VirtualQuery of its ring pages in the attacker: %s): %s: %s\n", pages,
           wipc_status_name(st), why);
    rel_report("shm", "security", "channel section with reserved (SEC_RESERVE) ring pages is refused on open", st == WIPC_E_PROTOCOL ? "pass" : "fail",
               "inputs=1,status=%s,virtualquery=%s,wine_faults_on_reserved=no", wipc_status_name(st), pages);
    if (st == WIPC_OK)
        wipc_close(op);
    WT_CHECK(st == WIPC_E_PROTOCOL, "wipc_shm_open gave %s (want WIPC_E_PROTOCOL)", wipc_status_name(st));
    wt_proc_free(p);
    WT_OK(wipc_close(ch));
}

/* ---- pipe ----------------------------------------------------------------------------------------- */

static void test_bulk_reserve(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "a-bk");
    wipc_handle srv = 0, conn = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    const char *args[] = { "bulk-reserve", name, "300000", NULL };
    wt_proc *p = wt_spawn_ready(args);
    WT_OK(wipc_pipe_accept(srv, 10000, &conn));
    size_t cap = 1u << 20, n = 0;
    uint32_t type = 0;
    void *buf = malloc(cap);
    assert_non_null(buf);
    wipc_status st = wipc_recv(conn, buf, cap, &n, &type, 5000);
    char why[512];
    wt_last_error(why, sizeof why);
    printf("wipc_recv of a BULK message in a SEC_RESERVE section: %s (%zu bytes): %s\n", wipc_status_name(st), n, why);
    int pass = st == WIPC_E_PROTOCOL || st == WIPC_E_DISCONNECTED;
    rel_report("pipe", "security", "bulk section with reserved (SEC_RESERVE) slot pages is refused", pass ? "pass" : "fail",
               "inputs=1,status=%s,wine_faults_on_reserved=no", wipc_status_name(st));
    free(buf);
    WT_CHECK(pass, "wipc_recv gave %s with %zu bytes (want the connection refused)", wipc_status_name(st), n);
    wt_proc_free(p);
    WT_OK(wipc_close(conn));
    WT_OK(wipc_close(srv));
}

static void test_pipe_server_pid(void **state)
{
    (void)state;
    wt_pair pr;
    wt_pair_open(&pr, "a-pid");
    wipc_info ci = wt_info(pr.cli), si = wt_info(pr.svc);
    int pass = ci.peer_pid == wt_self_pid() && si.peer_pid == wt_self_pid();
    rel_report("pipe", "security", "client learns the server's pid (GetNamedPipeServerProcessId) to check whom it reached", pass ? "pass" : "fail",
               "inputs=1");
    WT_CHECK(ci.peer_pid == wt_self_pid(), "client side peer_pid %u, server pid %u", ci.peer_pid, wt_self_pid());
    WT_CHECK(si.peer_pid == wt_self_pid(), "server side peer_pid %u, client pid %u", si.peer_pid, wt_self_pid());
    wt_pair_close(&pr);
}

int main(void)
{
    wt_use_peer("win_attacker");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_msg_userdata, teardown_peers),
        cmocka_unit_test_teardown(test_msg_hijack, teardown_peers),
        cmocka_unit_test_teardown(test_msg_mutex_precreated, teardown_peers),
        cmocka_unit_test_teardown(test_shm_events_precreated, teardown_peers),
        cmocka_unit_test_teardown(test_shm_reserve, teardown_peers),
        cmocka_unit_test_teardown(test_bulk_reserve, teardown_peers),
        cmocka_unit_test_teardown(test_pipe_server_pid, teardown_peers),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("attack_win", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
