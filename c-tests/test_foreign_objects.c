/*
 * test_foreign_objects.c - foreign object names and named events (ABI 1.1).
 *
 * - Interop across processes with c-tests/foreign_peer.c, a program not linked with wipc: a section
 *   and events it makes with plain CreateFileMappingW / CreateEventW (POSIX: shm_open and the event
 *   layout of docs/PROTOCOL.md) are opened by wipc under their full names (region data read, event
 *   waited, ack event set); and the reverse: wipc creates them, plain OpenFileMappingW / OpenEventW
 *   (shm_open) code opens, answers and signals.
 * - A channel under a full name; region bounds from the section itself; a foreign POSIX name is
 *   never removed by a wipc opener; full-name validation.
 * - Event semantics: auto vs manual reset, initial state, timeout, set before wait, one set releases
 *   one of two auto-reset waiters, close while another thread waits, calls on a closed or wrong-kind
 *   handle; POSIX: a corrupt event object (size, header, word) is WIPC_E_PROTOCOL, never a hang or
 *   a crash; Windows: a name holding a section is not an event.
 */
#include "testlib.h"

#ifdef _WIN32
#  include <sddl.h>
#else
#  include <errno.h>
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
#endif

static const char *full_name(char *buf, size_t cap, const char *tag)
{
    char n[160];
    wt_unique_name(n, sizeof n, tag);
#ifdef _WIN32
    snprintf(buf, cap, "Local\\%s", n);
#else
    snprintf(buf, cap, "/%s", n);
#endif
    return buf;
}

/* ---- interop with a program that does not use wipc ------------------------------------------------ */

static void test_foreign_creates_wipc_opens(void **state)
{
    (void)state;
    char sec[200], ev[200], ack[200], text[64];
    full_name(sec, sizeof sec, "fsec");
    full_name(ev, sizeof ev, "fev");
    full_name(ack, sizeof ack, "fack");
    snprintf(text, sizeof text, "hello from a foreign program %u", (unsigned)wt_self_pid());
    const char *args[] = { "serve", sec, ev, ack, text, NULL };
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "cannot start foreign_peer");
    WT_CHECK(wt_proc_wait_ready(p, 20000) == 0, "foreign_peer did not get ready");

    wipc_handle r = 0, e = 0, a = 0;
    WT_OK(wipc_region_open(sec, 0, &r));
    void *base = NULL;
    uint64_t size = 0;
    WT_OK(wipc_region_view(r, &base, &size));
    WT_CHECK(size >= 65536, "the region is %llu bytes, the foreign section 65536", (unsigned long long)size);
    WT_CHECK(strcmp((const char *)base, text) == 0, "the region holds \"%.40s\"", (const char *)base);
    WT_OK(wipc_event_open(ev, 0, &e));
    WT_OK(wipc_event_open(ack, 0, &a));
    WT_ASSERT_FAILS(wipc_event_wait(e, 0), WIPC_E_TIMEOUT); /* not set yet */
    WT_OK(wipc_event_set(a)); /* wipc sets, the foreign side waits */
    WT_OK(wipc_event_wait(e, 15000)); /* the foreign side sets, wipc waits */
    WT_CHECK(strcmp((const char *)base + 4096, "from-foreign") == 0, "no answer in the section: \"%.20s\"",
             (const char *)base + 4096);
    WT_ASSERT_FAILS(wipc_event_wait(e, 50), WIPC_E_TIMEOUT); /* auto-reset: the wait took it */
    wipc_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    WT_OK(wipc_get_info(e, &info));
    WT_CHECK(info.kind == WIPC_KIND_EVENT && strcmp(info.name, ev) == 0, "info: kind %u name %s", (unsigned)info.kind,
             info.name);
    int code = -1;
    WT_CHECK(wt_proc_wait(p, 15000, &code) == 0 && code == 0, "foreign_peer exit code %d", code);
    wt_proc_free(p);
    WT_OK(wipc_event_close(e));
    WT_OK(wipc_event_close(a));
    WT_OK(wipc_close(r));
}

