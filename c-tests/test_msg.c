/*
 * test_msg.c - the window-message (msg) transport: WM_COPYDATA endpoints on Windows, seqpacket
 * emulation on POSIX. In-process cases and cross-process cases with the msg_peer helper.
 *
 * Every wait is bounded: library calls use timeouts, helper threads are joined with
 * wt_thread_join_or_die (a hang ends the run with "HANG: ..."), and ctest has a TIMEOUT.
 */
#include "testlib.h"

#include <stdatomic.h>

#define LIMIT   (256u * 1024) /* the msg transport's size limit (dll/common/msg/msg_wire.h) */
#define LONG_MS WT_SCALE(5000, 20000)

/* The reply msg_peer's callback gives (msg_peer.c has the same function). */
static int32_t msg_reply_of(uint32_t type, const void *data, size_t size)
{
    uint32_t h = 2166136261u ^ type;
    for (size_t i = 0; i < size; i++)
        h = (h ^ ((const uint8_t *)data)[i]) * 16777619u;
    return (int32_t)(h ^ (uint32_t)size);
}

static _Thread_local int t_is_test_thread;

static int setup_thread_flag(void **state)
{
    (void)state;
    t_is_test_thread = 1;
    return 0;
}

/* 1 if `name` is in the '\0'-separated list of wipc_msg_list(prefix). */
static int listed(const char *prefix, const char *name)
{
    static char buf[65536];
    size_t needed = 0;
    WT_OK(wipc_msg_list(prefix, buf, sizeof buf, &needed));
    for (const char *p = buf; *p; p += strlen(p) + 1)
        if (!strcmp(p, name))
            return 1;
    return 0;
}

static int count_listed(const char *prefix)
{
    static char buf[65536];
    size_t needed = 0;
    WT_OK(wipc_msg_list(prefix, buf, sizeof buf, &needed));
    int n = 0;
    for (const char *p = buf; *p; p += strlen(p) + 1)
        n++;
    return n;
}

/* Waits until `name` is (want = 1) or is not (want = 0) listed. */
static int wait_listed(const char *name, int want, int timeout_ms)
{
    uint64_t end = wt_now_ms() + (uint64_t)timeout_ms;
    while (listed(name, name) != want) {
        if (wt_now_ms() >= end)
            return 0;
        wt_sleep_ms(10);
    }
    return 1;
}

/* ---- helper processes: tracked so that a failed test (cmocka jumps out of it) leaves none behind ---- */

static wt_proc *g_peers[8];

static wt_proc *track(wt_proc *p)
{
    for (size_t i = 0; i < sizeof g_peers / sizeof g_peers[0]; i++)
        if (!g_peers[i]) {
            g_peers[i] = p;
            return p;
        }
    WT_FAIL("too many helper processes");
    return p;
}

static wt_proc *spawn_ready(const char *const *args)
{
    return track(wt_spawn_ready(args));
}

static wt_proc *spawn(const char *const *args)
{
    wt_proc *p = wt_spawn_peer(args);
    if (!p)
        WT_FAIL("cannot spawn %s", wt_peer_path());
    return track(p);
}

/* Kills (if still running) and frees a helper. */
static void peer_free(wt_proc *p)
{
    for (size_t i = 0; i < sizeof g_peers / sizeof g_peers[0]; i++)
        if (g_peers[i] == p)
            g_peers[i] = NULL;
    wt_proc_free(p);
}

static int teardown_peers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof g_peers / sizeof g_peers[0]; i++)
        if (g_peers[i]) {
            wt_proc_free(g_peers[i]);
            g_peers[i] = NULL;
        }
    return 0;
}

/* ---- a sender on a helper thread ------------------------------------------------------------------- */

typedef struct {
    const char *name;
    uint32_t type;
    const void *data;
    size_t size;
    int32_t timeout_ms;
    wipc_status st;
    int32_t reply;
    uint64_t elapsed_ms;
    char msg[512];
} send_job;

static void *send_thread(void *arg)
{
    t_is_test_thread = 1;
    send_job *j = (send_job *)arg;
    uint64_t t0 = wt_now_ms();
    j->st = wipc_msg_send(j->name, j->type, j->data, j->size, j->timeout_ms, &j->reply);
    j->elapsed_ms = wt_now_ms() - t0;
    wt_last_error(j->msg, sizeof j->msg);
    return NULL;
}

typedef struct {
    wipc_handle h;
    wipc_status st;
    uint64_t elapsed_ms;
} recv_job;

static void *recv_thread(void *arg)
{
    t_is_test_thread = 1;
    recv_job *j = (recv_job *)arg;
    char buf[64];
    size_t size = 0;
    uint64_t t0 = wt_now_ms();
    j->st = wipc_recv(j->h, buf, sizeof buf, &size, NULL, LONG_MS * 2);
    j->elapsed_ms = wt_now_ms() - t0;
    return NULL;
}

/* ---- bad input ------------------------------------------------------------------------------------- */

