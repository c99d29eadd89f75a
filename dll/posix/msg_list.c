/*
 * msg_list.c - POSIX msg discovery: the live endpoints are the lock files <rundir>/m.*.lock that some
 * process holds locked (flock LOCK_SH | LOCK_NB fails with EWOULDBLOCK). The file holds the endpoint's
 * name (written once its socket listens), so names hashed into the path are listed too. Files of dead
 * processes are unlocked and skipped; the next listener of that name reclaims them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "common/msg_wire.h"
#include "posix/msg_posix.h"
#include "posix/rundir.h"

static bool is_lock_file(const char *f)
{
    size_t n = strlen(f), pre = strlen(WIPC__MSG_FILE_PREFIX), suf = strlen(WIPC__MSG_LOCK_SUFFIX);
    return n > pre + suf && strncmp(f, WIPC__MSG_FILE_PREFIX, pre) == 0 && strcmp(f + n - suf, WIPC__MSG_LOCK_SUFFIX) == 0;
}

/* Reads the name of a live endpoint from its lock file into name (WIPC_NAME_MAX + 1 bytes). */
static bool live_endpoint(int dir_fd, const char *file, char *name)
{
    int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return false;
    bool live = false;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            ssize_t n = pread(fd, name, WIPC_NAME_MAX + 1, 0);
            if (n > 0 && n <= WIPC_NAME_MAX && wipc__msg_name_ok(name, (size_t)n)) {
                name[n] = '\0';
                live = true;
            }
        }
    } else {
        flock(fd, LOCK_UN);   /* nobody holds it: a dead endpoint's leftover */
    }
    close(fd);
    return live;
}

wipc_status wipc__plat_msg_list(wipc__msg_name_fn fn, void *arg)
{
    char dir[200];
    wipc_status st = wipc__rundir(dir, sizeof dir, "wipc_msg_list");
    if (st != WIPC_OK)
        return st;
    DIR *d = opendir(dir);
    if (!d)
        return wipc__error(wipc__os_error_status(errno), errno, "wipc_msg_list: opendir(%s) failed", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char name[WIPC_NAME_MAX + 2];
        if (!is_lock_file(e->d_name) || !live_endpoint(dirfd(d), e->d_name, name))
            continue;
        if (fn(name, arg) != 0)
            break;
    }
    closedir(d);
    return WIPC_OK;
}
