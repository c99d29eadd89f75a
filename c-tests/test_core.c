/*
 * test_core.c - the foundation: version, status names, last-error messages, the handle table,
 * option structs (struct_size rules, value ranges), the bad-input matrix, wipc_get_info and the
 * log callback.
 */
#include "testlib.h"

#include <stdatomic.h>
#include <stddef.h>

/* ---- version ------------------------------------------------------------------------------------ */

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(wipc_version(), WIPC_VERSION);
    assert_int_equal(WIPC_VERSION, (WIPC_VERSION_MAJOR << 16) | (WIPC_VERSION_MINOR << 8) | WIPC_VERSION_PATCH);
    const char *v = wipc_version_string();
    assert_non_null(v);
    assert_string_equal(v, WIPC_VERSION_STRING);
    char expect[32];
    uint32_t n = wipc_version();
    snprintf(expect, sizeof expect, "%u.%u.%u", (unsigned)(n >> 16), (unsigned)((n >> 8) & 0xff), (unsigned)(n & 0xff));
    assert_string_equal(v, expect);
    assert_ptr_equal(wipc_version_string(), v); /* static storage */
}

/* ---- status names ------------------------------------------------------------------------------ */

static const struct {
    wipc_status code;
    const char *name;
} k_statuses[] = {
    { WIPC_OK, "WIPC_OK" },
    { WIPC_E_INVALID_ARG, "WIPC_E_INVALID_ARG" },
    { WIPC_E_BAD_HANDLE, "WIPC_E_BAD_HANDLE" },
    { WIPC_E_NO_MEMORY, "WIPC_E_NO_MEMORY" },
    { WIPC_E_TIMEOUT, "WIPC_E_TIMEOUT" },
    { WIPC_E_NOT_FOUND, "WIPC_E_NOT_FOUND" },
    { WIPC_E_ADDR_IN_USE, "WIPC_E_ADDR_IN_USE" },
    { WIPC_E_ACCESS_DENIED, "WIPC_E_ACCESS_DENIED" },
    { WIPC_E_DISCONNECTED, "WIPC_E_DISCONNECTED" },
    { WIPC_E_TOO_LARGE, "WIPC_E_TOO_LARGE" },
    { WIPC_E_BUFFER_TOO_SMALL, "WIPC_E_BUFFER_TOO_SMALL" },
    { WIPC_E_CLOSED, "WIPC_E_CLOSED" },
    { WIPC_E_PROTOCOL, "WIPC_E_PROTOCOL" },
    { WIPC_E_NOT_SUPPORTED, "WIPC_E_NOT_SUPPORTED" },
    { WIPC_E_BUSY, "WIPC_E_BUSY" },
    { WIPC_E_SYSTEM, "WIPC_E_SYSTEM" },
    { WIPC_E_INVALID_STATE, "WIPC_E_INVALID_STATE" },
    { WIPC_E_CANCELLED, "WIPC_E_CANCELLED" },
    { WIPC_E_REMOTE, "WIPC_E_REMOTE" },
};
#define N_STATUSES (sizeof k_statuses / sizeof k_statuses[0])

static void test_status_values_fixed(void **state)
{
    (void)state;
    /* The numbers are part of the ABI (include/wipc.h: extend, never renumber). */
    for (size_t i = 0; i < N_STATUSES; i++)
        assert_int_equal(k_statuses[i].code, -(int)i);
    assert_int_equal(WIPC_INFINITE, -1);
    assert_int_equal(WIPC_EVENT_CONNECTED, 1);
    assert_int_equal(WIPC_EVENT_DISCONNECTED, 2);
    assert_int_equal(WIPC_EVENT_ERROR, 3);
    assert_int_equal(WIPC_LOG_DEBUG, 0);
    assert_int_equal(WIPC_LOG_ERROR, 3);
    assert_int_equal(WIPC_REGION_READONLY, 1);
}

static void test_status_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_STATUSES; i++) {
        const char *n = wipc_status_name(k_statuses[i].code);
        assert_non_null(n);
        assert_string_equal(n, k_statuses[i].name);
        const char *e = wipc_strerror(k_statuses[i].code);
        assert_non_null(e);
        WT_CHECK(strlen(e) > 3, "strerror(%d) = \"%s\"", (int)k_statuses[i].code, e);
        for (size_t j = 0; j < i; j++)
            WT_CHECK(strcmp(e, wipc_strerror(k_statuses[j].code)) != 0, "strerror(%d) == strerror(%d) = \"%s\"",
                     (int)k_statuses[i].code, (int)k_statuses[j].code, e);
    }
    const wipc_status unknown[] = { 1, 2, 100, -19, -100, INT32_MIN, INT32_MAX };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *n = wipc_status_name(unknown[i]);
        assert_non_null(n);
        assert_string_equal(n, "WIPC_E_UNKNOWN");
        const char *e = wipc_strerror(unknown[i]);
        assert_non_null(e);
        WT_CHECK(e[0] != '\0', "strerror(%d) is empty", (int)unknown[i]);
    }
}

/* ---- last error -------------------------------------------------------------------------------- */

