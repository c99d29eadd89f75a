/*
 * pipe_bulk.c - POSIX side of the pipe's large-message sections (dll/common/pipe_bulk.c): shm_open
 * objects /wipc-<uid>-pb-<pid>-<number>, mode 0600, mapped read-write by the sending process and its
 * peer; the peer checks the owner and the size and unlinks the name once it has the object open (a
 * crash between the two leaves a name behind, like any shm object). Waits on words of the section
 * are futexes (shared, not FUTEX_PRIVATE).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "platform.h"

struct wipc__bulk_section {
    void    *base;
    uint64_t size;
    int      creator;
    char     name[96];
};

static void section_name(char *buf, size_t cap, uint32_t uid, uint32_t pid, uint32_t number)
{
    snprintf(buf, cap, "/wipc-%u-pb-%u-%u", (unsigned)uid, (unsigned)pid, (unsigned)number);
}

wipc_status wipc__plat_bulk_section(int create, uint32_t owner_pid, uint32_t owner_uid, uint32_t number, uint64_t size,
                               void **base, wipc__bulk_section **out)
{
    *out = NULL;
    *base = NULL;
    wipc__bulk_section *s = calloc(1, sizeof *s);
    if (!s)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for a pipe bulk section");
    section_name(s->name, sizeof s->name, create ? (uint32_t)geteuid() : owner_uid, owner_pid, number);
    s->size = size;
    s->creator = create;
    int fd;
    if (create) {
        fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {   /* left by a dead process that had our pid */
            shm_unlink(s->name);
            fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        }
        if (fd < 0) {
            int e = errno;
            wipc_status st = wipc__error(wipc__os_error_status(e) == WIPC_E_NO_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_SYSTEM, e,
                                         "shm_open(%s) for a pipe bulk section failed", s->name);
            free(s);
            return st;
        }
        if (ftruncate(fd, (off_t)size) != 0) {
            int e = errno;
            close(fd);
            shm_unlink(s->name);
            free(s);
            return wipc__error(WIPC_E_NO_MEMORY, e, "ftruncate of a %llu-byte pipe bulk section failed", (unsigned long long)size);
        }
    } else {
        fd = shm_open(s->name, O_RDWR | O_CLOEXEC, 0);
        if (fd < 0) {
            int e = errno;
            wipc_status st = wipc__error(WIPC_E_PROTOCOL, e, "the peer's bulk section %s cannot be opened", s->name);
            free(s);
            return st;
        }
        struct stat stt;
        if (fstat(fd, &stt) != 0 || !S_ISREG(stt.st_mode) || stt.st_uid != owner_uid || (uint64_t)stt.st_size < size) {
            close(fd);
            wipc_status st = wipc__error(WIPC_E_PROTOCOL, 0, "the peer's bulk section %s has the wrong owner or size", s->name);
            free(s);
            return st;
        }
        shm_unlink(s->name);   /* both ends have it: the name is not needed any more */
    }
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        if (create)
            shm_unlink(s->name);
        free(s);
        return wipc__error(WIPC_E_NO_MEMORY, e, "mmap of a %llu-byte pipe bulk section failed", (unsigned long long)size);
    }
    s->base = p;
    *base = p;
    *out = s;
    return WIPC_OK;
}

void wipc__plat_bulk_close(wipc__bulk_section *s)
{
    if (!s)
        return;
    munmap(s->base, (size_t)s->size);
    if (s->creator)
        shm_unlink(s->name);   /* ENOENT once the peer opened it */
    free(s);
}

int wipc__plat_pipe_bulk_ok(wipc__pipe *p)
{
    (void)p;   /* the peer's uid is ours: SO_PEERCRED checked it (WIPC_PIPE_ANY_USER offers no sections) */
    const char *v = getenv("WIPC_PIPE_BULK");
    return !(v && !strcmp(v, "0"));
}

void wipc__plat_bulk_wait(wipc__bulk_section *s, _Atomic uint32_t *word, uint32_t val, int32_t ms)
{
    (void)s;
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    /* not FUTEX_PRIVATE: the word is in a mapping shared with another process */
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val, ms < 0 ? NULL : &ts, NULL, 0);
}

void wipc__plat_bulk_wake(wipc__bulk_section *s, _Atomic uint32_t *word)
{
    (void)s;
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, 1, NULL, NULL, 0);
}
