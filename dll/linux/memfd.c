/*
 * memfd.c - sealed shared memory (see memfd.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "platform.h"
#include "linux/memfd.h"

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int wipc__linux_memfd_create(const char *name, uint64_t size, const char *what)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        wipc__error(WIPC_E_SYSTEM, errno, "memfd_create(%s) for %s failed", name, what);
        return -1;
    }
    int rc = posix_fallocate(fd, 0, (off_t)size);
    if (rc == EOPNOTSUPP || rc == EINVAL)
        rc = ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
    if (rc != 0) {
        close(fd);
        wipc__error(rc == ENOSPC || rc == ENOMEM || rc == EFBIG ? WIPC_E_NO_MEMORY : WIPC_E_SYSTEM, rc,
                    "reserving %llu bytes for %s failed", (unsigned long long)size, what);
        return -1;
    }
    if (fcntl(fd, F_ADD_SEALS, SEALS) != 0) {
        int e = errno;
        close(fd);
        wipc__error(WIPC_E_SYSTEM, e, "sealing the memfd of %s (F_ADD_SEALS) failed", what);
        return -1;
    }
    return fd;
}

/* The fd number in `dir` (/proc/<pid>/fd) whose link reads "/memfd:<name> (deleted)", or -1. */
static int find_link(const char *dir, const char *name)
{
    char want[300];
    int wn = snprintf(want, sizeof want, "/memfd:%s (deleted)", name);
    DIR *d = opendir(dir);
    if (!d)
        return -2;
    int found = -1;
    struct dirent *e;
    char path[320], link[320];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(path, link, sizeof link);
        if (n == wn && memcmp(link, want, (size_t)wn) == 0) {
            found = atoi(e->d_name);
            break;
        }
    }
    closedir(d);
    return found;
}

wipc_status wipc__linux_memfd_open(uint32_t pid, const char *name, uint32_t uid, uint64_t min_size, const char *what,
                                   int *out_fd)
{
    char dir[64], path[96];
    *out_fd = -1;
    snprintf(dir, sizeof dir, "/proc/%u/fd", (unsigned)pid);
    int n = find_link(dir, name);
    if (n == -2) {
        int e = errno;
        return wipc__error(e == ENOENT ? WIPC_E_NOT_FOUND : WIPC_E_ACCESS_DENIED, e, "%s: cannot list %s", what, dir);
    }
    if (n < 0)
        return wipc__error(WIPC_E_NOT_FOUND, 0, "%s: process %u holds no memfd %s", what, (unsigned)pid, name);
    snprintf(path, sizeof path, "%s/%d", dir, n);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return wipc__error(e == ENOENT ? WIPC_E_NOT_FOUND : WIPC_E_ACCESS_DENIED, e, "%s: open(%s) failed", what, path);
    }
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    const char *bad = NULL;
    wipc_status why = WIPC_E_PROTOCOL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        bad = "is not a regular file";
    else if (st.st_uid != uid && (why = WIPC_E_ACCESS_DENIED) != 0)
        bad = "belongs to another user";
    else if (seals < 0 || !(seals & F_SEAL_SHRINK))
        bad = "is not sealed against shrinking (F_SEAL_SHRINK)";
    else if ((uint64_t)st.st_size < min_size)
        bad = "is smaller than announced";
    if (bad) {
        close(fd);
        return wipc__error(why, 0, "%s: the memfd %s of process %u %s", what, name, (unsigned)pid, bad);
    }
    *out_fd = fd;
    return WIPC_OK;
}

int wipc__linux_memfd_shareable(void)
{
    return prctl(PR_GET_DUMPABLE) == 1 && access("/proc/self/fd", R_OK) == 0;
}