typedef struct {
    char name[160];
    wipc_status st;
    char msg[1024];
} thread_err;

static void *thread_connect_missing(void *arg)
{
    thread_err *te = (thread_err *)arg;
    wipc_handle h = 0;
    te->st = wipc_pipe_connect(te->name, NULL, 100, &h);
    wt_last_error(te->msg, sizeof te->msg);
    return NULL;
}

static void test_last_error_message(void **state)
{
    (void)state;
    char bad[1024], mine[1024];
    wipc_handle h = 0;

    /* A bad name: non-empty message, no OS error. */
    WT_ASSERT_FAILS(wipc_pipe_listen("bad name", NULL, &h), WIPC_E_INVALID_ARG);
    wt_last_error(bad, sizeof bad);
    assert_int_equal(h, 0);
    assert_int_equal(wipc_last_os_error(), 0);

    /* Per thread: a failure on another thread does not change this thread's message. */
    thread_err te;
    memset(&te, 0, sizeof te);
    wt_unique_name(te.name, sizeof te.name, "missing");
    wt_thread *t = wt_thread_start(thread_connect_missing, &te);
    wt_thread_join_or_die(t, 20000, "wipc_pipe_connect(missing, 100 ms)");
    assert_int_equal(te.st, WIPC_E_NOT_FOUND);
    WT_CHECK(te.msg[0] != '\0', "NOT_FOUND without a message");
    WT_CHECK(strstr(te.msg, te.name) != NULL, "the message should name the endpoint %s: \"%s\"", te.name, te.msg);
    wt_last_error(mine, sizeof mine);
    assert_string_equal(mine, bad);

    /* Here too: NOT_FOUND names the endpoint. */
    char missing[160];
    wt_unique_name(missing, sizeof missing, "missing2");
    WT_ASSERT_FAILS(wipc_pipe_connect(missing, NULL, 0, &h), WIPC_E_NOT_FOUND);
    wt_last_error(mine, sizeof mine);
    WT_CHECK(strstr(mine, missing) != NULL, "the message should name %s: \"%s\"", missing, mine);
    assert_int_equal(h, 0);
}

/* ---- handle table ------------------------------------------------------------------------------ */

static void expect_bad_handle(wipc_handle h)
{
    char buf[16];
    size_t sz = 0;
    uint32_t type = 0;
    wipc_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    wipc_handle out = 0;
    wipc_message m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;

    WT_ASSERT_FAILS(wipc_close(h), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_get_info(h, &in), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_send(h, 1, "x", 1, 100), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_recv(h, buf, sizeof buf, &sz, &type, 0), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_recv_message(h, buf, sizeof buf, &m, 0), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_request(h, 1, "x", 1, buf, sizeof buf, &sz, 100), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_reply(h, 1, 1, "x", 1), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_pipe_accept(h, 0, &out), WIPC_E_BAD_HANDLE);
    assert_int_equal(out, 0);
}

static int32_t WIPC_CALL noop_msg_cb(wipc_handle h, const wipc_message *m, void *u)
{
    (void)h;
    (void)m;
    (void)u;
    return 0;
}

static void test_handle_zero(void **state)
{
    (void)state;
    expect_bad_handle(0);
    WT_ASSERT_FAILS(wipc_set_callbacks(0, noop_msg_cb, NULL, NULL), WIPC_E_BAD_HANDLE);
}

static void test_handle_closed_and_stale(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "stale");
    enum { N = 40 };
    wipc_handle old[N];
    for (int i = 0; i < N; i++) {
        wipc_handle h = 0;
        WT_OK(wipc_pipe_listen(name, NULL, &h));
        assert_true(h != 0);
        for (int j = 0; j < i; j++)
            WT_CHECK(h != old[j], "re-created server got the handle of closed one #%d: %llx", j, (unsigned long long)h);
        WT_OK(wipc_close(h));
        old[i] = h;
        expect_bad_handle(h); /* closed */
    }
    /* Stale: every closed handle stays bad while a new object lives (maybe in a reused slot). */
    wipc_handle live = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &live));
    for (int i = 0; i < N; i++) {
        WT_CHECK(old[i] != live, "live handle equals old handle #%d", i);
        expect_bad_handle(old[i]);
    }
    wipc_info in = wt_info(live);
    assert_int_equal(in.kind, WIPC_KIND_PIPE_SERVER);
    WT_OK(wipc_close(live));
    expect_bad_handle(live);
}

static void test_handle_forged(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "forged");
    wipc_handle live[3] = { p.srv, p.cli, p.svc };
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 300; i++) {
        wipc_handle f;
        if (i < 64 * 3)
            f = live[i % 3] ^ (1ull << (i / 3)); /* every single-bit change of a live handle */
        else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f = x;
        }
        if (f == p.srv || f == p.cli || f == p.svc)
            continue;
        wipc_info in;
        memset(&in, 0, sizeof in);
        in.struct_size = sizeof in;
        WT_ASSERT_FAILS(wipc_get_info(f, &in), WIPC_E_BAD_HANDLE);
        WT_ASSERT_FAILS(wipc_close(f), WIPC_E_BAD_HANDLE);
    }
    const wipc_handle specials[] = { UINT64_MAX, 1, 2, 0x100000000ull, 0x8000000000000000ull };
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
        if (specials[i] != p.srv && specials[i] != p.cli && specials[i] != p.svc)
            expect_bad_handle(specials[i]);
    /* The live handles still work after all that. */
    WT_OK(wipc_send(p.cli, 7, "ok", 2, 1000));
    char buf[8];
    size_t sz = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, &sz, &type, 2000));
    assert_int_equal(sz, 2);
    assert_int_equal(type, 7);
    wt_pair_close(&p);
}

