/*
 * foreign_peer.c - a program that does not use wipc (it is not even linked with it), for
 * test_foreign_objects: plain Win32 (CreateFileMappingW / OpenFileMappingW / CreateEventW /
 * OpenEventW / SetEvent / WaitForSingleObject) or plain POSIX (shm_open + mmap, and the named-event
 * layout of docs/PROTOCOL.md: a 64-byte object whose word at offset 12 is a futex) on the other side
 * of wipc's foreign object names.
 *
 *   foreign_peer serve <section> <event> <ack> <text>
 *       creates the section (64 KiB) with <text> at offset 0 and two auto-reset events <event> and
 *       <ack>, prints READY, waits (20 s) for <ack> to be set, writes "from-foreign" at offset 4096
 *       and sets <event>; exits 0, or 1 with a line on stderr.
 *   foreign_peer open <section> <event> <text>
 *       opens the section and checks it starts with <text>, writes "from-foreign" at offset 4096,
 *       opens <event> and sets it; exits 0, or 1 with a line on stderr.
 * Names are full object names: "Local\..." on Windows, "/..." on POSIX.
 */
#ifndef _WIN32
#  define _GNU_SOURCE /* ftruncate, pwrite, syscall, clock_gettime, usleep under -std=c11 */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#  include <windows.h>
#else
#  include <errno.h>
#  include <fcntl.h>
#  include <limits.h>
#  include <linux/futex.h>
#  include <stdatomic.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
#  include <sys/syscall.h>
#  include <time.h>
#  include <unistd.h>
#endif

#define SECTION_SIZE 65536u
#define REPLY_AT     4096u
static const char reply[] = "from-foreign";

static int fail(const char *what)
{
#ifdef _WIN32
    fprintf(stderr, "foreign_peer: %s failed (%lu)\n", what, (unsigned long)GetLastError());
#else
    fprintf(stderr, "foreign_peer: %s failed (%s)\n", what, strerror(errno));
#endif
    return 1;
}

#ifdef _WIN32
static wchar_t *wide(const char *s)
{
    static wchar_t buf[4][512];
    static int next;
    wchar_t *w = buf[next++ % 4];
    MultiByteToWideChar(CP_UTF8, 0, s, -1, w, 512);
    return w;
}

static int serve(const char *sec, const char *ev, const char *ack, const char *text)
{
    HANDLE m = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, SECTION_SIZE, wide(sec));
    if (!m)
        return fail("CreateFileMappingW");
    char *base = MapViewOfFile(m, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (!base)
        return fail("MapViewOfFile");
    memcpy(base, text, strlen(text) + 1);
    HANDLE e = CreateEventW(NULL, FALSE, FALSE, wide(ev)), a = CreateEventW(NULL, FALSE, FALSE, wide(ack));
    if (!e || !a)
        return fail("CreateEventW");
    printf("READY\n");
    fflush(stdout);
    if (WaitForSingleObject(a, 20000) != WAIT_OBJECT_0)
        return fail("WaitForSingleObject(ack)");
    memcpy(base + REPLY_AT, reply, sizeof reply);
    if (!SetEvent(e))
        return fail("SetEvent");
    Sleep(500); /* keep the objects while the test looks at them (names go with the last handle) */
    return 0;
}

static int open_and_signal(const char *sec, const char *ev, const char *text)
{
    HANDLE m = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, wide(sec));
    if (!m)
        return fail("OpenFileMappingW");
    char *base = MapViewOfFile(m, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (!base)
        return fail("MapViewOfFile");
    if (strcmp(base, text) != 0) {
        fprintf(stderr, "foreign_peer: the section holds \"%.40s\", not \"%s\"\n", base, text);
        return 1;
    }
    memcpy(base + REPLY_AT, reply, sizeof reply);
    HANDLE e = OpenEventW(EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, wide(ev));
    if (!e)
        return fail("OpenEventW");
    if (!SetEvent(e))
        return fail("SetEvent");
    return 0;
}
#else
/* The named-event object of docs/PROTOCOL.md: "WEVT", version 1, flags, word, creator pid/key (0 =
 * not a wipc creator). */
static _Atomic uint32_t *event_word(const char *name, int create)
{
    int fd = shm_open(name, O_RDWR | (create ? O_CREAT | O_EXCL : 0), 0600);
    if (fd < 0)
        return NULL;
    if (create) {
        uint32_t hdr[16] = { 0x54564557u, 1u, 0u, 0u };
        if (ftruncate(fd, sizeof hdr) != 0 || pwrite(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
            return NULL;
    }
    void *p = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : (_Atomic uint32_t *)((char *)p + 12);
}

static void event_set(_Atomic uint32_t *w)
{
    atomic_store(w, 1u);
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Auto-reset wait: take a set with compare-exchange 1 -> 0. */
static int event_wait(_Atomic uint32_t *w, int ms)
{
    struct timespec end, now;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += ms / 1000;
    for (;;) {
        uint32_t one = 1;
        if (atomic_compare_exchange_strong(w, &one, 0u))
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec)
            return -1;
        struct timespec slice = { 0, 100 * 1000000L };
        syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, 0u, &slice, NULL, 0);
    }
}

static int serve(const char *sec, const char *ev, const char *ack, const char *text)
{
    int fd = shm_open(sec, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, SECTION_SIZE) != 0)
        return fail("shm_open/ftruncate(section)");
    char *base = mmap(NULL, SECTION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return fail("mmap");
    memcpy(base, text, strlen(text) + 1);
    _Atomic uint32_t *e = event_word(ev, 1), *a = event_word(ack, 1);
    if (!e || !a)
        return fail("creating the events");
    printf("READY\n");
    fflush(stdout);
    int rc = event_wait(a, 20000) == 0 ? 0 : fail("waiting for the ack event");
    if (rc == 0) {
        memcpy(base + REPLY_AT, reply, sizeof reply);
        event_set(e);
        usleep(500 * 1000);
    }
    shm_unlink(sec); /* this program created them: it removes them */
    shm_unlink(ev);
    shm_unlink(ack);
    return rc;
}

static int open_and_signal(const char *sec, const char *ev, const char *text)
{
    int fd = shm_open(sec, O_RDWR, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)SECTION_SIZE)
        return fail("shm_open/fstat(section)");
    char *base = mmap(NULL, SECTION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return fail("mmap");
    if (strcmp(base, text) != 0) {
        fprintf(stderr, "foreign_peer: the section holds \"%.40s\", not \"%s\"\n", base, text);
        return 1;
    }
    memcpy(base + REPLY_AT, reply, sizeof reply);
    _Atomic uint32_t *e = event_word(ev, 0);
    if (!e)
        return fail("opening the event");
    event_set(e);
    return 0;
}
#endif

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 5 && strcmp(argv[1], "open") == 0)
        return open_and_signal(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: foreign_peer serve <section> <event> <ack> <text> | open <section> <event> <text>\n");
    return 2;
}