static void test_wipc_creates_foreign_opens(void **state)
{
    (void)state;
    char sec[200], ev[200], text[64];
    full_name(sec, sizeof sec, "wsec");
    full_name(ev, sizeof ev, "wev");
    snprintf(text, sizeof text, "hello from wipc %u", (unsigned)wt_self_pid());
    wipc_handle r = 0, e = 0;
    WT_OK(wipc_region_create(sec, 65536, NULL, &r));
    WT_OK(wipc_event_create(ev, 0, NULL, &e));
    void *base = NULL;
    uint64_t size = 0;
    WT_OK(wipc_region_view(r, &base, &size));
    memcpy(base, text, strlen(text) + 1);
    const char *args[] = { "open", sec, ev, text, NULL };
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "cannot start foreign_peer");
    WT_OK(wipc_event_wait(e, 15000));
    WT_CHECK(strcmp((const char *)base + 4096, "from-foreign") == 0, "no answer in the section: \"%.20s\"",
             (const char *)base + 4096);
    int code = -1;
    WT_CHECK(wt_proc_wait(p, 15000, &code) == 0 && code == 0, "foreign_peer exit code %d", code);
    wt_proc_free(p);
    WT_OK(wipc_close(e));
    WT_OK(wipc_close(r));
#ifndef _WIN32
    /* the creator's close removed the names it created */
    WT_CHECK(shm_open(sec, O_RDONLY, 0) < 0 && errno == ENOENT, "the region's name %s is still there", sec);
    WT_CHECK(shm_open(ev, O_RDONLY, 0) < 0 && errno == ENOENT, "the event's name %s is still there", ev);
#endif
}

/* ---- channels and regions under full names ---------------------------------------------------------- */

static void test_channel_full_name(void **state)
{
    (void)state;
    char name[200];
    full_name(name, sizeof name, "chan");
    wipc_handle c = 0, o = 0;
    WT_OK(wipc_shm_create(name, NULL, &c));
    WT_ASSERT_FAILS(wipc_shm_create(name, NULL, &o), WIPC_E_ADDR_IN_USE);
    WT_OK(wipc_shm_open(name, NULL, 5000, &o));
    WT_OK(wipc_send(o, 7, "ping", 4, 5000));
    char buf[16];
    size_t n = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(c, buf, sizeof buf, &n, &type, 5000));
    WT_CHECK(n == 4 && type == 7 && memcmp(buf, "ping", 4) == 0, "got %zu bytes type %u", n, (unsigned)type);
    WT_OK(wipc_send(c, 8, "pong", 4, 5000));
    WT_OK(wipc_recv(o, buf, sizeof buf, &n, &type, 5000));
    WT_CHECK(n == 4 && type == 8 && memcmp(buf, "pong", 4) == 0, "got %zu bytes type %u", n, (unsigned)type);
#ifndef _WIN32
    /* the object of the full name is the channel's locator; the wipc name of the same text is another */
    struct stat st;
    int fd = shm_open(name, O_RDONLY, 0);
    WT_CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 16, "no 16-byte locator at %s", name);
    close(fd);
#endif
    WT_OK(wipc_close(o));
    WT_OK(wipc_close(c));
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, 0, &o), WIPC_E_NOT_FOUND);
}

/* A channel under a full name whose creator (another process, wipc's shm_peer) is killed: the opener
 * leaves the name when it closes (POSIX: a full name is removed only by the process that created
 * its object), and the next wipc_shm_create reclaims it, since it holds a wipc locator of a dead
 * creator (Windows: the names went with the last handle). */
static void test_channel_full_name_creator_killed(void **state)
{
    (void)state;
    char name[200];
    full_name(name, sizeof name, "killed");
    wt_use_peer("shm_peer");
    const char *args[] = { "create-hold", name, NULL };
    wt_proc *p = wt_spawn_peer(args);
    wt_use_peer("foreign_peer");
    WT_CHECK(p != NULL && wt_proc_wait_ready(p, 20000) == 0, "shm_peer create-hold %s did not get ready", name);
    wipc_handle o = 0, c = 0;
    WT_OK(wipc_shm_open(name, NULL, 5000, &o));
    WT_CHECK(wt_proc_kill(p) == 0, "kill shm_peer");
    int code = 0;
    WT_CHECK(wt_proc_wait(p, 10000, &code) == 0, "shm_peer did not die");
    wt_proc_free(p);
    WT_OK(wipc_close(o));
#ifndef _WIN32
    int fd = shm_open(name, O_RDONLY, 0);
    WT_CHECK(fd >= 0, "the opener removed the full name %s it did not create", name);
    close(fd);
#endif
    WT_OK(wipc_shm_create(name, NULL, &c)); /* reclaimed: the locator's creator is dead */
    WT_OK(wipc_close(c));
#ifndef _WIN32
    WT_CHECK(shm_open(name, O_RDONLY, 0) < 0 && errno == ENOENT, "the creator's close left %s", name);
#endif
}