/* Lookups race wipc_close (the lookup takes no lock: handles.c). Three threads keep calling
 * wipc_get_info (a reference) and wipc_send (a pin) on handles the main thread keeps creating and
 * closing, with more than one chunk of the table (1,024 slots) live at the peak. Each call gives
 * WIPC_OK for the right kind (wipc_send: WIPC_E_NOT_SUPPORTED, an event carries no messages) or
 * WIPC_E_BAD_HANDLE, nothing else; a lookup that touched a freed object is what ASan / TSan report. */
enum { RACE_HANDLES = 1100 };
typedef struct race_ctx {
    _Atomic uint64_t handles[RACE_HANDLES];
    int gentle; /* $WIPC_TEST_SCALE < 1 (valgrind, TSan): one round, and the lookup threads pause every
                   16 lookups, or valgrind's one-thread-at-a-time scheduler starves the creating thread */
    atomic_int stop;
    atomic_int bad; /* a status or kind that is wrong */
    atomic_long lookups;
} race_ctx;

static void *race_lookups(void *arg)
{
    race_ctx *r = arg;
    uint32_t x = 2463534242u;
    while (!atomic_load(&r->stop)) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        if (r->gentle && (x & 15) == 0)
            wt_sleep_ms(1);
        wipc_handle h = atomic_load(&r->handles[x % RACE_HANDLES]);
        if (!h)
            continue;
        if (x & 1) { /* wipc_send pins the slot for the call (handles.c) and finds an event carries no messages */
            wipc_status st = wipc_send(h, 1, NULL, 0, 0);
            if (st != WIPC_E_NOT_SUPPORTED && st != WIPC_E_BAD_HANDLE)
                atomic_fetch_add(&r->bad, 1);
            atomic_fetch_add(&r->lookups, 1);
            continue;
        }
        wipc_info in;
        memset(&in, 0, sizeof in);
        in.struct_size = sizeof in;
        wipc_status st = wipc_get_info(h, &in); /* takes a reference and unpins at once */
        if ((st != WIPC_OK && st != WIPC_E_BAD_HANDLE) || (st == WIPC_OK && in.kind != WIPC_KIND_EVENT))
            atomic_fetch_add(&r->bad, 1);
        atomic_fetch_add(&r->lookups, 1);
    }
    return NULL;
}

static void test_handle_close_races_lookup(void **state)
{
    (void)state;
    static race_ctx r; /* zeroed */
    const char *scale = getenv("WIPC_TEST_SCALE");
    r.gentle = scale && scale[0] && atof(scale) < 1.0;
    char base[128], name[160];
    wt_unique_name(base, sizeof base, "race");
    wt_thread *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = wt_thread_start(race_lookups, &r);
    for (int round = 0; round < (r.gentle ? 1 : 3); round++) {
        for (int i = 0; i < RACE_HANDLES; i++) {
            wipc_handle h = 0;
            snprintf(name, sizeof name, "%s-%d-%d", base, round, i);
            WT_OK(wipc_event_create(name, 0, NULL, &h));
            atomic_store(&r.handles[i], h);
        }
        for (int i = 0; i < RACE_HANDLES; i++) {
            wipc_handle h = atomic_exchange(&r.handles[i], 0);
            WT_OK(wipc_close(h));
            expect_bad_handle(h);
        }
    }
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 3; i++)
        wt_thread_join_or_die(t[i], 30000, "lookup thread");
    WT_CHECK(atomic_load(&r.bad) == 0, "%d lookups gave a wrong status or kind (of %ld)", atomic_load(&r.bad),
             atomic_load(&r.lookups));
}

static void test_handle_wrong_kind(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "kind");
    wipc_handle out = 0;
    char buf[8];
    size_t sz = 0;
    /* A connection is not a server. */
    WT_ASSERT_FAILS(wipc_pipe_accept(p.cli, 0, &out), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_pipe_accept(p.svc, 0, &out), WIPC_E_BAD_HANDLE);
    assert_int_equal(out, 0);
    /* A server has no message I/O. */
    WT_ASSERT_FAILS(wipc_send(p.srv, 1, "x", 1, 100), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_recv(p.srv, buf, sizeof buf, &sz, NULL, 0), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_request(p.srv, 1, "x", 1, buf, sizeof buf, &sz, 100), WIPC_E_NOT_SUPPORTED);
    /* Impersonation: Windows server side only. */
#ifdef _WIN32
    WT_ASSERT_FAILS(wipc_pipe_impersonate(p.cli), WIPC_E_NOT_SUPPORTED);
    WT_OK(wipc_pipe_impersonate(p.svc));
    WT_OK(wipc_revert_to_self());
