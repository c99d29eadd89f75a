/*
 * test_shm.c - the shared-memory transport: channels (in-process and across processes with
 * shm_peer), wrap-around edges, zero-copy, peer death, corrupt sections, bad input, and regions.
 *
 * Every wait is bounded: library calls use timeouts of a few seconds, helper threads are joined with
 * wt_thread_join_or_die, child processes are killed and reaped, and ctest has a TIMEOUT.
 */
#include "testlib.h"

#include <stdatomic.h>

#ifndef _WIN32
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
#  include <time.h>
#endif

#define KIB     1024u
#define MIB     (1024u * 1024u)
#define REC_HDR 24u /* the ring's record header (dll/common/shm/shm_layout.h) */

/* ---- helpers ----------------------------------------------------------------------------------- */

typedef struct chan_pair {
    char name[160];
    wipc_handle a; /* creator */
    wipc_handle b; /* opener */
} chan_pair;

static wipc_shm_options opts(uint64_t capacity)
{
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    o.capacity = capacity;
    return o;
}

/* Writes a unique name (tag) into name (160 bytes) and creates a channel of `capacity` on it. */
static wipc_handle create_named(char *name, const char *tag, uint64_t capacity)
{
    wipc_handle a = 0;
    wt_unique_name(name, 160, tag);
    wipc_shm_options o = opts(capacity);
    wt_ok_in(tag, "wipc_shm_create", wipc_shm_create(name, &o, &a));
    return a;
}

static void pair_open(chan_pair *p, const char *tag, uint64_t capacity)
{
    memset(p, 0, sizeof *p);
    p->a = create_named(p->name, tag, capacity);
    WT_OK(wipc_shm_open(p->name, NULL, 2000, &p->b));
}

static void pair_close(chan_pair *p)
{
    if (p->b)
        WT_OK(wipc_close(p->b));
    if (p->a)
        WT_OK(wipc_close(p->a));
    p->a = p->b = 0;
}

/* Waits until the handle reports a connected peer (the creator learns of its opener lazily). */
static int wait_connected(wipc_handle h, int want, int timeout_ms)
{
    uint64_t end = wt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        wipc_info in = wt_info(h);
        if ((int)in.connected == want)
            return 1;
        if (wt_now_ms() >= end)
            return 0;
        wt_sleep_ms(5);
    }
}

static wt_proc *spawn_shm_peer(const char *cmd, const char *name)
{
    const char *args[] = { cmd, name, NULL };
    return wt_spawn_ready(args);
}

static void kill_peer(wt_proc *p)
{
    int code = 0;
    WT_CHECK(wt_proc_kill(p) == 0, "kill the peer");
    wt_proc_wait(p, 5000, &code);
    wt_proc_free(p);
}

typedef struct io_job {
    wipc_handle h;
    int op; /* 0 recv, 1 send */
    size_t size;
    int32_t timeout_ms;
    wipc_status st;
    uint64_t elapsed_ms;
    char msg[512];
} io_job;

static void *io_thread(void *arg)
{
    io_job *j = (io_job *)arg;
    uint8_t *buf = (uint8_t *)calloc(1, j->size ? j->size : 1);
    uint64_t t0 = wt_now_ms();
    size_t n = 0;
    uint32_t type = 0;
    j->st = j->op == 0 ? wipc_recv(j->h, buf, j->size, &n, &type, j->timeout_ms)
                       : wipc_send(j->h, 1, buf, j->size, j->timeout_ms);
    j->elapsed_ms = wt_now_ms() - t0;
    wt_last_error(j->msg, sizeof j->msg);
    free(buf);
    return NULL;
}

/* Fills h's outgoing ring with 1000-byte messages until a send with timeout 0 times out. */
/* Runs j on a thread, kills the peer 200 ms later and joins (10 s; a hang is reported as `what`):
 * j must have ended with WIPC_E_DISCONNECTED within 1 s of the kill. */
static void kill_while_blocked(wt_proc *peer, io_job *j, const char *what)
{
    wt_thread *t = wt_thread_start(io_thread, j);
    wt_sleep_ms(200);
    uint64_t t0 = wt_now_ms();
    kill_peer(peer);
    wt_thread_join_or_die(t, 10000, what);
    uint64_t after = wt_now_ms() - t0;
    WT_CHECK(j->st == WIPC_E_DISCONNECTED, "%s: %s got %s (%s)", what, j->op ? "send" : "recv", wipc_status_name(j->st),
             j->msg);
    WT_CHECK(after < 1000, "%s: the death was noticed after %llu ms", what, (unsigned long long)after);
}

static int fill_ring(wipc_handle h)
{
    static uint8_t chunk[1000];
    int n = 0;
    wipc_status st;
    while ((st = wipc_send(h, 5, chunk, sizeof chunk, 0)) == WIPC_OK)
        n++;
    WT_ASSERT_STATUS(st, WIPC_E_TIMEOUT);
    return n;
}

/* ---- raw access to a channel's section (for the corruption test) ------------------------------- */

typedef struct raw_map {
    uint8_t *base;
    size_t size;
#ifdef _WIN32
    HANDLE h;
#endif
} raw_map;

static int raw_open(raw_map *m, const char *name)
{
    memset(m, 0, sizeof *m);
#ifdef _WIN32
    wchar_t w[300];
    char u8[300];
    snprintf(u8, sizeof u8, "Local\\wipc-%s", name);
    MultiByteToWideChar(CP_UTF8, 0, u8, -1, w, 300);
    m->h = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, w);
    if (!m->h)
        return -1;
    m->base = (uint8_t *)MapViewOfFile(m->h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    m->size = 4096;
    return m->base ? 0 : -1;
#else
    /* 1.1: the name holds a locator (magic, version, creator pid, start key); the section is the
     * creator's sealed memfd wipc-ch-<name>, reached through /proc/<pid>/fd (dll/linux/shm.c) */
    char path[300], want[300], link[300];
    snprintf(path, sizeof path, "/wipc-%u-%s", (unsigned)geteuid(), name);
    int nfd = shm_open(path, O_RDONLY, 0);
    if (nfd < 0)
        return -1;
    uint32_t loc[4] = { 0, 0, 0, 0 };
    ssize_t got = pread(nfd, loc, sizeof loc, 0);
    close(nfd);
    if (got != (ssize_t)sizeof loc)
        return -1;
    int wn = snprintf(want, sizeof want, "/memfd:wipc-ch-%s (deleted)", name);
    int fd = -1;
    for (int n = 0; n < 4096 && fd < 0; n++) {
        snprintf(path, sizeof path, "/proc/%u/fd/%d", (unsigned)loc[2], n);
        ssize_t ln = readlink(path, link, sizeof link);
        if (ln == wn && memcmp(link, want, (size_t)wn) == 0)
            fd = open(path, O_RDWR);
    }
    if (fd < 0)
        return -1;
    struct stat st;
    fstat(fd, &st);
    m->size = (size_t)st.st_size;
    m->base = (uint8_t *)mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return m->base == MAP_FAILED ? -1 : 0;
#endif
}

static void raw_close(raw_map *m)
{
#ifdef _WIN32
    UnmapViewOfFile(m->base);
    CloseHandle(m->h);
#else
    munmap(m->base, m->size);
#endif
}

/* ---- bad input --------------------------------------------------------------------------------- */

static void test_shm_bad_options(void **state)
{
    (void)state;
    char name[160];
    wipc_handle h = 0;
    wt_unique_name(name, sizeof name, "shm-bad");
    uint64_t bad_caps[] = { 0, 1000, 4095, 4097, 3 * 4096, 2ull << 30, 1ull << 40 };
    for (size_t i = 0; i < sizeof bad_caps / sizeof bad_caps[0]; i++) {
        wipc_shm_options o = opts(bad_caps[i]);
        WT_ASSERT_FAILS(wipc_shm_create(name, &o, &h), WIPC_E_INVALID_ARG);
        assert_int_equal(h, 0);
    }
    wipc_shm_options o = opts(64 * KIB);
    o.max_message_size = 0;
    WT_ASSERT_FAILS(wipc_shm_create(name, &o, &h), WIPC_E_INVALID_ARG);
    o = opts(64 * KIB);
    o.flags = 0x80;
    WT_ASSERT_FAILS(wipc_shm_create(name, &o, &h), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_shm_create(NULL, NULL, &h), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_shm_create("bad/name", NULL, &h), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_shm_create(name, NULL, NULL), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, -5, &h), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, 0, &h), WIPC_E_NOT_FOUND);
    uint64_t t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, 200, &h), WIPC_E_NOT_FOUND);
    WT_CHECK(wt_now_ms() - t0 >= 150, "open waited for the creator");
}

static void test_shm_busy_and_in_use(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-busy", 64 * KIB);
    wipc_handle h = 0;
    WT_ASSERT_FAILS(wipc_shm_create(p.name, NULL, &h), WIPC_E_ADDR_IN_USE);
    WT_ASSERT_FAILS(wipc_shm_open(p.name, NULL, 100, &h), WIPC_E_BUSY);
    WT_OK(wipc_close(p.b));
    p.b = 0;
    WT_OK(wipc_shm_open(p.name, NULL, 1000, &p.b)); /* the slot is free again */
    pair_close(&p);
    WT_OK(wipc_shm_create(p.name, NULL, &h)); /* the name was released */
    WT_OK(wipc_close(h));
}

static void test_shm_zero_copy_misuse(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-zcbad", 16 * KIB);
    void *ptr = NULL;
    const void *cptr = NULL;
    size_t n = 0;
    WT_ASSERT_FAILS(wipc_shm_reserve(p.a, 16 * KIB + 1, &ptr, 0), WIPC_E_TOO_LARGE);
    WT_ASSERT_FAILS(wipc_shm_reserve(p.a, 16 * KIB - REC_HDR + 1, &ptr, 0), WIPC_E_TOO_LARGE);
    WT_ASSERT_FAILS(wipc_shm_commit(p.a, 1, 10), WIPC_E_INVALID_STATE);
    WT_ASSERT_FAILS(wipc_shm_release(p.b), WIPC_E_INVALID_STATE);
    WT_OK(wipc_shm_reserve(p.a, 100, &ptr, 0));
    void *other = NULL;
    WT_ASSERT_FAILS(wipc_shm_reserve(p.a, 10, &other, 0), WIPC_E_INVALID_STATE);
    assert_null(other);
    WT_ASSERT_FAILS(wipc_send(p.a, 1, "x", 1, 0), WIPC_E_INVALID_STATE); /* this thread holds the reservation */
    WT_ASSERT_FAILS(wipc_shm_commit(p.a, 1, 101), WIPC_E_INVALID_ARG);
    memcpy(ptr, "zero-copy", 9);
    WT_OK(wipc_shm_commit(p.a, 42, 9));
    WT_ASSERT_FAILS(wipc_shm_commit(p.a, 1, 1), WIPC_E_INVALID_STATE);
    uint32_t type = 0;
    WT_OK(wipc_shm_peek(p.b, &cptr, &n, &type, 1000));
    assert_int_equal(n, 9);
    assert_int_equal(type, 42);
    assert_memory_equal(cptr, "zero-copy", 9);
    WT_ASSERT_FAILS(wipc_shm_peek(p.b, &cptr, &n, &type, 0), WIPC_E_INVALID_STATE);
    WT_OK(wipc_shm_release(p.b));
    WT_ASSERT_FAILS(wipc_shm_release(p.b), WIPC_E_INVALID_STATE);
    WT_ASSERT_FAILS(wipc_shm_peek(p.b, &cptr, &n, &type, 0), WIPC_E_TIMEOUT);
    WT_ASSERT_FAILS(wipc_shm_peek(p.b, NULL, &n, &type, 0), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_shm_reserve(p.a, 10, NULL, 0), WIPC_E_INVALID_ARG);
    pair_close(&p);
}