static void test_full_name_validation(void **state)
{
    (void)state;
    wipc_handle h = 0;
    char long_name[300];
#ifdef _WIN32
    const char *bad[] = { "Local\\", "Global\\", "Local\\a\\b", "Local\\a\x01", NULL };
    snprintf(long_name, sizeof long_name, "Local\\%0250d", 1);
#else
    const char *bad[] = { "/", "/a/b", "/..", "/a\x01", NULL };
    snprintf(long_name, sizeof long_name, "/%0255d", 1);
#endif
    for (int i = 0; bad[i]; i++) {
        WT_ASSERT_FAILS(wipc_region_open(bad[i], 0, &h), WIPC_E_INVALID_ARG);
        WT_ASSERT_FAILS(wipc_region_create(bad[i], 4096, NULL, &h), WIPC_E_INVALID_ARG);
        WT_ASSERT_FAILS(wipc_shm_create(bad[i], NULL, &h), WIPC_E_INVALID_ARG);
        WT_ASSERT_FAILS(wipc_event_create(bad[i], 0, NULL, &h), WIPC_E_INVALID_ARG);
        WT_ASSERT_FAILS(wipc_event_open(bad[i], 0, &h), WIPC_E_INVALID_ARG);
    }
    WT_ASSERT_FAILS(wipc_region_open(long_name, 0, &h), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_event_create(long_name, 0, NULL, &h), WIPC_E_INVALID_ARG);
    /* the other platform's form is not a full name here */
#ifdef _WIN32
    WT_ASSERT_FAILS(wipc_region_open("/DemoSharedMem", 0, &h), WIPC_E_INVALID_ARG);
#else
    WT_ASSERT_FAILS(wipc_region_open("Local\\DemoSharedMem", 0, &h), WIPC_E_INVALID_ARG);
#endif
    WT_CHECK(h == 0, "a handle came back");
    char name[200];
    WT_ASSERT_FAILS(wipc_region_open(full_name(name, sizeof name, "absent"), 0, &h), WIPC_E_NOT_FOUND);
    WT_ASSERT_FAILS(wipc_event_open(name, 0, &h), WIPC_E_NOT_FOUND);
}

#ifdef _WIN32
/* A section whose pages are only reserved (SEC_RESERVE) would fault when read: refused at open. */
static void test_region_open_reserved_section(void **state)
{
    (void)state;
    char name[200];
    wchar_t w[200];
    full_name(name, sizeof name, "resv");
    MultiByteToWideChar(CP_UTF8, 0, name, -1, w, 200);
    HANDLE m = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0, 1 << 20, w);
    WT_CHECK(m != NULL, "CreateFileMappingW(SEC_RESERVE): %lu", (unsigned long)GetLastError());
    wipc_handle h = 0;
    WT_ASSERT_FAILS(wipc_region_open(name, 0, &h), WIPC_E_PROTOCOL);
    /* and a section holding a section is not an event */
    WT_ASSERT_FAILS(wipc_event_open(name, 0, &h), WIPC_E_PROTOCOL);
    WT_CHECK(h == 0, "a handle came back");
    CloseHandle(m);
}