#else
    WT_ASSERT_FAILS(wipc_pipe_impersonate(p.svc), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_revert_to_self(), WIPC_E_NOT_SUPPORTED);
#endif
    WT_ASSERT_FAILS(wipc_pipe_impersonate(0), WIPC_E_BAD_HANDLE);
    /* Everything still works. */
    WT_OK(wipc_send(p.svc, 3, "abc", 3, 1000));
    WT_OK(wipc_recv(p.cli, buf, sizeof buf, &sz, NULL, 2000));
    assert_int_equal(sz, 3);
    wt_pair_close(&p);
}

/* ---- options ----------------------------------------------------------------------------------- */

static void test_options_init(void **state)
{
    (void)state;
    wipc_pipe_options o;
    memset(&o, 0xAB, sizeof o);
    wipc_pipe_options_init(&o);
    assert_int_equal(o.struct_size, sizeof o);
    assert_int_equal(o.flags, 0);
    assert_int_equal(o.max_message_size, WIPC_DEFAULT_MAX_MESSAGE);
    assert_int_equal(o.max_instances, 64);
    assert_true(o.buffer_size == 0 || o.buffer_size == 65536);
    assert_int_equal(o.reserved, 0);
    assert_null(o.security_descriptor);
    assert_int_equal(o.handshake_timeout_ms, WIPC_DEFAULT_HANDSHAKE_TIMEOUT_MS); /* 1.1 fields: through the macro */
    assert_int_equal(o.max_queued_bytes, WIPC_DEFAULT_MAX_QUEUED_BYTES);
    (wipc_pipe_options_init)(NULL); /* ignored, no crash */
    (wipc_shm_options_init)(NULL);
    (wipc_msg_options_init)(NULL);
    wipc_pipe_options_init_size(NULL, sizeof o);
    wipc_pipe_options_init_size(&o, 4); /* too small to hold struct_size and flags: ignored */
    assert_int_equal(o.struct_size, sizeof o);
}

/* A program built against 1.0 has a 32-byte wipc_pipe_options and calls the exported
 * wipc_pipe_options_init: the 1.1 library must not write past those 32 bytes, and what it wrote must
 * be accepted as the 1.0 layout. */
static void test_options_init_1_0_caller(void **state)
{
    (void)state;
    struct {
        uint8_t o[32];
        uint8_t canary[64];
    } v10;
    memset(&v10, 0xCD, sizeof v10);
    (wipc_pipe_options_init)((wipc_pipe_options *)(void *)&v10);
    for (size_t i = 0; i < sizeof v10.canary; i++)
        assert_int_equal(v10.canary[i], 0xCD);
    uint32_t size;
    memcpy(&size, v10.o, sizeof size);
    assert_int_equal(size, 32);
    wipc_handle srv;
    char name[64];
    wt_unique_name(name, sizeof name, "opt10");
    assert_int_equal(wipc_pipe_listen(name, (const wipc_pipe_options *)(const void *)&v10, &srv), WIPC_OK);
    wipc_close(srv);

    /* the other structs did not grow: the 1.0 entry points write sizeof and nothing more */
    struct {
        wipc_shm_options o;
        uint8_t canary[16];
    } s;
    memset(&s, 0xCD, sizeof s);
    (wipc_shm_options_init)(&s.o);
    assert_int_equal(s.o.struct_size, sizeof s.o);
    assert_int_equal(s.canary[0], 0xCD);
    struct {
        wipc_msg_options o;
        uint8_t canary[16];
    } m;
    memset(&m, 0xCD, sizeof m);
    (wipc_msg_options_init)(&m.o);
    assert_int_equal(m.o.struct_size, sizeof m.o);
    assert_int_equal(m.canary[0], 0xCD);

    /* a newer caller's larger struct: the tail the library does not know is zeroed, so it is accepted */
    struct {
        wipc_pipe_options o;
        uint8_t tail[24];
    } big;
    memset(&big, 0xCD, sizeof big);
    wipc_pipe_options_init_size(&big.o, (uint32_t)sizeof big);
    assert_int_equal(big.o.struct_size, sizeof big);
    for (size_t i = 0; i < sizeof big.tail; i++)
        assert_int_equal(big.tail[i], 0);
    wt_unique_name(name, sizeof name, "opt12");
    assert_int_equal(wipc_pipe_listen(name, &big.o, &srv), WIPC_OK);
    wipc_close(srv);
}

typedef struct {
    wipc_pipe_options o;
    uint8_t tail[40];
} big_pipe_options;

