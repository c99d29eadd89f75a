/*
 * test_foreign.c - wipc meeting objects made by programs that do not use wipc. The
 * "foreign" side is plain Win32 / POSIX code in the test, no wipc calls.
 *
 * - A section under a channel's name that is not a wipc channel (another program's data, no wake
 *   events, no locator): wipc_shm_open says WIPC_E_PROTOCOL, "not a wipc shm channel", at once - not
 *   WIPC_E_NOT_FOUND after the whole timeout, as a missing channel would.
 * - A client that speaks another protocol to a framed pipe server: the server logs a WARN naming the
 *   client's pid and its first bytes (hex and text), and hangs up.
 */
#include "testlib.h"

#ifndef _WIN32
#  include <errno.h>
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/socket.h>
#  include <sys/stat.h>
#  include <sys/un.h>
#endif

#define FOREIGN_SIZE 65536u
static const char foreign_bytes[] = "FOREIGN DATA: some other program's shared memory";

/* Makes a section under the name wipc_shm_open(name) looks at, filled with foreign_bytes, the way
 * another program would (CreateFileMappingW / shm_open); foreign_close removes it. */
typedef struct foreign_section {
#ifdef _WIN32
    HANDLE h;
#else
    char path[256];
#endif
    void *base;
} foreign_section;

static void foreign_create(foreign_section *f, const char *name)
{
    memset(f, 0, sizeof *f);
#ifdef _WIN32
    wchar_t w[300];
    char u8[300];
    snprintf(u8, sizeof u8, "Local\\wipc-%s", name);
    MultiByteToWideChar(CP_UTF8, 0, u8, -1, w, 300);
    f->h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, FOREIGN_SIZE, w);
    WT_CHECK(f->h != NULL, "CreateFileMappingW(%s) failed: %lu", u8, (unsigned long)GetLastError());
    f->base = MapViewOfFile(f->h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    WT_CHECK(f->base != NULL, "MapViewOfFile(%s) failed: %lu", u8, (unsigned long)GetLastError());
#else
    snprintf(f->path, sizeof f->path, "/wipc-%u-%s", (unsigned)geteuid(), name);
    int fd = shm_open(f->path, O_RDWR | O_CREAT | O_EXCL, 0600);
    WT_CHECK(fd >= 0, "shm_open(%s): %s", f->path, strerror(errno));
    WT_CHECK(ftruncate(fd, FOREIGN_SIZE) == 0, "ftruncate: %s", strerror(errno));
    f->base = mmap(NULL, FOREIGN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    WT_CHECK(f->base != MAP_FAILED, "mmap: %s", strerror(errno));
#endif
    memcpy(f->base, foreign_bytes, sizeof foreign_bytes);
}

static void foreign_close(foreign_section *f)
{
#ifdef _WIN32
    UnmapViewOfFile(f->base);
    CloseHandle(f->h);
#else
    munmap(f->base, FOREIGN_SIZE);
    shm_unlink(f->path);
#endif
}

static void test_shm_open_foreign_section(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "foreign-sec");
    foreign_section f;
    foreign_create(&f, name);
    wipc_handle h = 0;
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, 3000, &h), WIPC_E_PROTOCOL);
    const char *why = wipc_last_error_message();
    WT_CHECK(strstr(why, "not a wipc shm channel") != NULL, "the message does not say so: \"%s\"", why);
    WT_CHECK(h == 0, "a handle came back");
    /* the foreign object is left as it was: wipc neither wrote into it nor removed it */
    WT_CHECK(memcmp(f.base, foreign_bytes, sizeof foreign_bytes) == 0, "the foreign section was modified");
    foreign_close(&f);
    /* and a name that holds nothing is still "not found" */
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, 0, &h), WIPC_E_NOT_FOUND);
}

/* ---- a foreign pipe client ----------------------------------------------------------------------- */

static atomic_int warn_seen;
static char warn_text[1024];

static void WIPC_CALL on_log(int32_t level, const char *text, void *user)
{
    (void)user;
    if (level == WIPC_LOG_WARN && strstr(text, "does not speak wipc") && !atomic_load(&warn_seen)) {
        snprintf(warn_text, sizeof warn_text, "%s", text);
        atomic_store(&warn_seen, 1);
    }
}

static void test_pipe_foreign_client_logged(void **state)
{
    (void)state;
    char name[160];
    static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    wt_unique_name(name, sizeof name, "foreign-cli");
    wipc_handle srv = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    atomic_store(&warn_seen, 0);
    WT_OK(wipc_set_log_callback(on_log, WIPC_LOG_WARN, NULL));
#ifdef _WIN32
    char path[300];
    snprintf(path, sizeof path, "\\\\.\\pipe\\wipc-%s", name);
    HANDLE f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    WT_CHECK(f != INVALID_HANDLE_VALUE, "CreateFileA(%s): %lu", path, (unsigned long)GetLastError());
    DWORD wrote = 0;
    WT_CHECK(WriteFile(f, http, sizeof http - 1, &wrote, NULL) && wrote == sizeof http - 1, "WriteFile: %lu",
             (unsigned long)GetLastError());
#else
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    char sp[512];
    snprintf(sp, sizeof sp, "%s/p.%s", wt_run_dir(), name);
    WT_CHECK(strlen(sp) < sizeof sa.sun_path, "socket path %s too long", sp);
    memcpy(sa.sun_path, sp, strlen(sp) + 1);
    int f = socket(AF_UNIX, SOCK_STREAM, 0);
    WT_CHECK(f >= 0 && connect(f, (struct sockaddr *)&sa, sizeof sa) == 0, "connect(%s): %s", sa.sun_path,
             strerror(errno));
    WT_CHECK(send(f, http, sizeof http - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof http - 1), "send: %s", strerror(errno));
#endif
    uint64_t end = wt_now_ms() + 15000;
    while (!atomic_load(&warn_seen) && wt_now_ms() < end)
        wt_sleep_ms(10);
    WT_OK(wipc_set_log_callback(NULL, WIPC_LOG_WARN, NULL));
#ifdef _WIN32
    CloseHandle(f);
#else
    close(f);
#endif
    WT_OK(wipc_close(srv));
    WT_CHECK(atomic_load(&warn_seen), "no WARN about the foreign client within 15 s");
    char pid[32];
    snprintf(pid, sizeof pid, "client pid %u ", (unsigned)wt_self_pid());
    WT_CHECK(strstr(warn_text, pid) != NULL, "the WARN does not name %s: \"%s\"", pid, warn_text);
    WT_CHECK(strstr(warn_text, "47 45 54 20 2f 20 48 54") != NULL, "no hex bytes in \"%s\"", warn_text);
    WT_CHECK(strstr(warn_text, "\"GET / HTTP/1.1..Host: lo\"") != NULL, "no text in \"%s\"", warn_text);
    WT_CHECK(strstr(warn_text, name) != NULL, "the WARN does not name the pipe: \"%s\"", warn_text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shm_open_foreign_section),
        cmocka_unit_test(test_pipe_foreign_client_logged),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("foreign", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