/* A foreign section whose DACL grants mapping but not SECTION_QUERY still opens (size from the view). */
static void test_region_open_section_without_query_right(void **state)
{
    (void)state;
    char name[200];
    wchar_t w[200];
    full_name(name, sizeof name, "noquery");
    MultiByteToWideChar(CP_UTF8, 0, name, -1, w, 200);
    PSECURITY_DESCRIPTOR sd = NULL;
    WT_CHECK(ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;;0x6;;;WD)", SDDL_REVISION_1, &sd, NULL),
             "SDDL: %lu", (unsigned long)GetLastError()); /* SECTION_MAP_READ | SECTION_MAP_WRITE only */
    SECURITY_ATTRIBUTES sa = { sizeof sa, sd, FALSE };
    HANDLE m = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0, 8192, w);
    LocalFree(sd);
    WT_CHECK(m != NULL, "CreateFileMappingW: %lu", (unsigned long)GetLastError());
    HANDLE probe = OpenFileMappingW(FILE_MAP_READ | SECTION_QUERY, FALSE, w);
    printf("OpenFileMappingW with SECTION_QUERY on a DACL without it: %s (%lu)\n", probe ? "granted" : "refused",
           (unsigned long)(probe ? 0 : GetLastError()));
    if (probe)
        CloseHandle(probe);
    wipc_handle h = 0;
    WT_OK(wipc_region_open(name, 0, &h));
    void *base = NULL;
    uint64_t size = 0;
    WT_OK(wipc_region_view(h, &base, &size));
    WT_CHECK(size >= 8192, "size %llu", (unsigned long long)size);
    WT_OK(wipc_close(h));
    CloseHandle(m);
}
#else
/* Size from fstat; a wipc opener never removes a name it did not create; read-only maps read-only. */
static void test_region_open_foreign_posix(void **state)
{
    (void)state;
    char name[200];
    full_name(name, sizeof name, "fposix");
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    WT_CHECK(fd >= 0 && ftruncate(fd, 10000) == 0, "shm_open/ftruncate(%s): %s", name, strerror(errno));
    WT_CHECK(pwrite(fd, "abc", 4, 0) == 4, "pwrite: %s", strerror(errno));
    wipc_handle h = 0, ro = 0;
    WT_OK(wipc_region_open(name, 0, &h));
    WT_OK(wipc_region_open(name, WIPC_REGION_READONLY, &ro));
    void *base = NULL;
    uint64_t size = 0;
    WT_OK(wipc_region_view(h, &base, &size));
    WT_CHECK(size == 10000 && strcmp(base, "abc") == 0, "size %llu, \"%.8s\"", (unsigned long long)size,
             (const char *)base);
    wipc_handle x = 0;
    WT_ASSERT_FAILS(wipc_region_create(name, 4096, NULL, &x), WIPC_E_ADDR_IN_USE); /* never adopted */
    WT_OK(wipc_close(h));
    WT_OK(wipc_close(ro));
    struct stat st;
    WT_CHECK(fstat(fd, &st) == 0 && st.st_nlink >= 1, "fstat");
    int again = shm_open(name, O_RDONLY, 0);
    WT_CHECK(again >= 0, "wipc removed the foreign name %s: %s", name, strerror(errno));
    close(again);
    close(fd);
    shm_unlink(name);
}
#endif

/* ---- event semantics -------------------------------------------------------------------------------- */

static void test_event_auto_reset(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "ev-auto");
    wipc_handle e = 0, o = 0;
    WT_OK(wipc_event_create(name, 0, NULL, &e));
    WT_ASSERT_FAILS(wipc_event_create(name, 0, NULL, &o), WIPC_E_ADDR_IN_USE);
    WT_OK(wipc_event_open(name, 0, &o));
#ifndef _WIN32
    /* the object: mode 0600, ours, 64 bytes (Windows: the DACL is read back by test_security) */
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "/wipc-%u-ev-%s", (unsigned)geteuid(), name);
    int fd = shm_open(path, O_RDONLY, 0);
    WT_CHECK(fd >= 0 && fstat(fd, &st) == 0, "shm_open(%s): %s", path, strerror(errno));
    close(fd);
    WT_CHECK((st.st_mode & 0777) == 0600 && st.st_uid == geteuid() && st.st_size == 64, "%s: mode %o uid %u size %lld",
             path, (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid, (long long)st.st_size);
#endif
    WT_ASSERT_FAILS(wipc_event_wait(o, 0), WIPC_E_TIMEOUT);
    uint64_t t0 = wt_now_ms();
    WT_ASSERT_FAILS(wipc_event_wait(o, 150), WIPC_E_TIMEOUT);
    WT_CHECK(wt_now_ms() - t0 >= 140, "the 150 ms wait returned after %llu ms", (unsigned long long)(wt_now_ms() - t0));
    WT_OK(wipc_event_set(e)); /* before the wait: not lost */
    WT_OK(wipc_event_set(e)); /* setting a set event does nothing */
    WT_OK(wipc_event_wait(o, 0));
    WT_ASSERT_FAILS(wipc_event_wait(o, 0), WIPC_E_TIMEOUT); /* the wait took it */
    WT_ASSERT_FAILS(wipc_event_wait(e, 0), WIPC_E_TIMEOUT);
    WT_OK(wipc_event_set(o));
    WT_OK(wipc_event_reset(e));
    WT_ASSERT_FAILS(wipc_event_wait(e, 0), WIPC_E_TIMEOUT);
    WT_OK(wipc_event_close(o));
    WT_OK(wipc_event_close(e));
}