static void test_shm_wrong_handle_kinds(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-kinds", 16 * KIB);
    char rname[160];
    wipc_handle r = 0;
    WT_OK(wipc_region_create(wt_unique_name(rname, sizeof rname, "shm-kinds-r"), 4096, NULL, &r));
    void *ptr = NULL;
    const void *cptr = NULL;
    size_t n = 0;
    uint64_t size = 0;
    WT_ASSERT_FAILS(wipc_shm_reserve(r, 10, &ptr, 0), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_shm_commit(r, 1, 1), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_shm_peek(r, &cptr, &n, NULL, 0), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_shm_release(r), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_region_view(p.a, &ptr, &size), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_send(r, 1, "x", 1, 0), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_recv(r, NULL, 0, NULL, NULL, 0), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_shm_reserve(0, 10, &ptr, 0), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_shm_peek(0x1234567812345678ull, &cptr, &n, NULL, 0), WIPC_E_BAD_HANDLE);
    wipc_info in = wt_info(r);
    assert_int_equal(in.kind, WIPC_KIND_REGION);
    assert_int_equal(in.transport, WIPC_TRANSPORT_SHM);
    WT_OK(wipc_close(r));
    pair_close(&p);
    WT_ASSERT_FAILS(wipc_shm_reserve(p.a == 0 ? r : p.a, 10, &ptr, 0), WIPC_E_BAD_HANDLE); /* closed */
}

/* ---- in-process channel ------------------------------------------------------------------------ */

static void test_shm_basic_exchange(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-basic", 64 * KIB);
    uint8_t out[4000], in[4000];
    size_t n = 0;
    uint32_t type = 0;
    for (uint32_t i = 0; i < 200; i++) {
        size_t size = (i * 37) % sizeof out;
        wt_fill(out, size, i);
        WT_OK(wipc_send(i & 1 ? p.a : p.b, i, out, size, 1000));
        WT_OK(wipc_recv(i & 1 ? p.b : p.a, in, sizeof in, &n, &type, 1000));
        assert_int_equal(n, size);
        assert_int_equal(type, i);
        assert_true(wt_check(in, n, i));
    }
    WT_OK(wipc_send(p.a, 9, out, 3000, 1000));
    WT_ASSERT_FAILS(wipc_recv(p.b, in, 100, &n, &type, 1000), WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3000);
    WT_OK(wipc_recv(p.b, in, sizeof in, &n, &type, 1000)); /* it stayed queued */
    assert_int_equal(n, 3000);
    WT_ASSERT_FAILS(wipc_recv(p.b, in, sizeof in, &n, &type, 0), WIPC_E_TIMEOUT);
    WT_CHECK(wait_connected(p.a, 1, 2000), "creator sees its opener");
    wipc_info ia = wt_info(p.a), ib = wt_info(p.b);
    assert_int_equal(ia.kind, WIPC_KIND_SHM_CHANNEL);
    assert_int_equal(ia.transport, WIPC_TRANSPORT_SHM);
    assert_int_equal(ia.peer_pid, wt_self_pid());
    assert_int_equal(ib.peer_pid, wt_self_pid());
    assert_int_equal(ib.connected, 1);
    assert_int_equal(ia.messages_sent + ib.messages_sent, 201);
    assert_int_equal(ia.messages_received + ib.messages_received, 201);
    /* not capped by the 64 KiB ring: larger messages are streamed through it */
    assert_int_equal(ia.max_message_size, WIPC_DEFAULT_MAX_MESSAGE);
    assert_string_equal(ia.name, p.name);
    pair_close(&p);
}

static void test_shm_wrap_edges(void **state)
{
    (void)state;
    const uint32_t cap = 4096;
    chan_pair p;
    pair_open(&p, "shm-wrap", cap);
    static uint8_t out[8192], in[8192];
    size_t n = 0;
    uint32_t type = 0;
    /* capacity - header: one record fills the whole ring; capacity - header + 1 and capacity + 1 do not fit */
    wt_fill(out, cap - REC_HDR, 1);
    WT_OK(wipc_send(p.a, 1, out, cap - REC_HDR, 0));
    WT_ASSERT_FAILS(wipc_send(p.a, 1, out, 0, 0), WIPC_E_TIMEOUT); /* full: not even an empty message */
    WT_OK(wipc_recv(p.b, in, sizeof in, &n, &type, 1000));
    assert_int_equal(n, cap - REC_HDR);
    assert_true(wt_check(in, n, 1));
    /* exactly the free space, at every offset of the ring (wraps with and without a PAD marker) */
    for (uint32_t first = 0; first < 600; first += 8) {
        size_t rec1 = (REC_HDR + first + 7) & ~(size_t)7;
        wt_fill(out, first, first);
        WT_OK(wipc_send(p.a, 2, out, first, 0));
        size_t rest = cap - rec1 - REC_HDR;
        wt_fill(out + 4096, rest, first + 1);
        WT_OK(wipc_send(p.a, 3, out + 4096, rest, 0));
        WT_ASSERT_FAILS(wipc_send(p.a, 4, out, 0, 0), WIPC_E_TIMEOUT);
        WT_OK(wipc_recv(p.b, in, sizeof in, &n, &type, 1000));
        assert_int_equal(n, first);
        assert_true(wt_check(in, n, first));
        WT_OK(wipc_recv(p.b, in, sizeof in, &n, &type, 1000));
        assert_int_equal(n, rest);
        assert_int_equal(type, 3);
        assert_true(wt_check(in, n, first + 1));
    }
    /* a big message that must wrap: the PAD is published, then it waits for the reader */
    WT_OK(wipc_send(p.a, 5, out, 1000, 0));
    WT_OK(wipc_recv(p.b, in, sizeof in, &n, &type, 1000));
    wt_fill(out, 3000, 77);
    WT_OK(wipc_send(p.a, 6, out, 3000, 1000));
    WT_OK(wipc_recv(p.b, in, sizeof in, &n, &type, 1000));
    assert_int_equal(n, 3000);
    assert_true(wt_check(in, n, 77));
    /* zero-copy of the whole ring, not at offset 0: the PAD before it is passed by the waiting reader */
    io_job r = { p.b, 0, cap, 5000, 0, 0, "" };
    wt_thread *tr = wt_thread_start(io_thread, &r);
    void *ptr = NULL;
    WT_OK(wipc_shm_reserve(p.a, cap - REC_HDR, &ptr, 5000));
    wt_fill(ptr, cap - REC_HDR, 9);
    WT_OK(wipc_shm_commit(p.a, 7, cap - REC_HDR));
    wt_thread_join_or_die(tr, 10000, "reader of the whole-ring message");
    WT_CHECK(r.st == WIPC_OK, "recv of the whole-ring message: %s (%s)", wipc_status_name(r.st), r.msg);
    WT_OK(wipc_shm_reserve(p.a, cap - REC_HDR, &ptr, 0)); /* now at offset 0 of an empty ring: at once */
    wt_fill(ptr, cap - REC_HDR, 10);
    WT_OK(wipc_shm_commit(p.a, 8, cap - REC_HDR));
    const void *cptr = NULL;
    WT_OK(wipc_shm_peek(p.b, &cptr, &n, &type, 1000));
    assert_int_equal(n, cap - REC_HDR);
    assert_int_equal(type, 8);
    assert_true(wt_check(cptr, n, 10));
    WT_OK(wipc_shm_release(p.b));
    /* capacity - header + 1, capacity and capacity + 1 do not fit one record: they are streamed in pieces
     * (a reader must take them); the zero-copy reservation stays limited to one record */
    const size_t streamed[] = { cap - REC_HDR + 1, cap, cap + 1, 2 * cap };
    for (size_t i = 0; i < sizeof streamed / sizeof streamed[0]; i++) {
        size_t big = streamed[i];
        io_job rj = { p.b, 0, 2 * cap, 5000, 0, 0, "" };
        wt_thread *t = wt_thread_start(io_thread, &rj);
        WT_OK(wipc_send(p.a, 1, out, big, 5000));
        wt_thread_join_or_die(t, 10000, "reader of a streamed message");
        WT_CHECK(rj.st == WIPC_OK, "recv of a %zu-byte streamed message: %s (%s)", big, wipc_status_name(rj.st),
                 rj.msg);
    }
    void *zptr = NULL;
    WT_ASSERT_FAILS(wipc_shm_reserve(p.a, cap - REC_HDR + 1, &zptr, 0), WIPC_E_TOO_LARGE);
    /* a zero-copy peek of a streamed message sees the assembled copy (the sender's buffer is zeroed) */
    io_job sj = { p.a, 1, 3 * cap, 5000, 0, 0, "" };
    wt_thread *ts = wt_thread_start(io_thread, &sj);
    const void *pp = NULL;
    WT_OK(wipc_shm_peek(p.b, &pp, &n, &type, 5000));
    assert_int_equal(n, 3 * cap);
    assert_int_equal(type, 1);
    static const uint8_t zeros[3 * 4096];
    assert_memory_equal(pp, zeros, 3 * cap);
    WT_OK(wipc_shm_release(p.b));
    wt_thread_join_or_die(ts, 10000, "sender of a streamed message");
    WT_CHECK(sj.st == WIPC_OK, "send of a streamed message: %s (%s)", wipc_status_name(sj.st), sj.msg);
    pair_close(&p);
}

typedef struct reply_job {
    wipc_handle h;
    int n; /* requests to answer */
    int32_t timeout_ms; /* for each one to come */
    char err[600]; /* why it stopped early */
} reply_job;

