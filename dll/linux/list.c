/*
 * list.c - POSIX endpoint discovery (dll/platform_list.h), and msg discovery (wipc__plat_msg_list)
 * on top of it.
 *
 * Pipe servers and msg receivers: the lock files <rundir>/p.*.lock and m.*.lock that some process
 * holds locked (flock LOCK_SH | LOCK_NB fails with EWOULDBLOCK). The file holds the endpoint's name
 * (written once its socket listens), so names hashed into the path are listed too. Files of dead
 * processes are unlocked and skipped; the next listener of that name reclaims them. The holder's pid
 * comes from /proc/locks (FLOCK lines, matched by device and inode); the creation time is the lock
 * file's mtime (the name is written when the endpoint starts listening).
 * Shm: /dev/shm objects wipc-<uid>-<name> of this uid whose header (a private copy) is a READY channel (1.0)
 * or a channel locator (1.1, shm_linux.h)
 * with a live creator, and wipc-<uid>-r-<name> (regions: no header, no owner to check).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "linux/shm_linux.h"
#include "platform_list.h"
#include "linux/rundir.h"

#define SHM_DIR "/dev/shm"

typedef struct lock_owner {
    unsigned maj, min;
    unsigned long long ino;
    uint32_t pid;
} lock_owner;

typedef struct lock_table {
    lock_owner *v;
    size_t n, cap;
} lock_table;

/* The FLOCK holders of /proc/locks (empty if it cannot be read: pids are then 0). */
static void read_lock_table(lock_table *t)
{
    FILE *f = fopen("/proc/locks", "re");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        lock_owner o;
        char kind[16];
        if (strstr(line, "->") ||
            sscanf(line, "%*d: %15s %*s %*s %u %x:%x:%llu", kind, &o.pid, &o.maj, &o.min, &o.ino) != 5 ||
            strcmp(kind, "FLOCK") != 0)
            continue;
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 64;
            lock_owner *grown = realloc(t->v, cap * sizeof *grown);
            if (!grown)
                break;
            t->v = grown;
            t->cap = cap;
        }
        t->v[t->n++] = o;
    }
    if (f)
        fclose(f);
}

static uint32_t lock_holder(const lock_table *t, const struct stat *st)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].ino == (unsigned long long)st->st_ino && t->v[i].maj == major(st->st_dev) &&
            t->v[i].min == minor(st->st_dev))
            return t->v[i].pid;
    return 0;
}

static int64_t unix_ms(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/* "p.<x>.lock" -> WIPC_TRANSPORT_PIPE, "m.<x>.lock" -> WIPC_TRANSPORT_MSG, else 0. */
static uint32_t lock_file_transport(const char *f)
{
    size_t n = strlen(f), suf = strlen(".lock");
    if (n <= 2 + suf || f[1] != '.' || strcmp(f + n - suf, ".lock") != 0)
        return 0;
    return f[0] == 'p' ? WIPC_TRANSPORT_PIPE : f[0] == 'm' ? WIPC_TRANSPORT_MSG : 0;
}

/* Reads the name of a live endpoint from its lock file into name (WIPC_NAME_MAX + 2 bytes). */
static bool live_lock(int dir_fd, const char *file, char *name, struct stat *st)
{
    int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return false;
    bool live = false;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK && fstat(fd, st) == 0) {
            ssize_t n = pread(fd, name, WIPC_NAME_MAX + 1, 0);
            if (n > 0 && n <= WIPC_NAME_MAX && wipc__msg_name_ok(name, (size_t)n)) {
                name[n] = '\0';
                live = true;
            }
        }
    } else {
        flock(fd, LOCK_UN); /* nobody holds it: a dead endpoint's leftover */
    }
    close(fd);
    return live;
}