static void test_msg_bad_input(void **state)
{
    (void)state;
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    assert_int_equal(o.struct_size, sizeof o);
    assert_int_equal(o.max_message_size, 64 * 1024);
    assert_int_equal(o.queue_depth, 64);
    assert_int_equal(o.flags, 0);
    wipc_msg_options_init(NULL);

    char name[160], longname[200];
    wt_unique_name(name, sizeof name, "bad");
    memset(longname, 'a', 129);
    longname[129] = 0;
    wipc_handle h = 0;
    const char *bad_names[] = { "", "a b", "x/y", "caf\xc3\xa9", "back\\slash", "colon:", longname };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        WT_ASSERT_FAILS(wipc_msg_listen(bad_names[i], NULL, &h), WIPC_E_INVALID_ARG);
        assert_true(h == 0);
        WT_ASSERT_FAILS(wipc_msg_send(bad_names[i], 1, "x", 1, 100, NULL), WIPC_E_INVALID_ARG);
    }
    longname[128] = 0; /* exactly 128: valid */
    WT_OK(wipc_msg_listen(longname, NULL, &h));
    assert_true(listed("aaaa", longname));
    int32_t reply = -1;
    WT_OK(wipc_msg_send(longname, 1, "x", 1, LONG_MS, &reply));
    assert_int_equal(reply, 0);
    WT_OK(wipc_close(h));

    WT_ASSERT_FAILS(wipc_msg_listen(NULL, NULL, &h), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_listen(name, NULL, NULL), WIPC_E_INVALID_ARG);
    o.flags = 0x80;
    WT_ASSERT_FAILS(wipc_msg_listen(name, &o, &h), WIPC_E_INVALID_ARG);
    wipc_msg_options_init(&o);
    o.max_message_size = 0;
    WT_ASSERT_FAILS(wipc_msg_listen(name, &o, &h), WIPC_E_INVALID_ARG);
    o.max_message_size = LIMIT + 1;
    WT_ASSERT_FAILS(wipc_msg_listen(name, &o, &h), WIPC_E_INVALID_ARG);
    wipc_msg_options_init(&o);
    o.queue_depth = 0;
    WT_ASSERT_FAILS(wipc_msg_listen(name, &o, &h), WIPC_E_INVALID_ARG);
    wipc_msg_options_init(&o);
    o.struct_size = 4;
    WT_ASSERT_FAILS(wipc_msg_listen(name, &o, &h), WIPC_E_INVALID_ARG);
    struct {
        wipc_msg_options o;
        uint32_t extra;
    } big;
    memset(&big, 0, sizeof big);
    wipc_msg_options_init(&big.o);
    big.o.struct_size = sizeof big;
    big.extra = 1;
    WT_ASSERT_FAILS(wipc_msg_listen(name, &big.o, &h), WIPC_E_INVALID_ARG);
    big.extra = 0;
    WT_OK(wipc_msg_listen(name, &big.o, &h)); /* a larger struct with a zero tail is fine */

    /* sending */
    WT_ASSERT_FAILS(wipc_msg_send(NULL, 1, "x", 1, 100, NULL), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_send(name, 1, NULL, 5, 100, NULL), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_send(name, 1, "x", 1, -2, NULL), WIPC_E_INVALID_ARG);
    uint32_t delivered = 99;
    WT_ASSERT_FAILS(wipc_msg_broadcast(NULL, 1, "x", 1, 100, &delivered), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_broadcast("a b", 1, "x", 1, 100, &delivered), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_broadcast(name, 1, NULL, 3, 100, &delivered), WIPC_E_INVALID_ARG);
    assert_int_equal(delivered, 0);
    char buf[64];
    size_t needed = 0;
    WT_ASSERT_FAILS(wipc_msg_list(NULL, buf, sizeof buf, &needed), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_list("bad/prefix", buf, sizeof buf, &needed), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_list("", NULL, 10, &needed), WIPC_E_INVALID_ARG);

    /* zero-length messages are allowed, NULL data with size 0 too */
    reply = -1;
    WT_OK(wipc_msg_send(name, 42, NULL, 0, LONG_MS, &reply));
    assert_int_equal(reply, 0);
    WT_OK(wipc_msg_send(name, 43, "", 0, LONG_MS, NULL));
    wipc_message m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    WT_OK(wipc_recv_message(h, buf, sizeof buf, &m, LONG_MS));
    assert_int_equal(m.type, 42);
    assert_int_equal(m.size, 0);
    size_t size = 99;
    uint32_t type = 0;
    WT_OK(wipc_recv(h, NULL, 0, &size, &type, LONG_MS));
    assert_int_equal(size, 0);
    assert_int_equal(type, 43);

    /* generic calls that do not apply to an endpoint */
    WT_ASSERT_FAILS(wipc_send(h, 1, "x", 1, 100), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_request(h, 1, "x", 1, buf, sizeof buf, &size, 100), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_reply(h, 1, 1, "x", 1), WIPC_E_NOT_SUPPORTED);
    WT_OK(wipc_close(h));
    WT_ASSERT_FAILS(wipc_close(h), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_recv(h, buf, sizeof buf, &size, NULL, 0), WIPC_E_BAD_HANDLE);

    /* nobody there */
    WT_ASSERT_FAILS(wipc_msg_send(name, 1, "x", 1, 200, &reply), WIPC_E_NOT_FOUND);
    WT_OK(wipc_msg_broadcast(name, 1, "x", 1, 200, &delivered));
    assert_int_equal(delivered, 0);
}

/* ---- queue mode ------------------------------------------------------------------------------------ */

