/*
 * test_fault_msg.c - fault injection across real processes for the msg transport;
 * the pipe and shm cases are in test_fault.c.
 *
 *  - the receiver is killed inside its callback while a sender waits for the reply: the sender gets
 *    WIPC_E_DISCONNECTED (never hangs) and can send to the name's next receiver;
 *  - the sender is killed while our callback handles its message: the callback's reply goes nowhere,
 *    this process carries on (no SIGPIPE) and the endpoint serves the next sender;
 *  - a killed receiver's endpoint (socket file / window) is stale: senders get WIPC_E_NOT_FOUND at
 *    once, listing skips it, and the next listener takes the name;
 *  - the receiver stops taking messages: a sender waits up to its timeout (callback busy) or is told
 *    WIPC_E_BUSY (queue full); the queue never holds more than queue_depth messages.
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

typedef struct msend_job {
    const char *name;
    uint32_t type;
    int32_t timeout_ms;
    wipc_status st;
    int32_t reply;
    uint64_t ended_at;
    char msg[512];
} msend_job;

static void *msend_thread(void *arg)
{
    msend_job *j = (msend_job *)arg;
    j->st = wipc_msg_send(j->name, j->type, "ping", 4, j->timeout_ms, &j->reply);
    j->ended_at = wt_now_ms();
    wt_last_error(j->msg, sizeof j->msg);
    return NULL;
}

/* Waits for a line starting with `prefix` from the peer. */
static int wait_line(wt_proc *p, const char *prefix, int timeout_ms)
{
    char line[256];
    uint64_t end = wt_now_ms() + (uint64_t)timeout_ms;
    while (wt_now_ms() < end) {
        if (wt_proc_read_line(p, line, sizeof line, (int)(end - wt_now_ms())) != 0)
            return 0;
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            return 1;
    }
    return 0;
}

static void test_fault_msg_receiver_killed_in_callback(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "fm-cbkill");
    const char *args[] = { "msg-block", name, NULL };
    wt_proc *p = wt_spawn_ready(args);
    msend_job j;
    memset(&j, 0, sizeof j);
    j.name = name;
    j.type = 77;
    j.timeout_ms = 20000;
    wt_thread *t = wt_thread_start(msend_thread, &j);
    WT_CHECK(wait_line(p, "INCB 77", 10000), "the receiver never entered its callback");
    uint64_t killed = wt_now_ms();
    assert_int_equal(wt_proc_kill(p), 0);
    wt_thread_join_or_die(t, 30000, "msg sender waiting on a killed receiver");
    uint64_t el = j.ended_at - killed;
    WT_CHECK(j.st == WIPC_E_DISCONNECTED, "the waiting sender got %s (%s), expected WIPC_E_DISCONNECTED",
             wipc_status_name(j.st), j.msg);
    WT_CHECK(el < 5000, "DISCONNECTED %llu ms after the kill", (unsigned long long)el);
    wt_proc_free(p);

    /* the name is free again: we take it, and a sender reaches us */
    wipc_handle ep = 0;
    WT_OK(wipc_msg_listen(name, NULL, &ep));
    int32_t reply = -1;
    WT_OK(wipc_msg_send(name, 5, "again", 5, 5000, &reply));
    char buf[16];
    size_t n = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(ep, buf, sizeof buf, &n, &type, 5000));
    assert_int_equal(n, 5);
    assert_int_equal(type, 5);
    WT_OK(wipc_close(ep));
    rel_report("msg", "fault", "receiver killed inside its callback while the sender waits", "pass",
               "faults=1,messages=1,lost=0,disconnect_ms=%llu", (unsigned long long)el);
}

/* Our callback, held until the test releases it. */
typedef struct hold_cb {
    atomic_int entered;
    atomic_int release;
    atomic_long handled;
    atomic_long bad;
} hold_cb;