static void test_options_struct_size(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "opts");
    wipc_handle srv = 0, c = 0;

    /* struct_size 0 */
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.struct_size = 0;
    WT_ASSERT_FAILS(wipc_pipe_listen(name, &o, &srv), WIPC_E_INVALID_ARG);
    assert_int_equal(srv, 0);

    /* a larger (newer) struct whose extra bytes are all zero: accepted */
    big_pipe_options big;
    memset(&big, 0, sizeof big);
    wipc_pipe_options_init(&big.o);
    big.o.struct_size = sizeof big;
    WT_OK(wipc_pipe_listen(name, &big.o, &srv));

    /* the same for connect */
    WT_OK(wipc_pipe_connect(name, &big.o, 5000, &c));
    WT_OK(wipc_close(c));
    c = 0;

    /* a larger struct with a non-zero byte the library does not know: refused */
    for (size_t at = 0; at < sizeof big.tail; at += 13) {
        big.tail[at] = 1;
        wipc_handle s2 = 0;
        char n2[160];
        WT_ASSERT_FAILS(wipc_pipe_listen(wt_unique_name(n2, sizeof n2, "opts2"), &big.o, &s2), WIPC_E_INVALID_ARG);
        assert_int_equal(s2, 0);
        WT_ASSERT_FAILS(wipc_pipe_connect(name, &big.o, 1000, &c), WIPC_E_INVALID_ARG);
        assert_int_equal(c, 0);
        big.tail[at] = 0;
    }
    WT_OK(wipc_close(srv));

    /* a smaller (older) struct: only its bytes are read, the rest are defaults */
    struct {
        wipc_pipe_options o;
    } small;
    memset(&small, 0xFF, sizeof small); /* garbage beyond struct_size would be invalid if read */
    small.o.struct_size = (uint32_t)offsetof(wipc_pipe_options, max_instances);
    small.o.flags = 0;
    small.o.max_message_size = 4096;
    WT_OK(wipc_pipe_listen(name, &small.o, &srv));
    wipc_info in = wt_info(srv);
    assert_int_equal(in.max_message_size, 4096);
    WT_OK(wipc_close(srv));

    /* struct_size covering struct_size and flags only (the smallest a v1 caller can have) */
    wipc_pipe_options_init(&o);
    memset(&o, 0xFF, sizeof o);
    o.struct_size = 2 * sizeof(uint32_t);
    o.flags = 0;
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    in = wt_info(srv);
    assert_int_equal(in.max_message_size, WIPC_DEFAULT_MAX_MESSAGE);
    WT_OK(wipc_close(srv));
}

static void expect_bad_listen_options(const wipc_pipe_options *o, const char *what)
{
    char name[160];
    wipc_handle srv = 0;
    wipc_status s = wipc_pipe_listen(wt_unique_name(name, sizeof name, "optv"), o, &srv);
    if (s != WIPC_E_INVALID_ARG) {
        if (s == WIPC_OK)
            wipc_close(srv);
        WT_FAIL("wipc_pipe_listen with %s returned %s, expected WIPC_E_INVALID_ARG", what, wipc_status_name(s));
    }
    const char *m = wipc_last_error_message();
    WT_CHECK(m && m[0], "empty last error message for %s", what);
    assert_int_equal(srv, 0);
}

static void test_options_values(void **state)
{
    (void)state;
    wipc_pipe_options o;

    wipc_pipe_options_init(&o);
    o.max_message_size = 0;
    expect_bad_listen_options(&o, "max_message_size 0");
    o.max_message_size = WIPC_MAX_MESSAGE_LIMIT + 1u;
    expect_bad_listen_options(&o, "max_message_size above WIPC_MAX_MESSAGE_LIMIT");

    wipc_pipe_options_init(&o);
    o.max_instances = 0;
    expect_bad_listen_options(&o, "max_instances 0");
    o.max_instances = 256;
    expect_bad_listen_options(&o, "max_instances 256");

    wipc_pipe_options_init(&o);
    o.flags = 0x80000000u;
    expect_bad_listen_options(&o, "an unknown flag");

    wipc_pipe_options_init(&o);
    o.reserved = 1;
    expect_bad_listen_options(&o, "reserved != 0");

#ifndef _WIN32
    wipc_pipe_options_init(&o);
    o.security_descriptor = "D:P(A;;GA;;;WD)";
    expect_bad_listen_options(&o, "a security descriptor on POSIX");
#endif

    /* Edges that are valid. */
    char name[160];
    wipc_handle srv = 0;
    wipc_pipe_options_init(&o);
    o.max_message_size = WIPC_MAX_MESSAGE_LIMIT;
    o.max_instances = 255;
    WT_OK(wipc_pipe_listen(wt_unique_name(name, sizeof name, "edge"), &o, &srv));
    assert_int_equal(wt_info(srv).max_message_size, WIPC_MAX_MESSAGE_LIMIT);
    WT_OK(wipc_close(srv));
    o.max_message_size = 1;
    o.max_instances = 1;
    WT_OK(wipc_pipe_listen(wt_unique_name(name, sizeof name, "edge"), &o, &srv));
    assert_int_equal(wt_info(srv).max_message_size, 1);
    WT_OK(wipc_close(srv));

    /* connect checks its options too */
    wipc_handle c = 0;
    wipc_pipe_options_init(&o);
    o.max_message_size = 0;
    WT_ASSERT_FAILS(wipc_pipe_connect(name, &o, 100, &c), WIPC_E_INVALID_ARG);
    wipc_pipe_options_init(&o);
    o.flags = 0x80000000u;
    WT_ASSERT_FAILS(wipc_pipe_connect(name, &o, 100, &c), WIPC_E_INVALID_ARG);
    assert_int_equal(c, 0);
}