static void test_msg_queue_mode(void **state)
{
    (void)state;
    char name[160];
    wipc_handle h = wt_msg_listen_named(name, "queue", NULL, NULL);
    uint8_t data[3][1000];
    for (int i = 0; i < 3; i++) {
        wt_fill(data[i], sizeof data[i], (uint32_t)i + 10);
        int32_t reply = -1;
        WT_OK(wipc_msg_send(name, 100u + (uint32_t)i, data[i], 100u * (uint32_t)(i + 1), LONG_MS, &reply));
        assert_int_equal(reply, 0);
    }
    wipc_info in = wt_info(h);
    assert_int_equal(in.kind, WIPC_KIND_MSG_ENDPOINT);
    assert_int_equal(in.transport, WIPC_TRANSPORT_MSG);
    assert_string_equal(in.name, name);
    assert_int_equal(in.messages_received, 3);
    assert_int_equal(in.bytes_received, 600);
    assert_int_equal(in.max_message_size, 64 * 1024);
    assert_int_equal(in.connected, 1);
    assert_int_equal(in.peer_pid, wt_self_pid());

    uint8_t buf[1000];
    size_t size = 0;
    uint32_t type = 0;
    WT_ASSERT_FAILS(wipc_recv(h, buf, 50, &size, &type, LONG_MS), WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(size, 100);
    for (int i = 0; i < 3; i++) {
        wipc_message m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        WT_OK(wipc_recv_message(h, buf, sizeof buf, &m, LONG_MS));
        assert_int_equal(m.type, 100 + i);
        assert_int_equal(m.size, 100 * (i + 1));
        assert_int_equal(m.peer_pid, wt_self_pid());
        assert_int_equal(m.request_id, 0);
        assert_true(wt_check(buf, m.size, (uint32_t)i + 10));
    }
    WT_ASSERT_FAILS(wipc_recv(h, buf, sizeof buf, &size, &type, 0), WIPC_E_TIMEOUT);
    WT_OK(wipc_close(h));
}

static void test_msg_queue_full(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "full");
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    o.queue_depth = 2;
    wipc_handle h = 0;
    WT_OK(wipc_msg_listen(name, &o, &h));
    WT_OK(wipc_msg_send(name, 1, "a", 1, LONG_MS, NULL));
    WT_OK(wipc_msg_send(name, 2, "b", 1, LONG_MS, NULL));
    WT_ASSERT_FAILS(wipc_msg_send(name, 3, "c", 1, LONG_MS, NULL), WIPC_E_BUSY);
    uint32_t delivered = 99;
    WT_OK(wipc_msg_broadcast(name, 4, "d", 1, LONG_MS, &delivered));
    assert_int_equal(delivered, 0);
    char buf[8];
    size_t size = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(h, buf, sizeof buf, &size, &type, LONG_MS));
    assert_int_equal(type, 1);
    WT_OK(wipc_msg_send(name, 5, "e", 1, LONG_MS, NULL));
    WT_OK(wipc_recv(h, buf, sizeof buf, &size, &type, LONG_MS));
    assert_int_equal(type, 2);
    WT_OK(wipc_recv(h, buf, sizeof buf, &size, &type, LONG_MS));
    assert_int_equal(type, 5);
    assert_int_equal(wt_info(h).messages_received, 3); /* refused ones are not counted */
    WT_OK(wipc_close(h));
}

/* ---- sizes ----------------------------------------------------------------------------------------- */

static void test_msg_oversize(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "size");
    uint8_t *big = malloc(LIMIT + 1);
    assert_non_null(big);
    wt_fill(big, LIMIT + 1, 7);
    /* sender side: above the transport limit, nothing is sent (not even looked up) */
    WT_ASSERT_FAILS(wipc_msg_send(name, 1, big, LIMIT + 1, LONG_MS, NULL), WIPC_E_TOO_LARGE);
    uint32_t delivered = 9;
    WT_ASSERT_FAILS(wipc_msg_broadcast("", 1, big, LIMIT + 1, LONG_MS, &delivered), WIPC_E_TOO_LARGE);

    /* receiver side: its max_message_size */
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    o.max_message_size = 100;
    wipc_handle h = 0;
    WT_OK(wipc_msg_listen(name, &o, &h));
    WT_ASSERT_FAILS(wipc_msg_send(name, 1, big, 101, LONG_MS, NULL), WIPC_E_TOO_LARGE);
    WT_ASSERT_FAILS(wipc_msg_send(name, 1, big, 64 * 1024, LONG_MS, NULL), WIPC_E_TOO_LARGE);
    WT_OK(wipc_msg_send(name, 2, big, 100, LONG_MS, NULL));
    assert_int_equal(wt_info(h).max_message_size, 100);
    assert_int_equal(wt_info(h).messages_received, 1);
    WT_OK(wipc_close(h));

    /* the largest message the transport carries */
    o.max_message_size = LIMIT;
    WT_OK(wipc_msg_listen(name, &o, &h));
    WT_OK(wipc_msg_send(name, 3, big, LIMIT, LONG_MS, NULL));
    uint8_t *back = malloc(LIMIT);
    assert_non_null(back);
    size_t size = 0;
    WT_OK(wipc_recv(h, back, LIMIT, &size, NULL, LONG_MS));
    assert_int_equal(size, LIMIT);
    assert_true(wt_check(back, LIMIT, 7));
    WT_OK(wipc_close(h));
    free(back);
    free(big);
}

/* ---- callbacks ------------------------------------------------------------------------------------- */

typedef struct {
    atomic_int calls;
    atomic_int inside; /* callbacks running now */
    atomic_int overlap; /* set if two ran at once */
    atomic_int on_test_thread;
    atomic_int types[64];
    unsigned sleep_ms;
    int close_self; /* the callback closes its own handle */
    atomic_int finished;
} cb_state;

static int32_t WIPC_CALL cb_reply(wipc_handle h, const wipc_message *m, void *user)
{
    cb_state *s = (cb_state *)user;
    if (atomic_fetch_add(&s->inside, 1) != 0)
        atomic_store(&s->overlap, 1);
    if (t_is_test_thread)
        atomic_store(&s->on_test_thread, 1);
    int n = atomic_fetch_add(&s->calls, 1);
    if (n < 64)
        atomic_store(&s->types[n], (int)m->type);
    if (s->sleep_ms)
        wt_sleep_ms(s->sleep_ms);
    int32_t r = msg_reply_of(m->type, m->data, m->size);
    if (s->close_self)
        wipc_close(h);
    atomic_fetch_sub(&s->inside, 1);
    atomic_fetch_add(&s->finished, 1);
    return r;
}