static int32_t WIPC_CALL holding_cb(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    hold_cb *c = (hold_cb *)user;
    atomic_fetch_add(&c->entered, 1);
    uint64_t end = wt_now_ms() + 20000;
    while (!atomic_load(&c->release) && wt_now_ms() < end)
        wt_sleep_ms(5);
    if (m->size < 4 || m->size > REL_MSG_MAX) {
        atomic_fetch_add(&c->bad, 1);
        return 0;
    }
    uint8_t want[REL_MSG_MAX];
    uint32_t sum;
    size_t wn = rel_msg_fill(want, m->type, &sum);
    if (wn != m->size || memcmp(want, m->data, wn) != 0)
        atomic_fetch_add(&c->bad, 1);
    atomic_fetch_add(&c->handled, 1);
    return (int32_t)sum;
}

static void test_fault_msg_sender_killed_in_callback(void **state)
{
    (void)state;
    char name[160];
    static hold_cb cb;
    memset(&cb, 0, sizeof cb);
    wipc_handle ep = wt_msg_listen_named(name, "fm-sndkill", holding_cb, &cb);
    const char *args[] = { "msg-send", name, "1", "1", NULL };
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "spawn the sender");
    uint64_t end = wt_now_ms() + 15000;
    while (!atomic_load(&cb.entered) && wt_now_ms() < end)
        wt_sleep_ms(5);
    WT_CHECK(atomic_load(&cb.entered) == 1, "the sender's message never reached the callback");
    assert_int_equal(wt_proc_kill(p), 0);
    int code = 0;
    wt_proc_wait(p, 10000, &code);
    wt_proc_free(p);
    atomic_store(&cb.release, 1); /* the callback returns; its reply has nobody to go to */
    end = wt_now_ms() + 10000;
    while (atomic_load(&cb.handled) < 1 && wt_now_ms() < end)
        wt_sleep_ms(5);
    assert_int_equal(atomic_load(&cb.handled), 1);

    /* the endpoint still serves */
    const char *args2[] = { "msg-send", name, "20", "2", NULL };
    p = wt_spawn_peer(args2);
    char line[64] = "";
    WT_CHECK(wt_proc_read_line(p, line, sizeof line, 30000) == 0 && strcmp(line, "DONE 20") == 0,
             "next sender said \"%s\"", line);
    wt_expect_exit_0(p, 10000, "next sender");
    assert_int_equal(atomic_load(&cb.handled), 21);
    assert_int_equal(atomic_load(&cb.bad), 0);
    WT_OK(wipc_close(ep));
    rel_report("msg", "fault", "sender killed while the receiver's callback handles its message", "pass",
               "faults=1,messages=21,lost=0");
}

static void test_fault_msg_stale_endpoint(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "fm-stale");
    const char *args[] = { "msg-hold", name, NULL };
    wt_spawn_and_kill(args);
    int32_t reply = 0;
    uint64_t t0 = wt_now_ms();
    wipc_status st = wipc_msg_send(name, 1, "x", 1, 2000, &reply);
    uint64_t el = wt_now_ms() - t0;
    WT_CHECK(st == WIPC_E_NOT_FOUND, "send to a killed receiver's name: %s", wipc_status_name(st));
    WT_CHECK(el < 2500, "NOT_FOUND took %llu ms", (unsigned long long)el);
    char list[8192];
    size_t need = 0;
    WT_OK(wipc_msg_list(name, list, sizeof list, &need));
    WT_CHECK(list[0] == '\0', "the dead endpoint is still listed: %.200s", list);
    wipc_handle ep = 0;
    WT_OK(wipc_msg_listen(name, NULL, &ep)); /* the next listener takes the name */
    WT_OK(wipc_msg_send(name, 2, "y", 1, 5000, &reply));
    WT_OK(wipc_msg_list(name, list, sizeof list, &need));
    WT_CHECK(strcmp(list, name) == 0, "listed: \"%.200s\"", list);
    WT_OK(wipc_close(ep));
    rel_report("msg", "fault", "stale endpoint of a killed receiver reclaimed by the next listener", "pass",
               "faults=1");
}