/* ---- bad input --------------------------------------------------------------------------------- */

static void test_bad_names(void **state)
{
    (void)state;
    char long129[WIPC_NAME_MAX + 2];
    memset(long129, 'a', WIPC_NAME_MAX + 1);
    long129[WIPC_NAME_MAX + 1] = 0;
    const char *bad[] = {
        "",          long129,     "/",          "\\",          " ",
        "a b",       "a/b",       "a\\b",       "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
        "tab\there", "new\nline", "semi;colon", "colon:x",     "star*",
        "q?",        "pct%s",     "quote\"",    "..\\x",       "../x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wipc_handle h = 0;
        wipc_status s = wipc_pipe_listen(bad[i], NULL, &h);
        if (s != WIPC_E_INVALID_ARG) {
            if (s == WIPC_OK)
                wipc_close(h);
            WT_FAIL("wipc_pipe_listen(bad name #%zu \"%s\") returned %s, expected WIPC_E_INVALID_ARG", i, bad[i],
                    wipc_status_name(s));
        }
        const char *m = wipc_last_error_message();
        WT_CHECK(m && m[0], "empty message for bad name #%zu", i);
        assert_int_equal(h, 0);
        s = wipc_pipe_connect(bad[i], NULL, 100, &h);
        if (s != WIPC_E_INVALID_ARG)
            WT_FAIL("wipc_pipe_connect(bad name #%zu \"%s\") returned %s, expected WIPC_E_INVALID_ARG", i, bad[i],
                    wipc_status_name(s));
        m = wipc_last_error_message();
        WT_CHECK(m && m[0], "empty message for bad name #%zu", i);
        assert_int_equal(h, 0);
    }
    wipc_handle h = 0;
    WT_ASSERT_FAILS(wipc_pipe_listen(NULL, NULL, &h), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_pipe_connect(NULL, NULL, 100, &h), WIPC_E_INVALID_ARG);
    assert_int_equal(h, 0);

    /* The longest valid name, and every allowed character. */
    char long128[WIPC_NAME_MAX + 1];
    snprintf(long128, sizeof long128, "wt-%u-", (unsigned)wt_self_pid());
    size_t l = strlen(long128);
    memset(long128 + l, 'Z', WIPC_NAME_MAX - l);
    long128[WIPC_NAME_MAX] = 0;
    WT_OK(wipc_pipe_listen(long128, NULL, &h));
    wipc_handle c = 0;
    WT_OK(wipc_pipe_connect(long128, NULL, 5000, &c));
    wipc_info in = wt_info(c);
    assert_string_equal(in.name, long128);
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(h));

    char all[160];
    snprintf(all, sizeof all, "wt-%u-AZaz09._-", (unsigned)wt_self_pid());
    WT_OK(wipc_pipe_listen(all, NULL, &h));
    WT_OK(wipc_pipe_connect(all, NULL, 5000, &c));
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(h));
}

static void test_null_pointers(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "null");
    char buf[16];
    size_t sz = 0;
    uint32_t type = 0;
    wipc_message m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;

    WT_ASSERT_FAILS(wipc_pipe_listen("wt-null-out", NULL, NULL), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_pipe_connect(p.name, NULL, 1000, NULL), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_pipe_accept(p.srv, 0, NULL), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_get_info(p.cli, NULL), WIPC_E_INVALID_ARG);
    wipc_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = 7;
    WT_ASSERT_FAILS(wipc_get_info(p.cli, &in), WIPC_E_INVALID_ARG);
    in.struct_size = 0;
    WT_ASSERT_FAILS(wipc_get_info(p.cli, &in), WIPC_E_INVALID_ARG);

    WT_ASSERT_FAILS(wipc_send(p.cli, 1, NULL, 5, 1000), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_recv(p.svc, NULL, 5, &sz, &type, 0), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_recv_message(p.svc, buf, sizeof buf, NULL, 0), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_recv_message(p.svc, NULL, 5, &m, 0), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_request(p.cli, 1, NULL, 5, buf, sizeof buf, &sz, 1000), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_request(p.cli, 1, "x", 1, NULL, 5, &sz, 1000), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_reply(p.svc, 0, 1, "x", 1), WIPC_E_INVALID_ARG); /* no unanswered request */
    WT_ASSERT_FAILS(wipc_set_callbacks(p.cli, NULL, NULL, NULL), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_set_log_callback(NULL, -1, NULL), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_set_log_callback(NULL, 4, NULL), WIPC_E_INVALID_ARG);

    /* None of that disturbed the connection; NULL with size 0 is allowed. */
    WT_ASSERT_STATUS(wipc_recv(p.svc, NULL, 0, &sz, &type, 0), WIPC_E_TIMEOUT);
    WT_OK(wipc_send(p.cli, 9, NULL, 0, 1000));
    sz = 99;
    WT_OK(wipc_recv(p.svc, NULL, 0, &sz, &type, 2000));
    assert_int_equal(sz, 0);
    assert_int_equal(type, 9);
    WT_OK(wipc_send(p.cli, 10, "hello", 5, 1000));
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, NULL, NULL, 2000)); /* out pointers optional */
    assert_memory_equal(buf, "hello", 5);
    wt_pair_close(&p);
}