static void *reply_thread(void *arg)
{
    reply_job *r = (reply_job *)arg;
    static uint8_t buf[70000];
    char m_err[512];
    for (int i = 0; i < r->n; i++) {
        wipc_message m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        wipc_status st = wipc_recv_message(r->h, buf, sizeof buf, &m, r->timeout_ms);
        if (st == WIPC_OK && m.request_id == 0)
            st = WIPC_E_PROTOCOL;
        else if (st == WIPC_OK)
            st = wipc_reply(r->h, m.request_id, m.type + 1, buf, m.size);
        if (st != WIPC_OK) {
            snprintf(r->err, sizeof r->err, "request %d of %d: %s (%s)", i, r->n, wipc_status_name(st),
                     wt_last_error(m_err, sizeof m_err));
            return (void *)1;
        }
    }
    return NULL;
}

typedef struct req_job {
    wipc_handle h;
    int id;
    int n;
    int32_t timeout_ms;
    int bad;
    uint64_t max_ms; /* the slowest request */
    char err[600];
} req_job;

/* n requests; stops at the first failure (the rest would only time out one after the other). */
static void *request_thread(void *arg)
{
    req_job *j = (req_job *)arg;
    uint8_t req[3000], resp[3000];
    char m_err[512];
    for (int i = 0; i < j->n; i++) {
        uint32_t key = (uint32_t)(j->id * 100000 + i);
        size_t n = (size_t)(j->id * 700 + i * 13) % sizeof req, got = 0;
        wt_fill(req, n, key);
        uint64_t t0 = wt_now_ms();
        wipc_status st = wipc_request(j->h, key, req, n, resp, sizeof resp, &got, j->timeout_ms);
        uint64_t took = wt_now_ms() - t0;
        if (took > j->max_ms)
            j->max_ms = took;
        if (st != WIPC_OK || got != n || !wt_check(resp, got, key)) {
            snprintf(j->err, sizeof j->err, "request %d: %s after %llu ms, %zu of %zu bytes (%s)", i,
                     wipc_status_name(st), (unsigned long long)took, got, n,
                     st ? wt_last_error(m_err, sizeof m_err) : "");
            j->bad++;
            break;
        }
    }
    return NULL;
}

/* `threads` threads send `per_thread` requests each (timeout `timeout_ms`) on a creator; one thread
 * answers on the opener. Returns the slowest request's time in ms. */
static uint64_t run_requests(const char *tag, int threads, int per_thread, int32_t timeout_ms)
{
    chan_pair p;
    pair_open(&p, tag, 64 * KIB);
    static reply_job r;
    memset(&r, 0, sizeof r);
    r.h = p.b;
    r.n = threads * per_thread;
    r.timeout_ms = timeout_ms + 10000;
    wt_thread *server = wt_thread_start(reply_thread, &r);
    static req_job jobs[8];
    wt_thread *t[8];
    for (int i = 0; i < threads; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].h = p.a;
        jobs[i].id = i;
        jobs[i].n = per_thread;
        jobs[i].timeout_ms = timeout_ms;
        t[i] = wt_thread_start(request_thread, &jobs[i]);
    }
    char why[1200] = "";
    size_t k = 0;
    int bad = 0;
    uint64_t max_ms = 0;
    for (int i = 0; i < threads; i++) {
        wt_thread_join_or_die(t[i], 180000, "request thread");
        if (jobs[i].max_ms > max_ms)
            max_ms = jobs[i].max_ms;
        if (jobs[i].bad && k < sizeof why) {
            bad++;
            k += (size_t)snprintf(why + k, sizeof why - k, "thread %d %.250s; ", i, jobs[i].err);
        }
    }
    void *srv = wt_thread_join_or_die(server, 60000, "reply thread");
    WT_CHECK(bad == 0 && srv == NULL, "%s reply thread: %.500s", why, srv ? r.err : "ok");
    uint8_t small[4];
    size_t got = 0;
    WT_ASSERT_FAILS(wipc_request(p.a, 1, "abc", 3, small, sizeof small, &got, 20), WIPC_E_TIMEOUT); /* nobody answers */
    pair_close(&p);
    return max_ms;
}

static void test_shm_requests_many_threads(void **state)
{
    (void)state;
    run_requests("shm-req", 4, 16, 5000);
}

/* Many requesters on one channel: the thread reading the ring hands the others their replies. A
 * requester whose reply was handed over just before it took the ring itself must see that at once;
 * it used to wait for more data until its timeout, then return the reply (20 s here: far above any
 * scheduling delay, so only that bug fails the bound). */
static void test_shm_requests_reply_before_role(void **state)
{
    (void)state;
    for (int round = 0; round < WT_SCALE(300, 40); round++) { /* the race is likeliest while the threads start */
        uint64_t max_ms = run_requests("shm-req-race", 8, 4, 20000);
        WT_CHECK(max_ms < 10000, "round %d: a request took %llu ms (its reply had come long before)", round,
                 (unsigned long long)max_ms);
    }
}

typedef struct seq_job {
    wipc_handle h;
    uint32_t id;
    int n;
    wipc_status st;
} seq_job;

static void *seq_sender(void *arg)
{
    seq_job *j = (seq_job *)arg;
    for (int i = 0; i < j->n && j->st == WIPC_OK; i++) {
        uint32_t v[2] = { j->id, (uint32_t)i };
        j->st = wipc_send(j->h, j->id, v, sizeof v, 5000);
    }
    return NULL;
}

static void test_shm_concurrent_senders(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-senders", 4096); /* small: senders block on the full ring and take turns */
    enum { THREADS = 4, PER = 5000 };
    seq_job jobs[THREADS];
    wt_thread *t[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        jobs[i] = (seq_job){ p.a, i, PER, WIPC_OK };
        t[i] = wt_thread_start(seq_sender, &jobs[i]);
    }
    int next[THREADS] = { 0 };
    for (int k = 0; k < THREADS * PER; k++) {
        uint32_t v[2];
        size_t n = 0;
        uint32_t type = 0;
        WT_OK(wipc_recv(p.b, v, sizeof v, &n, &type, 5000));
        WT_CHECK(n == sizeof v && v[0] < THREADS && (int)v[1] == next[v[0]], "message %d: thread %u seq %u", k, v[0],
                 v[1]);
        next[v[0]]++;
    }
    for (int i = 0; i < THREADS; i++) {
        wt_thread_join_or_die(t[i], 10000, "sender");
        assert_int_equal(jobs[i].st, WIPC_OK);
    }
    pair_close(&p);
}

static void test_shm_close_wakes_blocked(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-closewake", 16 * KIB);
    io_job r = { p.a, 0, 64, 10000, 0, 0, "" }; /* nothing comes from the opener */
    wt_thread *tr = wt_thread_start(io_thread, &r);
    fill_ring(p.a); /* the opener never reads */
    io_job s = { p.a, 1, 1000, 10000, 0, 0, "" };
    wt_thread *ts = wt_thread_start(io_thread, &s);
    wt_sleep_ms(200);
    WT_OK(wipc_close(p.a));
    p.a = 0;
    wt_thread_join_or_die(ts, 5000, "blocked send");
    wt_thread_join_or_die(tr, 5000, "blocked recv");
    WT_CHECK(s.st == WIPC_E_CLOSED, "blocked send got %s (%s)", wipc_status_name(s.st), s.msg);
    WT_CHECK(r.st == WIPC_E_CLOSED, "blocked recv got %s (%s)", wipc_status_name(r.st), r.msg);
    WT_CHECK(s.elapsed_ms < 2000 && r.elapsed_ms < 2000, "woke after %llu / %llu ms", (unsigned long long)s.elapsed_ms,
             (unsigned long long)r.elapsed_ms);
    pair_close(&p);
}

static void test_shm_recv_closed_while_waiting(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-recvclose", 16 * KIB);
    io_job r = { p.b, 0, 64, 10000, 0, 0, "" };
    wt_thread *tr = wt_thread_start(io_thread, &r);
    wt_sleep_ms(200);
    WT_OK(wipc_close(p.b));
    p.b = 0;
    wt_thread_join_or_die(tr, 5000, "blocked recv");
    WT_CHECK(r.st == WIPC_E_CLOSED, "recv got %s (%s)", wipc_status_name(r.st), r.msg);
    WT_CHECK(r.elapsed_ms < 2000, "recv woke after %llu ms", (unsigned long long)r.elapsed_ms);
    pair_close(&p);
}

static void test_shm_creator_close_drains(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-drain", 16 * KIB);
    WT_OK(wipc_send(p.a, 1, "last", 4, 1000));
    WT_OK(wipc_close(p.a));
    p.a = 0;
    char buf[16];
    size_t n = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(p.b, buf, sizeof buf, &n, &type, 1000)); /* sent before the close: still delivered */
    assert_int_equal(n, 4);
    WT_ASSERT_FAILS(wipc_recv(p.b, buf, sizeof buf, &n, &type, 1000), WIPC_E_DISCONNECTED);
    WT_ASSERT_FAILS(wipc_send(p.b, 1, "x", 1, 1000), WIPC_E_DISCONNECTED);
    pair_close(&p);
}

/* ---- callbacks ----------------------------------------------------------------------------------- */

typedef struct cb_state {
    atomic_int messages;
    atomic_int disconnected;
    atomic_int connected;
    atomic_int bad;
} cb_state;

static int32_t WIPC_CALL on_msg(wipc_handle h, const wipc_message *m, void *user)
{
    cb_state *s = (cb_state *)user;
    if (!wt_check(m->data, m->size, m->type))
        atomic_fetch_add(&s->bad, 1);
    if (m->request_id)
        wipc_reply(h, m->request_id, m->type, m->data, m->size);
    atomic_fetch_add(&s->messages, 1);
    return 0;
}

static void WIPC_CALL on_event(wipc_handle h, int32_t ev, wipc_handle related, wipc_status st, void *user)
{
    (void)h;
    (void)related;
    (void)st;
    cb_state *s = (cb_state *)user;
    if (ev == WIPC_EVENT_DISCONNECTED)
        atomic_fetch_add(&s->disconnected, 1);
    if (ev == WIPC_EVENT_CONNECTED)
        atomic_fetch_add(&s->connected, 1);
}