static int32_t WIPC_CALL slow_cb(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    (void)m;
    atomic_int *gate = (atomic_int *)user;
    uint64_t end = wt_now_ms() + 15000;
    while (!atomic_load(gate) && wt_now_ms() < end)
        wt_sleep_ms(5);
    return 1;
}

static void test_fault_msg_receiver_stops_taking(void **state)
{
    (void)state;
    char name[160];
    int tried = 0;
    /* a busy callback: senders wait up to their timeout */
    static atomic_int gate;
    atomic_store(&gate, 0);
    wipc_handle ep = wt_msg_listen_named(name, "fm-busycb", slow_cb, &gate);
    msend_job first;
    memset(&first, 0, sizeof first);
    first.name = name;
    first.type = 1;
    first.timeout_ms = 20000;
    wt_thread *t = wt_thread_start(msend_thread, &first);
    wt_sleep_ms(200);
    int32_t reply = 0;
    uint64_t t0 = wt_now_ms();
    wipc_status st = wipc_msg_send(name, 2, "late", 4, 500, &reply);
    uint64_t el = wt_now_ms() - t0;
    WT_CHECK(st == WIPC_E_TIMEOUT, "a sender behind a busy callback got %s", wipc_status_name(st));
    WT_CHECK(el >= 400 && el < 5000, "it waited %llu ms (timeout 500)", (unsigned long long)el);
    tried++;
    atomic_store(&gate, 1);
    wt_thread_join_or_die(t, 30000, "first sender");
    WT_CHECK(first.st == WIPC_OK && first.reply == 1, "the first sender got %s / %d", wipc_status_name(first.st),
             (int)first.reply);
    WT_OK(wipc_close(ep));

    /* queue mode, nobody calls wipc_recv: the queue stops at queue_depth and senders hear BUSY */
    wt_unique_name(name, sizeof name, "fm-full");
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    o.queue_depth = 8;
    WT_OK(wipc_msg_listen(name, &o, &ep));
    int accepted = 0, busy = 0;
    for (int i = 0; i < 50; i++) {
        st = wipc_msg_send(name, (uint32_t)i, "q", 1, 2000, &reply);
        if (st == WIPC_OK)
            accepted++;
        else if (st == WIPC_E_BUSY)
            busy++;
        else
            WT_FAIL("send %d to a full queue: %s", i, wipc_status_name(st));
        tried++;
    }
    assert_int_equal(accepted, 8);
    assert_int_equal(busy, 42);
    char buf[8];
    size_t n = 0;
    uint32_t type = 0;
    for (int i = 0; i < 8; i++) {
        WT_OK(wipc_recv(ep, buf, sizeof buf, &n, &type, 1000));
        assert_int_equal(type, (uint32_t)i); /* the first eight, in order; the refused ones are not queued */
    }
    WT_ASSERT_STATUS(wipc_recv(ep, buf, sizeof buf, &n, &type, 0), WIPC_E_TIMEOUT);
    WT_OK(wipc_close(ep));
    rel_report("msg", "fault", "receiver stops taking: senders time out behind a busy callback, BUSY at queue_depth",
               "pass", "faults=1,inputs=%d,queued_max=8,waited_ms=%llu", tried, (unsigned long long)el);
}

int main(void)
{
    wt_use_peer("rel_peer"); /* the peer program, next to this one */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fault_msg_receiver_killed_in_callback, teardown_peers),
        cmocka_unit_test_teardown(test_fault_msg_sender_killed_in_callback, teardown_peers),
        cmocka_unit_test_teardown(test_fault_msg_stale_endpoint, teardown_peers),
        cmocka_unit_test_teardown(test_fault_msg_receiver_stops_taking, teardown_peers),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("fault_msg", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