static void test_event_manual_reset(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "ev-manual");
    wipc_handle e = 0, o = 0;
    WT_OK(wipc_event_create(name, WIPC_EVENT_FLAG_MANUAL_RESET | WIPC_EVENT_FLAG_INITIAL_SET, NULL, &e));
    WT_OK(wipc_event_open(name, 0, &o));
    WT_OK(wipc_event_wait(o, 0)); /* created set */
    WT_OK(wipc_event_wait(o, 0)); /* and stays set */
    WT_OK(wipc_event_wait(e, 1000));
    WT_OK(wipc_event_reset(o));
    WT_ASSERT_FAILS(wipc_event_wait(e, 0), WIPC_E_TIMEOUT);
    WT_OK(wipc_event_set(o));
    WT_OK(wipc_event_wait(e, 0));
    WT_OK(wipc_event_wait(o, 0));
    WT_OK(wipc_close(o)); /* wipc_close closes events too */
    WT_OK(wipc_close(e));
}

typedef struct waiter {
    wipc_handle ev;
    int32_t timeout_ms;
    wipc_status got;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    w->got = wipc_event_wait(w->ev, w->timeout_ms);
    return NULL;
}

static void test_event_one_set_one_waiter(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "ev-two");
    wipc_handle e = 0;
    WT_OK(wipc_event_create(name, 0, NULL, &e));
    waiter w[2] = { { e, 3000, 99 }, { e, 3000, 99 } };
    wt_thread *t0 = wt_thread_start(wait_thread, &w[0]), *t1 = wt_thread_start(wait_thread, &w[1]);
    wt_sleep_ms(200);
    WT_OK(wipc_event_set(e));
    wt_thread_join_or_die(t0, 10000, "waiter 0");
    wt_thread_join_or_die(t1, 10000, "waiter 1");
    int ok = (w[0].got == WIPC_OK) + (w[1].got == WIPC_OK);
    int timeouts = (w[0].got == WIPC_E_TIMEOUT) + (w[1].got == WIPC_E_TIMEOUT);
    WT_CHECK(ok == 1 && timeouts == 1, "one set released %d waiters (%s, %s)", ok, wipc_status_name(w[0].got),
             wipc_status_name(w[1].got));
    WT_OK(wipc_event_close(e));
}

static void test_event_close_while_waiting(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "ev-close");
    wipc_handle e = 0, r = 0;
    WT_OK(wipc_event_create(name, 0, NULL, &e));
    waiter w = { e, WIPC_INFINITE, 99 };
    wt_thread *t = wt_thread_start(wait_thread, &w);
    wt_sleep_ms(200);
    WT_OK(wipc_event_close(e));
    wt_thread_join_or_die(t, 10000, "the waiter of a closed event");
    WT_CHECK(w.got == WIPC_E_CLOSED, "the wait returned %s", wipc_status_name(w.got));
    WT_ASSERT_FAILS(wipc_event_wait(e, 0), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_event_set(e), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_event_reset(e), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_event_close(e), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_event_wait(0, 0), WIPC_E_BAD_HANDLE);
    /* wrong kinds both ways */
    char rn[160];
    WT_OK(wipc_region_create(wt_unique_name(rn, sizeof rn, "ev-region"), 4096, NULL, &r));
    WT_ASSERT_FAILS(wipc_event_set(r), WIPC_E_BAD_HANDLE);
    WT_ASSERT_FAILS(wipc_event_close(r), WIPC_E_BAD_HANDLE);
    WT_OK(wipc_event_create(name, 0, NULL, &e)); /* the creator's close freed the name */
    WT_ASSERT_FAILS(wipc_send(e, 0, "x", 1, 0), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_event_wait(e, -2), WIPC_E_INVALID_ARG);
    wipc_handle x = 0;
    WT_ASSERT_FAILS(wipc_event_create(name, 0x80, NULL, &x), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_event_open(name, 1, &x), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_event_open(name, 0, NULL), WIPC_E_INVALID_ARG);
#ifndef _WIN32
    WT_ASSERT_FAILS(wipc_event_create(name, 0, "D:P(A;;GA;;;WD)", &x), WIPC_E_INVALID_ARG);