static void test_shm_callbacks(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-cb", 16 * KIB);
    static cb_state s;
    memset(&s, 0, sizeof s);
    uint8_t buf[2000];
    wt_fill(buf, 100, 1);
    WT_OK(wipc_send(p.b, 1, buf, 100, 1000)); /* queued before the callbacks: delivered first */
    WT_OK(wipc_set_callbacks(p.a, on_msg, on_event, &s));
    WT_ASSERT_FAILS(wipc_set_callbacks(p.a, on_msg, on_event, &s), WIPC_E_INVALID_STATE);
    WT_ASSERT_FAILS(wipc_recv(p.a, buf, sizeof buf, NULL, NULL, 0), WIPC_E_INVALID_STATE);
    const void *cptr;
    size_t n;
    WT_ASSERT_FAILS(wipc_shm_peek(p.a, &cptr, &n, NULL, 0), WIPC_E_INVALID_STATE);
    for (uint32_t i = 2; i < 300; i++) {
        wt_fill(buf, i * 5, i);
        WT_OK(wipc_send(p.b, i, buf, i * 5, 1000));
    }
    WT_CHECK(wt_wait_atomic_ge(&s.messages, 299, 10000), "callbacks got %d of 299", atomic_load(&s.messages));
    size_t got = 0;
    wt_fill(buf, 50, 500);
    WT_OK(wipc_request(p.b, 500, buf, 50, buf + 100, 100, &got, 5000)); /* answered from the callback */
    assert_int_equal(got, 50);
    WT_OK(wipc_close(p.b));
    p.b = 0;
    WT_CHECK(wt_wait_atomic_ge(&s.disconnected, 1, 3000), "DISCONNECTED event");
    WT_OK(wipc_shm_open(p.name, NULL, 1000, &p.b)); /* a new opener attaches */
    WT_CHECK(wt_wait_atomic_ge(&s.connected, 1, 3000), "CONNECTED event for the new opener");
    wt_fill(buf, 10, 7);
    WT_OK(wipc_send(p.b, 7, buf, 10, 1000));
    WT_CHECK(wt_wait_atomic_ge(&s.messages, 301, 3000), "message from the new opener");
    assert_int_equal(atomic_load(&s.bad), 0);
    pair_close(&p);
}

/* ---- short-lived openers (sessions) --------------------------------------------------------------- */

/* What a creator with callbacks saw, in order: 'C' CONNECTED, 'M' a message (pid, text), 'D'
 * DISCONNECTED, 'E' anything else. Callbacks of one handle never run concurrently: one writer. */
typedef struct sess_entry {
    char what;
    uint32_t pid;
    char text[24];
} sess_entry;

typedef struct sess_log {
    sess_entry e[64];
    atomic_int n;
} sess_log;

static void sess_add(sess_log *l, char what, uint32_t pid, const void *data, size_t size)
{
    int i = atomic_load(&l->n);
    if (i >= 64)
        return;
    sess_entry *e = &l->e[i];
    e->what = what;
    e->pid = pid;
    size_t n = size < sizeof e->text - 1 ? size : sizeof e->text - 1;
    if (n)
        memcpy(e->text, data, n);
    e->text[n] = '\0';
    atomic_store(&l->n, i + 1);
}

static int32_t WIPC_CALL sess_on_msg(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    sess_add((sess_log *)user, 'M', m->peer_pid, m->data, m->size);
    return 0;
}

static void WIPC_CALL sess_on_event(wipc_handle h, int32_t ev, wipc_handle related, wipc_status st, void *user)
{
    (void)h;
    (void)related;
    (void)st;
    sess_add((sess_log *)user,
             ev == WIPC_EVENT_CONNECTED      ? 'C'
             : ev == WIPC_EVENT_DISCONNECTED ? 'D'
                                             : 'E',
             0, NULL, 0);
}

/* The log as text, e.g. "C M(1234,msg0) D", for failure messages. */
static const char *sess_text(sess_log *l, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < atomic_load(&l->n) && k + 48 < cap; i++) {
        const sess_entry *e = &l->e[i];
        k += (size_t)(e->what == 'M' ? snprintf(buf + k, cap - k, "M(%u,%s) ", (unsigned)e->pid, e->text)
                                     : snprintf(buf + k, cap - k, "%c ", e->what));
    }
    return buf;
}

/* Runs `shm_peer send name text [hold_ms]` to its end; returns its pid. */
static uint32_t run_sender(const char *name, const char *text, const char *hold)
{
    const char *args[] = { "send", name, text, hold, NULL };
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "spawn shm_peer send");
    uint32_t pid = wt_proc_pid(p);
    char what[64];
    snprintf(what, sizeof what, "shm_peer send %s", text);
    wt_expect_exit_0(p, 30000, what);
    return pid;
}

/* Waits until the log holds `want` entries, then a little longer for anything extra. */
static void sess_wait(sess_log *l, int want)
{
    wt_wait_atomic_ge(&l->n, want, 10000);
    wt_sleep_ms(300);
}

/* Each opener in the log as "C M(pid,text) D" (a "-" opener sent nothing: "C D"). */
static void sess_expect(sess_log *l, int first, int count, const uint32_t *pids, const char *const *texts)
{
    char got[1024], want[512];
    size_t k = 0;
    want[0] = '\0';
    for (int i = 0; i < count; i++)
        k += (size_t)(strcmp(texts[i], "-") == 0
                          ? snprintf(want + k, sizeof want - k, "C D ")
                          : snprintf(want + k, sizeof want - k, "C M(%u,%s) D ", (unsigned)pids[i], texts[i]));
    char *g = got;
    sess_text(l, got, sizeof got);
    for (int i = 0; i < first && strchr(g, ' '); i++) /* skip the entries of earlier openers */
        g = strchr(g, ' ') + 1;
    WT_CHECK(strcmp(g, want) == 0, "creator saw\n  %s\nexpected\n  %s", g, want);
}

/* A creator with callbacks and openers in other processes that attach, send one message and leave
 * (some before the creator notices they attached): each one's CONNECTED, its message with its pid,
 * then its DISCONNECTED, in order, and wipc_get_info follows whoever is attached now. */
static void test_shm_short_lived_openers(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = create_named(name, "shm-sessions", 64 * KIB);
    static sess_log l;
    memset(&l, 0, sizeof l);
    WT_OK(wipc_set_callbacks(a, sess_on_msg, sess_on_event, &l));

    /* five openers, 0.2 s apart */
    const char *texts[] = { "msg0", "msg1", "msg2", "msg3", "msg4" };
    uint32_t pids[5];
    for (int i = 0; i < 5; i++) {
        pids[i] = run_sender(name, texts[i], "0");
        wt_sleep_ms(200);
    }
    sess_wait(&l, 15);
    sess_expect(&l, 0, 5, pids, texts);

    /* back to back, one of them silent: the creator may see none of them attached */
    const char *burst[] = { "b0", "-", "b2", "b3" };
    uint32_t bpids[4];
    for (int i = 0; i < 4; i++)
        bpids[i] = run_sender(name, burst[i], "0");
    sess_wait(&l, 15 + 11);
    sess_expect(&l, 15, 4, bpids, burst);

    /* an opener that stays a while: wipc_get_info reports it while attached, 0 after */
    for (int round = 0; round < 2; round++) {
        const char *args[] = { "send", name, round ? "held1" : "held0", "1500", NULL };
        wt_proc *p = wt_spawn_ready(args);
        uint32_t pid = wt_proc_pid(p);
        uint64_t end = wt_now_ms() + 5000;
        wipc_info in = wt_info(a);
        while (!(in.connected && in.peer_pid == pid) && wt_now_ms() < end) {
            wt_sleep_ms(5);
            in = wt_info(a);
        }
        WT_CHECK(in.connected && in.peer_pid == pid, "get_info: connected %u peer_pid %u, the opener is %u",
                 (unsigned)in.connected, (unsigned)in.peer_pid, (unsigned)pid);
        wt_expect_exit_0(p, 30000, "held opener");
        WT_CHECK(wait_connected(a, 0, 5000), "the creator sees its opener leave");
        in = wt_info(a);
        assert_int_equal(in.peer_pid, 0);
        const char *t[] = { round ? "held1" : "held0" };
        sess_wait(&l, 26 + 3 * (round + 1));
        sess_expect(&l, 26 + 3 * round, 1, &pid, t);
    }
    WT_OK(wipc_close(a));
}

/* The same without callbacks: wipc_recv_message attributes each message to the opener that sent it. */
static void test_shm_short_lived_openers_recv(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = create_named(name, "shm-sessions-recv", 64 * KIB);
    uint32_t pids[3];
    pids[0] = run_sender(name, "r0", "0");
    pids[1] = run_sender(name, "r1", "0");
    pids[2] = run_sender(name, "r2", "0");
    for (int i = 0; i < 3; i++) {
        char buf[16];
        wipc_message m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        WT_OK(wipc_recv_message(a, buf, sizeof buf, &m, 5000));
        WT_CHECK(m.size == 2 && buf[1] == '0' + i && m.peer_pid == pids[i],
                 "message %d: \"%.*s\" from pid %u, expected r%d from %u", i, (int)m.size, buf, (unsigned)m.peer_pid, i,
                 (unsigned)pids[i]);
    }
    WT_OK(wipc_close(a));
}

/* An opener whose creator sent messages and closed: with callbacks (set before or after it noticed)
 * it gets the messages first, then DISCONNECTED. */
static void test_shm_opener_disconnect_after_messages(void **state)
{
    (void)state;
    for (int late = 0; late < 2; late++) {
        chan_pair p;
        pair_open(&p, "shm-odisc", 16 * KIB);
        static sess_log l;
        memset(&l, 0, sizeof l);
        if (!late)
            WT_OK(wipc_set_callbacks(p.b, sess_on_msg, sess_on_event, &l));
        for (int i = 0; i < 5; i++) {
            char t[8];
            snprintf(t, sizeof t, "m%d", i);
            WT_OK(wipc_send(p.a, 1, t, strlen(t), 1000));
        }
        WT_OK(wipc_close(p.a));
        p.a = 0;
        WT_CHECK(wait_connected(p.b, 0, 3000), "the opener notices its creator left");
        if (late)
            WT_OK(wipc_set_callbacks(p.b, sess_on_msg, sess_on_event, &l));
        sess_wait(&l, 6);
        char got[1024], want[256];
        snprintf(want, sizeof want, "M(%u,m0) M(%u,m1) M(%u,m2) M(%u,m3) M(%u,m4) D ", wt_self_pid(), wt_self_pid(),
                 wt_self_pid(), wt_self_pid(), wt_self_pid());
        WT_CHECK(strcmp(sess_text(&l, got, sizeof got), want) == 0,
                 "callbacks set %s: the opener saw\n  %s\nexpected\n  %s", late ? "late" : "first", got, want);
        pair_close(&p);
    }
}

/* ---- the callback reader thread ------------------------------------------------------------------ */

/* CPU time this process used so far, in ms (all threads). */
static uint64_t cpu_ms(void)
{
#ifdef _WIN32
    FILETIME c, e, k, u;
    GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u);
    uint64_t kt = ((uint64_t)k.dwHighDateTime << 32) | k.dwLowDateTime,
             ut = ((uint64_t)u.dwHighDateTime << 32) | u.dwLowDateTime;
    return (kt + ut) / 10000u;
#else
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#endif
}

static int32_t WIPC_CALL echo_msg(wipc_handle h, const wipc_message *m, void *user)
{
    (void)user;
    if (m->request_id)
        wipc_reply(h, m->request_id, m->type, m->data, m->size);
    return 0;
}

