/*
 * rundir.c - the private runtime directory (see rundir.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "platform.h"
#include "linux/rundir.h"

static wipc_status check_dir(const char *path, const char *fn)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return wipc__error(wipc__os_error_status(errno), errno, "%s: lstat(%s) failed", fn, path);
    if (S_ISLNK(st.st_mode))
        return wipc__error(WIPC_E_ACCESS_DENIED, 0, "%s: the runtime directory %s is a symlink; refused", fn, path);
    if (!S_ISDIR(st.st_mode))
        return wipc__error(WIPC_E_ACCESS_DENIED, 0, "%s: %s is not a directory; refused", fn, path);
    if (st.st_uid != geteuid())
        return wipc__error(WIPC_E_ACCESS_DENIED, 0,
                           "%s: the runtime directory %s belongs to uid %u, not to uid %u; refused", fn, path,
                           (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & 077)
        return wipc__error(WIPC_E_ACCESS_DENIED, 0, "%s: the runtime directory %s has mode %03o; it must be 0700", fn,
                           path, (unsigned)(st.st_mode & 0777));
    return WIPC_OK;
}

wipc_status wipc__linux_rundir(char *buf, size_t cap, const char *fn)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/wipc", xdg);
    else
        n = snprintf(buf, cap, "/tmp/wipc-%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n >= cap)
        return wipc__error(WIPC_E_SYSTEM, 0, "%s: the runtime directory path is too long", fn);
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return wipc__error(wipc__os_error_status(errno), errno, "%s: mkdir(%s, 0700) failed", fn, buf);
    return check_dir(buf, fn);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

wipc_status wipc__linux_rundir_path(char *buf, size_t cap, const char *prefix, const char *name, const char *suffix,
                                    const char *fn)
{
    char dir[200];
    wipc_status st = wipc__linux_rundir(dir, sizeof dir, fn);
    if (st != WIPC_OK)
        return st;
    size_t limit = sizeof(((struct sockaddr_un *)0)->sun_path);
    int n = snprintf(buf, cap, "%s/%s%s%s", dir, prefix, name, suffix);
    if (n < 0 || (size_t)n >= cap || (size_t)n >= limit)
        n = snprintf(buf, cap, "%s/%s#%016llx%s", dir, prefix, (unsigned long long)fnv1a(name), suffix);
    if (n < 0 || (size_t)n >= cap || (size_t)n >= limit)
        return wipc__error(WIPC_E_SYSTEM, 0, "%s: the socket path in %s is too long for sockaddr_un", fn, dir);
    return WIPC_OK;
}