static void test_msg_callback_reply(void **state)
{
    (void)state;
    char name[160];
    static cb_state s;
    memset(&s, 0, sizeof s);
    wipc_handle h = wt_msg_listen_named(name, "cb", cb_reply, &s);
    WT_ASSERT_FAILS(wipc_set_callbacks(h, cb_reply, NULL, &s), WIPC_E_INVALID_STATE);
    char buf[8];
    size_t size;
    WT_ASSERT_FAILS(wipc_recv(h, buf, sizeof buf, &size, NULL, 0), WIPC_E_INVALID_STATE);
    uint8_t data[5000];
    for (uint32_t i = 0; i < 20; i++) {
        size_t n = i * 250;
        wt_fill(data, n, i);
        int32_t reply = 0;
        WT_OK(wipc_msg_send(name, i, data, n, LONG_MS, &reply));
        assert_int_equal(reply, msg_reply_of(i, data, n));
    }
    assert_int_equal(atomic_load(&s.calls), 20);
    assert_int_equal(atomic_load(&s.on_test_thread), 0);
    assert_int_equal(atomic_load(&s.overlap), 0);
    assert_int_equal(wt_info(h).messages_received, 20);
    WT_OK(wipc_close(h));
}

static int32_t WIPC_CALL cb_constant(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    (void)user;
    return (int32_t)(m->type ^ 0x80000000u);
}

static void test_msg_reply_values(void **state)
{
    (void)state;
    char name[160];
    wipc_handle h = wt_msg_listen_named(name, "values", cb_constant, NULL);
    const uint32_t types[] = { 0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        int32_t reply = 0;
        WT_OK(wipc_msg_send(name, types[i], NULL, 0, LONG_MS, &reply));
        assert_int_equal(reply, (int32_t)(types[i] ^ 0x80000000u));
    }
    WT_OK(wipc_close(h));
}

/* Messages queued before wipc_set_callbacks go to the callback first; callbacks never overlap. */
static void test_msg_callbacks_after_queue(void **state)
{
    (void)state;
    char name[160];
    static cb_state s;
    memset(&s, 0, sizeof s);
    s.sleep_ms = 30;
    wipc_handle h = wt_msg_listen_named(name, "late-cb", NULL, NULL);
    for (uint32_t i = 0; i < 4; i++)
        WT_OK(wipc_msg_send(name, i, "q", 1, LONG_MS, NULL));
    WT_OK(wipc_set_callbacks(h, cb_reply, NULL, &s));
    for (uint32_t i = 4; i < 8; i++) {
        int32_t reply = 0;
        WT_OK(wipc_msg_send(name, i, "n", 1, LONG_MS, &reply));
        assert_int_equal(reply, msg_reply_of(i, "n", 1));
    }
    assert_true(wt_wait_atomic_ge(&s.finished, 8, LONG_MS));
    for (int i = 0; i < 8; i++)
        assert_int_equal(atomic_load(&s.types[i]), i);
    assert_int_equal(atomic_load(&s.overlap), 0);
    WT_OK(wipc_close(h));
}

/* A callback that sends to its own endpoint gets WIPC_E_BUSY at once, not a deadlock until its
 * timeout: both when it runs inline on the receiver thread and when it runs on a worker strand
 * (messages queued before wipc_set_callbacks). */
typedef struct {
    const char *name;
    atomic_int calls;
    wipc_status st[4];
    uint64_t ms[4];
} self_send_state;

static int32_t WIPC_CALL cb_self_send(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    (void)m;
    self_send_state *s = user;
    int i = atomic_fetch_add(&s->calls, 1);
    if (i < 4) {
        uint64_t t0 = wt_now_ms();
        s->st[i] = wipc_msg_send(s->name, 1, "x", 1, 3000, NULL);
        s->ms[i] = wt_now_ms() - t0;
    }
    return 0;
}

static void test_msg_self_send(void **state)
{
    (void)state;
    char name[160];
    static self_send_state s;
    memset(&s, 0, sizeof s);
    s.name = name;
    wipc_handle h = wt_msg_listen_named(name, "selfsend", NULL, NULL);
    WT_OK(wipc_msg_send(name, 1, "q", 1, LONG_MS, NULL)); /* queued: runs on a worker strand */
    WT_OK(wipc_set_callbacks(h, cb_self_send, NULL, &s));
    WT_OK(wipc_msg_send(name, 2, "n", 1, LONG_MS, NULL)); /* runs inline on the receiver thread */
    uint64_t t0 = wt_now_ms();
    while (atomic_load(&s.calls) < 2 && wt_now_ms() - t0 < (uint64_t)LONG_MS)
        wt_sleep_ms(5);
    WT_OK(wipc_close(h));
    assert_int_equal(atomic_load(&s.calls), 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s.st[i], WIPC_E_BUSY);
        WT_CHECK(s.ms[i] < 1000, "self-send %d took %llu ms", i, (unsigned long long)s.ms[i]);
    }
}