/* A creator with callbacks answers requests that come now and then. Its reader thread must sleep on
 * the ring's data word between them, not busy-wait spin_us after each message: that spin took the
 * CPU the callback (and the requester) needed and made a request/reply cost ~120 us instead of
 * ~20 us. With spin_us = 100 ms the spin would keep this process busy the whole time. */
static void test_shm_callback_reader_sleeps(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = 0;
    wt_unique_name(name, sizeof name, "shm-cbsleep");
    wipc_shm_options o = opts(64 * KIB);
    o.spin_us = 100000;
    WT_OK(wipc_shm_create(name, &o, &a));
    WT_OK(wipc_set_callbacks(a, echo_msg, NULL, NULL));
    const char *args[] = { "rtt", name, "40", "64", "25000", NULL }; /* 44 requests, 25 ms apart */
    uint64_t wall0 = wt_now_ms(), cpu0 = cpu_ms();
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "spawn shm_peer rtt");
    char line[128] = "";
    int got = wt_proc_read_line(p, line, sizeof line, 30000);
    uint64_t wall = wt_now_ms() - wall0, cpu = cpu_ms() - cpu0;
    int code = -1;
    wt_proc_wait(p, 10000, &code);
    wt_proc_free(p);
    WT_CHECK(got == 0 && code == 0 && strncmp(line, "p50 ", 4) == 0, "shm_peer rtt: \"%s\", exit %d", line, code);
    print_message("request/reply to a callback creator, 25 ms apart: %s (us); creator CPU %llu ms in %llu ms\n", line,
                  (unsigned long long)cpu, (unsigned long long)wall);
    WT_CHECK(cpu * 4 < wall,
             "the creator used %llu ms of CPU in %llu ms while answering 44 requests: its reader thread spins",
             (unsigned long long)cpu, (unsigned long long)wall);
    uint64_t t0 = wt_now_ms();
    WT_OK(wipc_close(a)); /* wakes the sleeping reader thread and joins it */
    WT_CHECK(wt_now_ms() - t0 < 1000, "wipc_close took %llu ms", (unsigned long long)(wt_now_ms() - t0));
}

typedef struct req_io {
    wipc_handle h;
    wipc_status st;
    size_t got;
    char resp[16];
} req_io;

static void *one_request(void *arg)
{
    req_io *r = (req_io *)arg;
    r->st = wipc_request(r->h, 3, "ping", 4, r->resp, sizeof r->resp, &r->got, 10000);
    return NULL;
}

/* Callbacks set while this side's threads read the ring themselves: a blocked wipc_recv ends with
 * WIPC_E_INVALID_STATE at once, a wipc_request in flight gets its reply from the reader thread, and
 * the next message goes to on_message. */
static void test_shm_callbacks_set_while_reading(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-cbhand", 16 * KIB);
    io_job r = { p.a, 0, 64, 10000, 0, 0, "" };
    wt_thread *tr = wt_thread_start(io_thread, &r); /* reads the ring itself (the role was free) */
    wt_sleep_ms(100);
    req_io q = { p.a, -100, 0, "" };
    wt_thread *tq = wt_thread_start(one_request, &q); /* waits for the receiver to give the ring up */
    wt_sleep_ms(200);
    static cb_state s;
    memset(&s, 0, sizeof s);
    WT_OK(wipc_set_callbacks(p.a, on_msg, on_event, &s));
    wt_thread_join_or_die(tr, 3000, "recv blocked when the callbacks were set");
    WT_CHECK(r.st == WIPC_E_INVALID_STATE && r.elapsed_ms < 2000, "blocked recv got %s after %llu ms (%s)",
             wipc_status_name(r.st), (unsigned long long)r.elapsed_ms, r.msg);
    char buf[16];
    wipc_message m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    WT_OK(wipc_recv_message(p.b, buf, sizeof buf, &m, 5000)); /* the request */
    assert_int_equal(m.size, 4);
    WT_OK(wipc_reply(p.b, m.request_id, 4, "pong", 4));
    wt_thread_join_or_die(tq, 5000, "request in flight when the callbacks were set");
    WT_CHECK(q.st == WIPC_OK && q.got == 4 && memcmp(q.resp, "pong", 4) == 0, "request got %s", wipc_status_name(q.st));
    wt_fill(buf, 8, 8);
    WT_OK(wipc_send(p.b, 8, buf, 8, 1000));
    WT_CHECK(wt_wait_atomic_ge(&s.messages, 1, 3000), "on_message after the hand-over");
    assert_int_equal(atomic_load(&s.bad), 0);
    /* the opener attached before the callbacks: its CONNECTED still comes, before its DISCONNECTED */
    WT_CHECK(wt_wait_atomic_ge(&s.connected, 1, 3000), "CONNECTED for the opener attached before the callbacks");
    WT_OK(wipc_close(p.b));
    p.b = 0;
    WT_CHECK(wt_wait_atomic_ge(&s.disconnected, 1, 3000), "DISCONNECTED");
    wt_sleep_ms(100);
    assert_int_equal(atomic_load(&s.connected), 1);
    assert_int_equal(atomic_load(&s.disconnected), 1);
    pair_close(&p);
}

/* ---- across processes ---------------------------------------------------------------------------- */

static void run_stress(const char *tag, long n, uint64_t capacity, int zc)
{
    char name[160], nbuf[32], cbuf[32], seed[32];
    wt_unique_name(name, sizeof name, tag);
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    snprintf(cbuf, sizeof cbuf, "%llu", (unsigned long long)capacity);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)wt_now_ms());
    const char *cargs[] = { "stress-create", name, nbuf, seed, cbuf, zc ? "zc" : "copy", NULL };
    const char *oargs[] = { "stress-open", name, nbuf, seed, cbuf, zc ? "zc" : "copy", NULL };
    wt_proc *c = wt_spawn_ready(cargs);
    wt_proc *o = wt_spawn_peer(oargs);
    WT_CHECK(o != NULL, "spawn the opener");
    char line[128];
    int ok_c = wt_proc_read_line(c, line, sizeof line, 600000) == 0 && strncmp(line, "DONE", 4) == 0;
    int ok_o = wt_proc_read_line(o, line, sizeof line, 600000) == 0 && strncmp(line, "DONE", 4) == 0;
    int code_c = -1, code_o = -1;
    wt_proc_wait(c, 30000, &code_c);
    wt_proc_wait(o, 30000, &code_o);
    wt_proc_free(c);
    wt_proc_free(o);
    WT_CHECK(ok_c && ok_o && code_c == 0 && code_o == 0, "stress %s: creator %s (exit %d), opener %s (exit %d)", tag,
             ok_c ? "done" : "FAILED", code_c, ok_o ? "done" : "FAILED", code_o);
}

static void test_shm_stress_copy(void **state)
{
    (void)state;
    run_stress("shm-stress", WT_SCALE(1000000, 100000), 4096, 0);
    run_stress("shm-stress-big", WT_SCALE(50000, 2000), 256 * KIB, 0);
}

static void test_shm_stress_zero_copy(void **state)
{
    (void)state;
    run_stress("shm-stress-zc", WT_SCALE(1000000, 100000), 4096, 1);
}

/* A batch of small messages written while the reader sleeps, or is falling asleep, wakes it
 * (the first publication takes the wait word and wakes; the rest of the batch sees it 0): none is
 * lost or left unseen. The rounds sweep when the batch begins across the reader's spin-then-sleep
 * (0 to ~250 us after its last message, and 20 ms: asleep), so some publications race the reader's
 * wait-word store. A missed wake-up leaves the reader asleep for its slice (60 s while it watches
 * this process), past the 20 s each ack is given. Linux: once more with the peer on the symmetric
 * protocol (WIPC_SHM_NO_MEMBARRIER=1: its side has no WIPC__SHM_SIDE_ASYM, as a library that predates
 * it), so this side must keep its fence towards it while the peer's sends to us skip theirs. */
static void batch_rounds(int symmetric_peer)
{
    enum { K = 200, ROUNDS = 60 };
    char name[160], kbuf[16], rbuf[16];
    wipc_handle a = create_named(name, symmetric_peer ? "shm-batch-sym" : "shm-batch", 64 * KIB);
    snprintf(kbuf, sizeof kbuf, "%d", (int)K);
    snprintf(rbuf, sizeof rbuf, "%d", (int)ROUNDS);
    const char *args[] = { "batches", name, kbuf, rbuf, NULL };
#ifndef _WIN32
    if (symmetric_peer)
        setenv("WIPC_SHM_NO_MEMBARRIER", "1", 1); /* read once per process: this one has decided already */
#endif
    wt_proc *peer = wt_spawn_ready(args);
#ifndef _WIN32
    unsetenv("WIPC_SHM_NO_MEMBARRIER");
#endif
    WT_CHECK(wait_connected(a, 1, 5000), "the opener attached");
    for (uint32_t r = 0; r < ROUNDS; r++) {
        if (r % 4 == 3) {
            wt_sleep_ms(20);
        } else {
            double until = wt_now_us() + (double)(r * 13u % 250u);
            while (wt_now_us() < until) {
            }
        }
        for (uint32_t i = 0; i < K; i++) {
            uint32_t v[2] = { r, i };
            WT_OK(wipc_send(a, 5, v, sizeof v, 20000));
        }
        uint32_t ack = UINT32_MAX, type = 0;
        size_t n = 0;
        WT_OK(wipc_recv(a, &ack, sizeof ack, &n, &type, 20000));
        WT_CHECK(type == 6 && n == sizeof ack && ack == r, "round %u: ack type %u, %zu bytes, round %u", (unsigned)r,
                 (unsigned)type, n, (unsigned)ack);
    }
    WT_OK(wipc_close(a)); /* the peer sees DISCONNECTED and exits 0 */
    wt_expect_exit_0(peer, 10000, "batches peer");
}

static void test_shm_batch_wakeups(void **state)
{
    (void)state;
    batch_rounds(0);
#ifndef _WIN32
    batch_rounds(1);
#endif
}

static void test_shm_peer_killed_while_recv(void **state)
{
    (void)state;
    chan_pair p;
    memset(&p, 0, sizeof p);
    p.a = create_named(p.name, "shm-killrecv", 64 * KIB);
    wt_proc *peer = spawn_shm_peer("hold", p.name);
    WT_CHECK(wait_connected(p.a, 1, 5000), "the opener attached");
    io_job r = { p.a, 0, 64, 20000, 0, 0, "" };
    kill_while_blocked(peer, &r, "recv blocked on a killed peer");
    /* the dead opener's slot can be taken: a new opener attaches and the channel works again */
    peer = spawn_shm_peer("echo", p.name);
    char buf[16];
    size_t n = 0;
    WT_OK(wipc_request(p.a, 1, "hi", 2, buf, sizeof buf, &n, 5000));
    assert_int_equal(n, 2);
    WT_OK(wipc_close(p.a)); /* the echo peer sees DISCONNECTED and exits 0 */
    wt_expect_exit_0(peer, 5000, "echo peer");
}