/* ---- wipc_get_info ----------------------------------------------------------------------------- */

static void test_get_info(void **state)
{
    (void)state;
    wt_pair p;
    wt_pair_open(&p, "info");

    wipc_info s = wt_info(p.srv);
    assert_int_equal(s.kind, WIPC_KIND_PIPE_SERVER);
    assert_int_equal(s.transport, WIPC_TRANSPORT_PIPE);
    assert_string_equal(s.name, p.name);
    assert_int_equal(s.max_message_size, WIPC_DEFAULT_MAX_MESSAGE);
    assert_int_equal(s.connected, 1);
    assert_int_equal(s.struct_size, sizeof s);

    wipc_info c = wt_info(p.cli);
    assert_int_equal(c.kind, WIPC_KIND_PIPE_CONN);
    assert_int_equal(c.transport, WIPC_TRANSPORT_PIPE);
    assert_string_equal(c.name, p.name);
    assert_int_equal(c.connected, 1);
    assert_int_equal(c.peer_pid, wt_self_pid());
    assert_int_equal(c.messages_sent, 0);
    assert_int_equal(c.bytes_received, 0);
    wipc_info v = wt_info(p.svc);
    assert_int_equal(v.kind, WIPC_KIND_PIPE_CONN);
    assert_int_equal(v.peer_pid, wt_self_pid());
#ifndef _WIN32
    assert_int_equal(c.peer_uid, (uint32_t)getuid());
    assert_int_equal(v.peer_uid, (uint32_t)getuid());
#endif

    /* Counters: payload bytes only. */
    char buf[64];
    for (int i = 0; i < 3; i++)
        WT_OK(wipc_send(p.cli, 1, "0123456789", 10, 1000));
    WT_OK(wipc_send(p.cli, 1, NULL, 0, 1000));
    for (int i = 0; i < 4; i++)
        WT_OK(wipc_recv(p.svc, buf, sizeof buf, NULL, NULL, 2000));
    WT_OK(wipc_send(p.svc, 2, "abc", 3, 1000));
    WT_OK(wipc_recv(p.cli, buf, sizeof buf, NULL, NULL, 2000));
    c = wt_info(p.cli);
    v = wt_info(p.svc);
    assert_int_equal(c.messages_sent, 4);
    assert_int_equal(c.bytes_sent, 30);
    assert_int_equal(c.messages_received, 1);
    assert_int_equal(c.bytes_received, 3);
    assert_int_equal(v.messages_received, 4);
    assert_int_equal(v.bytes_received, 30);
    assert_int_equal(v.messages_sent, 1);
    assert_int_equal(v.bytes_sent, 3);

    /* An older, smaller struct gets only the fields it has. */
    struct {
        wipc_info in;
        uint8_t guard[16];
    } g;
    memset(&g, 0x5A, sizeof g);
    g.in.struct_size = (uint32_t)offsetof(wipc_info, messages_sent);
    WT_OK(wipc_get_info(p.cli, &g.in));
    assert_int_equal(g.in.kind, WIPC_KIND_PIPE_CONN);
    assert_int_equal(g.in.peer_pid, wt_self_pid());
    const uint8_t *raw = (const uint8_t *)&g;
    for (size_t i = offsetof(wipc_info, messages_sent); i < sizeof g; i++)
        WT_CHECK(raw[i] == 0x5A, "byte %zu beyond struct_size %u was written", i, (unsigned)g.in.struct_size);
    /* The smallest accepted: 8 bytes (struct_size + kind). */
    memset(&g, 0x5A, sizeof g);
    g.in.struct_size = 8;
    WT_OK(wipc_get_info(p.srv, &g.in));
    assert_int_equal(g.in.kind, WIPC_KIND_PIPE_SERVER);
    for (size_t i = 8; i < sizeof g; i++)
        WT_CHECK(raw[i] == 0x5A, "byte %zu beyond struct_size 8 was written", i);

    /* After the client leaves: the server side sees the disconnect, the server counts 0 live. */
    WT_OK(wipc_close(p.cli));
    p.cli = 0;
    WT_ASSERT_STATUS(wipc_recv(p.svc, buf, sizeof buf, NULL, NULL, 5000), WIPC_E_DISCONNECTED);
    v = wt_info(p.svc);
    assert_int_equal(v.connected, 0);
    WT_OK(wipc_close(p.svc));
    p.svc = 0;
    s = wt_info(p.srv);
    assert_int_equal(s.connected, 0);
    wt_pair_close(&p);
}

/* ---- log callback ------------------------------------------------------------------------------ */

typedef struct {
    atomic_int lines;
    atomic_int below_min;
    atomic_int bad_text;
    atomic_int bad_user;
    int min_level;
} log_state;

static void WIPC_CALL log_cb(int32_t level, const char *text, void *user)
{
    log_state *ls = (log_state *)user;
    atomic_fetch_add(&ls->lines, 1);
    if (level < ls->min_level || level > WIPC_LOG_ERROR)
        atomic_fetch_add(&ls->below_min, 1);
    if (!text || !text[0])
        atomic_fetch_add(&ls->bad_text, 1);
}