/* A callback that closes its own endpoint: its reply still reaches the sender; then the name is free. */
static void test_msg_close_inside_callback(void **state)
{
    (void)state;
    char name[160];
    static cb_state s;
    memset(&s, 0, sizeof s);
    s.close_self = 1;
    wipc_handle h = wt_msg_listen_named(name, "selfclose", cb_reply, &s);
    int32_t reply = 0;
    WT_OK(wipc_msg_send(name, 9, "abc", 3, LONG_MS, &reply));
    assert_int_equal(reply, msg_reply_of(9, "abc", 3));
    assert_true(wait_listed(name, 0, LONG_MS));
    /* this thread's cached connection may still reach the closing endpoint (its connections close
     * after its name is released): a send that went out on it is never retried (it may have been
     * delivered), so it can end DISCONNECTED; that connection is dropped, and the next send finds the
     * name free */
    wipc_status st = wipc_msg_send(name, 9, "abc", 3, 500, &reply);
    if (st == WIPC_E_DISCONNECTED)
        st = wipc_msg_send(name, 9, "abc", 3, 500, &reply);
    assert_int_equal(st, WIPC_E_NOT_FOUND);
    WT_ASSERT_FAILS(wipc_close(h), WIPC_E_BAD_HANDLE);
    /* the name can be listened to again */
    WT_OK(wipc_msg_listen(name, NULL, &h));
    WT_OK(wipc_close(h));
}

/* wipc_close from another thread while senders wait: the one being served finishes (OK or
 * DISCONNECTED), the one waiting behind it gets DISCONNECTED / NOT_FOUND; close returns only after
 * the callback has returned; a thread in wipc_recv gets WIPC_E_CLOSED. */
static void test_msg_close_while_senders_wait(void **state)
{
    (void)state;
    char name[160];
    static cb_state s;
    memset(&s, 0, sizeof s);
    s.sleep_ms = WT_SCALE(600, 1500);
    wipc_handle h = wt_msg_listen_named(name, "closewait", cb_reply, &s);
    send_job a = { name, 1, "a", 1, LONG_MS * 2, 0, 0, 0, "" };
    send_job b = { name, 2, "b", 1, LONG_MS * 2, 0, 0, 0, "" };
    wt_thread *ta = wt_thread_start(send_thread, &a);
    assert_true(wt_wait_atomic_ge(&s.calls, 1, LONG_MS));
    wt_thread *tb = wt_thread_start(send_thread, &b);
    wt_sleep_ms(WT_SCALE(100, 400)); /* b is now waiting behind a */
    uint64_t t0 = wt_now_ms();
    WT_OK(wipc_close(h));
    uint64_t took = wt_now_ms() - t0;
    assert_int_equal(atomic_load(&s.inside), 0); /* no callback runs once close returned */
    assert_int_equal(atomic_load(&s.finished), 1);
    wt_thread_join_or_die(ta, LONG_MS * 3, "sender a");
    wt_thread_join_or_die(tb, LONG_MS * 3, "sender b");
    WT_CHECK(a.st == WIPC_OK || a.st == WIPC_E_DISCONNECTED, "sender a: %s (%s)", wipc_status_name(a.st), a.msg);
    WT_CHECK(b.st == WIPC_E_DISCONNECTED || b.st == WIPC_E_NOT_FOUND, "sender b: %s (%s)", wipc_status_name(b.st),
             b.msg);
    WT_CHECK(b.elapsed_ms < (uint64_t)LONG_MS, "sender b waited %llu ms", (unsigned long long)b.elapsed_ms);
    assert_int_equal(atomic_load(&s.calls), 1);
    (void)took;

    /* a thread blocked in wipc_recv gets WIPC_E_CLOSED. On a loaded machine the thread may not have
     * entered wipc_recv before the close (it then gets WIPC_E_BAD_HANDLE at once): try again with a
     * longer head start until the blocked case was seen. */
    recv_job r = { 0, 0, 0 };
    for (int attempt = 1; attempt <= 5; attempt++) {
        WT_OK(wipc_msg_listen(name, NULL, &h));
        r.h = h;
        r.st = 0;
        r.elapsed_ms = 0;
        wt_thread *tr = wt_thread_start(recv_thread, &r);
        wt_sleep_ms(100u * (unsigned)attempt);
        WT_OK(wipc_close(h));
        wt_thread_join_or_die(tr, LONG_MS, "receiver");
        if (r.st == WIPC_E_CLOSED)
            break;
        assert_int_equal(r.st, WIPC_E_BAD_HANDLE); /* it had not started waiting yet */
    }
    assert_int_equal(r.st, WIPC_E_CLOSED);
    WT_CHECK(r.elapsed_ms < (uint64_t)LONG_MS, "wipc_recv returned after %llu ms", (unsigned long long)r.elapsed_ms);
}

/* WIPC_MSG_ALLOW_LOWER_INTEGRITY: accepted (Windows: ChangeWindowMessageFilterEx on that window;
 * POSIX: no effect), reported in wipc_info.flags, and the endpoint works as usual. */
static void test_msg_lower_integrity_flag(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "uipi");
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    o.flags = WIPC_MSG_ALLOW_LOWER_INTEGRITY;
    wipc_handle h = 0;
    WT_OK(wipc_msg_listen(name, &o, &h));
    assert_int_equal(wt_info(h).flags, WIPC_MSG_ALLOW_LOWER_INTEGRITY);
    WT_OK(wipc_msg_send(name, 1, "x", 1, LONG_MS, NULL));
    WT_OK(wipc_close(h));
}

/* A message whose sender timed out before the receiver took it is dropped, not delivered late
 * (POSIX: the receiver sees the sender's socket hung up; Wine removes the unreceived sent message on
 * timeout). Real Windows may still dispatch it later with the result discarded, so this is asserted
 * on POSIX only. */