#endif
    WT_OK(wipc_event_close(e));
    WT_OK(wipc_close(r));
}

#ifndef _WIN32
/* Writes a 64-byte object at `path` (plain POSIX code): `size` bytes of `hdr`. */
static void write_object(const char *path, const void *hdr, size_t size)
{
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    WT_CHECK(fd >= 0, "shm_open(%s): %s", path, strerror(errno));
    WT_CHECK(ftruncate(fd, (off_t)size) == 0 && (size == 0 || pwrite(fd, hdr, size < 64 ? size : 64, 0) > 0),
             "write: %s", strerror(errno));
    close(fd);
}

static void test_event_corrupt_posix(void **state)
{
    (void)state;
    char name[200];
    wipc_handle h = 0;
    uint32_t hdr[16] = { 0x54564557u, 1u, 0u, 0u };
    /* wrong size */
    write_object(full_name(name, sizeof name, "bad-size"), hdr, 4096);
    WT_ASSERT_FAILS(wipc_event_open(name, 0, &h), WIPC_E_PROTOCOL);
    shm_unlink(name);
    /* wrong magic / version / flags */
    uint32_t bad[3][16] = { { 0x12345678u, 1u }, { 0x54564557u, 9u }, { 0x54564557u, 1u, 0x10u } };
    for (int i = 0; i < 3; i++) {
        write_object(full_name(name, sizeof name, "bad-hdr"), bad[i], 64);
        WT_ASSERT_FAILS(wipc_event_open(name, 0, &h), WIPC_E_PROTOCOL);
        shm_unlink(name);
    }
    /* empty for good (a creator that died before writing it): refused after the wait, not a hang */
    write_object(full_name(name, sizeof name, "empty"), hdr, 0);
    WT_ASSERT_FAILS(wipc_event_open(name, 0, &h), WIPC_E_PROTOCOL);
    shm_unlink(name);
    WT_CHECK(h == 0, "a handle came back");
    /* a valid object whose word is scribbled on after the open */
    write_object(full_name(name, sizeof name, "scribble"), hdr, 64);
    WT_OK(wipc_event_open(name, 0, &h));
    int fd = shm_open(name, O_RDWR, 0);
    uint32_t seven = 7;
    WT_CHECK(fd >= 0 && pwrite(fd, &seven, 4, 12) == 4, "pwrite: %s", strerror(errno));
    WT_ASSERT_FAILS(wipc_event_wait(h, WIPC_INFINITE), WIPC_E_PROTOCOL);
    WT_ASSERT_FAILS(wipc_event_set(h), WIPC_E_PROTOCOL);
    WT_ASSERT_FAILS(wipc_event_reset(h), WIPC_E_PROTOCOL);
    uint32_t word = 0;
    WT_CHECK(pread(fd, &word, 4, 12) == 4 && word == 7, "the corrupt word was changed to %u", (unsigned)word);
    uint32_t one = 1;
    WT_CHECK(pwrite(fd, &one, 4, 12) == 4, "pwrite"); /* set by hand, as a foreign program would */
    WT_OK(wipc_event_wait(h, 0));
    WT_CHECK(pread(fd, &word, 4, 12) == 4 && word == 0, "the auto-reset wait left the word at %u", (unsigned)word);
    WT_OK(wipc_event_close(h));
    close(fd);
    WT_CHECK(shm_open(name, O_RDONLY, 0) >= 0, "the opener removed the foreign event %s", name);
    shm_unlink(name);
}
#endif

int main(void)
{
    wt_use_peer("foreign_peer");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreign_creates_wipc_opens),
        cmocka_unit_test(test_wipc_creates_foreign_opens),
        cmocka_unit_test(test_channel_full_name),
        cmocka_unit_test(test_channel_full_name_creator_killed),
        cmocka_unit_test(test_full_name_validation),
#ifdef _WIN32
        cmocka_unit_test(test_region_open_reserved_section),
        cmocka_unit_test(test_region_open_section_without_query_right),
#else
        cmocka_unit_test(test_region_open_foreign_posix),  cmocka_unit_test(test_event_corrupt_posix),
#endif
        cmocka_unit_test(test_event_auto_reset),
        cmocka_unit_test(test_event_manual_reset),
        cmocka_unit_test(test_event_one_set_one_waiter),
        cmocka_unit_test(test_event_close_while_waiting),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("foreign_objects", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