static void test_shm_peer_killed_while_ring_full(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = create_named(name, "shm-killfull", 16 * KIB);
    wt_proc *peer = spawn_shm_peer("hold", name);
    WT_CHECK(wait_connected(a, 1, 5000), "the opener attached");
    WT_CHECK(fill_ring(a) > 5, "the ring took some messages");
    io_job s = { a, 1, 1000, 20000, 0, 0, "" };
    kill_while_blocked(peer, &s, "send blocked on a full ring");
    WT_OK(wipc_close(a));
}

static void test_shm_creator_killed(void **state)
{
    (void)state;
    char name[160];
    wipc_handle b = 0;
    wt_unique_name(name, sizeof name, "shm-killcreator");
    wt_proc *peer = spawn_shm_peer("create-hold", name);
    WT_OK(wipc_shm_open(name, NULL, 5000, &b));
    io_job r = { b, 0, 64, 20000, 0, 0, "" };
    kill_while_blocked(peer, &r, "recv blocked on a killed creator");
    WT_OK(wipc_close(b));
    /* both sides gone: the name can be created again (a stale section is reclaimed) */
    wipc_handle a = 0;
    WT_OK(wipc_shm_create(name, NULL, &a));
    WT_OK(wipc_close(a));
}

static void test_shm_cross_process_1mib(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = create_named(name, "shm-mib", 4 * MIB);
    wt_proc *peer = spawn_shm_peer("echo", name);
    uint8_t *out = (uint8_t *)malloc(MIB), *in = (uint8_t *)malloc(MIB);
    for (uint32_t i = 0; i < 20; i++) {
        size_t n = 0;
        uint32_t type = 0;
        wt_fill(out, MIB, i);
        if (i & 1) {
            WT_OK(wipc_request(a, i, out, MIB, in, MIB, &n, 10000));
        } else {
            WT_OK(wipc_send(a, i, out, MIB, 10000));
            WT_OK(wipc_recv(a, in, MIB, &n, &type, 10000));
            assert_int_equal(type, i + 1);
        }
        assert_int_equal(n, MIB);
        assert_true(wt_check(in, n, i));
    }
    wipc_info in_info = wt_info(a);
    assert_int_equal(in_info.peer_pid, wt_proc_pid(peer));
    free(out);
    free(in);
    WT_OK(wipc_close(a));
    wt_expect_exit_0(peer, 5000, "echo peer");
}

/* Messages larger than the 1 MiB ring, up to max_message_size, streamed through it in pieces both
 * ways (the echo peer answers each), by wipc_send / wipc_recv and wipc_request, with small messages
 * in between: each arrives whole and in order. */
static void test_shm_stream_through_ring(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = create_named(name, "shm-stream", MIB);
    wt_proc *peer = spawn_shm_peer("echo", name);
    const size_t sizes[] = { MIB - REC_HDR, MIB - REC_HDR + 1, MIB, MIB + 1, 4 * MIB, 3, WIPC_DEFAULT_MAX_MESSAGE };
    uint8_t *out = (uint8_t *)malloc(WIPC_DEFAULT_MAX_MESSAGE), *in = (uint8_t *)malloc(WIPC_DEFAULT_MAX_MESSAGE);
    assert_non_null(out);
    assert_non_null(in);
    for (uint32_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = 0, size = sizes[i];
        uint32_t type = 0;
        wt_fill(out, size, i);
        WT_OK(wipc_send(a, 100 + i, out, size, 20000));
        WT_OK(wipc_send(a, 200 + i, "tail", 4, 20000)); /* right behind the pieces */
        memset(in, 0, size);
        WT_OK(wipc_recv(a, in, WIPC_DEFAULT_MAX_MESSAGE, &n, &type, 20000));
        assert_int_equal(n, size);
        assert_int_equal(type, 101 + i);
        WT_CHECK(wt_check(in, n, i), "the %zu-byte message came back intact", size);
        WT_OK(wipc_recv(a, in, 64, &n, &type, 20000));
        assert_int_equal(n, 4);
        assert_int_equal(type, 201 + i);
        if (size > 4 * MIB)
            continue;
        wt_fill(out, size, i + 50);
        WT_OK(wipc_request(a, i, out, size, in, WIPC_DEFAULT_MAX_MESSAGE, &n, 20000));
        assert_int_equal(n, size);
        WT_CHECK(wt_check(in, n, i + 50), "the %zu-byte reply came back intact", size);
    }
    /* a streamed message a too-small buffer refused stays queued, whole */
    wt_fill(out, 2 * MIB, 7);
    WT_OK(wipc_send(a, 1, out, 2 * MIB, 20000));
    size_t n = 0;
    uint32_t type = 0;
    WT_ASSERT_FAILS(wipc_recv(a, in, MIB, &n, &type, 20000), WIPC_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 2 * MIB);
    WT_OK(wipc_recv(a, in, 2 * MIB, &n, &type, 20000));
    assert_int_equal(n, 2 * MIB);
    assert_true(wt_check(in, n, 7));
    /* above this side's max_message_size: refused before anything is sent */
    WT_ASSERT_FAILS(wipc_send(a, 1, out, WIPC_DEFAULT_MAX_MESSAGE + 1, 0), WIPC_E_TOO_LARGE);
    free(out);
    free(in);
    WT_OK(wipc_close(a));
    wt_expect_exit_0(peer, 5000, "echo peer");
}

/* ring `ring`'s head index, read through a raw mapping of the section */
static uint64_t raw_head(const raw_map *m, unsigned ring)
{
    uint64_t v;
    memcpy(&v, m->base + 192 + 256 * ring, sizeof v);
    return v;
}

/* An opener killed in the middle of a streamed message: the creator reads its pieces, reports
 * WIPC_E_DISCONNECTED and never a partial message; the next opener's message arrives whole. The
 * same for a sender that times out mid-message (in-process): the pieces are dropped, not delivered. */
static void test_shm_stream_sender_killed(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = create_named(name, "shm-streamkill", 64 * KIB);
    raw_map m;
    WT_CHECK(raw_open(&m, name) == 0, "raw mapping of the section");
    const char *args[] = { "send-big", name, "4194304", NULL };
    wt_proc *peer = wt_spawn_ready(args);
    uint64_t end = wt_now_ms() + 10000;
    while (raw_head(&m, 1) < 32 * KIB && wt_now_ms() < end) /* pieces wait in the ring: mid-message */
        wt_sleep_ms(5);
    WT_CHECK(raw_head(&m, 1) >= 32 * KIB, "the sender published pieces (head %llu)",
             (unsigned long long)raw_head(&m, 1));
    raw_close(&m);
    kill_peer(peer);
    static uint8_t buf[64 * KIB];
    size_t n = 0;
    uint32_t type = 0;
    wipc_status st = wipc_recv(a, buf, sizeof buf, &n, &type, 5000);
    WT_CHECK(st == WIPC_E_DISCONNECTED, "recv after the sender died mid-message: %s, %zu bytes (%s)",
             wipc_status_name(st), n, wipc_last_error_message());
    const char *args2[] = { "send", name, "hello", NULL };
    peer = wt_spawn_ready(args2);
    WT_OK(wipc_recv(a, buf, sizeof buf, &n, &type, 5000));
    assert_int_equal(n, 5);
    assert_int_equal(type, 7);
    assert_memory_equal(buf, "hello", 5);
    wt_expect_exit_0(peer, 5000, "send peer");
    WT_OK(wipc_close(a));

    /* in-process: a send that times out mid-message (nobody reads) */
    chan_pair p;
    pair_open(&p, "shm-streamtimeout", 16 * KIB);
    uint8_t *big = (uint8_t *)calloc(1, MIB);
    WT_ASSERT_FAILS(wipc_send(p.a, 1, big, MIB, 300), WIPC_E_TIMEOUT);
    WT_ASSERT_FAILS(wipc_recv(p.b, buf, sizeof buf, &n, &type, 300),
                    WIPC_E_TIMEOUT); /* takes the pieces, delivers nothing */
    WT_OK(wipc_send(p.a, 2, "x", 1, 1000));
    WT_OK(wipc_recv(p.b, buf, sizeof buf, &n, &type, 1000));
    assert_int_equal(n, 1);
    assert_int_equal(type, 2);
    /* and the channel still streams */
    io_job rj = { p.b, 0, MIB, 10000, 0, 0, "" };
    wt_thread *t = wt_thread_start(io_thread, &rj);
    WT_OK(wipc_send(p.a, 3, big, MIB, 10000));
    wt_thread_join_or_die(t, 20000, "reader of a streamed message");
    WT_CHECK(rj.st == WIPC_OK, "recv of the streamed message: %s (%s)", wipc_status_name(rj.st), rj.msg);
    free(big);
    pair_close(&p);
}

/* A 1 MiB wipc_send that fits the 8 MiB ring still goes through it in pieces (a BEGIN of at most
 * 128 KiB, then PARTs), so the reader copies one piece while the writer fills the next; as one record
 * the two took turns, each waiting a whole copy for the other (longer than its spin: a sleep and a
 * wake-up per message). It arrives whole. */
static void test_shm_stream_fitting_in_pieces(void **state)
{
    (void)state;
    char name[160];
    const uint64_t cap = 8 * MIB;
    wipc_handle a = create_named(name, "shm-streamfit", cap);
    raw_map m;
    WT_CHECK(raw_open(&m, name) == 0, "raw mapping of the section");
    const char *args[] = { "send-big", name, "1048576", NULL };
    wt_proc *peer = wt_spawn_ready(args);
    wt_expect_exit_0(peer, 20000, "send-big peer"); /* nobody reads yet: the whole message is in the ring */
    const uint8_t *rec = m.base + 4096 + cap; /* ring 1 (opener to creator), its first record */
    uint32_t len, total_lo;
    memcpy(&len, rec, 4);
    memcpy(&total_lo, rec + REC_HDR, 4);
    WT_CHECK(rec[4] == (0x80 | 1) && len <= 128 * KIB && total_lo == MIB,
             "the first record is a BEGIN piece (kind 0x%x, %lu bytes, total %lu)", rec[4], (unsigned long)len,
             (unsigned long)total_lo);
    raw_close(&m);
    uint8_t *in = (uint8_t *)malloc(MIB);
    assert_non_null(in);
    size_t n = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(a, in, MIB, &n, &type, 10000));
    WT_CHECK(n == MIB && type == 9 && wt_check(in, n, 9), "the 1 MiB message arrived whole (%zu bytes)", n);
    free(in);
    WT_OK(wipc_close(a));
}