static void test_msg_timed_out_not_delivered(void **state)
{
    (void)state;
    char name[160];
    static cb_state s;
    memset(&s, 0, sizeof s);
    s.sleep_ms = WT_SCALE(800, 1500);
    wipc_handle h = wt_msg_listen_named(name, "late", cb_reply, &s);
    send_job a = { name, 1, "a", 1, LONG_MS * 2, 0, 0, 0, "" };
    wt_thread *ta = wt_thread_start(send_thread, &a);
    assert_true(wt_wait_atomic_ge(&s.calls, 1, LONG_MS));
    WT_ASSERT_FAILS(wipc_msg_send(name, 2, "b", 1, 150, NULL), WIPC_E_TIMEOUT);
    wt_thread_join_or_die(ta, LONG_MS * 3, "sender a");
    WT_ASSERT_STATUS(a.st, WIPC_OK);
    s.sleep_ms = 0;
    int32_t reply = 0;
    WT_OK(wipc_msg_send(name, 3, "c", 1, LONG_MS, &reply));
    assert_int_equal(reply, msg_reply_of(3, "c", 1));
    int calls = atomic_load(&s.calls);
#ifdef _WIN32
    print_message("    timed-out message delivered later: %s\n", calls == 3 ? "yes" : "no");
    assert_true(calls == 2 || calls == 3);
#else
    assert_int_equal(calls, 2);
    assert_int_equal(atomic_load(&s.types[1]), 3);
#endif
    WT_OK(wipc_close(h));
}

/* ---- names ----------------------------------------------------------------------------------------- */

static void test_msg_list_prefixes(void **state)
{
    (void)state;
    char base[160], n1[200], n2[200], n3[200], p[200];
    wt_unique_name(base, sizeof base, "list");
    snprintf(n1, sizeof n1, "%s-alpha", base);
    snprintf(n2, sizeof n2, "%s-alpha.2", base);
    snprintf(n3, sizeof n3, "%s-beta", base);
    wipc_handle h1 = 0, h2 = 0, h3 = 0;
    WT_OK(wipc_msg_listen(n1, NULL, &h1));
    WT_OK(wipc_msg_listen(n2, NULL, &h2));
    WT_OK(wipc_msg_listen(n3, NULL, &h3));

    assert_int_equal(count_listed(base), 3);
    snprintf(p, sizeof p, "%s-alpha", base);
    assert_int_equal(count_listed(p), 2);
    snprintf(p, sizeof p, "%s-b", base);
    assert_int_equal(count_listed(p), 1);
    assert_true(listed(p, n3));
    snprintf(p, sizeof p, "%s-gamma", base);
    assert_int_equal(count_listed(p), 0);
    assert_true(listed("", n1) && listed("", n2) && listed("", n3));
    assert_true(count_listed("") >= 3);

    /* exact layout, sorted: n1 \0 n2 \0 n3 \0 \0 */
    size_t needed = 0;
    WT_ASSERT_FAILS(wipc_msg_list(base, NULL, 0, &needed), WIPC_E_BUFFER_TOO_SMALL);
    size_t want = strlen(n1) + strlen(n2) + strlen(n3) + 4;
    assert_int_equal(needed, want);
    char buf[1024];
    WT_ASSERT_FAILS(wipc_msg_list(base, buf, want - 1, &needed), WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, want);
    memset(buf, 'x', sizeof buf);
    WT_OK(wipc_msg_list(base, buf, want, &needed));
    assert_string_equal(buf, n1);
    assert_string_equal(buf + strlen(n1) + 1, n2);
    assert_string_equal(buf + strlen(n1) + strlen(n2) + 2, n3);
    assert_int_equal(buf[want - 1], 0);
    /* nothing matching: just the final '\0' */
    WT_OK(wipc_msg_list(p, buf, 1, &needed));
    assert_int_equal(needed, 1);
    assert_int_equal(buf[0], 0);

    WT_OK(wipc_close(h2));
    assert_int_equal(count_listed(base), 2);
    WT_OK(wipc_close(h1));
    WT_OK(wipc_close(h3));
    assert_int_equal(count_listed(base), 0);
}

typedef struct {
    const char *base;
    atomic_int stop;
    int cycles;
    wipc_status st;
} churn_job;

static void *churn_thread(void *arg)
{
    t_is_test_thread = 1;
    churn_job *j = (churn_job *)arg;
    char name[200];
    while (!atomic_load(&j->stop)) {
        wipc_handle hs[4] = { 0 };
        for (int i = 0; i < 4; i++) {
            snprintf(name, sizeof name, "%s-churn%d", j->base, i);
            if ((j->st = wipc_msg_listen(name, NULL, &hs[i])) != WIPC_OK)
                return NULL;
        }
        for (int i = 0; i < 4; i++)
            wipc_close(hs[i]);
        j->cycles++;
    }
    return NULL;
}

/* Listing while endpoints come and go (windows destroyed under the enumeration, lock files unlinked
 * under readdir) always shows the endpoints that stay. */
static void test_msg_list_under_churn(void **state)
{
    (void)state;
    char base[160], stable1[200], stable2[200];
    wt_unique_name(base, sizeof base, "churn");
    snprintf(stable1, sizeof stable1, "%s-a", base);
    snprintf(stable2, sizeof stable2, "%s-z", base);
    wipc_handle h1 = 0, h2 = 0;
    WT_OK(wipc_msg_listen(stable1, NULL, &h1));
    churn_job j = { base, 0, 0, WIPC_OK };
    wt_thread *t = wt_thread_start(churn_thread, &j);
    WT_OK(wipc_msg_listen(stable2, NULL, &h2));
    int rounds = WT_SCALE(300, 200);
    for (int i = 0; i < rounds; i++) {
        WT_CHECK(listed(base, stable1) && listed(base, stable2), "round %d: a stable endpoint is missing from the list",
                 i);
    }
    atomic_store(&j.stop, 1);
    wt_thread_join_or_die(t, LONG_MS * 2, "churn thread");
    WT_ASSERT_STATUS(j.st, WIPC_OK);
    WT_CHECK(j.cycles > 0, "the churn thread made no cycle");
    assert_int_equal(count_listed(base), 2);
    WT_OK(wipc_close(h1));
    WT_OK(wipc_close(h2));
}