static void some_activity(void)
{
    wt_pair p;
    wt_pair_open(&p, "log");
    char buf[8];
    WT_OK(wipc_send(p.cli, 1, "x", 1, 1000));
    WT_OK(wipc_recv(p.svc, buf, sizeof buf, NULL, NULL, 2000));
    WT_OK(wipc_close(p.cli));
    p.cli = 0;
    WT_ASSERT_STATUS(wipc_recv(p.svc, buf, sizeof buf, NULL, NULL, 5000), WIPC_E_DISCONNECTED);
    wt_pair_close(&p);
    wipc_handle h = 0;
    char missing[160];
    WT_ASSERT_STATUS(wipc_pipe_connect(wt_unique_name(missing, sizeof missing, "nolog"), NULL, 0, &h),
                     WIPC_E_NOT_FOUND);
}

/* Counts into *ls the log lines at min_level and above that some_activity() gives, then removes the
 * callback again. */
static void log_activity(log_state *ls, int32_t min_level)
{
    memset(ls, 0, sizeof *ls);
    ls->min_level = min_level;
    WT_OK(wipc_set_log_callback(log_cb, min_level, ls));
    some_activity();
    WT_OK(wipc_set_log_callback(NULL, WIPC_LOG_DEBUG, NULL));
    wt_sleep_ms(50);
}

static void test_log_callback(void **state)
{
    (void)state;
    log_state dbg;
    log_activity(&dbg, WIPC_LOG_DEBUG);
    int n_debug = atomic_load(&dbg.lines);
    WT_CHECK(n_debug > 0, "no log line at WIPC_LOG_DEBUG for listen/connect/accept/send/close/disconnect");
    assert_int_equal(atomic_load(&dbg.below_min), 0);
    assert_int_equal(atomic_load(&dbg.bad_text), 0);

    /* min_level filters. */
    log_state err;
    log_activity(&err, WIPC_LOG_ERROR);
    assert_int_equal(atomic_load(&err.below_min), 0);
    assert_int_equal(atomic_load(&err.bad_text), 0);

    /* Removed: no more lines. */
    int before = atomic_load(&dbg.lines);
    some_activity();
    wt_sleep_ms(50);
    assert_int_equal(atomic_load(&dbg.lines), before);
}

#ifndef _WIN32
#  include <dirent.h>
#  include <signal.h>
#  include <unistd.h>

static int blocked_sigterm(const char *tid_status)
{
    FILE *f = fopen(tid_status, "r");
    if (!f)
        return -1; /* the thread ended meanwhile */
    char line[256];
    unsigned long long mask = 0;
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "SigBlk: %llx", &mask) == 1)
            found = 1;
    fclose(f);
    return found ? (int)((mask >> (SIGTERM - 1)) & 1) : -1;
}

/* Library threads (the I/O thread, callback workers, shm reader threads, the msg receiver) block the
 * application's asynchronous signals: a SIGTERM must reach the main thread, where a runtime such as
 * CPython runs its handler (a signal taken by a library thread left a Python server asleep). */
static int32_t WIPC_CALL ignore_message(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    (void)m;
    (void)user;
    return 0;
}

static void test_library_threads_block_signals(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "sigmask");
    wipc_handle srv = 0, c = 0, ch = 0, ep = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    WT_OK(wipc_set_callbacks(srv, ignore_message, NULL, NULL));
    WT_OK(wipc_pipe_connect(name, NULL, 5000, &c));
    WT_OK(wipc_shm_create(name, NULL, &ch));
    WT_OK(wipc_set_callbacks(ch, ignore_message, NULL, NULL));
    WT_OK(wipc_msg_listen(name, NULL, &ep));
    wt_sleep_ms(100);
    int threads = 0, open = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (pid_t)atoi(e->d_name) == getpid())
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        int b = blocked_sigterm(path);
        if (b < 0)
            continue;
        threads++;
        open += b == 0;
    }
    closedir(d);
    WT_CHECK(threads >= 2, "expected library threads, found %d", threads);
    WT_CHECK(open == 0, "%d of %d library threads take SIGTERM", open, threads);
    WT_OK(wipc_close(ep));
    WT_OK(wipc_close(ch));
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(srv));
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_status_values_fixed),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_last_error_message),
        cmocka_unit_test(test_handle_zero),
        cmocka_unit_test(test_handle_closed_and_stale),
        cmocka_unit_test(test_handle_forged),
        cmocka_unit_test(test_handle_wrong_kind),
        cmocka_unit_test(test_handle_close_races_lookup),
        cmocka_unit_test(test_options_init),
        cmocka_unit_test(test_options_init_1_0_caller),
        cmocka_unit_test(test_options_struct_size),
        cmocka_unit_test(test_options_values),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_null_pointers),
        cmocka_unit_test(test_get_info),
        cmocka_unit_test(test_log_callback),
#ifndef _WIN32
        cmocka_unit_test(test_library_threads_block_signals),
#endif
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