/* with_owner: read /proc/locks for the owner pids (wipc_msg_list needs only names). */
static wipc_status list_rundir(uint32_t mask, bool with_owner, const char *fn_name, wipc__found_fn fn, void *arg,
                               bool *stop)
{
    char dir[200];
    wipc_status st = wipc__linux_rundir(dir, sizeof dir, fn_name);
    if (st != WIPC_OK)
        return st;
    DIR *d = opendir(dir);
    if (!d)
        return wipc__error(wipc__os_error_status(errno), errno, "%s: opendir(%s) failed", fn_name, dir);
    lock_table locks = { 0 };
    if (with_owner)
        read_lock_table(&locks);
    struct dirent *e;
    while (!*stop && (e = readdir(d)) != NULL) {
        uint32_t t = lock_file_transport(e->d_name);
        char name[WIPC_NAME_MAX + 2];
        struct stat sb;
        if (!t || !(mask & (1u << t)) || !live_lock(dirfd(d), e->d_name, name, &sb))
            continue;
        wipc__found f = { t, t == WIPC_TRANSPORT_PIPE ? WIPC_KIND_PIPE_SERVER : WIPC_KIND_MSG_ENDPOINT,
                          lock_holder(&locks, &sb), unix_ms(&sb.st_mtim), name };
        *stop = fn(&f, arg) != 0;
    }
    free(locks.v);
    closedir(d);
    return WIPC_OK;
}

/* One /dev/shm object of this uid: a live channel or a region, reported through fn. */
static int one_shm_object(int dir_fd, const char *file, const char *rest, const wipc__list_calls *up, wipc__found_fn fn,
                          void *arg)
{
    int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat sb;
    unsigned char hdr[WIPC__CHANNEL_HEADER_BYTES];
    ssize_t got = -1;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid())
        got = pread(fd, hdr, sizeof hdr, 0); /* our private copy: read once */
    close(fd);
    if (got < 0)
        return 0;
    wipc__found f = { WIPC_TRANSPORT_SHM, WIPC_KIND_SHM_CHANNEL, 0, unix_ms(&sb.st_ctim), rest };
    if ((got == (ssize_t)sizeof hdr && up->channel_owner(hdr, sizeof hdr, &f.owner_pid)) ||
        wipc__linux_channel_locator(hdr, (size_t)got, &f.owner_pid)) /* 1.1: a locator to the creator's sealed memfd */
        return wipc__msg_name_ok(rest, strlen(rest)) ? fn(&f, arg) : 0;
    if (strncmp(rest, "r-", 2) == 0 && wipc__msg_name_ok(rest + 2, strlen(rest + 2))) {
        f.kind = WIPC_KIND_REGION;
        f.name = rest + 2;
        return fn(&f, arg);
    }
    return 0; /* a dead creator's channel, a bulk section, something else */
}

static void list_shm(const wipc__list_calls *up, wipc__found_fn fn, void *arg, bool *stop)
{
    char prefix[32];
    int plen = snprintf(prefix, sizeof prefix, "wipc-%u-", (unsigned)geteuid());
    DIR *d = opendir(SHM_DIR);
    if (!d)
        return; /* no /dev/shm: no shm objects to list */
    struct dirent *e;
    while (!*stop && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, (size_t)plen) == 0)
            *stop = one_shm_object(dirfd(d), e->d_name, e->d_name + plen, up, fn, arg) != 0;
    closedir(d);
}

wipc_status wipc__plat_list(uint32_t mask, const wipc__list_calls *up, wipc__found_fn fn, void *arg)
{
    bool stop = false;
    wipc_status st = WIPC_OK;
    if (mask & (WIPC_LIST_PIPE | WIPC_LIST_MSG))
        st = list_rundir(mask, true, "wipc_list", fn, arg, &stop);
    if (st == WIPC_OK && !stop && (mask & WIPC_LIST_SHM))
        list_shm(up, fn, arg, &stop);
    return st;
}

/* ---- msg discovery: the names of the msg entries ---- */

typedef struct msg_names {
    wipc__msg_name_fn fn;
    void *arg;
} msg_names;

static int msg_name_only(const wipc__found *f, void *arg)
{
    msg_names *m = arg;
    return m->fn(f->name, m->arg);
}

wipc_status wipc__plat_msg_list(wipc__msg_name_fn fn, void *arg)
{
    msg_names m = { fn, arg };
    bool stop = false;
    return list_rundir(WIPC_LIST_MSG, false, "wipc_msg_list", msg_name_only, &m, &stop);
}