static void test_msg_name_clash(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "clash");
    wipc_handle h = 0, h2 = 0;
    WT_OK(wipc_msg_listen(name, NULL, &h));
    WT_ASSERT_FAILS(wipc_msg_listen(name, NULL, &h2), WIPC_E_ADDR_IN_USE);
    assert_true(h2 == 0);
    WT_OK(wipc_msg_send(name, 1, "x", 1, LONG_MS, NULL)); /* the first one still works */
    WT_OK(wipc_close(h));
    WT_OK(wipc_msg_listen(name, NULL, &h2));
    WT_OK(wipc_close(h2));

    /* across processes */
    const char *args[] = { "squat", name, NULL };
    wt_proc *p = spawn_ready(args);
    WT_ASSERT_FAILS(wipc_msg_listen(name, NULL, &h), WIPC_E_ADDR_IN_USE);
    assert_true(listed(name, name));
    peer_free(p); /* kills it */
}

/* A killed listener's leftovers (POSIX: socket + lock file; Windows: abandoned mutex) are reclaimed. */
static void test_msg_stale_reclaimed(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "stale");
    const char *args[] = { "squat", name, NULL };
    wt_proc *p = spawn_ready(args);
    assert_int_equal(wt_proc_kill(p), 0);
    int code = 0;
    assert_int_equal(wt_proc_wait(p, LONG_MS, &code), 0);
    peer_free(p);
    assert_false(listed(name, name));
    wipc_handle h = 0;
    WT_OK(wipc_msg_listen(name, NULL, &h));
    WT_OK(wipc_msg_send(name, 5, "hello", 5, LONG_MS, NULL));
    char buf[16];
    size_t size = 0;
    WT_OK(wipc_recv(h, buf, sizeof buf, &size, NULL, LONG_MS));
    assert_int_equal(size, 5);
    WT_OK(wipc_close(h));
}

/* ---- cross-process ----------------------------------------------------------------------------------- */

static void test_msg_cross_process_reply(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "xreply");
    const char *args[] = { "listen", name, "--print", NULL };
    wt_proc *p = spawn_ready(args);
    uint8_t data[4096];
    for (uint32_t i = 0; i < 10; i++) {
        size_t n = i * 400;
        wt_fill(data, n, i + 100);
        int32_t reply = 0;
        WT_OK(wipc_msg_send(name, 1000 + i, data, n, LONG_MS, &reply));
        assert_int_equal(reply, msg_reply_of(1000 + i, data, n));
        char line[256], want[256];
        assert_int_equal(wt_proc_read_line(p, line, sizeof line, LONG_MS), 0);
        snprintf(want, sizeof want, "MSG %s %u %zu %u", name, 1000 + i, n, wt_self_pid());
        assert_string_equal(line, want); /* the receiver saw our pid */
    }
    peer_free(p);
}

static void test_msg_cross_process_sender(void **state)
{
    (void)state;
    char name[160];
    wipc_handle h = wt_msg_listen_named(name, "xsend", NULL, NULL);
    const char *args[] = { "send", name, "70", "300", "5", "20000", NULL };
    wt_proc *p = spawn(args);
    uint8_t buf[300];
    for (uint32_t i = 0; i < 5; i++) {
        wipc_message m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        WT_OK(wipc_recv_message(h, buf, sizeof buf, &m, LONG_MS * 2));
        assert_int_equal(m.type, 70 + i);
        assert_int_equal(m.size, 300);
        assert_true(wt_check(buf, 300, i));
        assert_int_equal(m.peer_pid, wt_proc_pid(p));
    }
    int code = -1;
    assert_int_equal(wt_proc_wait(p, LONG_MS * 2, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(wt_info(h).peer_pid, wt_proc_pid(p));
    peer_free(p);
    WT_OK(wipc_close(h));
}

/* The receiver sleeps in its callback: the sender times out (quickly), the receiver stays healthy. */
static void test_msg_slow_receiver(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "slow");
    const char *args[] = { "listen", name, "--sleep-type", "666", "--sleep-ms", WT_SCALE("1500", "3000"), NULL };
    wt_proc *p = spawn_ready(args);
    int32_t reply = 0;
    WT_OK(wipc_msg_send(name, 1, "x", 1, LONG_MS, &reply));
    uint64_t t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_msg_send(name, 666, "zz", 2, 300, &reply), WIPC_E_TIMEOUT);
    uint64_t took = wt_now_ms() - t0;
    WT_CHECK(took >= 250 && took < (uint64_t)WT_SCALE(1200, 2500), "the timed-out send took %llu ms",
             (unsigned long long)took);
    /* the next message is answered once the callback is done */
    WT_OK(wipc_msg_send(name, 2, "y", 1, LONG_MS * 2, &reply));
    assert_int_equal(reply, msg_reply_of(2, "y", 1));
    WT_OK(wipc_msg_send(name, 3, "w", 1, LONG_MS, &reply));
    assert_int_equal(reply, msg_reply_of(3, "w", 1));
    peer_free(p);
}

