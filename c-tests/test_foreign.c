/*
 * test_foreign.c - wipc meeting objects made by programs that do not use wipc (issue 15). The
 * "foreign" side is plain Win32 / POSIX code in the test, no wipc calls.
 *
 * - A section under a channel's name that is not a wipc channel (another program's data, no wake
 *   events, no locator): wipc_shm_open says WIPC_E_PROTOCOL, "not a wipc shm channel", at once - not
 *   WIPC_E_NOT_FOUND after the whole timeout, as a missing channel would.
 */
#include "testlib.h"

#ifndef _WIN32
#  include <errno.h>
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shm_open_foreign_section),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("foreign", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