#ifndef _WIN32
#  include <signal.h>

/* A wipc_recv assembles a streamed message straight in its buffer. One that times out mid-message
 * (the sender frozen by SIGSTOP) leaves the part to the next receive, which gets the whole message
 * although the first buffer was overwritten and freed; a sender killed mid-message after such a
 * timeout delivers nothing. */
static void test_shm_stream_recv_resumes(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = create_named(name, "shm-streamresume", 64 * KIB);
    for (int round = 0; round < 2; round++) {
        raw_map m;
        WT_CHECK(raw_open(&m, name) == 0, "raw mapping of the section");
        uint64_t from = raw_head(&m, 1);
        const char *args[] = { "send-big", name, "1048576", NULL };
        wt_proc *peer = wt_spawn_ready(args);
        uint64_t end = wt_now_ms() + 10000;
        while (raw_head(&m, 1) - from < 32 * KIB && wt_now_ms() < end) /* pieces wait: the sender blocks */
            wt_sleep_ms(5);
        WT_CHECK(raw_head(&m, 1) - from >= 32 * KIB, "the sender published pieces");
        raw_close(&m);
        pid_t pid = (pid_t)wt_proc_pid(peer);
        kill(pid, SIGSTOP);
        uint8_t *first = (uint8_t *)malloc(MIB), *second = (uint8_t *)malloc(MIB);
        assert_non_null(first);
        assert_non_null(second);
        size_t n = 0;
        uint32_t type = 0;
        WT_ASSERT_FAILS(wipc_recv(a, first, MIB, &n, &type, 300), WIPC_E_TIMEOUT); /* takes the pieces there */
        memset(first, 0xEE, MIB); /* the caller owns its buffer again */
        free(first);
        if (round == 0) {
            kill(pid, SIGCONT);
            WT_OK(wipc_recv(a, second, MIB, &n, &type, 20000));
            WT_CHECK(n == MIB && type == 9 && wt_check(second, n, 9), "the message arrived whole (%zu bytes)", n);
            wt_expect_exit_0(peer, 20000, "send-big peer");
        } else {
            kill_peer(peer);
            wipc_status st = wipc_recv(a, second, MIB, &n, &type, 5000);
            WT_CHECK(st == WIPC_E_DISCONNECTED, "recv after the sender died mid-message: %s, %zu bytes",
                     wipc_status_name(st), n);
        }
        free(second);
    }
    WT_OK(wipc_close(a));
}
#endif

/* A creator streams a message larger than the ring before its first opener attached: the send waits
 * for the opener (within its timeout), which then gets the message whole. */
static void test_shm_stream_before_opener(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = create_named(name, "shm-streamearly", 64 * KIB), b = 0;
    static uint8_t buf[64];
    WT_ASSERT_FAILS(wipc_send(a, 1, buf, 64 * KIB, 200), WIPC_E_TIMEOUT);
    WT_CHECK(strstr(wipc_last_error_message(), "no opener") != NULL, "says why: %s", wipc_last_error_message());
    io_job sj = { a, 1, 256 * KIB, 10000, 0, 0, "" };
    wt_thread *t = wt_thread_start(io_thread, &sj);
    wt_sleep_ms(100);
    WT_OK(wipc_shm_open(name, NULL, 2000, &b));
    uint8_t *in = (uint8_t *)malloc(256 * KIB);
    size_t n = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(b, in, 256 * KIB, &n, &type, 10000));
    assert_int_equal(n, 256 * KIB);
    assert_int_equal(type, 1);
    wt_thread_join_or_die(t, 20000, "early sender");
    WT_CHECK(sj.st == WIPC_OK, "send before the opener: %s (%s)", wipc_status_name(sj.st), sj.msg);
    free(in);
    WT_OK(wipc_close(b));
    WT_OK(wipc_close(a));
}

typedef struct async_done {
    atomic_int done;
    wipc_status st;
} async_done;

static void WIPC_CALL on_async_done(const wipc_completion *cp, void *user)
{
    async_done *d = (async_done *)user;
    d->st = cp->status;
    atomic_store(&d->done, 1);
}

/* wipc_send_async of messages larger than the ring: the drain job streams them slice by slice,
 * keeping the writer's turn between slices (a blocking send of another thread goes before or after
 * a streamed message, never between its pieces). */
static void test_shm_stream_async(void **state)
{
    (void)state;
    chan_pair p;
    pair_open(&p, "shm-streamasync", 16 * KIB);
    size_t size = 512 * KIB;
    uint8_t *out = (uint8_t *)malloc(size), *in = (uint8_t *)malloc(size);
    async_done d[2];
    memset(d, 0, sizeof d);
    for (int i = 0; i < 2; i++) {
        wt_fill(out, size, (uint32_t)i);
        WT_OK(wipc_send_async(p.a, 10 + i, out, size, 20000, on_async_done, &d[i], NULL));
    }
    io_job sj = { p.a, 1, 100, 20000, 0, 0, "" }; /* a blocking send behind them */
    wt_thread *t = wt_thread_start(io_thread, &sj);
    wt_sleep_ms(200); /* nobody reads yet: the drain job parks mid-message (20 ms slices), the blocking send waits */
    int next_async = 0, got_blocking = 0;
    for (int i = 0; i < 3; i++) { /* the blocking send may come before, between or after them, never inside */
        size_t n = 0;
        uint32_t type = 0;
        WT_OK(wipc_recv(p.b, in, size, &n, &type, 20000));
        if (type == 1) {
            assert_int_equal(n, 100);
            got_blocking++;
            continue;
        }
        assert_int_equal(type, 10 + next_async);
        assert_int_equal(n, size);
        WT_CHECK(wt_check(in, n, (uint32_t)next_async), "async streamed message %d intact", next_async);
        next_async++;
    }
    assert_int_equal(got_blocking, 1);
    wt_thread_join_or_die(t, 20000, "blocking sender");
    WT_CHECK(sj.st == WIPC_OK, "blocking send: %s (%s)", wipc_status_name(sj.st), sj.msg);
    for (int i = 0; i < 2; i++) {
        WT_CHECK(wt_wait_atomic_ge(&d[i].done, 1, 10000), "async send %d completed", i);
        WT_CHECK(d[i].st == WIPC_OK, "async send %d: %s", i, wipc_status_name(d[i].st));
    }
    free(out);
    free(in);
    pair_close(&p);
}

/* ---- untrusted memory ---------------------------------------------------------------------------- */

/* Writes a record into ring 0 (creator -> opener) of a 16 KiB-ring section at index `pos` and
 * publishes it; returns the next index. */
static uint64_t raw_record(raw_map *m, uint64_t pos, uint32_t len, uint8_t kind, const void *payload, uint32_t plen)
{
    uint8_t hdr[REC_HDR];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, &len, 4);
    hdr[4] = kind;
    uint8_t *at = m->base + 4096 + (pos & (16 * KIB - 1));
    memcpy(at, hdr, sizeof hdr);
    memcpy(at + REC_HDR, payload, plen);
    pos += (REC_HDR + len + 7) & ~(uint64_t)7;
    memcpy(m->base + 192, &pos, sizeof pos); /* head */
    return pos;
}

/* Hostile streamed messages: a total above max_message_size (refused before anything is allocated)
 * and pieces that run past their total; and a peer that does not take pieces (a 1.0 / 1.1 side). */
static void test_shm_stream_hostile(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = 0, b = 0;
    wt_unique_name(name, sizeof name, "shm-streamhostile");
    wipc_shm_options o = opts(16 * KIB);
    static uint8_t buf[64 * KIB];
    size_t n = 0;
    uint32_t type = 0;
    struct {
        uint64_t total;
        uint8_t data[200];
    } begin;
    memset(&begin, 0, sizeof begin);
    raw_map m;
    for (int round = 0; round < 3; round++) {
        WT_OK(wipc_shm_create(name, &o, &a));
        WT_CHECK(raw_open(&m, name) == 0, "raw mapping of the section");
        WT_OK(wipc_shm_open(name, NULL, 1000, &b));
        if (round == 0) { /* 1 TiB announced */
            begin.total = 1ull << 40;
            raw_record(&m, 0, 8 + 100, 0x81, &begin, 8 + 100);
            WT_ASSERT_FAILS(wipc_recv(b, buf, sizeof buf, &n, &type, 1000), WIPC_E_TOO_LARGE);
            WT_CHECK(strstr(wipc_last_error_message(), "announces") != NULL, "names the total: %s",
                     wipc_last_error_message());
        } else if (round == 1) { /* 100 bytes announced, a first piece of 200 */
            begin.total = 100;
            raw_record(&m, 0, 8 + 200, 0x81, &begin, 8 + 200);
            WT_ASSERT_FAILS(wipc_recv(b, buf, sizeof buf, &n, &type, 1000), WIPC_E_PROTOCOL);
        } else { /* a PART with nothing open is skipped; BEGIN then a plain record: the partial is dropped */
            begin.total = 1000;
            uint64_t pos = raw_record(&m, 0, 64, 8, buf, 64);
            pos = raw_record(&m, pos, 8 + 100, 0x81, &begin, 8 + 100);
            raw_record(&m, pos, 2, 1, "ok", 2);
            WT_OK(wipc_recv(b, buf, sizeof buf, &n, &type, 1000));
            assert_int_equal(n, 2);
            assert_memory_equal(buf, "ok", 2);
            WT_ASSERT_FAILS(wipc_recv(b, buf, sizeof buf, &n, &type, 100), WIPC_E_TIMEOUT);
        }
        WT_OK(wipc_close(b));
        WT_OK(wipc_close(a));
        raw_close(&m);
    }
    /* the opener's side says it does not take pieces (as a 1.0 / 1.1 library): TOO_LARGE, nothing sent */
    WT_OK(wipc_shm_create(name, &o, &a));
    WT_CHECK(raw_open(&m, name) == 0, "raw mapping of the section");
    WT_OK(wipc_shm_open(name, NULL, 1000, &b));
    uint32_t flags = 1; /* WIPC__SHM_SIDE_ERRORS only */
    memcpy(m.base + 128 + 12, &flags, 4);
    WT_ASSERT_FAILS(wipc_send(a, 1, buf, 16 * KIB + 1, 1000), WIPC_E_TOO_LARGE);
    WT_CHECK(strstr(wipc_last_error_message(), "pieces") != NULL, "says why: %s", wipc_last_error_message());
    WT_OK(wipc_send(a, 1, buf, 100, 1000)); /* what fits the ring still goes */
    WT_OK(wipc_recv(b, buf, sizeof buf, &n, &type, 1000));
    assert_int_equal(n, 100);
    WT_OK(wipc_close(b));
    WT_OK(wipc_close(a));
    raw_close(&m);
}