static void test_msg_killed_between_list_and_send(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "killed");
    const char *args[] = { "listen", name, NULL };
    wt_proc *p = spawn_ready(args);
    assert_true(listed(name, name));
    int32_t reply = 0;
    WT_OK(wipc_msg_send(name, 1, "w", 1, LONG_MS, &reply)); /* POSIX: the connection stays cached */
    assert_int_equal(wt_proc_kill(p), 0);
    int code = 0;
    assert_int_equal(wt_proc_wait(p, LONG_MS, &code), 0);
    wipc_status st = wipc_msg_send(name, 1, "x", 1, LONG_MS, &reply);
    WT_CHECK(st == WIPC_E_NOT_FOUND || st == WIPC_E_DISCONNECTED, "send after kill: %s", wipc_status_name(st));
    assert_true(wait_listed(name, 0, LONG_MS));
    /* a new receiver under the name is reached (not the dead one's cached connection) */
    wt_proc *q = spawn_ready(args);
    WT_OK(wipc_msg_send(name, 2, "y", 1, LONG_MS, &reply));
    assert_int_equal(reply, msg_reply_of(2, "y", 1));
    peer_free(q);
    peer_free(p);
}

static void test_msg_broadcast(void **state)
{
    (void)state;
    char base[160], names[420], a[200], b[200], c[200], other[200];
    wt_unique_name(base, sizeof base, "bc");
    snprintf(a, sizeof a, "%s-a", base);
    snprintf(b, sizeof b, "%s-b", base);
    snprintf(c, sizeof c, "%s-c", base);
    snprintf(other, sizeof other, "x%s-a", base); /* does not match the prefix */
    snprintf(names, sizeof names, "%s,%s", a, b);
    const char *args[] = { "listen", names, "--print", NULL };
    wt_proc *p = spawn_ready(args);
    wipc_handle hc = 0, ho = 0;
    WT_OK(wipc_msg_listen(c, NULL, &hc));
    WT_OK(wipc_msg_listen(other, NULL, &ho));

    uint32_t delivered = 0;
    WT_OK(wipc_msg_broadcast(base, 77, "hey", 3, LONG_MS, &delivered));
    assert_int_equal(delivered, 3);
    char line[256], want_a[256], want_b[256];
    snprintf(want_a, sizeof want_a, "MSG %s 77 3 %u", a, wt_self_pid());
    snprintf(want_b, sizeof want_b, "MSG %s 77 3 %u", b, wt_self_pid());
    assert_int_equal(wt_proc_read_line(p, line, sizeof line, LONG_MS), 0);
    assert_string_equal(line, want_a); /* names are visited in sorted order */
    assert_int_equal(wt_proc_read_line(p, line, sizeof line, LONG_MS), 0);
    assert_string_equal(line, want_b);
    char buf[8];
    size_t size = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(hc, buf, sizeof buf, &size, &type, LONG_MS));
    assert_int_equal(type, 77);
    assert_memory_equal(buf, "hey", 3);
    WT_ASSERT_FAILS(wipc_recv(ho, buf, sizeof buf, &size, &type, 0), WIPC_E_TIMEOUT);

    /* a full queue does not accept: 2 of 3 */
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    WT_OK(wipc_close(hc));
    o.queue_depth = 1;
    WT_OK(wipc_msg_listen(c, &o, &hc));
    WT_OK(wipc_msg_send(c, 1, NULL, 0, LONG_MS, NULL));
    WT_OK(wipc_msg_broadcast(base, 78, NULL, 0, LONG_MS, &delivered));
    assert_int_equal(delivered, 2);
    WT_OK(wipc_close(hc));
    WT_OK(wipc_close(ho));
    peer_free(p);
}

static void test_msg_shutdown(void **state)
{
    (void)state;
    char name[160], name2[160];
    wt_unique_name(name, sizeof name, "shut");
    wt_unique_name(name2, sizeof name2, "shut");
    static cb_state s;
    memset(&s, 0, sizeof s);
    wipc_handle h = 0, h2 = 0;
    WT_OK(wipc_msg_listen(name, NULL, &h));
    WT_OK(wipc_msg_listen(name2, NULL, &h2));
    WT_OK(wipc_set_callbacks(h2, cb_reply, NULL, &s));
    WT_OK(wipc_msg_send(name2, 1, NULL, 0, LONG_MS, NULL));
    WT_OK(wipc_shutdown());
    WT_ASSERT_FAILS(wipc_close(h), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_close(h2), WIPC_E_BAD_HANDLE);
    assert_false(listed(name, name));
    WT_ASSERT_FAILS(wipc_msg_send(name2, 1, NULL, 0, 500, NULL), WIPC_E_NOT_FOUND);
    /* usable again */
    WT_OK(wipc_msg_listen(name, NULL, &h));
    WT_OK(wipc_msg_send(name, 1, NULL, 0, LONG_MS, NULL));
    WT_OK(wipc_close(h));
}

/* ---- main ------------------------------------------------------------------------------------------ */

int main(void)
{
    wt_use_peer("msg_peer");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_msg_bad_input, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_queue_mode, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_queue_full, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_oversize, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_callback_reply, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_reply_values, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_callbacks_after_queue, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_self_send, setup_thread_flag, teardown_peers),

        cmocka_unit_test_setup_teardown(test_msg_close_inside_callback, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_close_while_senders_wait, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_lower_integrity_flag, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_timed_out_not_delivered, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_list_prefixes, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_list_under_churn, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_name_clash, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_stale_reclaimed, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_cross_process_reply, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_cross_process_sender, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_slow_receiver, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_killed_between_list_and_send, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_broadcast, setup_thread_flag, teardown_peers),
        cmocka_unit_test_setup_teardown(test_msg_shutdown, setup_thread_flag, teardown_peers),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
