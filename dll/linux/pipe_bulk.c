/*
 * pipe_bulk.c - POSIX side of the pipe's large-message sections (dll/common/pipe/pipe_bulk.c): a sealed
 * memfd (linux/memfd.h) named wipc-pb-<pid>-<number>, created by the sending process, which keeps
 * its descriptor open for the section's life; the peer opens it through /proc/<pid>/fd and maps it.
 * The seals (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) make its size fixed for everyone, so the
 * receiver's mapping can never lose pages under it: a peer that shrank its section used to crash the
 * receiver with SIGBUS (docs/RELIABILITY.md, Hardening, attack 1). Because the names are only in the sender's descriptor table
 * nothing is left in /dev/shm by a crash. The HELLO flag for this form is WIPC__HELLO_BULK_SEALED
 * (linux/plat_types.h): a peer of an older version, which used named shm objects, simply gets no
 * bulk sections (its large messages go through the pipe). Waits on words of the section are futexes
 * (shared, not FUTEX_PRIVATE).
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "platform.h"
#include "linux/memfd.h"

struct wipc__bulk_section {
    void *base;
    uint64_t size;
    int fd; /* creator: the memfd, open while the section lives (the peer finds it there); else -1 */
};

wipc_status wipc__plat_bulk_section(int create, uint32_t owner_pid, uint32_t owner_uid, uint32_t number, uint64_t size,
                                    void **base, wipc__bulk_section **out)
{
    *out = NULL;
    *base = NULL;
    wipc__bulk_section *s = calloc(1, sizeof *s);
    if (!s)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for a pipe bulk section");
    char name[64];
    snprintf(name, sizeof name, WIPC__LINUX_MEMFD_PREFIX "pb-%u-%u", (unsigned)owner_pid, (unsigned)number);
    s->size = size;
    s->fd = -1;
    int fd = -1;
    wipc_status st = WIPC_OK;
    if (create && (fd = wipc__linux_memfd_create(name, size, "a pipe bulk section")) < 0)
        st = WIPC_E_NO_MEMORY;
    else if (!create &&
             wipc__linux_memfd_open(owner_pid, name, owner_uid, size, "the peer's pipe bulk section", &fd) != WIPC_OK)
        st = WIPC_E_PROTOCOL; /* the last error says why; the connection ends */
    if (st != WIPC_OK) {
        free(s);
        return st;
    }
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    if (p == MAP_FAILED) {
        close(fd);
        free(s);
        return wipc__error(WIPC_E_NO_MEMORY, e, "mmap of a %llu-byte pipe bulk section failed",
                           (unsigned long long)size);
    }
    if (create)
        s->fd = fd;
    else
        close(fd);
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
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

int wipc__plat_pipe_bulk_ok(wipc__pipe *p)
{
    (void)p; /* the peer's uid is ours: SO_PEERCRED checked it (WIPC_PIPE_ANY_USER offers no sections) */
    const char *v = getenv("WIPC_PIPE_BULK");
    return !(v && !strcmp(v, "0")) && wipc__linux_memfd_shareable();
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