static void test_shm_corrupt_header(void **state)
{
    (void)state;
    char name[160];
    wipc_handle a = 0, b = 0;
    wt_unique_name(name, sizeof name, "shm-corrupt");
    wipc_shm_options o = opts(16 * KIB);
    WT_OK(wipc_shm_create(name, &o, &a));
    raw_map m;
    WT_CHECK(raw_open(&m, name) == 0, "raw mapping of the section");
    uint32_t saved;
    memcpy(&saved, m.base, 4);
    uint32_t junk = 0xDEADBEEF;
    memcpy(m.base, &junk, 4); /* magic */
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, 200, &b), WIPC_E_PROTOCOL);
    WT_CHECK(strstr(wipc_last_error_message(), "magic") != NULL, "message names the magic: %s",
             wipc_last_error_message());
    memcpy(m.base, &saved, 4);
    uint32_t v2 = 2;
    memcpy(m.base + 4, &v2, 4); /* layout version */
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, 200, &b), WIPC_E_PROTOCOL);
    WT_CHECK(strstr(wipc_last_error_message(), "version") != NULL, "message names the version: %s",
             wipc_last_error_message());
    uint32_t v1 = 1;
    memcpy(m.base + 4, &v1, 4);
    uint64_t badcap = 12345;
    uint64_t goodcap;
    memcpy(&goodcap, m.base + 16, 8);
    memcpy(m.base + 16, &badcap, 8); /* capacity */
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, 200, &b), WIPC_E_PROTOCOL);
    memcpy(m.base + 16, &goodcap, 8);
    WT_OK(wipc_shm_open(name, NULL, 1000, &b));
    /* ring 0 (creator -> opener) head index at 192: far beyond the consumer */
    uint64_t head = 1ull << 40;
    memcpy(m.base + 192, &head, 8);
    char buf[64];
    size_t n = 0;
    uint32_t type = 0;
    WT_ASSERT_FAILS(wipc_recv(b, buf, sizeof buf, &n, &type, 500), WIPC_E_PROTOCOL);
    WT_ASSERT_FAILS(wipc_recv(b, buf, sizeof buf, &n, &type, 0), WIPC_E_PROTOCOL); /* the channel stays ended */
    WT_OK(wipc_close(b));
    WT_OK(wipc_close(a));
    raw_close(&m);

    /* a scribbled record: its length runs past the published data */
    WT_OK(wipc_shm_create(name, &o, &a));
    WT_CHECK(raw_open(&m, name) == 0, "raw mapping of the section");
    WT_OK(wipc_shm_open(name, NULL, 1000, &b));
    WT_OK(wipc_send(a, 1, "12345678", 8, 1000));
    uint32_t len = 9000;
    memcpy(m.base + 4096, &len, 4); /* ring 0's first record */
    WT_ASSERT_FAILS(wipc_recv(b, buf, sizeof buf, &n, &type, 500), WIPC_E_PROTOCOL);
    WT_OK(wipc_close(b));
    /* the opener's read index (ring 0 tail at 256) made impossible: the creator's send refuses */
    WT_OK(wipc_shm_open(name, NULL, 1000, &b));
    uint64_t tail = 1ull << 50;
    memcpy(m.base + 256, &tail, 8);
    static uint8_t big[16 * KIB];
    wipc_status st = WIPC_OK;
    for (int i = 0; i < 10 && st == WIPC_OK; i++)
        st = wipc_send(a, 1, big, 4000, 200);
    WT_ASSERT_STATUS(st, WIPC_E_PROTOCOL);
    WT_OK(wipc_close(b));
    WT_OK(wipc_close(a));
    raw_close(&m);
}

/* ---- regions ------------------------------------------------------------------------------------- */

/* 1 if the page at p is mapped read-only (VirtualQuery / /proc/self/maps). */
static int mapped_readonly(const void *p)
{
#ifdef _WIN32
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(p, &mbi, sizeof mbi) != sizeof mbi)
        return -1;
    return mbi.Protect == PAGE_READONLY;
#else
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int ro = -1;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && (unsigned long)p >= lo && (unsigned long)p < hi)
            ro = perms[0] == 'r' && perms[1] == '-';
    }
    if (f)
        fclose(f);
    return ro;
#endif
}

static void test_shm_regions(void **state)
{
    (void)state;
    char name[160];
    wipc_handle r = 0, rw = 0, ro = 0;
    wt_unique_name(name, sizeof name, "shm-region");
    WT_ASSERT_FAILS(wipc_region_create(name, 0, NULL, &r), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_region_open(name, 0, &r), WIPC_E_NOT_FOUND);
    WT_OK(wipc_region_create(name, 100000, NULL, &r));
    WT_ASSERT_FAILS(wipc_region_create(name, 100, NULL, &rw), WIPC_E_ADDR_IN_USE);
    void *p = NULL, *q = NULL, *s = NULL;
    uint64_t size = 0;
    WT_OK(wipc_region_view(r, &p, &size));
    assert_int_equal(size, 100000);
    wt_fill(p, 100000, 5);
    WT_OK(wipc_region_open(name, 0, &rw));
    WT_OK(wipc_region_view(rw, &q, &size));
    WT_CHECK(size >= 100000, "opened size %llu", (unsigned long long)size);
    assert_true(wt_check(q, 100000, 5));
    memcpy(q, "written by the opener", 21);
    assert_memory_equal(p, "written by the opener", 21);
    WT_ASSERT_FAILS(wipc_region_open(name, 0x10, &ro), WIPC_E_INVALID_ARG);
    WT_OK(wipc_region_open(name, WIPC_REGION_READONLY, &ro));
    WT_OK(wipc_region_view(ro, &s, &size));
    assert_memory_equal(s, "written by the opener", 21);
    WT_CHECK(mapped_readonly(s) == 1, "WIPC_REGION_READONLY maps read-only");
    WT_CHECK(mapped_readonly(q) == 0, "a plain open maps read-write");
    WT_OK(wipc_close(ro));
    WT_OK(wipc_close(rw));
    WT_OK(wipc_close(r));
#ifndef _WIN32
    /* a region larger than /dev/shm's free space fails at create, not with a SIGBUS later */
    WT_ASSERT_FAILS(wipc_region_create(name, 1ull << 40, NULL, &r), WIPC_E_NO_MEMORY);
#endif
}

static void test_shm_map_file(void **state)
{
    (void)state;
    char path[300];
#ifdef _WIN32
    char tmp[MAX_PATH];
    GetTempPathA(sizeof tmp, tmp);
    snprintf(path, sizeof path, "%swipc-mapfile-%u.bin", tmp, (unsigned)wt_self_pid());
#else
    snprintf(path, sizeof path, "/tmp/wipc-mapfile-%u.bin", (unsigned)wt_self_pid());
#endif
    remove(path);
    wipc_handle r = 0;
    WT_ASSERT_FAILS(wipc_region_map_file(NULL, 10, 0, &r), WIPC_E_INVALID_ARG);
    /* a failed call leaves no file it created behind (size 0 of a new file: nothing to map) */
    WT_ASSERT_FAILS(wipc_region_map_file(path, 0, 0, &r), WIPC_E_INVALID_ARG);
    FILE *f = fopen(path, "rb");
    WT_CHECK(f == NULL, "wipc_region_map_file left the file it created behind after failing");
    if (f)
        fclose(f);
    WT_OK(wipc_region_map_file(path, 8192, 0, &r));
    void *p = NULL;
    uint64_t size = 0;
    WT_OK(wipc_region_view(r, &p, &size));
    assert_int_equal(size, 8192);
    wt_fill(p, 8192, 3);
    WT_OK(wipc_close(r));
    WT_OK(wipc_region_map_file(path, 0, WIPC_REGION_READONLY, &r));
    WT_OK(wipc_region_view(r, &p, &size));
    assert_int_equal(size, 8192);
    assert_true(wt_check(p, 8192, 3));
    WT_CHECK(mapped_readonly(p) == 1, "read-only file mapping");
    WT_OK(wipc_close(r));
    /* ... and never removes a file it did not create */
    WT_ASSERT_FAILS(wipc_region_map_file(path, 16384, WIPC_REGION_READONLY, &r), WIPC_E_INVALID_ARG);
    f = fopen(path, "rb");
    WT_CHECK(f != NULL, "a failed wipc_region_map_file removed an existing file");
    if (f)
        fclose(f);
    remove(path);
}

/* ---- main ---------------------------------------------------------------------------------------- */

int main(void)
{
    wt_use_peer("shm_peer");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shm_bad_options),
        cmocka_unit_test(test_shm_busy_and_in_use),
        cmocka_unit_test(test_shm_zero_copy_misuse),
        cmocka_unit_test(test_shm_wrong_handle_kinds),
        cmocka_unit_test(test_shm_basic_exchange),
        cmocka_unit_test(test_shm_wrap_edges),
        cmocka_unit_test(test_shm_requests_many_threads),
        cmocka_unit_test(test_shm_requests_reply_before_role),
        cmocka_unit_test(test_shm_concurrent_senders),
        cmocka_unit_test(test_shm_close_wakes_blocked),
        cmocka_unit_test(test_shm_recv_closed_while_waiting),
        cmocka_unit_test(test_shm_creator_close_drains),
        cmocka_unit_test(test_shm_callbacks),
        cmocka_unit_test(test_shm_short_lived_openers),
        cmocka_unit_test(test_shm_short_lived_openers_recv),
        cmocka_unit_test(test_shm_opener_disconnect_after_messages),
        cmocka_unit_test(test_shm_callback_reader_sleeps),
        cmocka_unit_test(test_shm_callbacks_set_while_reading),
        cmocka_unit_test(test_shm_corrupt_header),
        cmocka_unit_test(test_shm_stream_hostile),
        cmocka_unit_test(test_shm_stream_through_ring),
        cmocka_unit_test(test_shm_stream_sender_killed),
        cmocka_unit_test(test_shm_stream_async),
        cmocka_unit_test(test_shm_stream_before_opener),
        cmocka_unit_test(test_shm_stream_fitting_in_pieces),
#ifndef _WIN32
        cmocka_unit_test(test_shm_stream_recv_resumes),
#endif
        cmocka_unit_test(test_shm_regions),
        cmocka_unit_test(test_shm_map_file),
        cmocka_unit_test(test_shm_batch_wakeups),
        cmocka_unit_test(test_shm_peer_killed_while_recv),
        cmocka_unit_test(test_shm_peer_killed_while_ring_full),
        cmocka_unit_test(test_shm_creator_killed),
        cmocka_unit_test(test_shm_cross_process_1mib),
        cmocka_unit_test(test_shm_stress_copy),
        cmocka_unit_test(test_shm_stress_zero_copy),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("shm", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
